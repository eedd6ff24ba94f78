//! End to end, the acceptance of the run-time needs: real Debian programs
//! packed plainly, whose `hint:` lines must name what they need; packed
//! again with exactly the flags those lines name (and, where files cannot
//! tell, the documented `--add-file`, `--mkdir` and `--users=NAME` flags,
//! each with the reason beside it), which must print no hint, pass
//! `--strict` and give an image where the program runs. Images are unpacked
//! into an empty directory and run chrooted there, with only what a
//! container runtime adds (`/proc`, `/dev/null`, `/dev/zero`, `/dev/random`,
//! `/dev/urandom`). The plain pack is run too and must fail the way the
//! issue saw, so a flag that stopped packing what is needed, or a program
//! that stopped needing it, shows. The narrower forms README's examples use
//! (`--gconv=ISO-8859-1`, `--tzdata=Europe/Paris`, `--locale`, `--shell`)
//! are run the same way.
//!
//! Needs root (chroot, mount, mknod) and the programs (`.ci/run` installs
//! them); when something is missing the test panics if `CI` is set and is
//! skipped with a message otherwise.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::util::{self, Chroot, free_port, have, hint_flags, is_root, require, run_tool, tmp};

/// Running a program of an image the way these tests do.
trait Runs {
    fn run(&self, prog: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output;
    fn run_ok(&self, prog: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Vec<u8>;
}

impl Runs for Chroot {
    /// Runs `prog` chrooted with a PATH, `env` and `stdin` as input.
    fn run(&self, prog: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
        let mut cmd = self.command(prog);
        cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .write_stdin(stdin);
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
}

/// Packs with `args` into an image with /proc and the usual device nodes.
/// `None` when the test is skipped.
fn image<I, S>(args: I) -> Option<Chroot>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Chroot::pack_with_devices(args)
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

// ------------------------------------------------------------------ hints

/// The flags the `hint:` lines of a plain pack of `args` name, as
/// arguments. Checks that they name every flag of `needs` (as a hint ends
/// with it), and that `--strict` refuses the same pack: exit status 1,
/// nothing written, every hint listed.
fn hinted_flags(args: &[&str], needs: &[&str]) -> Vec<String> {
    let dir = tmp();
    let run = run_tool(dir.path(), args);
    run.expect_code(0);
    std::fs::remove_file(&run.out).unwrap();
    let hints = run.hints();
    for need in needs {
        assert!(
            hints.iter().any(|h| hint_flags(h).join(" ") == *need),
            "no hint of {args:?} names {need}:\n{}",
            run.stderr
        );
    }
    let strict: Vec<&str> = std::iter::once("--strict")
        .chain(args.iter().copied())
        .collect();
    let refused = run_tool(dir.path(), &strict);
    refused.expect_code(1);
    assert!(!refused.out.exists(), "--strict wrote {:?}", refused.out);
    for hint in &hints {
        assert!(
            refused.stderr.contains(hint.as_str()),
            "--strict does not list {hint}:\n{}",
            refused.stderr
        );
    }
    hints.iter().flat_map(|h| hint_flags(h)).collect()
}

/// Packs `args` with `flags` (those the plain pack's hints named) and
/// `extra` (what no file can tell), into an image that must print no hint,
/// and that `--strict` accepts (it writes the archive).
fn with_flags(args: &[&str], flags: &[String], extra: &[&str]) -> Option<Chroot> {
    let all: Vec<&str> = flags
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .chain(args.iter().copied())
        .collect();
    let img = image(&all)?;
    assert_eq!(
        img.packed.hints(),
        Vec::<String>::new(),
        "a hint with the flags {all:?}"
    );
    let dir = tmp();
    let strict: Vec<&str> = std::iter::once("--strict")
        .chain(all.iter().copied())
        .collect();
    let run = run_tool(dir.path(), &strict);
    run.expect_code(0);
    assert!(run.out.is_file(), "--strict {all:?} wrote nothing");
    Some(img)
}

// ------------------------------------------------------------------ users

#[test]
fn e2e_id_root_runs_with_the_flags_its_hints_name() {
    let id = "/usr/bin/id";
    if !ready(&[id], "coreutils") {
        return;
    }
    let flags = hinted_flags(&[id], &["--users"]);
    let Some(plain) = image([id]) else {
        return;
    };
    let out = plain.run(&["/usr/local/bin/id", "root"], &[], b"");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no such user"),
        "{}",
        plain.report(&["id", "root"], &out, "should fail without --users")
    );
    let Some(img) = with_flags(&[id], &flags, &[]) else {
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
fn e2e_ssh_keygen_runs_with_the_flags_its_hints_name() {
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
    // The hint is --users; `--strict --users` packs (checked in
    // with_flags) where `--strict` alone writes nothing.
    let flags = hinted_flags(&[keygen], &["--users"]);
    let Some(plain) = image([keygen]) else {
        return;
    };
    let out = plain.run(&prog, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&prog, &out, "should fail without --users")
    );
    let Some(img) = with_flags(&[keygen], &flags, &[]) else {
        return;
    };
    img.run_ok(&prog, &[], b"");
    let public = fs::read_to_string(img.path("/root/id_ed25519.pub")).unwrap();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    assert!(img.path("/root/id_ed25519").is_file());
    // Without -f it asks where (an empty answer takes ~/.ssh/id_ed25519)
    // and makes ~/.ssh itself, in the /root that --users makes.
    let prog = ["/usr/local/bin/ssh-keygen", "-t", "ed25519", "-N", ""];
    img.run_ok(&prog, &[], b"\n");
    let public = fs::read_to_string(img.path("/root/.ssh/id_ed25519.pub")).unwrap();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
}

// ------------------------------------------------------------------ gconv

#[test]
fn e2e_iconv_to_latin1_runs_with_the_flags_its_hints_name() {
    let iconv = "/usr/bin/iconv";
    if !ready(&[iconv], "libc-bin") {
        return;
    }
    let prog = ["/usr/local/bin/iconv", "-f", "utf-8", "-t", "latin1"];
    let flags = hinted_flags(&[iconv], &["--gconv"]);
    let Some(plain) = image([iconv]) else {
        return;
    };
    let out = plain.run(&prog, &[], "café\n".as_bytes());
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("failed to start conversion"),
        "{}",
        plain.report(&prog, &out, "should fail without --gconv")
    );
    // The hinted flag packs every module; README's example only latin1's.
    let named = ["--gconv=ISO-8859-1".to_string()];
    for flags in [&flags[..], &named] {
        let Some(img) = with_flags(&[iconv], flags, &[]) else {
            return;
        };
        let stdout = img.run_ok(&prog, &[], "café\n".as_bytes());
        assert_eq!(stdout, b"caf\xe9\n", "{flags:?}");
    }
}

// ------------------------------------------------------------------ time zones

#[test]
fn e2e_date_in_paris_runs_with_the_flags_its_hints_name() {
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
    let flags = hinted_flags(&[date], &["--tzdata"]);
    let Some(plain) = image([date]) else {
        return;
    };
    let winter = at("@1700000000");
    let winter: Vec<&str> = winter.iter().map(String::as_str).collect();
    let stdout = plain.run_ok(&winter, &paris, b"");
    // Without the zone, glibc takes "Europe" as a POSIX name, offset 0.
    assert_eq!(String::from_utf8_lossy(&stdout), "22:13 Europe\n");
    // The hinted flag packs every zone; README's example only Paris (and UTC).
    let named = ["--tzdata=Europe/Paris".to_string()];
    for flags in [&flags[..], &named] {
        let Some(img) = with_flags(&[date], flags, &[]) else {
            return;
        };
        let stdout = img.run_ok(&winter, &paris, b"");
        assert_eq!(String::from_utf8_lossy(&stdout), "23:13 CET\n", "{flags:?}");
        let summer = at("@1690000000");
        let summer: Vec<&str> = summer.iter().map(String::as_str).collect();
        let stdout = img.run_ok(&summer, &paris, b"");
        assert_eq!(
            String::from_utf8_lossy(&stdout),
            "06:26 CEST\n",
            "{flags:?}"
        );
        let stdout = img.run_ok(&winter, &[("TZ", "UTC")], b"");
        assert_eq!(String::from_utf8_lossy(&stdout), "22:13 UTC\n", "{flags:?}");
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
    let Some(plain) = image([locale]) else {
        return;
    };
    let stdout = plain.run_ok(&prog, &lang, b"");
    assert_eq!(String::from_utf8_lossy(&stdout), "ANSI_X3.4-1968\n");
    for name in ["C.utf8", "C.UTF-8"] {
        let Some(img) = image(["--locale", name, locale]) else {
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
    let Some(img) = image([OsStr::new("--shell"), hello.as_os_str()]) else {
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
        let Some(img) = image(args) else { return };
        assert_eq!(img.run_ok(&prog, &[], b""), b"ok\n");
    }
}

// ------------------------------------------------------------------ plugin directories

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

/// ImageMagick's `convert` loads its coders with libltdl from directories
/// only libMagickCore names (and needs the libtool `.la` files beside them).
#[test]
fn e2e_convert_to_png_runs_with_the_flags_its_hints_name() {
    let convert = "/usr/bin/convert";
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
        "/usr/local/bin/convert",
        "-size",
        "16x16",
        "xc:red",
        "/out.png",
    ];
    let flags = hinted_flags(&[convert], &[&format!("--add-file {}", coders.display())]);
    let Some(plain) = image([convert]) else {
        return;
    };
    let out = plain.run(&prog, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&prog, &out, "should fail without its coders")
    );
    // The hinted directories alone write the PNG, with a warning that its
    // configuration is missing; README's example adds the configuration,
    // which no rule reads (strings naming /etc are too common to be evidence).
    let config: &[&str] = &["--add-file", "/etc/ImageMagick-6"];
    for extra in [&[][..], config] {
        let Some(img) = with_flags(&[convert], &flags, extra) else {
            return;
        };
        let out = img.run(&prog, &[], b"");
        let why = format!("should write a PNG with {flags:?} {extra:?}");
        assert!(out.status.success(), "{}", img.report(&prog, &out, &why));
        if !extra.is_empty() {
            assert!(out.stderr.is_empty(), "{}", img.report(&prog, &out, &why));
        }
        let png = fs::read(img.path("/out.png")).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    }
}

// ------------------------------------------------------------------ nginx

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
fn e2e_nginx_checks_its_configuration_and_serves_a_page_with_the_flags_its_hints_name() {
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
    let mut needs = vec!["--users".to_string(), "--tzdata".to_string()];
    let modules = fs::read_dir("/usr/lib/nginx/modules").unwrap().flatten();
    if modules
        .map(|e| e.file_name())
        .any(|n| n.to_string_lossy().ends_with(".so"))
    {
        needs.push("--add-file /usr/lib/nginx/modules".to_string());
    }
    let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
    let flags = hinted_flags(&[nginx], &needs);
    let Some(plain) = image([nginx]) else {
        return;
    };
    let check = ["/usr/local/bin/nginx", "-t"];
    let out = plain.run(&check, &[], b"");
    assert!(
        !out.status.success(),
        "{}",
        plain.report(&check, &out, "should fail without its files")
    );
    // What its files cannot tell (README, "Run-time needs"): the account
    // its configuration names, the configuration, its prefix (where the
    // links of modules-enabled lead), the default site's page, and the
    // directories it writes its pid file, bodies and logs to.
    let extra = [
        "--users=www-data",
        "--add-file",
        "/etc/nginx",
        "--add-file",
        "/usr/share/nginx",
        "--add-file",
        "/var/www/html",
        "--mkdir",
        "/run",
        "--mkdir",
        "/var/lib/nginx",
        "--mkdir",
        "/var/log/nginx",
    ];
    let Some(img) = with_flags(&[nginx], &flags, &extra) else {
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
    let mut server = img.spawn(
        &[
            "/usr/local/bin/nginx",
            "-g",
            "daemon off; master_process off;",
        ],
        &log,
    );
    let reply = server.poll(Duration::from_secs(10), || get(port));
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

// ------------------------------------------------------------------ libgcc_s

/// python3 with daemon threads: at exit they are unwound with
/// `pthread_exit`, for which glibc loads libgcc_s.so.1 (without it:
/// "libgcc_s.so.1 must be installed for pthread_exit to work", aborted, most
/// runs). That need is met without asking, so no hint names it: the image
/// runs with the standard library alone, and with the flags its hints name.
#[test]
fn e2e_python3_daemon_threads_exit_cleanly_with_the_flags_its_hints_name() {
    let python = "/usr/bin/python3";
    if !ready(&[python], "python3") {
        return;
    }
    let stdlib = fs::read_dir("/usr/lib")
        .ok()
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("python3.") && p.join("threading.py").is_file()
        });
    let ok = have(python) && stdlib.is_some();
    if !require(ok, "python3 and its standard library are not installed") {
        return;
    }
    let stdlib = stdlib.unwrap();
    let flags = hinted_flags(&[python], &[]);
    let dir = tmp();
    let run = run_tool(dir.path(), ["--json", python]);
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let libgcc: Vec<&serde_json::Value> = doc["needs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "libgcc_s")
        .collect();
    assert!(!libgcc.is_empty(), "{}", run.stdout);
    assert!(
        libgcc
            .iter()
            .all(|n| n["met"] == true && n["flag"].is_null()),
        "{libgcc:?}"
    );
    // The standard library: python finds it from its own prefix, and no
    // file names it.
    let stdlib_flag = ["--add-file", util::s(&stdlib)];
    let script = "import threading, time\n\
                  def spin():\n    while True:\n        time.sleep(0.001)\n\
                  for _ in range(8):\n    threading.Thread(target=spin, daemon=True).start()\n\
                  time.sleep(0.05)\nprint('main exiting')\n";
    for hinted in [false, true] {
        let img = if hinted {
            with_flags(&[python], &flags, &stdlib_flag)
        } else {
            image([python, stdlib_flag[0], stdlib_flag[1]])
        };
        let Some(img) = img else { return };
        assert!(
            img.listing.basenames().contains("libgcc_s.so.1"),
            "{}",
            img.listing.dump()
        );
        fs::write(img.path("/daemon.py"), script).unwrap();
        for _ in 0..5 {
            let stdout = img.run_ok(&["/usr/local/bin/python3", "/daemon.py"], &[], b"");
            assert_eq!(String::from_utf8_lossy(&stdout), "main exiting\n");
        }
    }
}
