//! Where an image goes: `--image TRANSPORT:REFERENCE`, with skopeo's
//! transport names (`oci:`, `oci-archive:`, `docker-archive:`, `docker://`).

use std::fmt;
use std::path::PathBuf;

use super::error::{ImageError, Setting};

/// The tag used when a reference names none.
pub const DEFAULT_TAG: &str = "latest";

/// A parsed `--image` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// An OCI image layout directory, and the tag to give the image in it.
    OciDir { dir: PathBuf, tag: String },
    /// The same layout as one tar file.
    OciArchive { file: PathBuf, tag: String },
    /// What `docker load` reads; `name` is `NAME:TAG` when given.
    DockerArchive { file: PathBuf, name: Option<String> },
    /// A repository in a registry.
    Registry(RegistryRef),
}

/// `docker://HOST[:PORT]/REPO[:TAG]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    /// `HOST[:PORT]`, as given.
    pub host: String,
    pub repo: String,
    pub tag: String,
}

impl RegistryRef {
    /// The host name without the port (and without brackets for IPv6).
    pub fn hostname(&self) -> &str {
        if let Some(rest) = self.host.strip_prefix('[') {
            return rest.split(']').next().unwrap_or(rest);
        }
        self.host.split(':').next().unwrap_or(&self.host)
    }

    /// Whether the host is this machine (`localhost`, 127.0.0.0/8, `::1`),
    /// where plain HTTP is allowed as Docker allows it.
    pub fn is_loopback(&self) -> bool {
        let host = self.hostname();
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::OciDir { dir, tag } => write!(f, "oci:{}:{tag}", dir.display()),
            Reference::OciArchive { file, tag } => {
                write!(f, "oci-archive:{}:{tag}", file.display())
            }
            Reference::DockerArchive { file, name } => {
                write!(f, "docker-archive:{}", file.display())?;
                match name {
                    Some(name) => write!(f, ":{name}"),
                    None => Ok(()),
                }
            }
            Reference::Registry(r) => write!(f, "docker://{}/{}:{}", r.host, r.repo, r.tag),
        }
    }
}

const TRANSPORTS: &str = "oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or docker://HOST[:PORT]/REPO[:TAG]";

impl Reference {
    /// Parses an `--image` value.
    pub fn parse(spec: &str) -> Result<Reference, ImageError> {
        let bad = |reason: &str| ImageError::value(Setting::Image, spec, reason);
        if let Some(rest) = spec.strip_prefix("docker://") {
            return parse_registry(rest)
                .map(Reference::Registry)
                .map_err(|r| bad(&r));
        }
        let (transport, rest) = spec
            .split_once(':')
            .ok_or_else(|| bad(&format!("expected {TRANSPORTS}")))?;
        // As skopeo: the path ends at the first colon.
        let (path, name) = match rest.split_once(':') {
            Some((path, name)) => (path, Some(name)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(bad("no path given"));
        }
        let tag = |name: Option<&str>| -> Result<String, ImageError> {
            let tag = name.unwrap_or(DEFAULT_TAG);
            check_tag(tag).map_err(|r| bad(&r))?;
            Ok(tag.to_string())
        };
        match transport {
            "oci" => Ok(Reference::OciDir {
                dir: path.into(),
                tag: tag(name)?,
            }),
            "oci-archive" => Ok(Reference::OciArchive {
                file: path.into(),
                tag: tag(name)?,
            }),
            "docker-archive" => {
                let name = match name {
                    None => None,
                    Some(name) => Some(docker_name(name).map_err(|r| bad(&r))?),
                };
                Ok(Reference::DockerArchive {
                    file: path.into(),
                    name,
                })
            }
            "docker" => Err(bad("expected docker://HOST[:PORT]/REPO[:TAG]")),
            _ => Err(bad(&format!(
                "unknown transport {transport:?}; expected {TRANSPORTS}"
            ))),
        }
    }
}

/// `HOST[:PORT]/REPO[:TAG]`, the host always given.
fn parse_registry(rest: &str) -> Result<RegistryRef, String> {
    if rest.contains('@') {
        return Err("a digest cannot be pushed to; give a tag".into());
    }
    let (host, path) = rest
        .split_once('/')
        .ok_or("expected docker://HOST[:PORT]/REPO[:TAG]")?;
    if host.is_empty() || host.contains(|c: char| c.is_whitespace()) {
        return Err("no registry host given".into());
    }
    let (repo, tag) = match path.rsplit_once(':') {
        Some((repo, tag)) => (repo, tag),
        None => (path, DEFAULT_TAG),
    };
    check_repo(repo)?;
    check_tag(tag)?;
    Ok(RegistryRef {
        host: host.to_string(),
        repo: repo.to_string(),
        tag: tag.to_string(),
    })
}

/// `NAME:TAG` for a docker archive; `NAME` alone gets the default tag.
fn docker_name(name: &str) -> Result<String, String> {
    let (repo, tag) = match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (name, DEFAULT_TAG),
    };
    // The repository may start with a registry host, which may have a port.
    let path = match repo.split_once('/') {
        Some((host, path)) if host.contains(['.', ':']) || host == "localhost" => path,
        _ => repo,
    };
    check_repo(path)?;
    check_tag(tag)?;
    Ok(format!("{repo}:{tag}"))
}

