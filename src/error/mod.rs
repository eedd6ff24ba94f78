//! The library's error type. A leaf: it imports nothing of the crate.
//!
//! Every variant names the path it concerns. Messages are short and
//! lower-case and never name a command-line flag: the command line adds its
//! own advice where a flag would help. An error that wraps another (an I/O
//! error, or one of ours) keeps it as its `source`, so [`chain`] and any
//! error reporter show the whole story.

mod copy;
mod parts;
mod text;

use std::io;
use std::path::{Path, PathBuf};

pub use parts::{DanglingLink, LoadProblem, LoadProblemKind, Unavailable};
pub use text::{chain, describe_io, tidy};

use parts::{DanglingList, ProblemList};
use text::Shown;

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

    /// An ELF file that neither the kernel would run nor the loader would load.
    #[error("{}: not loadable: {reason}", .path.display())]
    NotLoadable { path: PathBuf, reason: String },

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

    /// Links (given with a directory input, or added as links) that would
    /// lead to nothing in the archive.
    #[error(
        "{} would lead to nothing in the archive:{}",
        if .0.len() == 1 { "a link" } else { "links" },
        DanglingList(.0)
    )]
    DanglingLinks(Vec<DanglingLink>),

    /// What a run-time need was to be packed from is not in the root.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),

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
