//! The library's error type: every variant names the path it concerns.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::resolve::Missing;

/// A failure of the pipeline. Messages are short, lower-case and name the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("{}: {}", .path.display(), describe_io(.cause))]
    Io { path: PathBuf, cause: io::Error },

    /// The file exists but does not start with the ELF magic.
    #[error("{}: not an ELF file", .path.display())]
    NotElf { path: PathBuf },

    /// The file is ELF but cannot be parsed.
    #[error("{}: malformed ELF file: {reason}", .path.display())]
    Malformed { path: PathBuf, reason: String },

    /// A directory was given where a file is expected.
    #[error("{}: is a directory, expected an ELF file", .path.display())]
    IsDirectory { path: PathBuf },

    /// Symbolic links that never end.
    #[error("{}: too many levels of symbolic links", .path.display())]
    SymlinkLoop { path: PathBuf },

    /// Libraries the target's loader would not find.
    #[error("{}", MissingList(.0))]
    Missing(Vec<Missing>),

    /// The planned image's own loader would not load what was resolved.
    #[error("the archive would not load as planned, nothing written:\n  {}", .0.join("\n  "))]
    WouldNotLoad(Vec<String>),

    /// Two entries of the archive would take one path.
    #[error("{path}: both {} and {} would be stored here", .first.display(), .second.display())]
    Conflict {
        path: String,
        first: PathBuf,
        second: PathBuf,
    },

    /// Something found cannot be used.
    #[error("{0}")]
    Invalid(String),

    /// A flag or value given by the user cannot be used (exit code 2).
    #[error("{0}")]
    Usage(String),

    /// Writing or pushing a container image failed.
    #[error(transparent)]
    Image(std::sync::Arc<crate::image::ImageError>),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, cause: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            cause,
        }
    }

    /// A malformed-ELF error for `path`.
    pub fn malformed(path: impl AsRef<Path>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
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
                cause: match cause.raw_os_error() {
                    Some(code) => io::Error::from_raw_os_error(code),
                    None => io::Error::new(cause.kind(), cause.to_string()),
                },
            },
            Error::NotElf { path } => Error::NotElf { path: path.clone() },
            Error::Malformed { path, reason } => Error::Malformed {
                path: path.clone(),
                reason: reason.clone(),
            },
            Error::IsDirectory { path } => Error::IsDirectory { path: path.clone() },
            Error::SymlinkLoop { path } => Error::SymlinkLoop { path: path.clone() },
            Error::Missing(missing) => Error::Missing(missing.clone()),
            Error::WouldNotLoad(problems) => Error::WouldNotLoad(problems.clone()),
            Error::Conflict {
                path,
                first,
                second,
            } => Error::Conflict {
                path: path.clone(),
                first: first.clone(),
                second: second.clone(),
            },
            Error::Invalid(text) => Error::Invalid(text.clone()),
            Error::Usage(text) => Error::Usage(text.clone()),
            Error::Image(err) => Error::Image(err.clone()),
        }
    }
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

struct MissingList<'a>(&'a [Missing]);

impl fmt::Display for MissingList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} {} the loader would not find (use --allow-missing to pack anyway):",
            if n == 1 { "library" } else { "libraries" }
        )?;
        for missing in self.0 {
            write!(f, "\n  {missing}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_messages_drop_the_os_error_suffix() {
        let err = Error::io("/x/y", io::Error::from_raw_os_error(2));
        assert_eq!(err.to_string(), "/x/y: no such file or directory");
        let err = Error::io("/x", io::Error::from_raw_os_error(28));
        assert_eq!(err.to_string(), "/x: no space left on device");
    }

    #[test]
    fn copies_read_and_match_like_the_original() {
        let os = Error::io("/x", io::Error::from_raw_os_error(13));
        let other = Error::io("/y", io::Error::new(io::ErrorKind::InvalidData, "Bad data"));
        for err in [os, other] {
            let copy = err.clone();
            assert_eq!(copy.to_string(), err.to_string());
            let kind = |e: &Error| match e {
                Error::Io { cause, .. } => (cause.kind(), cause.raw_os_error()),
                _ => unreachable!(),
            };
            assert_eq!(kind(&copy), kind(&err));
        }
        let malformed = Error::malformed("/z", "short");
        assert!(matches!(malformed.clone(), Error::Malformed { reason, .. } if reason == "short"));
    }
}
