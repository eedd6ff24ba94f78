//! The writer: turns a plan into tar (optionally gzip) bytes, and is the only
//! part that touches the output.
//!
//! Headers are GNU format (for long names and link targets), filled field by
//! field: uid and gid 0, owner names `root`, the plan's modes and times,
//! nothing from the host's user database. The gzip stream is compressed on every core
//! ([`crate::gzip`]) and its header carries no name and mtime 0. File
//! contents are streamed from their sources (copied by the kernel when the
//! archive is an uncompressed file), so memory does not grow with
//! file size. A file is written to a temporary file beside the destination,
//! synced as it grows ([`crate::writeback`]) and renamed into place only when
//! everything, including the final `fsync`, succeeded; on
//! any failure the temporary file is removed and an existing file at the
//! destination is left as it was.

use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tar::{EntryType, Header};

use crate::error::{Error, Result};
use crate::gzip::ChunkedGz;
use crate::plan::{Kind, Plan};
use crate::writeback::Writeback;

/// Bytes read from a source file, and written to the output, at a time.
const COPY_BUFFER: usize = 256 * 1024;

/// The temporary file being written, so an interrupted run can remove it.
static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Removes the temporary file of a write in progress, if any. For a signal
/// handler: an interrupted run leaves nothing behind.
pub fn remove_partial() {
    let taken = PARTIAL.lock().map(|mut p| p.take()).unwrap_or_default();
    if let Some(path) = taken {
        let _ = fs::remove_file(path);
    }
}

fn set_partial(path: Option<PathBuf>) {
    if let Ok(mut slot) = PARTIAL.lock() {
        *slot = path;
    }
}

/// Where the archive goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// How the output is named in messages.
    pub fn display(&self) -> String {
        match self {
            Output::Stdout => "standard output".into(),
            Output::File(p) => p.display().to_string(),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Bytes of the tar stream.
    pub tar_bytes: u64,
    /// Bytes after gzip, when compressed.
    pub gzip_bytes: Option<u64>,
}

/// Writes `plan` to `output`, gzip-compressed at `level` when given.
pub fn write(plan: &Plan, output: &Output, level: Option<u32>) -> Result<Written> {
    match output {
        Output::Stdout => {
            let stdout = io::stdout();
            if stdout.is_terminal() {
                return Err(Error::Usage(
                    "refusing to write an archive to a terminal; redirect or pipe standard output"
                        .into(),
                ));
            }
            let lock = stdout.lock();
            let written = encode(
                plan,
                BufWriter::with_capacity(COPY_BUFFER, lock),
                level,
                Path::new("-"),
                None,
            )?;
            Ok(written.1)
        }
        Output::File(path) => write_file(plan, path, level),
    }
}

fn write_file(plan: &Plan, path: &Path, level: Option<u32>) -> Result<Written> {
    // A device or pipe (such as /dev/null) is written in place: renaming over it would replace it.
    if let Ok(meta) = fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(Error::IsDirectory {
                path: path.to_path_buf(),
            });
        }
        let file = File::options()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        return encode(
            plan,
            BufWriter::with_capacity(COPY_BUFFER, file),
            level,
            path,
            None,
        )
        .map(|(_, w)| w);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.as_deref().unwrap_or("archive")))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(path, e))?;
    set_partial(Some(temp.path().to_path_buf()));
    let result = finish_temp(plan, temp, path, level);
    set_partial(None);
    result
}

/// Fills the temporary file, syncs it and renames it to `path`; on error it
/// is dropped, which removes it.
fn finish_temp(
    plan: &Plan,
    temp: tempfile::NamedTempFile,
    path: &Path,
    level: Option<u32>,
) -> Result<Written> {
    let handle = || {
        temp.as_file()
            .try_clone()
            .map_err(|e| Error::io(temp.path(), e))
    };
    let (file, written) = encode(
        plan,
        BufWriter::with_capacity(COPY_BUFFER, handle()?),
        level,
        path,
        Some(Writeback::start(handle()?)),
    )?;
    drop(file);
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    // The temporary file is created 0600; give the archive the usual 0644 less the umask.
    set_default_mode(temp.path()).map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(written)
}

fn set_default_mode(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mask = current_umask();
    fs::set_permissions(path, fs::Permissions::from_mode(0o666 & !mask))
}

fn current_umask() -> u32 {
    // /proc/self/status has "Umask:\t0022" on Linux 4.7 and later.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

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

fn encode<W: Write>(
    plan: &Plan,
    sink: BufWriter<W>,
    level: Option<u32>,
    out_path: &Path,
    writeback: Option<Writeback>,
) -> Result<(W, Written)> {
    let io_err = |e: io::Error| Error::io(out_path, e);
    let outer = Counter::new(sink, writeback);
    let (mut outer, tar_bytes) = match level {
        None => {
            let tar = tar_stream(plan, outer, out_path)?;
            let tar_bytes = tar.count;
            (tar, tar_bytes)
        }
        Some(level) => {
            let gz = Counter::new(ChunkedGz::new(outer, level), None);
            let tar = tar_stream(plan, gz, out_path)?;
            let tar_bytes = tar.count;
            (tar.inner.finish().map_err(io_err)?, tar_bytes)
        }
    };
    outer.flush().map_err(io_err)?;
    if let Some(writeback) = outer.writeback.take() {
        writeback.finish().map_err(io_err)?;
    }
    let written = Written {
        tar_bytes,
        gzip_bytes: level.map(|_| outer.count),
    };
    let inner = outer
        .inner
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    Ok((inner, written))
}

/// Writes the uncompressed tar stream of `plan` into `sink`; returns the sink
/// and the number of bytes written. `out_path` names the output in errors.
pub fn tar_into<W: Write>(plan: &Plan, sink: W, out_path: &Path) -> Result<(W, u64)> {
    let counter = tar_stream(plan, Counter::new(sink, None), out_path)?;
    Ok((counter.inner, counter.count))
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
        match &entry.kind {
            Kind::Dir => {
                header.set_entry_type(EntryType::Directory);
                header.set_size(0);
                let mut name = entry.path.clone().into_os_string();
                name.push("/");
                builder
                    .append_data(&mut header, Path::new(&name), io::empty())
                    .map_err(io_err)?;
            }
            Kind::Symlink { target } => {
                header.set_entry_type(EntryType::Symlink);
                header.set_size(0);
                builder
                    .append_link(&mut header, &entry.path, target)
                    .map_err(io_err)?;
            }
            Kind::Generated { content } => {
                header.set_entry_type(EntryType::Regular);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, &entry.path, content.as_slice())
                    .map_err(io_err)?;
            }
            Kind::File { source, size } => {
                header.set_entry_type(EntryType::Regular);
                header.set_size(*size);
                let file = File::open(source).map_err(|e| Error::io(source, e))?;
                // The header (and any long-name entry) goes through the tar
                // crate; the content follows, copied as fast as the sink allows.
                builder
                    .append_data(&mut header, &entry.path, io::empty())
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
