//! End to end: real Debian programs packed with the flags that meet their
//! run-time needs, unpacked into an empty directory and run chrooted there,
//! with only what a container runtime adds (`/proc`, `/dev/null`,
//! `/dev/zero`, `/dev/random`, `/dev/urandom`). Each test also runs the
//! plain pack and checks that it fails the way the issue saw, so a flag that
//! stopped packing what is needed, or a program that stopped needing it,
//! shows.
//!
//! Needs root (chroot, mount, mknod) and the programs (`.ci/run` installs
//! them); when something is missing the test panics if `CI` is set and is
//! skipped with a message otherwise.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, Archive, free_port, is_root, require, run_tool, unpack};

/// An unpacked archive with /proc mounted and the usual device nodes;
/// /proc is unmounted on drop, before the directory is removed.
struct Image {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    listing: Archive,
    proc_mounted: bool,
}

impl Drop for Image {
    fn drop(&mut self) {
        if self.proc_mounted {
            let proc = self.dir.join("proc");
            let ok = Command::new("umount")
                .arg(&proc)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount").arg("-l").arg(&proc).status();
            }
        }
    }
}

impl Image {
    /// Packs with `args`, unpacks into an empty directory, makes the device
    /// nodes and mounts /proc there. `None` when the test is skipped.
    fn new<I, S>(args: I) -> Option<Image>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let args: Vec<OsString> = std::iter::once(OsString::from("-q"))
            .chain(args.into_iter().map(|a| a.as_ref().to_owned()))
            .collect();
        let listing = run_tool(tmp.path(), &args).archive();
        let dir = tmp.path().join("img");
        unpack(&tmp.path().join("out.tar"), &dir);
        let mut img = Image {
            dir,
            tmp,
            listing,
            proc_mounted: false,
        };
        let dev = img.dir.join("dev");
        assert!(!dev.exists(), "the archive has a /dev");
        fs::create_dir(&dev).unwrap();
        for (name, minor) in [
            ("null", "3"),
            ("zero", "5"),
            ("random", "8"),
            ("urandom", "9"),
        ] {
            let made = Command::new("mknod")
                .args(["-m", "666"])
                .arg(dev.join(name))
                .args(["c", "1", minor])
                .status()
                .is_ok_and(|s| s.success());
            if !require(made, &format!("cannot make /dev/{name} in the chroot")) {
                return None;
            }
        }
        let proc = img.dir.join("proc");
        fs::create_dir(&proc).unwrap();
        let out = Command::new("mount")
            .args(["-t", "proc", "proc"])
            .arg(&proc)
            .output()
            .expect("running mount");
        img.proc_mounted = out.status.success();
        let why = format!(
            "cannot mount proc in the chroot: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        if !require(img.proc_mounted, &why) {
            return None;
        }
        Some(img)
    }

    /// Runs `prog` chrooted with only `env` set and `stdin` as input.
    fn run(&self, prog: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
        let mut cmd = assert_cmd::Command::new(which("chroot"));
        cmd.arg(&self.dir)
            .args(prog)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .write_stdin(stdin)
            .timeout(Duration::from_secs(60));
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("running chroot")
    }

    /// Runs `prog` and asserts it succeeds; returns its standard output.
    fn run_ok(&self, prog: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Vec<u8> {
        let out = self.run(prog, env, stdin);
        assert!(
            out.status.success(),
            "{}",
            self.report(prog, &out, "should have succeeded")
        );
        out.stdout
    }

    /// The run of `prog` and the archive, for a failed assertion.
    fn report(&self, prog: &[&str], out: &Output, what: &str) -> String {
        format!(
            "chroot {} {prog:?} {what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- archive ---\n{}",
            self.dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.listing.dump()
        )
    }

    /// A path inside the image.
    fn path(&self, in_image: &str) -> PathBuf {
        self.dir.join(in_image.trim_start_matches('/'))
    }
}

