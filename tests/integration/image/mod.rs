//! Images (`--image`), checked with the tools that read them: skopeo for
//! every transport, umoci for the layout's tree, the distribution registry
//! (`docker-registry`, started here on a free port of 127.0.0.1 with a
//! config file written here) for pushes with and without basic auth, and a
//! small registry of our own for bearer tokens and a push that fails
//! half-way. Docker and podman (which need a daemon or a runtime) are driven
//! by `tests/e2e/image-labs.sh`.
//!
//! A missing tool fails the test when `CI` is set and skips it otherwise.

mod fake_registry;

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpStream;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::util::{self, free_port, gunzip, require};

/// A fixture's path as an argument.
fn fx(rel: &str) -> String {
    util::fx(rel).display().to_string()
}

/// Runs the tool in `dir` with `args` and extra environment.
fn tool_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = assert_cmd::Command::cargo_bin("extract-elf-so").unwrap();
    cmd.current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("DOCKER_CONFIG")
        .env("HOME", dir)
        .args(args)
        .timeout(Duration::from_secs(300));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("running extract-elf-so")
}

fn tool(dir: &Path, args: &[&str]) -> Output {
    tool_env(dir, args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "extract-elf-so failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    out
}

fn have(tool: &str) -> bool {
    require(util::have(tool), &format!("{tool} is not installed"))
}

/// The manifest digest a layout's index gives `tag`.
fn tagged(layout: &Path, tag: &str) -> String {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let found = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str() == Some(tag));
    found.unwrap_or_else(|| panic!("no tag {tag} in {index}"))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    fs::read(layout.join("blobs/sha256").join(hex)).unwrap()
}

fn json_blob(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&blob(layout, digest)).unwrap()
}

/// Layer digests of the image tagged `tag`.
fn layers(layout: &Path, tag: &str) -> Vec<String> {
    let manifest = json_blob(layout, &tagged(layout, tag));
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect()
}

fn config(layout: &Path, tag: &str) -> Value {
    let manifest = json_blob(layout, &tagged(layout, tag));
    json_blob(layout, manifest["config"]["digest"].as_str().unwrap())
}

// ------------------------------------------------------------------ layouts

