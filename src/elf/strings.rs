//! The strings of a file's read-only data: what a program names that no
//! dynamic tag does (a time zone variable, a plugin directory, its own
//! directory, glibc's gconv directory).
//!
//! Only the non-executable PT_LOAD segments are read. With `-z
//! separate-code` (GNU ld's default on x86-64) they hold `.rodata` and none
//! of the code, so byte patterns inside instructions never count as
//! strings, and a scan reads a quarter to a half of a file. A string is the
//! bytes between two NULs; empty strings and strings longer than
//! [`MAX_STRING`] are passed over. The file is read in chunks, so memory stays flat.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use object::ReadCache;
use object::elf;

use super::header::Header;
use super::layout::Layout;
use super::window::Window;
use crate::error::{Error, Result};

/// The longest string passed on; longer ones are not names of anything.
pub const MAX_STRING: usize = 64 * 1024;
/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// Calls `each` with every non-empty NUL-terminated string of the
/// non-executable PT_LOAD segments of the ELF file at `path`, in file order. Fails when the
/// file is not ELF or its program headers cannot be read.
pub fn scan_strings(path: &Path, mut each: impl FnMut(&[u8])) -> Result<()> {
    let (window, len, _) = Window::open(path)?;
    let cache = ReadCache::new(window);
    let header = Header::read(&cache, len, path)?;
    let layout = Layout::read(&cache, len, header).map_err(|e| Error::malformed(path, e))?;
    drop(cache);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0; CHUNK];
    let readonly = layout
        .of_kind(elf::PT_LOAD.0)
        .filter(|s| s.flags & (elf::PF_X.0 | elf::PF_W.0) == 0);
    for segment in readonly {
        let end = segment.offset.saturating_add(segment.filesz).min(len);
        let mut strings = Strings::default();
        let mut at = segment.offset;
        while at < end {
            let n = (end - at).min(CHUNK as u64) as usize;
            file.read_exact_at(&mut buf[..n], at)
                .map_err(|e| Error::io(path, e))?;
            strings.feed(&buf[..n], &mut each);
            at += n as u64;
        }
        strings.finish(&mut each);
    }
    Ok(())
}

/// Splits bytes that come in chunks into NUL-terminated strings.
#[derive(Default)]
struct Strings {
    /// The start of a string the last chunk ended in.
    carry: Vec<u8>,
    /// The current string grew past [`MAX_STRING`]: skip to its end.
    skipping: bool,
}

impl Strings {
    fn feed(&mut self, mut bytes: &[u8], each: &mut impl FnMut(&[u8])) {
        while let Some(nul) = memchr::memchr(0, bytes) {
            let piece = &bytes[..nul];
            if self.skipping {
                self.skipping = false;
            } else if self.carry.is_empty() {
                if !piece.is_empty() && piece.len() <= MAX_STRING {
                    each(piece);
                }
            } else {
                if self.carry.len() + piece.len() <= MAX_STRING {
                    self.carry.extend_from_slice(piece);
                    each(&self.carry);
                }
                self.carry.clear();
            }
            bytes = &bytes[nul + 1..];
        }
        if self.skipping {
            return;
        }
        if self.carry.len() + bytes.len() <= MAX_STRING {
            self.carry.extend_from_slice(bytes);
        } else {
            self.carry.clear();
            self.skipping = true;
        }
    }

    /// The end of a segment ends its last string.
    fn finish(&mut self, each: &mut impl FnMut(&[u8])) {
        if !self.skipping && !self.carry.is_empty() {
            each(&self.carry);
        }
        self.carry.clear();
        self.skipping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut strings = Strings::default();
        let mut each = |s: &[u8]| out.push(s.to_vec());
        for chunk in chunks {
            strings.feed(chunk, &mut each);
        }
        strings.finish(&mut each);
        out
    }

    #[test]
    fn strings_across_chunks() {
        // Empty strings are passed over.
        let want: Vec<Vec<u8>> = vec![b"ab".to_vec(), b"cdef".to_vec(), b"g".to_vec()];
        assert_eq!(split(&[b"ab\0\0cdef\0g"]), want);
        assert_eq!(split(&[b"ab\0\0c", b"de", b"f\0g"]), want);
        assert_eq!(split(&[b"a", b"b\0", b"\0cdef\0", b"g"]), want);
    }

    #[test]
    fn overlong_strings_are_passed_over() {
        let long = vec![b'x'; MAX_STRING + 1];
        let got = split(&[b"a\0", &long[..10], &long[10..], b"\0b\0"]);
        assert_eq!(got, [b"a".to_vec(), b"b".to_vec()]);
        let got = split(&[&long, b"\0c\0"]);
        assert_eq!(got, [b"c".to_vec()]);
        let exact = vec![b'y'; MAX_STRING];
        assert_eq!(split(&[&exact[..5], &exact[5..], b"\0"]), [exact]);
    }

    #[test]
    fn the_read_only_data_of_a_real_program() {
        let path = crate::test_fixtures::fixtures().join("hello/bin/hello");
        let mut strings = Vec::new();
        scan_strings(&path, |s| {
            strings.push(String::from_utf8_lossy(s).into_owned())
        })
        .unwrap();
        // hello.c prints "hello from fixture": in .rodata, read-only.
        assert!(
            strings.iter().any(|s| s.contains("hello from fixture")),
            "{strings:?}"
        );
        // The interpreter's path is in a read-only segment too.
        assert!(strings.iter().any(|s| s.starts_with("/lib")), "{strings:?}");
    }
}