/// `cmd` on PATH, or in the sbin directories.
fn which(cmd: &str) -> PathBuf {
    util::which(cmd).unwrap_or_else(|| panic!("{cmd} not on PATH"))
}

/// Root for chroot, mount and mknod, and the programs a test runs.
fn ready(programs: &[&str], package: &str) -> bool {
    if !require(is_root(), "needs root (chroot, mount, mknod)") {
        return false;
    }
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !Path::new(p).exists())
        .collect();
    require(
        missing.is_empty(),
        &format!("{missing:?} not installed (install {package})"),
    )
}

// ------------------------------------------------------------------ --users

#[test]
fn e2e_id_root_needs_users() {
    let id = "/usr/bin/id";
    if !ready(&[id], "coreutils") {
        return;
    }
    let Some(plain) = Image::new([id]) else {
        return;
    };
    let out = plain.run(&["/usr/local/bin/id", "root"], &[], b"");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no such user"),
        "{}",
        plain.report(&["id", "root"], &out, "should fail without --users")
    );
    let Some(img) = Image::new(["--users", id]) else {
        return;
    };
    let stdout = img.run_ok(&["/usr/local/bin/id", "root"], &[], b"");
    assert_eq!(
        String::from_utf8_lossy(&stdout),
        "uid=0(root) gid=0(root) groups=0(root)\n"
    );
    let stdout = img.run_ok(&["/usr/local/bin/id", "-un", "65532"], &[], b"");
    assert_eq!(String::from_utf8_lossy(&stdout), "nonroot\n");
}

#[test]
fn e2e_ssh_keygen_needs_users() {
    let keygen = "/usr/bin/ssh-keygen";
    if !ready(&[keygen], "openssh-client") {
        return;
    }
    let prog = [
        "/usr/local/bin/ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        "/root/id_ed25519",
    ];
    let Some(plain) = Image::new([keygen]) else {
        return;
    };
    let out = plain.run(&prog, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&prog, &out, "should fail without --users")
    );
    let Some(img) = Image::new(["--users", keygen]) else {
        return;
    };
    img.run_ok(&prog, &[], b"");
    let public = fs::read_to_string(img.path("/root/id_ed25519.pub")).unwrap();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert!(img.path("/root/id_ed25519").is_file());
}

// ------------------------------------------------------------------ --gconv

#[test]
fn e2e_iconv_to_latin1_needs_gconv() {
    let iconv = "/usr/bin/iconv";
    if !ready(&[iconv], "libc-bin") {
        return;
    }
    let prog = ["/usr/local/bin/iconv", "-f", "utf-8", "-t", "latin1"];
    let Some(plain) = Image::new([iconv]) else {
        return;
    };
    let out = plain.run(&prog, &[], "café\n".as_bytes());
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("failed to start conversion"),
        "{}",
        plain.report(&prog, &out, "should fail without --gconv")
    );
    for flag in ["--gconv=ISO-8859-1", "--gconv"] {
        let Some(img) = Image::new([flag, iconv]) else {
            return;
        };
        let stdout = img.run_ok(&prog, &[], "café\n".as_bytes());
        assert_eq!(stdout, b"caf\xe9\n", "{flag}");
    }
}

// ------------------------------------------------------------------ --tzdata

