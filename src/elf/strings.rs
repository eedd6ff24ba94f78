//! The strings of a file's read-only data: what a program names that no
//! dynamic tag does (a time zone variable, a plugin directory, its own
//! directory, glibc's gconv directory).
//!
//! Only the read-only PT_LOAD segments are read: neither executable nor
//! writable. With `-z separate-code` (GNU ld's default on x86-64) that is
//! where `.rodata` lies, without the code, so byte patterns inside
//! instructions never count as strings, and a scan reads a fraction of a
//! file. The file is read in chunks, so memory stays flat, and handed on as
//! blocks of whole NUL-terminated strings, so a search runs over a block at
//! once rather than string by string. A string that runs from one chunk into
//! the next is handed on alone; one longer than [`MAX_STRING`] is passed
//! over.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use object::ReadCache;
use object::elf;

use super::header::Header;
use super::layout::Layout;
use super::window::Window;
use crate::error::{Error, Result};

/// The longest string passed on across chunks; longer ones are not names
/// of anything.
pub const MAX_STRING: usize = 64 * 1024;
/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// Calls `each` with blocks of whole NUL-terminated strings (each string
/// within one block) of the read-only PT_LOAD segments of the ELF file at
/// `path`, in file order. Fails when the file is not ELF or its program
/// headers cannot be read.
pub fn scan_strings(path: &Path, mut each: impl FnMut(&[u8])) -> Result<()> {
    let (window, len, _) = Window::open(path)?;
    let cache = ReadCache::new(window);
    let header = Header::read(&cache, len, path)?;
    let layout = Layout::read(&cache, len, header).map_err(|e| Error::malformed(path, e))?;
    drop(cache);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // Reserved fallibly: short of memory, a clear error rather than an abort.
    let mut buf = Vec::new();
    buf.try_reserve_exact(CHUNK)
        .map_err(|_| Error::io(path, std::io::ErrorKind::OutOfMemory.into()))?;
    buf.resize(CHUNK, 0);
    for (start, end) in readonly_ranges(&layout, len) {
        let mut strings = Strings::default();
        let mut at = start;
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

/// The file ranges of the read-only PT_LOAD segments, inside the file,
/// sorted, overlapping ones merged: no byte is read twice.
fn readonly_ranges(layout: &Layout, len: u64) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = layout
        .of_kind(elf::PT_LOAD.0)
        .filter(|s| s.flags & (elf::PF_X.0 | elf::PF_W.0) == 0)
        .map(|s| {
            (
                s.offset.min(len),
                s.offset.saturating_add(s.filesz).min(len),
            )
        })
        .filter(|(start, end)| start < end)
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Splits bytes that come in chunks into blocks of whole NUL-terminated
/// strings.
#[derive(Default)]
struct Strings {
    /// The start of a string the last chunk ended in.
    carry: Vec<u8>,
    /// The current string grew past [`MAX_STRING`]: skip to its end.
    skipping: bool,
}

impl Strings {
    fn feed(&mut self, bytes: &[u8], each: &mut impl FnMut(&[u8])) {
        let (Some(first), Some(last)) = (memchr::memchr(0, bytes), memchr::memrchr(0, bytes))
        else {
            self.grow(bytes);
            return;
        };
        // The string the last chunk ended in ends at the first NUL.
        let mut start = 0;
        if self.skipping || !self.carry.is_empty() {
            if !self.skipping && self.carry.len() + first <= MAX_STRING {
                self.carry.extend_from_slice(&bytes[..first]);
                each(&self.carry);
            }
            self.carry.clear();
            self.skipping = false;
            start = first + 1;
        }
        if start <= last {
            each(&bytes[start..=last]);
        }
        self.grow(&bytes[last + 1..]);
    }

    /// Keeps the start of a string that goes on in the next chunk.
    fn grow(&mut self, rest: &[u8]) {
        if self.skipping {
            return;
        }
        if self.carry.len() + rest.len() <= MAX_STRING {
            self.carry.extend_from_slice(rest);
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

    /// The strings of the blocks `Strings` gives for `chunks`.
    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut strings = Strings::default();
        let mut each = |block: &[u8]| {
            let pieces = block.split(|&b| b == 0).filter(|s| !s.is_empty());
            out.extend(pieces.map(<[u8]>::to_vec));
        };
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
    fn overlapping_segments_are_read_once() {
        use super::super::layout::Segment;
        let seg = |flags, offset, filesz| Segment {
            kind: elf::PT_LOAD.0,
            flags,
            offset,
            vaddr: offset,
            filesz,
            align: 4096,
        };
        let (r, rx, rw) = (4, 5, 6);
        let layout = Layout {
            header: Header {
                class: 2,
                data: 1,
                osabi: 0,
                e_type: 3,
                machine: 62,
                flags: 0,
            },
            len: 1000,
            segments: vec![
                seg(r, 500, 100),
                seg(r, 0, 200),
                seg(r, 150, 100),
                seg(rx, 200, 300),
                seg(rw, 600, 100),
                seg(r, 900, u64::MAX),
                seg(r, 5000, 10),
            ],
            dynamic: Vec::new(),
        };
        assert_eq!(
            readonly_ranges(&layout, 1000),
            [(0, 250), (500, 600), (900, 1000)]
        );
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
        scan_strings(&path, |block| {
            let pieces = block.split(|&b| b == 0);
            strings.extend(pieces.map(|s| String::from_utf8_lossy(s).into_owned()));
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
