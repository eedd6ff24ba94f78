//! The library's error type. A leaf: it imports nothing of the crate.
//!
//! Every variant names the path it concerns. Messages are short and
//! lower-case and never name a command-line flag: the command line adds its
//! own advice where a flag would help. An error that wraps another (an I/O
//! error, or one of ours) keeps it as its `source`, so [`chain`] and any
//! error reporter show the whole story.

use std::error::Error as StdError;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A failure of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("{}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: io::Error,
    },

    /// The file exists but does not start with the ELF magic.
    #[error("{}: not an ELF file", .path.display())]
    NotElf { path: PathBuf },

    /// The file is ELF but cannot be parsed.
    #[error("{}: malformed ELF file: {reason}", .path.display())]
    Malformed { path: PathBuf, reason: String },

    /// A directory was given where an ELF file is expected.
    #[error("{}: is a directory, expected an ELF file", .path.display())]
    IsDirectory { path: PathBuf },

    /// A device, FIFO or socket where a regular file is expected.
    #[error("{}: not a regular file", .path.display())]
    NotRegularFile { path: PathBuf },

    /// Something other than a regular file, link or directory to add.
    #[error("{}: not a regular file, link or directory", .path.display())]
    UnsupportedFileType { path: PathBuf },

    /// Symbolic links that never end.
    #[error("{}: too many levels of symbolic links", .path.display())]
    SymlinkLoop { path: PathBuf },

    /// An input path with no file name to store it under (`..`, `/`).
    #[error("{}: not a file name", .path.display())]
    NotAFileName { path: PathBuf },

    /// An archive path with no final name to create.
    #[error("{}: not a file path", .path.display())]
    NotAFilePath { path: PathBuf },

    /// An archive path that would climb out of the archive with `..`.
    #[error("{}: '..' is not allowed in archive paths", .path.display())]
    ArchivePathEscapes { path: PathBuf },

    /// Two entries of the archive would take one path.
    #[error("{path}: both {} and {} would be stored here", .first.display(), .second.display())]
    Conflict {
        path: String,
        first: PathBuf,
        second: PathBuf,
    },

    /// A link of a directory input leads to something the archive does not hold.
    #[error(
        "{}: the link leads out of the directory input to something the archive does not hold",
        .link.display()
    )]
    LinkLeavesTree { link: PathBuf },

    /// The planned image's own loader would not load what was resolved.
    #[error("the archive would not load as planned, nothing written:{}", ProblemList(.0))]
    WouldNotLoad(Vec<LoadProblem>),

    /// glibc before 2.34 needs NSS modules that the root lacks.
    #[error(
        "name lookup would not work: {} not found beside {}, which has no built-in files and dns backends (glibc before 2.34)",
        .lacking.join(", "),
        .libc.display()
    )]
    NssModulesMissing { lacking: Vec<String>, libc: PathBuf },

    /// A file that service and protocol lookups read is not in the root.
    #[error("{} is needed for service and protocol lookups", .file.display())]
    NetFileMissing {
        file: PathBuf,
        #[source]
        cause: Box<Error>,
    },

    /// No CA bundle at any well-known place of the root.
    #[error(
        "no CA bundle found in the root {}; looked for {}",
        .root.as_deref().map(Path::display).map(|d| d.to_string()).unwrap_or_default(),
        .looked.join(", ")
    )]
    NoCaBundle {
        /// The root's host directory (none for an image).
        root: Option<PathBuf>,
        looked: Vec<&'static str>,
    },

    /// An `include` pattern of `ld.so.conf` that is not a glob.
    #[error("{}: bad include pattern: {reason}", .path.display())]
    BadIncludePattern { path: PathBuf, reason: String },

    /// Binary data would go to a terminal.
    #[error("refusing to write an archive to a terminal; redirect or pipe standard output")]
    StdoutIsTerminal,

    /// The output names a terminal, by whatever path.
    #[error("{}: refusing to write an archive to a terminal", Shown(.path))]
    OutputIsTerminal { path: PathBuf },

    /// The output is a directory.
    #[error("{}: is a directory, not a file to write the archive to", Shown(.path))]
    OutputIsDirectory { path: PathBuf },

    /// The output is a file the archive packs (by device and inode).
    #[error(
        "{}: refusing to write the archive over {}, a file it packs",
        Shown(.path),
        Shown(.packed)
    )]
    OutputIsPacked { path: PathBuf, packed: PathBuf },

    /// The output would be made inside a directory the archive packs whole,
    /// so the next run would pack this archive.
    #[error(
        "{}: refusing to write the archive inside {}, a directory it packs whole",
        Shown(.path),
        Shown(.dir)
    )]
    OutputInPackedDir { path: PathBuf, dir: PathBuf },

    /// The root is missing or not a directory.
    #[error("{}: cannot be the root", Shown(.path))]
    BadRoot {
        path: PathBuf,
        #[source]
        cause: io::Error,
    },

    /// A file planned as a regular file is something else when it is read
    /// (replaced by a FIFO or a device since it was planned).
    #[error("{}: no longer a regular file since it was planned", Shown(.path))]
    SourceNotRegular { path: PathBuf },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One way the planned image would not load as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// The DT_NEEDED name.
    pub name: OsString,
    /// In-archive path of the object that needs it.
    pub needed_by: PathBuf,
    pub kind: LoadProblemKind,
}

