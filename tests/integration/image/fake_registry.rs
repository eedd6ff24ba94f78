//! A small registry for the tests that the distribution registry cannot
//! serve alone: bearer tokens (which need a token server) and an upload that
//! fails half-way. It speaks just enough of the OCI distribution API for a
//! push (`GET /v2/`, `HEAD` blobs, `POST` and `PUT` uploads, `PUT` manifests),
//! wants `Authorization: Bearer` on every `/v2/` request, and hands tokens
//! out at `/token` for basic credentials. Every answer closes the connection.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

const TOKEN: &str = "token-for-the-test";

/// What the registry was sent, for the tests to check.
#[derive(Debug, Default)]
pub struct State {
    pub blobs: HashMap<String, Vec<u8>>,
    /// Manifests by tag.
    pub manifests: HashMap<String, Vec<u8>>,
    /// `METHOD path` of every request, in order.
    pub requests: Vec<String>,
    /// Scopes asked for at `/token`.
    pub scopes: Vec<String>,
    /// Blob uploads to accept before answering 500 to the next ones.
    pub accept_uploads: Option<usize>,
}

pub struct FakeRegistry {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeRegistry {
    /// Starts on a free port of 127.0.0.1; tokens go to `user:pass`.
    pub fn start(user: &str, pass: &str) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        );
        let (s, st) = (Arc::clone(&state), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let _ = serve(conn, port, &basic, &s);
                }
            }
        });
        FakeRegistry {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(conn: &TcpStream) -> std::io::Result<Request> {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Request {
        method,
        target,
        headers,
        body,
    })
}

fn answer(mut conn: &TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

fn query(target: &str, key: &str) -> Vec<String> {
    let Some((_, q)) = target.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| {
            v.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%2C", ",")
        })
        .collect()
}

fn serve(conn: TcpStream, port: u16, basic: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let req = read_request(&conn)?;
    let path = req.target.split('?').next().unwrap_or("").to_string();
    let mut state = state.lock().unwrap();
    state.requests.push(format!("{} {path}", req.method));
    let auth = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    if path == "/token" {
        if auth != basic {
            let body =
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"wrong user name or password"}]}"#;
            answer(&conn, "401 Unauthorized", &[], body);
            return Ok(());
        }
        let scopes = query(&req.target, "scope");
        state.scopes.extend(scopes);
        let body = format!(r#"{{"token":"{TOKEN}"}}"#);
        answer(&conn, "200 OK", &[], body.as_bytes());
        return Ok(());
    }
    if auth != format!("Bearer {TOKEN}") {
        let challenge = format!(
            r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake",scope="repository:app:pull""#
        );
        let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
        answer(
            &conn,
            "401 Unauthorized",
            &[("WWW-Authenticate", challenge)],
            body,
        );
        return Ok(());
    }
    let method = req.method.as_str();
    if method == "GET" && path == "/v2/" {
        answer(&conn, "200 OK", &[], b"{}");
    } else if method == "HEAD" && path.contains("/blobs/sha256:") {
        let digest = path.rsplit('/').next().unwrap_or("");
        match state.blobs.contains_key(digest) {
            true => answer(&conn, "200 OK", &[], b""),
            false => answer(&conn, "404 Not Found", &[], b""),
        }
    } else if method == "POST" && path.ends_with("/blobs/uploads/") {
        let location = format!("{path}session?state=1");
        answer(&conn, "202 Accepted", &[("Location", location)], b"");
    } else if method == "PUT" && path.contains("/blobs/uploads/") {
        if let Some(n) = state.accept_uploads {
            if n == 0 {
                answer(&conn, "500 Internal Server Error", &[], b"");
                return Ok(());
            }
            state.accept_uploads = Some(n - 1);
        }
        let digest = query(&req.target, "digest").pop().unwrap_or_default();
        let actual = format!("sha256:{:x}", Sha256::digest(&req.body));
        if digest != actual {
            answer(&conn, "400 Bad Request", &[], b"");
            return Ok(());
        }
        state.blobs.insert(digest, req.body);
        answer(&conn, "201 Created", &[], b"");
    } else if method == "PUT" && path.contains("/manifests/") {
        let tag = path.rsplit('/').next().unwrap_or("").to_string();
        let digest = format!("sha256:{:x}", Sha256::digest(&req.body));
        state.manifests.insert(tag, req.body);
        answer(
            &conn,
            "201 Created",
            &[("Docker-Content-Digest", digest)],
            b"",
        );
    } else {
        answer(&conn, "404 Not Found", &[], b"");
    }
    Ok(())
}
