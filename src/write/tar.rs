//! The tar stream: a plan's entries as GNU headers and file contents,
//! optionally through gzip.
//!
//! Headers are GNU format (for long names and link targets), filled field by
//! field: uid and gid 0, owner names `root`, the plan's modes and times,
//! nothing from the host's user database. The gzip stream is compressed on
//! every core ([`gzip`](super::gzip)), one member per MiB, whose headers
//! carry no name and mtime 0. File contents are streamed from their sources (copied by the
//! kernel when the archive is an uncompressed file), so memory does not grow
//! with file size.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use tar::{EntryType, Header};

use super::gzip::ChunkedGz;
use super::output::Written;
use super::writeback::Writeback;
use crate::error::{Error, Result};
use crate::fsroot::Node;
use crate::plan::Plan;

/// Bytes read from a source file, and written to the output, at a time.
pub(super) const COPY_BUFFER: usize = 256 * 1024;

/// Counts bytes passing through, and tells the write-behind thread.
struct Counter<W> {
    inner: W,
    count: u64,
    writeback: Option<Writeback>,
}

impl<W: Write> Counter<W> {
    fn new(inner: W, writeback: Option<Writeback>) -> Self {
        Counter {
            inner,
            count: 0,
            writeback,
        }
    }

    fn add(&mut self, n: u64) {
        self.count += n;
        if let Some(writeback) = &mut self.writeback {
            writeback.progress(self.count);
        }
    }
}

