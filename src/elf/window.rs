//! A file read at offsets (no seeking) through a window holding the last
//! bytes read, so that ranges which lie together (the headers, the dynamic
//! strings) take one read. `object`'s `ReadCache` drives it.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use object::ReadCacheOps;

use super::files::FileId;
use crate::error::{Error, Result};

/// How many bytes one read fetches at least: the ELF header, the program
/// headers and PT_INTERP usually lie within the first of them, and the
/// dynamic strings a file needs within one more.
pub(super) const WINDOW: usize = 4096;

/// An open file read at offsets, through a window holding the last bytes
/// read: a small range inside it is served without another read.
pub(super) struct Window {
    file: File,
    len: u64,
    /// Where the next read starts.
    pos: u64,
    /// The offset of `bytes` in the file.
    start: u64,
    bytes: Vec<u8>,
}

impl Window {
    /// Opens a regular file for reading: the window over it, its length and
    /// its identity.
    pub(super) fn open(path: &Path) -> Result<(Window, u64, FileId)> {
        // Checked before opening: opening a FIFO blocks until a writer comes.
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        if !meta.is_file() {
            return Err(Error::NotRegularFile {
                path: path.to_path_buf(),
            });
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        let window = Window {
            file,
            len: meta.len(),
            pos: 0,
            start: 0,
            bytes: Vec::new(),
        };
        Ok((window, meta.len(), FileId::of(&meta)))
    }

    /// Moves the window to `pos` unless it holds `[pos, pos + n)`; `n` is at
    /// most `WINDOW`.
    fn hold(&mut self, n: usize) -> std::result::Result<(), ()> {
        let end = self.pos.checked_add(n as u64).ok_or(())?;
        let held = self.start + self.bytes.len() as u64;
        if self.pos >= self.start && end <= held {
            return Ok(());
        }
        // A whole window when the file has one; a range past the end fails.
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let mut bytes = vec![0; n.max(WINDOW.min(left))];
        self.bytes.clear();
        self.file
            .read_exact_at(&mut bytes, self.pos)
            .map_err(|_| ())?;
        self.bytes = bytes;
        self.start = self.pos;
        Ok(())
    }
}

impl ReadCacheOps for Window {
    fn len(&mut self) -> std::result::Result<u64, ()> {
        Ok(self.len)
    }

    fn seek(&mut self, pos: u64) -> std::result::Result<u64, ()> {
        self.pos = pos;
        Ok(pos)
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, ()> {
        let left = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        self.read_exact(&mut buf[..n])?;
        Ok(n)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> std::result::Result<(), ()> {
        let n = buf.len();
        if n > WINDOW {
            self.file.read_exact_at(buf, self.pos).map_err(|_| ())?;
        } else {
            self.hold(n)?;
            let at = (self.pos - self.start) as usize;
            buf.copy_from_slice(&self.bytes[at..at + n]);
        }
        self.pos += n as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_window_reads_what_the_file_holds() {
        let content: Vec<u8> = (0..3 * WINDOW + 100).map(|i| (i * 7 % 251) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&content).unwrap();
        let (mut window, len, _) = Window::open(file.path()).unwrap();
        assert_eq!(len, content.len() as u64);
        // Inside one window, across its end, backwards, larger than a window, up to the end.
        let ranges = [
            (0, 64),
            (64, 700),
            (4000, 200),
            (10, 5),
            (WINDOW * 2 - 1, WINDOW + 2),
            (content.len() - 30, 30),
        ];
        for (at, n) in ranges {
            let mut buf = vec![0; n];
            ReadCacheOps::seek(&mut window, at as u64).unwrap();
            window.read_exact(&mut buf).unwrap();
            assert_eq!(buf, content[at..at + n], "{at}+{n}");
        }
        let mut buf = vec![0; 64];
        ReadCacheOps::seek(&mut window, content.len() as u64 - 10).unwrap();
        assert_eq!(ReadCacheOps::read(&mut window, &mut buf), Ok(10));
        assert_eq!(buf[..10], content[content.len() - 10..]);
        assert_eq!(ReadCacheOps::read(&mut window, &mut buf), Ok(0));
        ReadCacheOps::seek(&mut window, content.len() as u64 - 10).unwrap();
        assert!(window.read_exact(&mut buf).is_err(), "read past the end");
    }
}
