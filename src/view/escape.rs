//! How the text views (`--list`, `-v`, `--tree`) show names: C-style
//! escapes, so one line is one entry and each tab-separated field one name,
//! whatever bytes a name holds. `--json` keeps names exact instead.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::tidy;

/// `bytes` as text: a backslash as `\\`, tab, newline and carriage return as
/// `\t`, `\n` and `\r`, and any other control character, or byte that is not
/// part of valid UTF-8, as `\xNN` (two lower-case hex digits a byte).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => hex(&mut out, c.encode_utf8(&mut [0; 4]).as_bytes()),
                c => out.push(c),
            }
        }
        hex(&mut out, chunk.invalid());
    }
    out
}

fn hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "\\x{b:02x}");
    }
}

/// A path escaped, with repeated `/` and `.` components left out ([`tidy`]).
pub fn path(p: &Path) -> String {
    escape(tidy(p).as_os_str().as_bytes())
}

/// A path escaped exactly as it is (a link's target, as stored).
pub fn raw(p: &Path) -> String {
    escape(p.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_unambiguous_field() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain name.so", "plain name.so"),
            (b"tab\there", "tab\\there"),
            (b"new\nline\r", "new\\nline\\r"),
            (b"back\\slash", "back\\\\slash"),
            (b"bad\xffbyte\xc3", "bad\\xffbyte\\xc3"),
            (b"bell\x07 del\x7f", "bell\\x07 del\\x7f"),
            ("c1\u{85}".as_bytes(), "c1\\xc2\\x85"),
            ("caf\u{e9}".as_bytes(), "caf\u{e9}"),
        ];
        for (bytes, want) in cases {
            assert_eq!(escape(bytes), *want, "{bytes:?}");
        }
        assert_eq!(path(Path::new("/opt/a////lib.so/.")), "/opt/a/lib.so");
        assert_eq!(raw(Path::new("a//b")), "a//b");
    }
}
