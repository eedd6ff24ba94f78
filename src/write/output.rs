//! Where the archive goes, and how a file is replaced only by a complete one.
//!
//! A file is written to a temporary file beside the destination, synced as it
//! grows ([`writeback`](super::writeback)) and renamed into place only when
//! everything, including the final `fsync`, succeeded; on any failure the
//! temporary file is removed and an existing file at the destination is left
//! as it was. The file replaced keeps its owner and mode; a new one gets 0666
//! less the umask, from the kernel. A link is written through to its target
//! ([`target`](super::target)); a device or pipe (such as `/dev/null`) is
//! written in place, a terminal never.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, BufWriter, IsTerminal};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::tar::{COPY_BUFFER, encode};
use super::target::{Target, refuse_packed};
use super::writeback::Writeback;
use crate::error::{Error, Result};
use crate::plan::{Plan, Planned};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Bytes after gzip, when compressed.
    pub gzip_bytes: Option<u64>,
    /// Files that changed while they were read (GNU tar's "file changed as
    /// we read it"): each is stored cut at its planned size, so the archive
    /// is valid, but the file may mix old and new content.
    pub changed: Vec<PathBuf>,
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

/// Writes the plan of `planned` to `output`, gzip-compressed at `level`
/// when given. Refuses an output the archive would read (see
/// [`target`](super::target)).
pub fn write(planned: &Planned, output: &Output, level: Option<u32>) -> Result<Written> {
    match output {
        Output::Stdout => write_stdout(planned, level),
        Output::File(path) => write_file(planned, path, level),
    }
}

fn write_stdout(planned: &Planned, level: Option<u32>) -> Result<Written> {
    let stdout = io::stdout();
    if stdout.is_terminal() {
        return Err(Error::StdoutIsTerminal);
    }
    // Standard output redirected to a file (`> file`): that file must not be packed.
    let fd = stdout.as_fd().try_clone_to_owned();
    let meta = fd.and_then(|fd| File::from(fd).metadata()).ok();
    let shown = Path::new("standard output");
    refuse_packed(planned, shown, meta.as_ref(), None)?;
    let sink = BufWriter::with_capacity(COPY_BUFFER, stdout.lock());
    let (_, written) = encode(&planned.plan, sink, level, Path::new("-"), None)?;
    Ok(written)
}

fn write_file(planned: &Planned, path: &Path, level: Option<u32>) -> Result<Written> {
    let target = Target::resolve(path)?;
    let out = target.path.as_path();
    if let Some(meta) = &target.meta
        && !meta.is_file()
    {
        // A device or pipe (such as /dev/null) is written in place: renaming
        // over it would replace it. Not blocking on a terminal's carrier,
        // nor making it the controlling terminal.
        let file = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(out)
            .map_err(|e| Error::io(out, e))?;
        if file.is_terminal() {
            return Err(Error::OutputIsTerminal {
                path: path.to_path_buf(),
            });
        }
        let sink = BufWriter::with_capacity(COPY_BUFFER, file);
        return encode(&planned.plan, sink, level, out, None).map(|(_, w)| w);
    }
    refuse_packed(planned, path, target.existing_file(), Some(target.dir()))?;
    let temp = temp_beside(&target)?;
    if let Some(meta) = target.existing_file() {
        keep_owner_and_mode(temp.as_file(), meta).map_err(|e| Error::io(out, e))?;
    }
    set_partial(Some(temp.path().to_path_buf()));
    let result = finish_temp(&planned.plan, temp, out, level);
    set_partial(None);
    result
}

/// The longest name a directory entry may have (Linux's NAME_MAX).
const NAME_MAX: usize = 255;
/// Random characters in a temporary name.
const RANDOM: usize = 6;
const SUFFIX: &str = ".partial";

/// A new temporary file `.NAME.XXXXXX.partial` beside the target, created
/// 0666 less the umask, as any new file: the kernel applies the umask, so it
/// need not be read. A long NAME is cut so the whole fits NAME_MAX.
fn temp_beside(target: &Target) -> Result<tempfile::NamedTempFile> {
    let name = target
        .path
        .file_name()
        .map_or(&b"archive"[..], |n| n.as_bytes());
    let room = NAME_MAX - RANDOM - SUFFIX.len() - 2;
    let mut prefix = b".".to_vec();
    prefix.extend_from_slice(&name[..name.len().min(room)]);
    prefix.push(b'.');
    tempfile::Builder::new()
        .prefix(&OsString::from_vec(prefix))
        .rand_bytes(RANDOM)
        .suffix(SUFFIX)
        .permissions(Permissions::from_mode(0o666))
        .tempfile_in(target.dir())
        .map_err(|e| Error::io(&target.path, e))
}

/// Gives `file` the owner, group and mode of the file it replaces. The
/// owner first, since changing it clears setuid and setgid bits. A user
/// who may not give files away keeps the group where allowed.
fn keep_owner_and_mode(file: &File, was: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::fchown;
    match fchown(file, Some(was.uid()), Some(was.gid())) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            let _ = fchown(file, None, Some(was.gid()));
        }
        other => other?,
    }
    file.set_permissions(Permissions::from_mode(was.mode() & 0o7777))
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