impl<W: Write> Write for Counter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.add(n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the archive of `plan` into `sink`, through gzip at `level` when
/// given, and returns the sink's writer; `out_path` names the output in errors.
pub(super) fn encode<W: Write>(
    plan: &Plan,
    sink: BufWriter<W>,
    level: Option<u32>,
    out_path: &Path,
    writeback: Option<Writeback>,
) -> Result<(W, Written)> {
    let io_err = |e: io::Error| Error::io(out_path, e);
    let outer = Counter::new(sink, writeback);
    let mut outer = match level {
        None => tar_stream(plan, outer, out_path)?,
        Some(level) => {
            let gz = Counter::new(ChunkedGz::new(outer, level), None);
            let tar = tar_stream(plan, gz, out_path)?;
            tar.inner.finish().map_err(io_err)?
        }
    };
    outer.flush().map_err(io_err)?;
    if let Some(writeback) = outer.writeback.take() {
        writeback.finish().map_err(io_err)?;
    }
    let written = Written {
        gzip_bytes: level.map(|_| outer.count),
    };
    let inner = outer
        .inner
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    Ok((inner, written))
}

/// Writes the tar stream for `plan` into `sink` and returns the sink.
fn tar_stream<W: Write>(plan: &Plan, sink: Counter<W>, out_path: &Path) -> Result<Counter<W>> {
    let io_err = |e: io::Error| Error::io(out_path, e);
    let mut builder = tar::Builder::new(sink);
    builder.mode(tar::HeaderMode::Complete);
    builder.follow_symlinks(false);
    for entry in &plan.entries {
        let mut header = Header::new_gnu();
        header.set_mode(entry.mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(entry.mtime);
        header.set_username("root").map_err(io_err)?;
        header.set_groupname("root").map_err(io_err)?;
        let path = entry.path.relative();
        match &entry.node {
            Node::Dir => {
                header.set_entry_type(EntryType::Directory);
                header.set_size(0);
                let mut name = path.as_os_str().to_os_string();
                name.push("/");
                builder
                    .append_data(&mut header, Path::new(&name), io::empty())
                    .map_err(io_err)?;
            }
            Node::Symlink { target } => {
                header.set_entry_type(EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .map_err(io_err)?;
            }
            Node::Generated { content } => {
                header.set_entry_type(EntryType::Regular);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, path, content.as_slice())
                    .map_err(io_err)?;
            }
            Node::File { source, size } => {
                header.set_entry_type(EntryType::Regular);
                header.set_size(*size);
                let file = File::open(source).map_err(|e| Error::io(source, e))?;
                // The header (and any long-name entry) goes through the tar
                // crate; the content follows, copied as fast as the sink allows.
                builder
                    .append_data(&mut header, path, io::empty())
                    .map_err(io_err)?;
                builder
                    .get_mut()
                    .append_content(file, *size)
                    .map_err(|e| match e {
                        CopyError::Source(e) => Error::io(source, e),
                        CopyError::Sink(e) => io_err(e),
                    })?;
            }
        }
    }
    // into_inner writes the end-of-archive blocks; its errors must not be lost.
    builder.into_inner().map_err(io_err)
}

enum CopyError {
    Source(io::Error),
    Sink(io::Error),
}

impl<W: Write> Counter<W> {
    /// Appends exactly `size` bytes of `file` and pads them to a whole tar
    /// block. `io::copy` lets the kernel move the bytes where it can
    /// (`copy_file_range` into a regular file, `sendfile` into a device) and
    /// otherwise reads whole buffers. A file that shrank since it was planned
    /// is an error, not a short entry that would corrupt the archive.
    fn append_content(&mut self, file: File, size: u64) -> std::result::Result<(), CopyError> {
        let mut reader = io::BufReader::with_capacity(COPY_BUFFER, file.take(size));
        let copied = match io::copy(&mut reader, &mut self.inner) {
            Ok(copied) => copied,
            Err(e) => return Err(blame(reader.into_inner().into_inner(), e)),
        };
        self.add(copied);
        if copied < size {
            return Err(CopyError::Source(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being archived",
            )));
        }
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.write_all(&[0; BLOCK as usize][..pad as usize])
            .map_err(CopyError::Sink)
    }
}

/// Which side of a failed `io::copy` the error belongs to: `io::copy` does
/// not say. The source is blamed only when reading it again, where the copy
/// stopped, fails too; otherwise the error came from writing.
fn blame(mut source: File, e: io::Error) -> CopyError {
    use std::io::Seek;
    use std::os::unix::fs::FileExt;
    let readable = source
        .stream_position()
        .and_then(|at| source.read_at(&mut [0; 1], at));
    match readable {
        Ok(_) => CopyError::Sink(e),
        Err(_) => CopyError::Source(e),
    }
}

/// The tar block size.
const BLOCK: u64 = 512;

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn source(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source");
        fs::write(&path, content).unwrap();
        (dir, path)
    }

    fn counter<W: Write>(inner: W) -> Counter<W> {
        Counter::new(inner, None)
    }

    #[test]
    fn content_is_padded_to_a_block_in_memory_and_in_a_file() {
        let content: Vec<u8> = (0..1500u32).map(|i| (i % 251) as u8).collect();
        let (dir, path) = source(&content);
        let mut expected = content.clone();
        expected.resize(1536, 0);

        let mut mem = counter(Vec::new());
        mem.append_content(File::open(&path).unwrap(), 1500)
            .unwrap_or_else(|_| panic!("copy into memory failed"));
        assert_eq!(mem.inner, expected);

        // Into a file the kernel copies; the file offset must follow.
        let out = dir.path().join("out");
        let mut file = counter(BufWriter::new(File::create(&out).unwrap()));
        file.write_all(b"head").unwrap();
        file.append_content(File::open(&path).unwrap(), 1500)
            .unwrap_or_else(|_| panic!("copy into a file failed"));
        file.write_all(b"tail").unwrap();
        assert_eq!(file.count, 4 + 1536 + 4);
        drop(file);
        let written = fs::read(&out).unwrap();
        assert_eq!(&written[..4], b"head");
        assert_eq!(&written[4..1540], &expected[..]);
        assert_eq!(&written[1540..], b"tail");
    }

    #[test]
    fn a_file_that_shrank_is_a_source_error() {
        let (_dir, path) = source(b"only ten b");
        let mut mem = counter(Vec::new());
        match mem.append_content(File::open(&path).unwrap(), 20) {
            Err(CopyError::Source(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            Err(CopyError::Sink(e)) => panic!("blamed the sink: {e}"),
            Ok(()) => panic!("a short file was accepted"),
        }
    }

    /// A sink that fails every write.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("the sink broke"))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_copy_blames_the_side_that_failed() {
        let (dir, path) = source(b"readable content");
        match counter(Broken).append_content(File::open(&path).unwrap(), 16) {
            Err(CopyError::Sink(e)) => assert_eq!(e.to_string(), "the sink broke"),
            Err(CopyError::Source(e)) => panic!("blamed the source: {e}"),
            Ok(()) => panic!("a broken sink was accepted"),
        }
        // A directory opens but cannot be read.
        let unreadable = File::open(dir.path()).unwrap();
        match counter(Vec::new()).append_content(unreadable, 16) {
            Err(CopyError::Source(e)) => assert_eq!(e.raw_os_error(), Some(21), "{e}"),
            Err(CopyError::Sink(e)) => panic!("blamed the sink: {e}"),
            Ok(()) => panic!("a directory was copied"),
        }
    }

    #[test]
    fn a_file_that_grew_is_cut_at_its_planned_size() {
        let (_dir, path) = source(b"0123456789abcdef");
        let mut mem = counter(Vec::new());
        mem.append_content(File::open(&path).unwrap(), 10)
            .unwrap_or_else(|_| panic!("copy failed"));
        assert_eq!(&mem.inner[..10], b"0123456789");
        assert_eq!(mem.inner.len(), 512);
    }
}
