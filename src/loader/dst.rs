//! Dynamic string tokens: `$ORIGIN`, `$LIB` and `$PLATFORM` in search paths
//! and in DT_NEEDED names, as glibc's `_dl_dst_substitute` expands them.

/// glibc's DST substitution. Returns the expanded bytes and whether `$ORIGIN`
/// occurred, or `None` when a known token has no value (the element is dropped).
/// `$NAME` matches only when the next byte cannot continue a name; unknown
/// tokens stay as written.
pub fn substitute(
    element: &[u8],
    origin: &[u8],
    lib: &[u8],
    platform: &[u8],
) -> Option<(Vec<u8>, bool)> {
    let mut out = Vec::with_capacity(element.len());
    let mut used_origin = false;
    let mut i = 0;
    while i < element.len() {
        if element[i] != b'$' {
            out.push(element[i]);
            i += 1;
            continue;
        }
        let rest = &element[i + 1..];
        let mut matched = None;
        for (token, value) in [
            (&b"ORIGIN"[..], origin),
            (&b"PLATFORM"[..], platform),
            (&b"LIB"[..], lib),
        ] {
            let braced_len = token.len() + 2;
            if rest.first() == Some(&b'{')
                && rest.len() >= braced_len
                && &rest[1..=token.len()] == token
                && rest[token.len() + 1] == b'}'
            {
                matched = Some((token, value, braced_len));
                break;
            }
            if rest.starts_with(token)
                && !rest
                    .get(token.len())
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
            {
                matched = Some((token, value, token.len()));
                break;
            }
        }
        match matched {
            Some((token, value, len)) => {
                if value.is_empty() {
                    return None;
                }
                used_origin |= token == b"ORIGIN";
                out.extend_from_slice(value);
                i += 1 + len;
            }
            None => {
                out.push(b'$');
                i += 1;
            }
        }
    }
    Some((out, used_origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str) -> Option<String> {
        substitute(s.as_bytes(), b"/o", b"lib/x86_64-linux-gnu", b"x86_64")
            .map(|(v, _)| String::from_utf8(v).unwrap())
    }

    #[test]
    fn dynamic_string_tokens() {
        let table = [
            ("$ORIGIN/../lib", Some("/o/../lib")),
            ("${ORIGIN}/lib", Some("/o/lib")),
            ("/usr/$LIB", Some("/usr/lib/x86_64-linux-gnu")),
            ("/p/$PLATFORM/x", Some("/p/x86_64/x")),
            ("${LIB}", Some("lib/x86_64-linux-gnu")),
            ("$ORIGINX/a", Some("$ORIGINX/a")),
            ("$FOO/a", Some("$FOO/a")),
            ("a$", Some("a$")),
            ("${ORIGIN", Some("${ORIGIN")),
        ];
        for (input, want) in table {
            assert_eq!(sub(input).as_deref(), want, "{input}");
        }
        assert!(substitute(b"$PLATFORM/x", b"/o", b"lib", b"").is_none());
        assert!(substitute(b"$ORIGIN", b"/o", b"", b"").unwrap().1);
        assert!(!substitute(b"/lib", b"/o", b"", b"").unwrap().1);
    }
}
