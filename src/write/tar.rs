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
//!
//! A source is opened without blocking and must still be the regular file
//! that was planned, no shorter: a FIFO put in its place is an error, not a
//! hang. A file that grew or changed while it was read is stored cut at its
//! planned size, so the archive stays valid, and reported.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

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
    let mut changed = Vec::new();
    let mut outer = match level {
        None => tar_stream(plan, outer, out_path, None, &mut changed)?,
        Some(level) => {
            let mut buf = copy_buffer(out_path)?;
            let gz = Counter::new(ChunkedGz::new(outer, level), None);
            let tar = tar_stream(plan, gz, out_path, Some(&mut buf), &mut changed)?;
            tar.inner.finish().map_err(io_err)?
        }
    };
    outer.flush().map_err(io_err)?;
    if let Some(writeback) = outer.writeback.take() {
        writeback.finish().map_err(io_err)?;
    }
    let written = Written {
        gzip_bytes: level.map(|_| outer.count),
        changed,
    };
    let inner = outer
        .inner
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    Ok((inner, written))
}

/// Writes the uncompressed tar stream of `plan` into `sink` (a compressor:
/// contents are read into `buf`, from [`copy_buffer`], as for `-z`);
/// returns the sink and the number of bytes written. `out_path` names the
/// output in errors. A source that grows while it is read is cut at its
/// planned size, as in an archive; the stream stays whole, so a layer's
/// digest is of what it holds.
pub fn tar_into<W: Write>(
    plan: &Plan,
    sink: W,
    out_path: &Path,
    buf: &mut [u8],
) -> Result<(W, u64)> {
    let mut changed = Vec::new();
    let counter = tar_stream(
        plan,
        Counter::new(sink, None),
        out_path,
        Some(buf),
        &mut changed,
    )?;
    Ok((counter.inner, counter.count))
}

/// The buffer contents are read into on their way to a compressor,
/// reserved where failing is an error rather than an abort: before the
/// compressor takes what memory it can.
pub fn copy_buffer(out_path: &Path) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(COPY_BUFFER).map_err(|_| {
        let why = "not enough memory to compress (a 256 KiB read buffer)";
        Error::io(out_path, io::Error::new(io::ErrorKind::OutOfMemory, why))
    })?;
    buf.resize(COPY_BUFFER, 0);
    Ok(buf)
}

/// Writes the tar stream for `plan` into `sink` and returns the sink;
/// contents go through `buf` when given (see [`Counter::append_content`]).
/// The sources that changed while they were read are added to `changed`.
fn tar_stream<W: Write>(
    plan: &Plan,
    sink: Counter<W>,
    out_path: &Path,
    mut buf: Option<&mut [u8]>,
    changed: &mut Vec<PathBuf>,
) -> Result<Counter<W>> {
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
            Node::Symlink { target } if is_top(target) => {
                // The tar crate would store `/` as `//` (it adds the final `/` again).
                header.set_entry_type(EntryType::Symlink);
                header.set_size(0);
                header.set_link_name_literal("/").map_err(io_err)?;
                builder
                    .append_data(&mut header, path, io::empty())
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
                let (file, before) = open_source(source, *size)?;
                // The header (and any long-name entry) goes through the tar
                // crate; the content follows, copied as fast as the sink allows.
                builder
                    .append_data(&mut header, path, io::empty())
                    .map_err(io_err)?;
                let file = builder
                    .get_mut()
                    .append_content(file, *size, buf.as_deref_mut())
                    .map_err(|e| match e {
                        CopyError::Source(e) => Error::io(source, e),
                        CopyError::Sink(e) => io_err(e),
                    })?;
                let after = file.metadata().map_err(|e| Error::io(source, e))?;
                if before.len() > *size || !unchanged(&before, &after) {
                    changed.push(source.clone());
                }
            }
        }
    }
    // into_inner writes the end-of-archive blocks; its errors must not be lost.
    builder.into_inner().map_err(io_err)
}

/// Whether `path` is a link target naming the top, `/`.
fn is_top(target: &Path) -> bool {
    let bytes = target.as_os_str().as_bytes();
    !bytes.is_empty() && bytes.iter().all(|&b| b == b'/')
}

