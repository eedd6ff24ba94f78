//! The HTTP side of a push: one registry and repository, HTTPS first and
//! plain HTTP only for this machine's own addresses or with `--insecure` (as
//! Docker treats them), and the authorization a `401` asks for: basic
//! credentials, or a bearer token fetched from the realm the challenge names.
//! Every error names the registry, the request and the status.

use std::path::PathBuf;
use std::time::Duration;

use ureq::http::{self, Response};

use super::auth::{self, Challenge, Creds};
use super::blob;
use super::error::{ImageError, Login};
use super::reference::RegistryRef;

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    File(PathBuf),
}

/// One registry and repository, with the authorization that works there.
/// Clones share the connection pool; each keeps its own authorization.
#[derive(Clone)]
pub struct Client<'a> {
    agent: ureq::Agent,
    pub target: &'a RegistryRef,
    /// `https://HOST` or `http://HOST`.
    base: String,
    creds: Option<Creds>,
    authorization: Option<String>,
    plain_allowed: bool,
}

pub fn header<'r>(response: &'r Response<ureq::Body>, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

impl<'a> Client<'a> {
    /// Finds the scheme and the authorization the registry wants.
    pub fn connect(
        target: &'a RegistryRef,
        creds: Option<Creds>,
        insecure: bool,
    ) -> Result<Self, ImageError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(300)))
            .user_agent(concat!("extract-elf-so/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut client = Client {
            agent,
            target,
            base: format!("https://{}", target.host),
            creds,
            authorization: None,
            plain_allowed: insecure || target.is_loopback(),
        };
        let response = match client.call("GET", "/v2/", &Body::Empty, None) {
            Ok(response) => response,
            Err(_) if client.plain_allowed => {
                client.base = format!("http://{}", target.host);
                client.call("GET", "/v2/", &Body::Empty, None)?
            }
            Err(ImageError::Transport {
                registry,
                method,
                url,
                reason,
            }) => {
                return Err(ImageError::HttpsOnly {
                    registry,
                    method,
                    url,
                    reason,
                });
            }
            Err(e) => return Err(e),
        };
        let response = match response.status().as_u16() {
            401 => {
                client.authenticate(&response)?;
                client.call("GET", "/v2/", &Body::Empty, None)?
            }
            _ => response,
        };
        match response.status().as_u16() {
            200 => Ok(client),
            _ => Err(client.refused("GET", "/v2/", response)),
        }
    }

    /// Sends a request; on 401, authenticates as the registry asks and sends it once more.
    pub fn send(
        &mut self,
        method: &'static str,
        url: &str,
        body: &Body<'_>,
        content_type: Option<&str>,
    ) -> Result<Response<ureq::Body>, ImageError> {
        let response = self.call(method, url, body, content_type)?;
        if response.status().as_u16() != 401 {
            return Ok(response);
        }
        self.authenticate(&response)?;
        self.call(method, url, body, content_type)
    }

    fn call(
        &self,
        method: &'static str,
        url: &str,
        body: &Body<'_>,
        content_type: Option<&str>,
    ) -> Result<Response<ureq::Body>, ImageError> {
        let full = match url.starts_with("http://") || url.starts_with("https://") {
            true => url.to_string(),
            false => format!("{}{url}", self.base),
        };
        let mut request = http::Request::builder().method(method).uri(&full);
        if let Some(auth) = &self.authorization {
            request = request.header("Authorization", auth);
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let invalid = |e: http::Error| self.transport(method, url, e.to_string());
        let sent = match body {
            Body::Empty => self.agent.run(request.body(()).map_err(invalid)?),
            Body::Bytes(bytes) => self.agent.run(request.body(*bytes).map_err(invalid)?),
            Body::File(path) => {
                let file = blob::open(path)?;
                self.agent.run(request.body(file).map_err(invalid)?)
            }
        };
        sent.map_err(|e| self.transport(method, url, e.to_string()))
    }

    /// Sets the authorization a 401 answer asks for: basic credentials, or a
    /// bearer token from the realm it names.
    fn authenticate(&mut self, response: &Response<ureq::Body>) -> Result<(), ImageError> {
        let registry = self.target.host.clone();
        let challenge = header(response, "www-authenticate")
            .and_then(auth::parse_challenge)
            .ok_or_else(|| ImageError::Protocol {
                registry: registry.clone(),
                reason: "answered 401 without a basic or bearer challenge".into(),
            })?;
        match challenge {
            Challenge::Basic => {
                let creds = self
                    .creds
                    .as_ref()
                    .ok_or_else(|| ImageError::NoCredentials {
                        registry: registry.clone(),
                        login: Box::new(self.login()),
                    })?;
                self.authorization = Some(creds.basic());
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let token = self.token(&realm, service.as_deref(), scope.as_deref())?;
                self.authorization = Some(format!("Bearer {token}"));
            }
        }
        Ok(())
    }

    /// Fetches a token for pushing to the repository (and for the scope the
    /// challenge named), with the basic credentials if there are any.
    fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, ImageError> {
        let plain = realm.starts_with("http://");
        if plain && !self.plain_allowed && !realm_is_loopback(realm) {
            return Err(ImageError::PlainTokenRealm {
                registry: self.target.host.clone(),
                realm: realm.to_string(),
            });
        }
        let push_scope = format!("repository:{}:pull,push", self.target.repo);
        let mut request = self.agent.get(realm).query("scope", &push_scope);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        if let Some(scope) = scope.filter(|s| *s != push_scope) {
            request = request.query("scope", scope);
        }
        if let Some(creds) = &self.creds {
            request = request.header("Authorization", creds.basic());
        }
        let mut response = request
            .call()
            .map_err(|e| self.transport("GET", realm, e.to_string()))?;
        if response.status().as_u16() != 200 {
            return Err(self.refused("GET", realm, response));
        }
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.transport("GET", realm, e.to_string()))?;
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ImageError::Protocol {
                registry: self.target.host.clone(),
                reason: format!("GET {realm}: the answer holds no token"),
            })
    }

    /// What a refused login points at.
    fn login(&self) -> Login {
        match &self.creds {
            Some(creds) => Login::Check {
                user: creds.user.clone(),
                from: creds.from.clone(),
            },
            None => Login::Missing {
                host: self.target.host.clone(),
            },
        }
    }

    fn transport(&self, method: &'static str, url: &str, reason: String) -> ImageError {
        ImageError::Transport {
            registry: self.target.host.clone(),
            method,
            url: shown(url),
            reason: reason.to_lowercase(),
        }
    }

    /// The error for an answer the push cannot go on from, with what the
    /// registry said (its `errors` list) and what to do for 401 and 403.
    pub fn refused(
        &self,
        method: &'static str,
        url: &str,
        mut response: Response<ureq::Body>,
    ) -> ImageError {
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        let said = registry_errors(&text);
        let reason = status.canonical_reason().unwrap_or("").to_lowercase();
        let detail = match (said.is_empty(), reason.is_empty()) {
            (false, _) => format!(": {said}"),
            (true, false) => format!(" {reason}"),
            (true, true) => String::new(),
        };
        let login = matches!(status.as_u16(), 401 | 403).then(|| Box::new(self.login()));
        ImageError::Status {
            registry: self.target.host.clone(),
            method,
            url: shown(url),
            status: status.as_u16(),
            detail,
            login,
        }
    }
}