/// A repository name of the distribution spec: lower-case path components
/// of letters and digits joined by `.`, `_`, `__` or runs of `-`.
fn check_repo(repo: &str) -> Result<(), String> {
    let ok = !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|part| {
            let bytes = part.as_bytes();
            !bytes.is_empty()
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.iter().all(|&b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && !part.contains("..")
                && !part.contains("___")
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{repo:?} is not a repository name (lower-case letters, digits, '.', '_', '-', '/')"
        ))
    }
}

/// A tag: up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{tag:?} is not a tag (letters, digits, '_', '.', '-')"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(host: &str, repo: &str, tag: &str) -> Reference {
        Reference::Registry(RegistryRef {
            host: host.into(),
            repo: repo.into(),
            tag: tag.into(),
        })
    }

    #[test]
    fn transports_parse_as_skopeo_names_them() {
        let cases = [
            (
                "oci:out",
                Reference::OciDir {
                    dir: "out".into(),
                    tag: "latest".into(),
                },
            ),
            (
                "oci:/tmp/img:v1",
                Reference::OciDir {
                    dir: "/tmp/img".into(),
                    tag: "v1".into(),
                },
            ),
            (
                "oci-archive:img.tar:scratch",
                Reference::OciArchive {
                    file: "img.tar".into(),
                    tag: "scratch".into(),
                },
            ),
            (
                "docker-archive:img.tar",
                Reference::DockerArchive {
                    file: "img.tar".into(),
                    name: None,
                },
            ),
            (
                "docker-archive:img.tar:redis:scratch",
                Reference::DockerArchive {
                    file: "img.tar".into(),
                    name: Some("redis:scratch".into()),
                },
            ),
            (
                "docker-archive:img.tar:localhost:5000/team/redis",
                Reference::DockerArchive {
                    file: "img.tar".into(),
                    name: Some("localhost:5000/team/redis:latest".into()),
                },
            ),
            (
                "docker://localhost:5000/redis:scratch",
                registry("localhost:5000", "redis", "scratch"),
            ),
            (
                "docker://registry.example/team/app",
                registry("registry.example", "team/app", "latest"),
            ),
            (
                "docker://[::1]:5000/a/b:c",
                registry("[::1]:5000", "a/b", "c"),
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(Reference::parse(spec).unwrap(), want, "{spec}");
        }
    }

    #[test]
    fn bad_references_name_the_flag_and_value() {
        for spec in [
            "out",
            "dir:out",
            "oci:",
            "oci:out:bad tag",
            "oci:out:-x",
            "docker://redis",
            "docker:///redis",
            "docker://host/Redis",
            "docker://host/redis@sha256:00",
            "docker://host/a//b",
            "docker:host/a",
            "docker-archive:x.tar:UPPER:tag",
        ] {
            let err = Reference::parse(spec).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("image reference {spec}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn loopback_hosts() {
        let host = |h: &str| RegistryRef {
            host: h.into(),
            repo: "r".into(),
            tag: "t".into(),
        };
        for h in [
            "localhost:5000",
            "127.0.0.1",
            "127.8.9.1:80",
            "[::1]:5000",
            "LOCALHOST",
        ] {
            assert!(host(h).is_loopback(), "{h}");
        }
        for h in [
            "registry.example",
            "10.0.0.1:5000",
            "localhost.example",
            "[::2]",
        ] {
            assert!(!host(h).is_loopback(), "{h}");
        }
        assert_eq!(host("[::1]:5000").hostname(), "::1");
    }

    #[test]
    fn references_display_as_given_with_their_tags() {
        let r = Reference::parse("docker://localhost:5000/redis").unwrap();
        assert_eq!(r.to_string(), "docker://localhost:5000/redis:latest");
        let r = Reference::parse("oci:out").unwrap();
        assert_eq!(r.to_string(), "oci:out:latest");
    }
}
