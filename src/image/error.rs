//! What can go wrong while writing or pushing an image: every variant names
//! the setting, path, registry or request it concerns. No flag is named here:
//! the command line words [`ImageError::Value`] and [`Login`] with its flags.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A failure of the image step.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A setting's value that cannot be used (a usage error, exit status 2).
    #[error("{setting} {value}: {reason}")]
    Value {
        setting: Setting,
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
    #[error("registry {registry}: {method} {url}: {status}{detail}{}", .login.as_ref().map(|l| format!("; {l}")).unwrap_or_default())]
    Status {
        registry: String,
        method: &'static str,
        url: String,
        status: u16,
        /// What the registry said, with a leading ": ", or empty.
        detail: String,
        /// For a refused login (401, 403): what to check.
        login: Option<Box<Login>>,
    },

    /// The registry asks for credentials and none were found.
    #[error("registry {registry}: authentication required; {login}")]
    NoCredentials { registry: String, login: Box<Login> },

    /// HTTPS failed for a registry that plain HTTP is not tried with (one not
    /// on this machine, unless plain HTTP was allowed).
    #[error(
        "registry {registry}: {method} {url}: {reason} (plain HTTP is not tried with a registry on another machine)"
    )]
    HttpsOnly {
        registry: String,
        method: &'static str,
        url: String,
        reason: String,
    },

    /// A bearer token would be fetched over plain HTTP from another machine.
    #[error("registry {registry}: token realm {realm} is plain HTTP")]
    PlainTokenRealm { registry: String, realm: String },

    /// The registry answered in a way the push cannot go on from.
    #[error("registry {registry}: {reason}")]
    Protocol { registry: String, reason: String },
}

/// The image settings a value can be given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Image,
    Creds,
    Env,
    Label,
    Workdir,
    RunAs,
    Expose,
    LayerCompression,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Setting::Image => "image reference",
            Setting::Creds => "credentials",
            Setting::Env => "environment variable",
            Setting::Label => "label",
            Setting::Workdir => "working directory",
            Setting::RunAs => "user",
            Setting::Expose => "port",
            Setting::LayerCompression => "layer compression",
        })
    }
}

/// Where the credentials of a push came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredsSource {
    /// Given for this run (`--creds`).
    Given,
    /// The `auths` entry of a Docker config file.
    ConfigFile(PathBuf),
}

/// What a registry's refusal of a login points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The credentials used for `user`, and where they came from.
    Check { user: String, from: CredsSource },
    /// No credentials were found for the registry at `host`.
    Missing { host: String },
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Login::Check {
                user,
                from: CredsSource::Given,
            } => write!(f, "check the credentials of {user} (as given)"),
            Login::Check {
                user,
                from: CredsSource::ConfigFile(path),
            } => write!(
                f,
                "check the credentials of {user} (from {})",
                path.display()
            ),
            Login::Missing { host } => write!(f, "no credentials found for {host}"),
        }
    }
}

impl ImageError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl AsRef<Path>, cause: io::Error) -> Self {
        ImageError::Io {
            path: path.as_ref().to_path_buf(),
            cause,
        }
    }

    /// A usage error about `setting`'s `value`.
    pub fn value(setting: Setting, value: impl Into<String>, reason: impl Into<String>) -> Self {
        ImageError::Value {
            setting,
            value: value.into(),
            reason: reason.into(),
        }
    }

    /// Whether this is a value that cannot be used (a usage error).
    pub fn is_usage(&self) -> bool {
        matches!(self, ImageError::Value { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    #[test]
    fn messages_name_the_setting_the_registry_or_the_path() {
        let usage = ImageError::value(Setting::Expose, "http", "expected PORT[/PROTO]");
        assert!(usage.is_usage());
        assert_eq!(usage.to_string(), "port http: expected PORT[/PROTO]");
        let refused = ImageError::Status {
            registry: "127.0.0.1:5000".into(),
            method: "GET",
            url: "/v2/".into(),
            status: 401,
            detail: ": unauthorized: authentication required".into(),
            login: Some(Box::new(Login::Check {
                user: "alice".into(),
                from: CredsSource::ConfigFile("/d/config.json".into()),
            })),
        };
        assert!(!refused.is_usage());
        assert_eq!(
            refused.to_string(),
            "registry 127.0.0.1:5000: GET /v2/: 401: unauthorized: authentication required; check the credentials of alice (from /d/config.json)"
        );
        let io = ImageError::io("/x", io::Error::from_raw_os_error(2));
        assert_eq!(chain(&io), "/x: no such file or directory");
        let stage = ImageError::from(Error::io("/y", io::Error::from_raw_os_error(13)));
        assert_eq!(chain(&stage), "/y: permission denied");
    }
}
