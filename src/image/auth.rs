//! Registry credentials and challenges: `--creds USER[:PASS]`, the `auths`
//! of Docker's config file (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), and the `WWW-Authenticate` header that says
//! whether a registry wants basic credentials or a bearer token.

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::error::{CredsSource, ImageError, Setting};

/// A user name and password for one registry, and where they came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    pub user: String,
    pub pass: String,
    /// Given for the run, or the config file's path, for messages.
    pub from: CredsSource,
}

impl fmt::Debug for Creds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Creds({}, from {:?})", self.user, self.from)
    }
}

impl Creds {
    /// The value of an `Authorization: Basic` header.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.user, self.pass))
        )
    }
}

/// The credentials for `host` (`HOST[:PORT]`): `--creds` when given (the
/// password read from standard input when left out), else the Docker config
/// file's entry for the host, else none.
pub fn creds_for(host: &str, flag: Option<&str>) -> Result<Option<Creds>, ImageError> {
    if let Some(spec) = flag {
        let (user, pass) = match spec.split_once(':') {
            Some((user, pass)) => (user.to_string(), pass.to_string()),
            None => (spec.to_string(), read_password()?),
        };
        if user.is_empty() {
            return Err(ImageError::value(
                Setting::Creds,
                spec,
                "expected USER[:PASS]",
            ));
        }
        let from = CredsSource::Given;
        return Ok(Some(Creds { user, pass, from }));
    }
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ImageError::io(&path, e)),
    };
    from_config(&path, &text, host)
}

/// The password for `--creds USER`, one line of standard input.
fn read_password() -> Result<String, ImageError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ImageError::io("standard input", e))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(Path::new(&dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(Path::new(&home).join(".docker/config.json"))
}

/// The `auths` entry for `host` in a Docker config file. Keys may carry a
/// scheme and a path (`https://host:5000/v1/`); an entry holds `auth`
/// (base64 of `user:pass`) or `username` and `password`.
pub fn from_config(path: &Path, text: &[u8], host: &str) -> Result<Option<Creds>, ImageError> {
    let unusable = |reason: &str| ImageError::Unusable {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let config: Value =
        serde_json::from_slice(text).map_err(|_| unusable("not a JSON Docker config file"))?;
    let Some(auths) = config.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    let entry = auths.iter().find_map(|(key, entry)| {
        let key = key
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        let key = key.split('/').next().unwrap_or(key);
        key.eq_ignore_ascii_case(host).then_some(entry)
    });
    let Some(entry) = entry else {
        return Ok(None);
    };
    let from = CredsSource::ConfigFile(path.to_path_buf());
    if let Some(auth) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let decoded = STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| unusable(&format!("auths.{host}.auth is not base64 of USER:PASS")))?;
        let (user, pass) = decoded
            .split_once(':')
            .ok_or_else(|| unusable(&format!("auths.{host}.auth is not base64 of USER:PASS")))?;
        return Ok(Some(Creds {
            user: user.into(),
            pass: pass.into(),
            from,
        }));
    }
    let field = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_string);
    match (field("username"), field("password")) {
        (Some(user), Some(pass)) => Ok(Some(Creds { user, pass, from })),
        _ => Ok(None),
    }
}

/// What a `WWW-Authenticate` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses `Basic realm="..."` or `Bearer realm="...",service="...",scope="..."`.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = params(rest);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm")?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `key=value` and `key="quoted, value"` pairs separated by commas.
fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge("bearer realm=http://127.0.0.1:9/t"),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:9/t".into(),
                service: None,
                scope: None,
            })
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge("Bearer service=\"x\""), None);
    }

    #[test]
    fn docker_config_entries_match_the_host_with_or_without_scheme() {
        let path = Path::new("/home/u/.docker/config.json");
        let auth = STANDARD.encode("alice:s3:cret");
        let text = format!(
            r#"{{"auths": {{"https://127.0.0.1:5000/v1/": {{"auth": "{auth}"}}, "other:1": {{"username": "bob", "password": "pw"}}}}}}"#
        );
        let creds = from_config(path, text.as_bytes(), "127.0.0.1:5000")
            .unwrap()
            .unwrap();
        assert_eq!(
            (creds.user.as_str(), creds.pass.as_str()),
            ("alice", "s3:cret")
        );
        assert_eq!(creds.from, CredsSource::ConfigFile(path.to_path_buf()));
        let bob = from_config(path, text.as_bytes(), "other:1")
            .unwrap()
            .unwrap();
        assert_eq!(bob.user, "bob");
        assert!(
            from_config(path, text.as_bytes(), "127.0.0.1")
                .unwrap()
                .is_none()
        );
        assert!(from_config(path, b"{}", "x").unwrap().is_none());
        let err = from_config(path, b"not json", "x").unwrap_err();
        assert!(
            err.to_string().starts_with("/home/u/.docker/config.json: "),
            "{err}"
        );
        let bad = br#"{"auths": {"x": {"auth": "!!"}}}"#;
        assert!(from_config(path, bad, "x").is_err());
    }

    #[test]
    fn basic_headers_and_hidden_passwords() {
        let creds = Creds {
            user: "u".into(),
            pass: "p".into(),
            from: CredsSource::Given,
        };
        assert_eq!(creds.basic(), "Basic dTpw");
        assert_eq!(format!("{creds:?}"), "Creds(u, from Given)");
    }
}
