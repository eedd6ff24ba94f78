//! What can go wrong while writing or pushing an image: every variant names
//! the flag, path, registry or request it concerns.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, describe_io};

/// A failure of the image step.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A flag value that cannot be used (a usage error, exit status 2).
    #[error("{flag} {value}: {reason}")]
    Flag {
        flag: &'static str,
        value: String,
        reason: String,
    },

    /// An I/O operation on `path` failed.
    #[error("{}: {}", .path.display(), describe_io(.cause))]
    Io { path: PathBuf, cause: io::Error },

    /// A file that exists cannot be used (an image layout's `index.json`,
    /// a Docker config file).
    #[error("{}: {reason}", .path.display())]
    Unusable { path: PathBuf, reason: String },

    /// The platform of the image cannot be told from its ELF files.
    #[error("{}: {reason}", .path.display())]
    Platform { path: PathBuf, reason: String },

    /// A request that got no HTTP answer (connection, TLS, timeout).
    #[error("registry {registry}: {method} {url}: {reason}")]
    Transport {
        registry: String,
        method: &'static str,
        url: String,
        reason: String,
    },

    /// A request the registry refused, with its status and what it said.
    #[error("registry {registry}: {method} {url}: {status}{detail}{hint}")]
    Status {
        registry: String,
        method: &'static str,
        url: String,
        status: u16,
        /// What the registry said, with a leading ": ", or empty.
        detail: String,
        /// What to do next, with a leading "; ", or empty.
        hint: String,
    },

    /// The registry answered in a way the push cannot go on from.
    #[error("registry {registry}: {reason}")]
    Protocol { registry: String, reason: String },
}

impl ImageError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, cause: io::Error) -> Self {
        ImageError::Io {
            path: path.as_ref().to_path_buf(),
            cause,
        }
    }

    /// A usage error about `flag`'s `value`.
    pub fn flag(flag: &'static str, value: impl Into<String>, reason: impl Into<String>) -> Self {
        ImageError::Flag {
            flag,
            value: value.into(),
            reason: reason.into(),
        }
    }
}

/// The one place image errors become the crate's: flag errors are usage
/// errors (exit status 2), the rest failures (exit status 1).
impl From<ImageError> for Error {
    fn from(err: ImageError) -> Error {
        match err {
            ImageError::Flag { .. } => Error::Usage(err.to_string()),
            other => Error::Image(Arc::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_errors_are_usage_errors_and_others_failures() {
        let usage: Error = ImageError::flag("--expose", "http", "expected PORT[/PROTO]").into();
        assert!(matches!(usage, Error::Usage(_)));
        assert_eq!(usage.to_string(), "--expose http: expected PORT[/PROTO]");
        let failed: Error = ImageError::Status {
            registry: "127.0.0.1:5000".into(),
            method: "GET",
            url: "/v2/".into(),
            status: 401,
            detail: ": unauthorized: authentication required".into(),
            hint: "; check the password".into(),
        }
        .into();
        assert_eq!(
            failed.to_string(),
            "registry 127.0.0.1:5000: GET /v2/: 401: unauthorized: authentication required; check the password"
        );
        let io: Error = ImageError::io("/x", io::Error::from_raw_os_error(2)).into();
        assert_eq!(io.to_string(), "/x: no such file or directory");
    }
}