#[test]
fn e2e_date_in_paris_needs_tzdata() {
    let date = "/usr/bin/date";
    if !ready(
        &[date, "/usr/share/zoneinfo/Europe/Paris"],
        "coreutils tzdata",
    ) {
        return;
    }
    // 2023-11-14 22:13:20 and 2023-07-22 04:26:40 UTC.
    let at = |t: &str| ["/usr/local/bin/date", "-d", t, "+%H:%M %Z"].map(String::from);
    let paris = [("TZ", "Europe/Paris")];
    let Some(plain) = Image::new([date]) else {
        return;
    };
    let winter = at("@1700000000");
    let winter: Vec<&str> = winter.iter().map(String::as_str).collect();
    let stdout = plain.run_ok(&winter, &paris, b"");
    // Without the zone, glibc takes "Europe" as a POSIX name, offset 0.
    assert_eq!(String::from_utf8_lossy(&stdout), "22:13 Europe\n");
    for flag in ["--tzdata=Europe/Paris", "--tzdata"] {
        let Some(img) = Image::new([flag, date]) else {
            return;
        };
        let stdout = img.run_ok(&winter, &paris, b"");
        assert_eq!(String::from_utf8_lossy(&stdout), "23:13 CET\n", "{flag}");
        let summer = at("@1690000000");
        let summer: Vec<&str> = summer.iter().map(String::as_str).collect();
        let stdout = img.run_ok(&summer, &paris, b"");
        assert_eq!(String::from_utf8_lossy(&stdout), "06:26 CEST\n", "{flag}");
        let stdout = img.run_ok(&winter, &[("TZ", "UTC")], b"");
        assert_eq!(String::from_utf8_lossy(&stdout), "22:13 UTC\n", "{flag}");
    }
}

// ------------------------------------------------------------------ --locale

#[test]
fn e2e_locale_c_utf8_needs_locale() {
    let locale = "/usr/bin/locale";
    if !ready(&[locale, "/usr/lib/locale/C.utf8/LC_CTYPE"], "libc-bin") {
        return;
    }
    let prog = ["/usr/local/bin/locale", "charmap"];
    let lang = [("LANG", "C.UTF-8")];
    let Some(plain) = Image::new([locale]) else {
        return;
    };
    let stdout = plain.run_ok(&prog, &lang, b"");
    assert_eq!(String::from_utf8_lossy(&stdout), "ANSI_X3.4-1968\n");
    for name in ["C.utf8", "C.UTF-8"] {
        let Some(img) = Image::new(["--locale", name, locale]) else {
            return;
        };
        let out = img.run(&prog, &lang, b"");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "UTF-8\n",
            "{}",
            img.report(&prog, &out, "should print UTF-8")
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            img.report(&prog, &out, "quiet")
        );
    }
}

// ------------------------------------------------------------------ --shell

#[test]
fn e2e_shell_runs_sh_c() {
    let hello = util::hello();
    if !ready(&["/bin/sh"], "dash") {
        return;
    }
    let prog = ["/bin/sh", "-c", "echo ok"];
    let Some(img) = Image::new([OsStr::new("--shell"), hello.as_os_str()]) else {
        return;
    };
    assert_eq!(img.run_ok(&prog, &[], b""), b"ok\n");
    // --add-file /bin/sh with the target its error names works the same.
    let sh = Path::new("/bin/sh");
    if fs::symlink_metadata(sh).unwrap().file_type().is_symlink() {
        let target = fs::read_link(sh).unwrap();
        let wanted = if target.is_absolute() {
            target
        } else {
            sh.parent().unwrap().join(target)
        };
        let real = fs::canonicalize(sh).unwrap();
        let spec = format!("{}:{}", real.display(), wanted.display());
        let args = [
            OsStr::new("--add-file"),
            OsStr::new("/bin/sh"),
            OsStr::new("--add-file"),
            OsStr::new(&spec),
            hello.as_os_str(),
        ];
        let Some(img) = Image::new(args) else { return };
        assert_eq!(img.run_ok(&prog, &[], b""), b"ok\n");
    }
}

// ------------------------------------------------------------------ ImageMagick

/// ImageMagick's coder directory (`…/ImageMagick-6.x/modules-Q16/coders`).
fn coders() -> Option<PathBuf> {
    let lib = Path::new("/usr/lib/x86_64-linux-gnu");
    let mut found: Vec<PathBuf> = fs::read_dir(lib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("modules-Q16/coders"))
        .filter(|p| {
            p.is_dir()
                && p.parent()
                    .and_then(Path::parent)
                    .and_then(Path::file_name)
                    .is_some_and(|n| n.to_string_lossy().starts_with("ImageMagick-6"))
        })
        .collect();
    found.sort();
    found.pop()
}

