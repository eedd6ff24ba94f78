//! Where the archive goes, and how a file is replaced only by a complete one.
//!
//! A file is written to a temporary file beside the destination, synced as it
//! grows ([`writeback`](super::writeback)) and renamed into place only when
//! everything, including the final `fsync`, succeeded; on any failure the
//! temporary file is removed and an existing file at the destination is left
//! as it was. A device or pipe (such as `/dev/null`) is written in place.

use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, IsTerminal};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::tar::{COPY_BUFFER, encode};
use super::writeback::Writeback;
use crate::error::{Error, Result};
use crate::plan::Plan;

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
    /// Bytes after gzip, when compressed.
    pub gzip_bytes: Option<u64>,
}

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

/// Writes `plan` to `output`, gzip-compressed at `level` when given.
pub fn write(plan: &Plan, output: &Output, level: Option<u32>) -> Result<Written> {
    match output {
        Output::Stdout => {
            let stdout = io::stdout();
            if stdout.is_terminal() {
                return Err(Error::StdoutIsTerminal);
            }
            let lock = stdout.lock();
            let sink = BufWriter::with_capacity(COPY_BUFFER, lock);
            let (_, written) = encode(plan, sink, level, Path::new("-"), None)?;
            Ok(written)
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
        let sink = BufWriter::with_capacity(COPY_BUFFER, file);
        return encode(plan, sink, level, path, None).map(|(_, w)| w);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    // Created 0666 less the umask, as any new file: the kernel applies the
    // umask, so it need not be read.
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.as_deref().unwrap_or("archive")))
        .suffix(".partial")
        .permissions(Permissions::from_mode(0o666))
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
    // `BufWriter` aborts when it cannot have its buffer, which would leave
    // the temporary file behind: the room is reserved and let go first, on
    // this one thread, so running out of memory is an error here instead.
    Vec::<u8>::new()
        .try_reserve_exact(COPY_BUFFER)
        .map_err(|_| Error::io(path, io::ErrorKind::OutOfMemory.into()))?;
    let (file, written) = encode(
        plan,
        BufWriter::with_capacity(COPY_BUFFER, handle()?),
        level,
        path,
        Some(Writeback::start(handle()?)),
    )?;
    drop(file);
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(written)
}