/// A URL as messages show it: the path, without the scheme, host or query.
fn shown(url: &str) -> String {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    };
    path.split('?').next().unwrap_or(path).to_string()
}

fn realm_is_loopback(realm: &str) -> bool {
    let host = realm
        .split_once("://")
        .map_or(realm, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or("");
    RegistryRef {
        host: host.to_string(),
        repo: String::new(),
        tag: String::new(),
    }
    .is_loopback()
}

/// `code: message` of each error in a distribution error body.
fn registry_errors(text: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let Some(errors) = json.get("errors").and_then(|e| e.as_array()) else {
        return String::new();
    };
    errors
        .iter()
        .filter_map(|e| {
            let code = e.get("code")?.as_str()?.to_lowercase().replace('_', " ");
            let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("");
            Some(match message.is_empty() {
                true => code,
                false => format!("{code}: {message}"),
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_as_paths_without_queries() {
        assert_eq!(shown("/v2/"), "/v2/");
        assert_eq!(
            shown("http://127.0.0.1:5000/v2/r/blobs/uploads/u?_state=x&digest=y"),
            "/v2/r/blobs/uploads/u"
        );
        assert_eq!(shown("https://auth.example"), "/");
    }

    #[test]
    fn registry_error_bodies_are_summed_up() {
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null},{"code":"DENIED"}]}"#;
        assert_eq!(
            registry_errors(body),
            "unauthorized: authentication required; denied"
        );
        assert_eq!(registry_errors("<html>"), "");
    }

    #[test]
    fn loopback_realms() {
        assert!(realm_is_loopback("http://127.0.0.1:9000/token"));
        assert!(realm_is_loopback("http://localhost/token"));
        assert!(!realm_is_loopback("http://auth.example/token"));
    }
}