/// Opens a planned source without blocking (a FIFO put in its place would
/// wait for a writer forever, a terminal would become ours) and checks it
/// is still a regular file of at least its planned `size`; returns it with
/// what it was when opened.
fn open_source(source: &Path, size: u64) -> Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(source)
        .map_err(|e| Error::io(source, e))?;
    let meta = file.metadata().map_err(|e| Error::io(source, e))?;
    if !meta.is_file() {
        return Err(Error::SourceNotRegular {
            path: source.to_path_buf(),
        });
    }
    if meta.len() < size {
        return Err(Error::io(source, shrank()));
    }
    Ok((file, meta))
}

/// Whether a file is as it was: same length and change times.
fn unchanged(before: &Metadata, after: &Metadata) -> bool {
    let times = |m: &Metadata| (m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec());
    before.len() == after.len() && times(before) == times(after)
}

fn shrank() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "file shrank while it was being archived",
    )
}

enum CopyError {
    Source(io::Error),
    Sink(io::Error),
}

impl<W: Write> Counter<W> {
    /// Appends exactly `size` bytes of `file` and pads them to a whole tar
    /// block, and gives the file back. Without `buf`, `io::copy` lets the
    /// kernel move the bytes (`copy_file_range` into a regular file,
    /// `splice` or `sendfile` into a pipe or device); with it (for gzip,
    /// which the kernel cannot do) whole buffers are read into it. A file
    /// that shrank since it was planned is an error, not a short entry that
    /// would corrupt the archive.
    fn append_content(
        &mut self,
        file: File,
        size: u64,
        buf: Option<&mut [u8]>,
    ) -> std::result::Result<File, CopyError> {
        let (file, copied) = match buf {
            None => {
                let mut reader = file.take(size);
                match io::copy(&mut reader, &mut self.inner) {
                    Ok(copied) => (reader.into_inner(), copied),
                    Err(e) => return Err(blame(reader.into_inner(), e)),
                }
            }
            Some(buf) => {
                let mut file = file;
                let copied = copy_through(&mut file, &mut self.inner, size, buf)?;
                (file, copied)
            }
        };
        self.add(copied);
        if copied < size {
            return Err(CopyError::Source(shrank()));
        }
        let pad = (BLOCK - size % BLOCK) % BLOCK;
        self.write_all(&[0; BLOCK as usize][..pad as usize])
            .map_err(CopyError::Sink)?;
        Ok(file)
    }
}