/// What the image's loader would do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadProblemKind {
    /// Load another file than the one planned (in-archive paths).
    Other { loaded: PathBuf, planned: PathBuf },
    /// Find nothing; `why` says where it looked.
    NotFound { why: String },
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.to_string_lossy();
        let needer = self.needed_by.display();
        match &self.kind {
            LoadProblemKind::Other { loaded, planned } => write!(
                f,
                "{name} (needed by {needer}): the image would load {} instead of {}",
                loaded.display(),
                planned.display()
            ),
            LoadProblemKind::NotFound { why } => write!(
                f,
                "{name} (needed by {needer}): the image's loader would not find it ({why})"
            ),
        }
    }
}

struct ProblemList<'a>(&'a [LoadProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, cause: io::Error) -> Self {
        Error::Io {
            path: tidy(path.as_ref()),
            cause,
        }
    }

    /// A malformed-ELF error for `path`.
    pub fn malformed(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            path: tidy(path.as_ref()),
            reason: reason.into(),
        }
    }

    /// Whether this is an I/O error of `kind`.
    pub fn is_io(&self, kind: io::ErrorKind) -> bool {
        matches!(self, Error::Io { cause, .. } if cause.kind() == kind)
    }
}

/// A copy of an error, so that a failure kept for the rest of a run can be
/// reported again. `io::Error` has no `Clone`: an OS error is rebuilt from its
/// code, any other from its kind and text, so both read the same.
impl Clone for Error {
    fn clone(&self) -> Self {
        match self {
            Error::Io { path, cause } => Error::Io {
                path: path.clone(),
                cause: copy_io(cause),
            },
            Error::NotElf { path } => Error::NotElf { path: path.clone() },
            Error::Malformed { path, reason } => Error::Malformed {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::IsDirectory { path } => Error::IsDirectory { path: path.clone() },
            Error::NotRegularFile { path } => Error::NotRegularFile { path: path.clone() },
            Error::UnsupportedFileType { path } => {
                Error::UnsupportedFileType { path: path.clone() }
            }
            Error::SymlinkLoop { path } => Error::SymlinkLoop { path: path.clone() },
            Error::NotAFileName { path } => Error::NotAFileName { path: path.clone() },
            Error::NotAFilePath { path } => Error::NotAFilePath { path: path.clone() },
            Error::ArchivePathEscapes { path } => Error::ArchivePathEscapes { path: path.clone() },
            Error::Conflict {
                path,
                first,
                second,
            } => Error::Conflict {
                path: path.clone(),
                first: first.clone(),
                second: second.clone(),
            },
            Error::LinkLeavesTree { link } => Error::LinkLeavesTree { link: link.clone() },
            Error::WouldNotLoad(problems) => Error::WouldNotLoad(problems.clone()),
            Error::NssModulesMissing { lacking, libc } => Error::NssModulesMissing {
                lacking: lacking.clone(),
                libc: libc.clone(),
            },
            Error::NetFileMissing { file, cause } => Error::NetFileMissing {
                file: file.clone(),
                cause: cause.clone(),
            },
            Error::NoCaBundle { root, looked } => Error::NoCaBundle {
                root: root.clone(),
                looked: looked.clone(),
            },
            Error::BadIncludePattern { path, reason } => Error::BadIncludePattern {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::StdoutIsTerminal => Error::StdoutIsTerminal,
            Error::OutputIsTerminal { path } => Error::OutputIsTerminal { path: path.clone() },
            Error::OutputIsDirectory { path } => Error::OutputIsDirectory { path: path.clone() },
            Error::OutputIsPacked { path, packed } => Error::OutputIsPacked {
                path: path.clone(),
                packed: packed.clone(),
            },
            Error::OutputInPackedDir { path, dir } => Error::OutputInPackedDir {
                path: path.clone(),
                dir: dir.clone(),
            },
            Error::BadRoot { path, cause } => Error::BadRoot {
                path: path.clone(),
                cause: copy_io(cause),
            },
            Error::SourceNotRegular { path } => Error::SourceNotRegular { path: path.clone() },
        }
    }
}

/// A copy of an I/O error: an OS error from its code, any other from its
/// kind and text.
fn copy_io(cause: &io::Error) -> io::Error {
    match cause.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(cause.kind(), cause.to_string()),
    }
}

/// A path as messages and views show it: repeated `/`, a trailing `/` and
/// `.` components left out, so `/opt/a////libc.so.6` reads
/// `/opt/a/libc.so.6`. Nothing else changes (`..` stays, no link is
/// followed), so it names the same file.
pub fn tidy(path: &Path) -> PathBuf {
    path.components().collect()
}

/// Shows a path [`tidy`].
struct Shown<'a>(&'a Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tidy(self.0).display().fmt(f)
    }
}