#[test]
fn the_same_inputs_give_the_same_digest_on_another_machine_and_day() {
    let (a, b) = (util::tmp(), util::tmp());
    // A copy of the program with another time, as another host would have.
    let copy = b.path().join("bin/hello");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::copy(fx("hello/bin/hello"), &copy).unwrap();
    let old = Command::new("touch")
        .args(["-d", "2001-02-03 04:05:06"])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(old.success());
    ok(tool(
        a.path(),
        &["--image", "oci:img:t", &fx("hello/bin/hello")],
    ));
    ok(tool(
        b.path(),
        &["--image", "oci:img:t", copy.to_str().unwrap()],
    ));
    let first = tagged(&a.path().join("img"), "t");
    assert_eq!(first, tagged(&b.path().join("img"), "t"));

    // SOURCE_DATE_EPOCH sets the image's time: another digest, the same on every run.
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    let hello = fx("hello/bin/hello");
    ok(tool_env(
        a.path(),
        &["--image", "oci:img:e", &hello],
        &epoch,
    ));
    ok(tool_env(
        b.path(),
        &["--image", "oci:img:e", copy.to_str().unwrap()],
        &epoch,
    ));
    let dated = tagged(&a.path().join("img"), "e");
    assert_eq!(dated, tagged(&b.path().join("img"), "e"));
    assert_ne!(dated, first);
    assert_eq!(
        config(&a.path().join("img"), "e")["created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        config(&a.path().join("img"), "t")["created"],
        "1970-01-01T00:00:00Z"
    );
}

#[test]
fn two_programs_share_the_base_layer() {
    let tmp = util::tmp();
    ok(tool(
        tmp.path(),
        &["--image", "oci:img:hello", &fx("hello/bin/hello")],
    ));
    ok(tool(
        tmp.path(),
        &["--image", "oci:img:app", &fx("rpath/bin/app")],
    ));
    let layout = tmp.path().join("img");
    let (hello, app) = (layers(&layout, "hello"), layers(&layout, "app"));
    assert_eq!(hello[0], app[0], "the base layers differ");
    assert_ne!(hello.last(), app.last());
    // The base layer holds the loader and libc, with the links on their paths.
    let base = gunzip(&blob(&layout, &hello[0]));
    let names = tar_names(&base);
    assert!(names.iter().any(|n| n.ends_with("/libc.so.6")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("ld-linux")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("hello")), "{names:?}");
}

#[test]
fn a_tag_added_to_a_layout_keeps_the_others() {
    let tmp = util::tmp();
    ok(tool(
        tmp.path(),
        &["--image", "oci:img:one", &fx("hello/bin/hello")],
    ));
    ok(tool(
        tmp.path(),
        &["--image", "oci:img:two", &fx("rpath/bin/app")],
    ));
    let layout = tmp.path().join("img");
    let one = tagged(&layout, "one");
    assert_ne!(one, tagged(&layout, "two"));
    ok(tool(
        tmp.path(),
        &["--image", "oci:img:one", &fx("hello/bin/hello")],
    ));
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");
    assert_eq!(tagged(&layout, "one"), one);
    let leftovers: Vec<_> = fs::read_dir(&layout)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn configuration_flags_reach_the_image() {
    let tmp = util::tmp();
    let out = ok(tool(
        tmp.path(),
        &[
            "--image",
            "oci:img",
            "--cmd=--port",
            "--cmd",
            "7000",
            "--env",
            "MODE=test",
            "--expose",
            "6379",
            "--expose",
            "53/udp",
            "--workdir",
            "/data",
            "--run-as",
            "1000:1000",
            "--label",
            "org.example.kind=test",
            "-d",
            "/app",
            &fx("hello/bin/hello"),
        ],
    ));
    assert!(
        text(&out.stdout).is_empty(),
        "nothing on stdout without a push"
    );
    let run = &config(&tmp.path().join("img"), "latest")["config"];
    assert_eq!(run["Entrypoint"], serde_json::json!(["/app/hello"]));
    assert_eq!(run["Cmd"], serde_json::json!(["--port", "7000"]));
    let path = "PATH=/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    assert_eq!(run["Env"], serde_json::json!([path, "MODE=test"]));
    assert_eq!(
        run["ExposedPorts"],
        serde_json::json!({"53/udp": {}, "6379/tcp": {}})
    );
    assert_eq!(run["WorkingDir"], "/data");
    assert_eq!(run["User"], "1000:1000");
    assert_eq!(run["Labels"]["org.example.kind"], "test");
    assert!(
        !tmp.path().join("rootfs.tar").exists(),
        "no tarball without -o"
    );
}

#[test]
fn bad_image_flags_are_usage_errors() {
    let tmp = util::tmp();
    let hello = fx("hello/bin/hello");
    for args in [
        vec!["--image", "dir:x", &hello],
        vec!["--image", "docker://nohost", &hello],
        vec!["--image", "oci:x", "--expose", "http", &hello],
        vec!["--image", "oci:x", "--layer-compression", "xz", &hello],
        vec!["--cmd", "x", &hello],
        vec!["--image", "oci:x", "--list", &hello],
        vec!["--image", "oci:x", "--json", &hello],
    ] {
        let out = tool(tmp.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn inputs_of_two_machines_are_refused() {
    let aarch64 = util::fixtures().join("aarch64/bin/hello");
    let root = Path::new("/usr/aarch64-linux-gnu");
    if !require(
        aarch64.exists() && root.is_dir(),
        "no aarch64 fixture or sysroot",
    ) {
        return;
    }
    let tmp = util::tmp();
    let (a, x) = (aarch64.to_str().unwrap(), fx("static/bin/app"));
    let root = root.to_str().unwrap();
    let out = tool(tmp.path(), &["--root", root, "--image", "oci:img", a, &x]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("one image holds one platform"), "{err}");
    assert!(
        err.contains("linux/arm64/v8") && err.contains("linux/amd64"),
        "{err}"
    );
    ok(tool(tmp.path(), &["--root", root, "--image", "oci:img", a]));
    let config = config(&tmp.path().join("img"), "latest");
    assert_eq!(
        (config["architecture"].as_str(), config["variant"].as_str()),
        (Some("arm64"), Some("v8"))
    );
}

#[test]
fn zstd_layers_have_their_media_type_and_read_back() {
    let tmp = util::tmp();
    let args = [
        "--image",
        "oci:img",
        "--layer-compression",
        "zstd",
        &fx("hello/bin/hello"),
    ];
    ok(tool(tmp.path(), &args));
    let layout = tmp.path().join("img");
    let manifest = json_blob(&layout, &tagged(&layout, "latest"));
    let config = config(&layout, "latest");
    for (layer, diff_id) in manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(config["rootfs"]["diff_ids"].as_array().unwrap())
    {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.oci.image.layer.v1.tar+zstd"
        );
        let tar = zstd::decode_all(&blob(&layout, layer["digest"].as_str().unwrap())[..]).unwrap();
        assert_eq!(diff_id.as_str().unwrap(), sha256(&tar));
        assert!(!tar_names(&tar).is_empty());
    }
}

// ------------------------------------------------------------------ umoci, skopeo

#[test]
fn umoci_unpacks_the_layout_to_the_tree_of_the_archive() {
    if !have("umoci") {
        return;
    }
    let tmp = util::tmp();
    let extra = tmp.path().join("extra");
    fs::create_dir_all(extra.join("empty")).unwrap();
    fs::write(extra.join("secret"), b"s").unwrap();
    fs::set_permissions(extra.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink("secret", extra.join("link")).unwrap();
    let add = format!("{}:/srv/extra", extra.display());
    // One run, both outputs.
    ok(tool(
        tmp.path(),
        &[
            "-o",
            "out.tar",
            "--image",
            "oci:img:t",
            "--nss-net",
            "--add-file",
            &add,
            &fx("hello/bin/hello"),
        ],
    ));
    let unpacked = tmp.path().join("unpacked");
    util::unpack(&tmp.path().join("out.tar"), &unpacked);
    let bundle = tmp.path().join("bundle");
    let mut umoci = Command::new("umoci");
    umoci.arg("unpack");
    if !util::is_root() {
        umoci.arg("--rootless");
    }
    let out = umoci
        .arg("--image")
        .arg(tmp.path().join("img:t"))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci unpack: {}", text(&out.stderr));
    let (want, got) = (tree(&unpacked), tree(&bundle.join("rootfs")));
    assert!(want.contains_key("srv/extra/empty") && want.contains_key("etc/nsswitch.conf"));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (path, entry) in &want {
        assert_eq!(Some(entry), got.get(path), "{path}");
    }
}

/// Every path under `dir`: kind, permission bits, and link target or content.
fn tree(dir: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.unwrap();
        let meta = entry.path().symlink_metadata().unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .display()
            .to_string();
        let (kind, data) = if meta.is_symlink() {
            (
                'l',
                fs::read_link(entry.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            )
        } else if meta.is_dir() {
            ('d', Vec::new())
        } else {
            ('f', fs::read(entry.path()).unwrap())
        };
        let mode = if kind == 'l' { 0 } else { meta.mode() & 0o7777 };
        out.insert(rel, (kind, mode, data));
    }
    out
}

fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .args(args)
        .output()
        .expect("running skopeo")
}

#[test]
fn skopeo_inspects_and_copies_every_file_transport() {
    if !have("skopeo") {
        return;
    }
    let tmp = util::tmp();
    let hello = fx("hello/bin/hello");
    let cases = [
        ("oci:img:t", "oci:img:t"),
        ("oci-archive:img.tar:t", "oci-archive:img.tar"),
        ("docker-archive:d.tar:hello:t", "docker-archive:d.tar"),
    ];
    let mut digests = Vec::new();
    for (image, read_as) in cases {
        ok(tool(tmp.path(), &["--image", image, &hello]));
        let at = tmp.path().display().to_string();
        let read_as = format!(
            "{}:{at}/{}",
            read_as.split(':').next().unwrap(),
            &read_as[read_as.find(':').unwrap() + 1..]
        );
        let out = skopeo(&["inspect", &read_as]);
        assert!(
            out.status.success(),
            "skopeo inspect {read_as}: {}",
            text(&out.stderr)
        );
        let inspected: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(inspected["Architecture"], "amd64", "{inspected}");
        assert_eq!(
            inspected["Layers"].as_array().unwrap().len(),
            2,
            "{inspected}"
        );
        let copy = tmp.path().join(format!("copy-{}", digests.len()));
        let out = skopeo(&["copy", &read_as, &format!("dir:{}", copy.display())]);
        assert!(
            out.status.success(),
            "skopeo copy {read_as}: {}",
            text(&out.stderr)
        );
        let out = skopeo(&["inspect", "--config", &format!("dir:{}", copy.display())]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let config: Value = serde_json::from_slice(&out.stdout).unwrap();
        digests.push(config["rootfs"]["diff_ids"].clone());
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/usr/local/bin/hello"])
        );
    }
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
}

// ------------------------------------------------------------------ registries

/// The distribution registry, on a free port of 127.0.0.1; stopped on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `docker-registry`, with basic auth for `user:pass` when given.
fn registry(basic: Option<(&str, &str)>) -> Option<Registry> {
    if !have("docker-registry") || (basic.is_some() && !have("htpasswd")) {
        return None;
    }
    let dir = util::tmp();
    let port = free_port();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    if let Some((user, pass)) = basic {
        let out = Command::new("htpasswd")
            .args(["-Bbn", user, pass])
            .output()
            .unwrap();
        assert!(out.status.success());
        fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        config.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        ));
    }
    let config_path = dir.path().join("config.yml");
    fs::write(&config_path, config).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting docker-registry");
    let registry = Registry {
        child,
        port,
        _dir: dir,
    };
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "docker-registry did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(registry)
}

#[test]
fn a_push_lands_in_the_registry_and_a_second_uploads_nothing() {
    let Some(reg) = registry(None) else { return };
    let tmp = util::tmp();
    let target = format!("docker://127.0.0.1:{}/team/hello:v1", reg.port);
    let hello = fx("hello/bin/hello");
    let out = ok(tool(tmp.path(), &["--image", &target, &hello]));
    let pushed = text(&out.stdout);
    let err = text(&out.stderr);
    assert!(err.contains("3 blobs uploaded, 0 already there"), "{err}");
    // The digest printed is the digest of the same image in a layout.
    ok(tool(tmp.path(), &["--image", "oci:img", &hello]));
    let digest = tagged(&tmp.path().join("img"), "latest");
    assert_eq!(
        pushed,
        format!("127.0.0.1:{}/team/hello@{digest}\n", reg.port)
    );
    if have("skopeo") {
        let at = format!("docker://127.0.0.1:{}/team/hello:v1", reg.port);
        let out = skopeo(&["inspect", "--tls-verify=false", &at]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let inspected: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(inspected["Digest"], digest.as_str());
    }
    // Again, with the archive on standard output: the digest goes to stderr.
    let out = ok(tool(tmp.path(), &["-o", "-", "--image", &target, &hello]));
    assert!(
        out.stdout.len() > 1024 && out.stdout.len().is_multiple_of(512),
        "the archive"
    );
    let err = text(&out.stderr);
    assert!(err.contains("0 blobs uploaded, 3 already there"), "{err}");
    assert!(err.contains(&format!("/team/hello@{digest}\n")), "{err}");
}

#[test]
fn basic_auth_from_creds_or_docker_config_and_a_wrong_password_is_clear() {
    let Some(reg) = registry(Some(("alice", "s3cret"))) else {
        return;
    };
    let tmp = util::tmp();
    let hello = fx("hello/bin/hello");
    let at = |tag: &str| format!("docker://127.0.0.1:{}/hello:{tag}", reg.port);
    ok(tool(
        tmp.path(),
        &["--image", &at("creds"), "--creds", "alice:s3cret", &hello],
    ));
    // --creds USER reads the password from standard input.
    let out = assert_cmd::Command::cargo_bin("extract-elf-so")
        .unwrap()
        .current_dir(tmp.path())
        .env("HOME", tmp.path())
        .env_remove("DOCKER_CONFIG")
        .args(["--image", &at("stdin"), "--creds", "alice", &hello])
        .write_stdin("s3cret\n")
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    ok(out);

    let config = tmp.path().join("docker");
    fs::create_dir(&config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    let host = format!("127.0.0.1:{}", reg.port);
    fs::write(
        config.join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let env = [("DOCKER_CONFIG", config.to_str().unwrap())];
    ok(tool_env(
        tmp.path(),
        &["--image", &at("config"), &hello],
        &env,
    ));

    let out = tool(
        tmp.path(),
        &["--image", &at("wrong"), "--creds", "alice:nope", &hello],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("registry {host}: GET /v2/: 401")),
        "{err}"
    );
    assert!(
        err.contains("check the credentials of alice (from --creds)"),
        "{err}"
    );
    let out = tool(tmp.path(), &["--image", &at("anonymous"), &hello]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("give --creds"),
        "{}",
        text(&out.stderr)
    );
    if have("skopeo") {
        let creds = "--creds=alice:s3cret";
        for (tag, there) in [
            ("creds", true),
            ("stdin", true),
            ("config", true),
            ("wrong", false),
            ("anonymous", false),
        ] {
            let out = skopeo(&["inspect", "--tls-verify=false", creds, &at(tag)]);
            assert_eq!(out.status.success(), there, "{tag}: {}", text(&out.stderr));
        }
    }
}

#[test]
fn bearer_tokens_come_from_the_realm_the_registry_names() {
    let fake = fake_registry::FakeRegistry::start("bob", "pw");
    let tmp = util::tmp();
    let target = format!("docker://127.0.0.1:{}/app:v1", fake.port);
    let hello = fx("hello/bin/hello");
    let out = ok(tool(
        tmp.path(),
        &["--image", &target, "--creds", "bob:pw", &hello],
    ));
    {
        let state = fake.state.lock().unwrap();
        assert_eq!(state.blobs.len(), 3);
        let manifest = &state.manifests["v1"];
        assert_eq!(
            text(&out.stdout),
            format!("127.0.0.1:{}/app@{}\n", fake.port, sha256(manifest))
        );
        assert!(
            state.scopes.iter().any(|s| s == "repository:app:pull,push"),
            "{:?}",
            state.scopes
        );
    }
    let out = tool(
        tmp.path(),
        &["--image", &target, "--creds", "bob:wrong", &hello],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("GET /token: 401: unauthorized: wrong user name or password"),
        "{err}"
    );
}

#[test]
fn a_push_that_fails_half_way_leaves_no_tag() {
    let fake = fake_registry::FakeRegistry::start("bob", "pw");
    fake.state.lock().unwrap().accept_uploads = Some(1);
    let tmp = util::tmp();
    let target = format!("docker://127.0.0.1:{}/app:v1", fake.port);
    let out = tool(
        tmp.path(),
        &[
            "--image",
            &target,
            "--creds",
            "bob:pw",
            &fx("hello/bin/hello"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "registry 127.0.0.1:{}: PUT /v2/app/blobs/uploads/session: 500",
            fake.port
        )),
        "{err}"
    );
    let state = fake.state.lock().unwrap();
    assert!(
        state.manifests.is_empty(),
        "a manifest was put: {:?}",
        state.requests
    );
    assert!(text(&out.stdout).is_empty());
}

// ------------------------------------------------------------------ helpers

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

fn tar_names(tar: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

#[test]
fn report_shows_the_layer_split() {
    let tmp = util::tmp();
    let args = [
        "--image",
        "oci:img",
        "--nss-net",
        "--report",
        &fx("hello/bin/hello"),
    ];
    let out = ok(tool(tmp.path(), &args));
    let report = text(&out.stdout);
    let digest = tagged(&tmp.path().join("img"), "latest");
    for want in [
        "layer",
        "base",
        "libraries",
        "files",
        "the loader and the C library",
        &digest,
    ] {
        assert!(report.contains(want), "no {want:?} in:\n{report}");
    }
    assert!(report.lines().all(|l| l.chars().count() <= 80), "{report}");
    let args = [
        "--image",
        "oci:img",
        "--report",
        "--json",
        &fx("hello/bin/hello"),
    ];
    let json: Value = serde_json::from_slice(&ok(tool(tmp.path(), &args)).stdout).unwrap();
    let layers = json["image"]["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["base", "files"]);
    let digest = tagged(&tmp.path().join("img"), "latest");
    assert_eq!(json["image"]["manifest"], digest.as_str());
    assert!(json["archive"]["total"].as_u64().unwrap() > 0);
}
