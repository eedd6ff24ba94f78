//! What can go wrong while writing or pushing an image: every variant names
//! the flag, path, registry or request it concerns.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;

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
    #[error("{}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: io::Error,
    },

    /// Planning or the archive writer failed (a layer's tar stream, an archive).
    #[error(transparent)]
    Stage(#[from] Error),

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

impl ImageError {
    /// Whether this is a flag value that cannot be used (a usage error).
    pub fn is_usage(&self) -> bool {
        matches!(self, ImageError::Flag { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    #[test]
    fn messages_name_the_flag_the_registry_or_the_path() {
        let usage = ImageError::flag("--expose", "http", "expected PORT[/PROTO]");
        assert!(usage.is_usage());
        assert_eq!(usage.to_string(), "--expose http: expected PORT[/PROTO]");
        let refused = ImageError::Status {
            registry: "127.0.0.1:5000".into(),
            method: "GET",
            url: "/v2/".into(),
            status: 401,
            detail: ": unauthorized: authentication required".into(),
            hint: "; check the password".into(),
        };
        assert!(!refused.is_usage());
        assert_eq!(
            refused.to_string(),
            "registry 127.0.0.1:5000: GET /v2/: 401: unauthorized: authentication required; check the password"
        );
        let io = ImageError::io("/x", io::Error::from_raw_os_error(2));
        assert_eq!(chain(&io), "/x: no such file or directory");
        let stage = ImageError::from(Error::io("/y", io::Error::from_raw_os_error(13)));
        assert_eq!(chain(&stage), "/y: permission denied");
    }
}