/// Copies at most `size` bytes of `file` into `sink` through `buf`; returns
/// how many there were.
fn copy_through(
    file: &mut File,
    sink: &mut impl Write,
    size: u64,
    buf: &mut [u8],
) -> std::result::Result<u64, CopyError> {
    let mut copied = 0;
    while copied < size {
        let want = buf
            .len()
            .min((size - copied).try_into().unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Source(e)),
        };
        sink.write_all(&buf[..n]).map_err(CopyError::Sink)?;
        copied += n as u64;
    }
    Ok(copied)
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
        mem.append_content(File::open(&path).unwrap(), 1500, None)
            .unwrap_or_else(|_| panic!("copy into memory failed"));
        assert_eq!(mem.inner, expected);

        // Into a file the kernel copies; the file offset must follow.
        let out = dir.path().join("out");
        let mut file = counter(BufWriter::new(File::create(&out).unwrap()));
        file.write_all(b"head").unwrap();
        file.append_content(File::open(&path).unwrap(), 1500, None)
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
    fn content_read_through_a_buffer_is_the_same() {
        let content: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
        let (_dir, path) = source(&content);
        let mut direct = counter(Vec::new());
        direct
            .append_content(File::open(&path).unwrap(), 2999, None)
            .unwrap_or_else(|_| panic!("direct copy failed"));
        let mut buffered = counter(Vec::new());
        buffered
            .append_content(File::open(&path).unwrap(), 2999, Some(&mut [0; 700]))
            .unwrap_or_else(|_| panic!("buffered copy failed"));
        assert_eq!(direct.inner, buffered.inner);
        assert_eq!(buffered.count, 3072);
        match counter(Vec::new()).append_content(
            File::open(&path).unwrap(),
            4000,
            Some(&mut [0; 700]),
        ) {
            Err(CopyError::Source(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            _ => panic!("a short file was accepted"),
        }
    }

    #[test]
    fn a_file_that_shrank_is_a_source_error() {
        let (_dir, path) = source(b"only ten b");
        let mut mem = counter(Vec::new());
        match mem.append_content(File::open(&path).unwrap(), 20, None) {
            Err(CopyError::Source(e)) => assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof),
            Err(CopyError::Sink(e)) => panic!("blamed the sink: {e}"),
            Ok(_) => panic!("a short file was accepted"),
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
        match counter(Broken).append_content(File::open(&path).unwrap(), 16, None) {
            Err(CopyError::Sink(e)) => assert_eq!(e.to_string(), "the sink broke"),
            Err(CopyError::Source(e)) => panic!("blamed the source: {e}"),
            Ok(_) => panic!("a broken sink was accepted"),
        }
        // A directory opens but cannot be read.
        let unreadable = File::open(dir.path()).unwrap();
        match counter(Vec::new()).append_content(unreadable, 16, None) {
            Err(CopyError::Source(e)) => assert_eq!(e.raw_os_error(), Some(21), "{e}"),
            Err(CopyError::Sink(e)) => panic!("blamed the sink: {e}"),
            Ok(_) => panic!("a directory was copied"),
        }
    }

    fn plan_of(entries: Vec<(&str, Node)>) -> Plan {
        use crate::fsroot::ArchivePath;
        use crate::plan::{Entry, Role};
        Plan {
            entries: entries
                .into_iter()
                .map(|(path, node)| Entry {
                    path: ArchivePath::normalized(Path::new(path)),
                    node,
                    mode: 0o644,
                    mtime: 0,
                    role: Role::Extra,
                })
                .collect(),
        }
    }

    fn encode_plan(plan: &Plan) -> Result<(Vec<u8>, Written)> {
        let sink = BufWriter::new(Vec::new());
        encode(plan, sink, None, Path::new("out.tar"), None)
    }

    #[test]
    fn a_link_to_the_top_is_stored_as_one_slash() {
        let link = |target: &str| Node::Symlink {
            target: target.into(),
        };
        let plan = plan_of(vec![
            ("/a", link("/")),
            ("/b", link("//")),
            ("/c", link("/x/")),
        ]);
        let (bytes, _) = encode_plan(&plan).unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let targets: Vec<Vec<u8>> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().link_name_bytes().unwrap().into_owned())
            .collect();
        assert_eq!(targets, [&b"/"[..], b"/", b"/x/"]);
    }

    #[test]
    fn a_source_replaced_by_a_fifo_is_an_error_not_a_wait() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("lib.so");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        let plan = plan_of(vec![(
            "/lib.so",
            Node::File {
                source: fifo.clone(),
                size: 10,
            },
        )]);
        // Without O_NONBLOCK the open waits for a writer: the test would hang.
        match encode_plan(&plan) {
            Err(Error::SourceNotRegular { path }) => assert_eq!(path, fifo),
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("a FIFO was archived"),
        }
    }

    #[test]
    fn a_source_shorter_than_planned_or_grown_is_told() {
        let (_dir, path) = source(b"0123456789abcdef");
        let file = |size| {
            plan_of(vec![(
                "/f",
                Node::File {
                    source: path.clone(),
                    size,
                },
            )])
        };
        let err = encode_plan(&file(20)).unwrap_err();
        assert!(err.is_io(io::ErrorKind::UnexpectedEof), "{err}");
        let (_, written) = encode_plan(&file(16)).unwrap();
        assert!(written.changed.is_empty());
        let (bytes, written) = encode_plan(&file(10)).unwrap();
        assert_eq!(written.changed, std::slice::from_ref(&path));
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"0123456789");
    }

    #[test]
    fn a_file_that_grew_is_cut_at_its_planned_size() {
        let (_dir, path) = source(b"0123456789abcdef");
        let mut mem = counter(Vec::new());
        mem.append_content(File::open(&path).unwrap(), 10, None)
            .unwrap_or_else(|_| panic!("copy failed"));
        assert_eq!(&mem.inner[..10], b"0123456789");
        assert_eq!(mem.inner.len(), 512);
    }
}