/// An error and its causes as one line: each joined to the one before by
/// ": ", I/O errors as [`describe_io`] words them.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(err);
    while let Some(err) = next {
        if !text.is_empty() {
            text.push_str(": ");
        }
        match err.downcast_ref::<io::Error>() {
            Some(io) => text.push_str(&describe_io(io)),
            None => text.push_str(&err.to_string()),
        }
        next = err.source();
    }
    text
}

/// `io::Error`'s text without the trailing "(os error N)" and lower-cased,
/// so messages read as one sentence.
pub fn describe_io(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_messages_drop_the_os_error_suffix() {
        let err = Error::io("/x/y", io::Error::from_raw_os_error(2));
        assert_eq!(chain(&err), "/x/y: no such file or directory");
        let err = Error::io("/x", io::Error::from_raw_os_error(28));
        assert_eq!(chain(&err), "/x: no space left on device");
    }

    #[test]
    fn a_wrapped_error_is_shown_after_its_wrapper() {
        let err = Error::NetFileMissing {
            file: "/etc/services".into(),
            cause: Box::new(Error::io(
                "/r/etc/services",
                io::Error::from_raw_os_error(2),
            )),
        };
        assert_eq!(
            chain(&err),
            "/etc/services is needed for service and protocol lookups: /r/etc/services: no such file or directory"
        );
    }

    #[test]
    fn copies_read_and_match_like_the_original() {
        let os = Error::io("/x", io::Error::from_raw_os_error(13));
        let other = Error::io("/y", io::Error::new(io::ErrorKind::InvalidData, "Bad data"));
        for err in [os, other] {
            let copy = err.clone();
            assert_eq!(chain(&copy), chain(&err));
            let kind = |e: &Error| match e {
                Error::Io { cause, .. } => (cause.kind(), cause.raw_os_error()),
                _ => unreachable!(),
            };
            assert_eq!(kind(&copy), kind(&err));
        }
        let malformed = Error::malformed("/z", "short");
        assert!(matches!(malformed.clone(), Error::Malformed { reason, .. } if reason == "short"));
    }

    #[test]
    fn load_problems_read_as_before() {
        let err = Error::WouldNotLoad(vec![
            LoadProblem {
                name: "libc.so.6".into(),
                needed_by: "/app/prog".into(),
                kind: LoadProblemKind::NotFound { why: "x".into() },
            },
            LoadProblem {
                name: "libz.so.1".into(),
                needed_by: "/app/prog".into(),
                kind: LoadProblemKind::Other {
                    loaded: "/a/libz.so.1".into(),
                    planned: "/b/libz.so.1".into(),
                },
            },
        ]);
        assert_eq!(
            err.to_string(),
            "the archive would not load as planned, nothing written:\n  \
             libc.so.6 (needed by /app/prog): the image's loader would not find it (x)\n  \
             libz.so.1 (needed by /app/prog): the image would load /a/libz.so.1 instead of /b/libz.so.1"
        );
    }
}
