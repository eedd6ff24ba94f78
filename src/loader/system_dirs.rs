//! glibc's compiled-in default directories, read out of its `ld.so`.

use std::path::PathBuf;

/// Finds glibc's `system_dirs` in the bytes of an `ld.so`: NUL-separated
/// absolute directories ending in `/`, right after the array of their lengths
/// (`system_dirs_len` in `elf/dl-load.c`). Requiring that array makes a chance
/// match among other strings practically impossible.
pub fn system_dirs_in_loader(bytes: &[u8], is_64: bool, big_endian: bool) -> Option<Vec<PathBuf>> {
    let word = if is_64 { 8 } else { 4 };
    let mut from = 0;
    while let Some(pos) = find(&bytes[from..], b"/lib").map(|p| p + from) {
        from = pos + 1;
        if pos == 0 || bytes[pos - 1] != 0 {
            continue;
        }
        let dirs = dir_strings(&bytes[pos..]);
        // glibc has at least slibdir and libdir.
        if dirs.len() < 2 {
            continue;
        }
        // The lengths array sits right before the strings or right after
        // them (the linker's choice), with up to 16 bytes of alignment padding.
        let found = |at: usize| lengths_match(bytes, at, &dirs, word, big_endian);
        let strings_end = pos + dirs.iter().map(|d| d.len() + 1).sum::<usize>();
        let table = word * dirs.len();
        let before = (0..=16).any(|pad| pos.checked_sub(pad).is_some_and(found));
        let after = (0..=16).any(|pad| found(strings_end + pad + table));
        if before || after {
            return Some(
                dirs.iter()
                    .map(|d| PathBuf::from(d.trim_end_matches('/')))
                    .collect(),
            );
        }
    }
    None
}

fn dir_strings(bytes: &[u8]) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.iter().position(|&b| b == 0) {
        let s = &rest[..end];
        let ok = s.len() > 1
            && s.len() < 256
            && s.starts_with(b"/")
            && s.ends_with(b"/")
            && s.iter().all(|b| b.is_ascii_graphic());
        if !ok {
            break;
        }
        dirs.push(String::from_utf8_lossy(s).into_owned());
        rest = &rest[end + 1..];
    }
    dirs
}

/// Whether the words ending at `end` are the lengths of `dirs`.
fn lengths_match(bytes: &[u8], end: usize, dirs: &[String], word: usize, big: bool) -> bool {
    let Some(start) = end.checked_sub(word * dirs.len()) else {
        return false;
    };
    // An array of size_t is aligned to its word size.
    if end > bytes.len() || start % word != 0 {
        return false;
    }
    dirs.iter().enumerate().all(|(i, d)| {
        let at = start + i * word;
        let raw = &bytes[at..at + word];
        let value = match (word, big) {
            (8, false) => u64::from_le_bytes(raw.try_into().unwrap_or_default()),
            (8, true) => u64::from_be_bytes(raw.try_into().unwrap_or_default()),
            (_, false) => u64::from(u32::from_le_bytes(raw.try_into().unwrap_or_default())),
            (_, true) => u64::from(u32::from_be_bytes(raw.try_into().unwrap_or_default())),
        };
        value == d.len() as u64
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_system_dirs_after_their_lengths() {
        let mut bytes = vec![0u8; 8];
        bytes.extend(b"/lib/x/\0/decoy/\0");
        for len in [7u64, 9, 5] {
            bytes.extend(len.to_le_bytes());
        }
        bytes.extend(b"/lib/x/\0/usr/lib/\0/lib/\0\0\0");
        let dirs = system_dirs_in_loader(&bytes, true, false).unwrap();
        assert_eq!(
            dirs,
            vec![PathBuf::from("/lib/x"), "/usr/lib".into(), "/lib".into()]
        );
        assert!(system_dirs_in_loader(b"\0/lib/x/\0/usr/lib/\0", true, false).is_none());

        // Lengths after the strings, 32-bit big-endian, after padding.
        let mut bytes = b"\0/lib/\0/usr/lib/\0\0\0\0".to_vec();
        for len in [5u32, 9] {
            bytes.extend(len.to_be_bytes());
        }
        let dirs = system_dirs_in_loader(&bytes, false, true).unwrap();
        assert_eq!(dirs, vec![PathBuf::from("/lib"), "/usr/lib".into()]);
    }
}