#[test]
fn e2e_convert_to_png_needs_its_coders() {
    let convert = "/usr/bin/convert-im6.q16";
    if !ready(&[convert, "/etc/ImageMagick-6"], "imagemagick") {
        return;
    }
    let Some(coders) = coders() else {
        require(
            false,
            "no ImageMagick-6 coder directory (install imagemagick)",
        );
        return;
    };
    let prog = [
        "/usr/local/bin/convert-im6.q16",
        "-size",
        "16x16",
        "xc:red",
        "/tmp/out.png",
    ];
    let Some(plain) = Image::new([convert, "--mkdir", "/tmp:1777"]) else {
        return;
    };
    let out = plain.run(&prog, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&prog, &out, "should fail without its coders")
    );
    let args = [
        OsStr::new(convert),
        OsStr::new("--mkdir"),
        OsStr::new("/tmp:1777"),
        OsStr::new("--add-file"),
        coders.as_os_str(),
        OsStr::new("--add-file"),
        OsStr::new("/etc/ImageMagick-6"),
    ];
    let Some(img) = Image::new(args) else { return };
    img.run_ok(&prog, &[], b"");
    let png = fs::read(img.path("/tmp/out.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}

// ------------------------------------------------------------------ nginx

/// Kills and reaps the server on every exit path.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The body of `GET /` on 127.0.0.1:`port`, once it answers.
fn get(port: u16) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply)
}

#[test]
fn e2e_nginx_checks_its_configuration_and_serves_a_page() {
    let nginx = "/usr/sbin/nginx";
    let needed = [
        nginx,
        "/etc/nginx/nginx.conf",
        "/usr/share/nginx",
        "/usr/lib/nginx/modules",
        "/var/www/html",
    ];
    if !ready(&needed, "nginx-light") {
        return;
    }
    let Some(plain) = Image::new([nginx]) else {
        return;
    };
    let check = ["/usr/local/bin/nginx", "-t"];
    let out = plain.run(&check, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&check, &out, "should fail without its files")
    );
    let Some(img) = Image::new([
        "--users=www-data",
        "--add-file",
        "/etc/nginx",
        "--add-file",
        "/usr/share/nginx",
        "--add-file",
        "/usr/lib/nginx/modules",
        "--add-file",
        "/var/www/html",
        "--mkdir",
        "/run",
        "--mkdir",
        "/var/lib/nginx",
        "--mkdir",
        "/var/log/nginx",
        nginx,
    ]) else {
        return;
    };
    let out = img.run(&check, &[], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.contains("test is successful"),
        "{}",
        img.report(&check, &out, "should pass")
    );
    // Serve the default site on a free port of 127.0.0.1, one process.
    let port = free_port();
    let site = img.path("/etc/nginx/sites-available/default");
    let conf = fs::read_to_string(&site).unwrap();
    let conf: String = conf
        .lines()
        .filter(|l| !l.contains("listen [::]:80"))
        .map(|l| l.replace("listen 80 ", &format!("listen 127.0.0.1:{port} ")) + "\n")
        .collect();
    assert!(
        conf.contains(&format!("listen 127.0.0.1:{port} ")),
        "{conf}"
    );
    fs::write(&site, conf).unwrap();
    let log = img.tmp.path().join("nginx.log");
    let log_file = fs::File::create(&log).unwrap();
    let child = Command::new(which("chroot"))
        .arg(&img.dir)
        .args([
            "/usr/local/bin/nginx",
            "-g",
            "daemon off; master_process off;",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("starting chroot nginx");
    let mut server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut reply = None;
    while Instant::now() < deadline && reply.is_none() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!(
                "nginx exited with {status}:\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            );
        }
        reply = get(port);
        if reply.is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    drop(server);
    let reply = reply.unwrap_or_else(|| {
        panic!(
            "no answer from the chrooted nginx on port {port} within 10 s:\n{}",
            fs::read_to_string(&log).unwrap_or_default()
        )
    });
    assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
    assert!(
        reply.contains("<title>Welcome to nginx!</title>"),
        "{reply}"
    );
}
