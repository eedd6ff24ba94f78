//! End to end: pack, unpack into an empty directory, and run the program
//! chrooted there, so only what the archive holds is available to the loader.
//! A proc filesystem is mounted in the chroot, as a container has one: both
//! glibc and musl take the program's `$ORIGIN` from /proc/self/exe.
//!
//! Needs root (chroot, mount); musl, aarch64 (qemu) and redis tests need
//! their tools too. When something is missing the test panics if `CI` is set
//! and is skipped with a message otherwise.

use std::fs;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::util::{
    Chroot, EM_AARCH64, EM_X86_64, basename, free_port, fx, have, is_root, musl_ok, path_of,
    require, s,
};

/// Root is needed for chroot and mount.
fn root_ok() -> bool {
    require(is_root(), "needs root (chroot, mount)")
}

/// Runs `prog ARGS` chrooted into the image with an empty environment and
/// asserts it prints exactly `line`.
fn assert_runs(img: &Chroot, prog: &[&str], line: &str) {
    let out = img.command(prog).output().expect("running chroot");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout == format!("{line}\n"),
        "{}",
        img.report(prog, &out, &format!("should print {line:?}"))
    );
}

fn pack_and_run(input: &str, extra: &[&str], prog: &str, line: &str) {
    if !root_ok() {
        return;
    }
    let input = fx(input);
    let args: Vec<&str> = std::iter::once(s(&input))
        .chain(extra.iter().copied())
        .collect();
    let Some(img) = Chroot::pack(args) else {
        return;
    };
    assert_runs(&img, &[prog], line);
}

// ------------------------------------------------------------------ glibc fixtures

#[test]
fn hello_runs_chrooted() {
    pack_and_run(
        "hello/bin/hello",
        &[],
        "/usr/local/bin/hello",
        "hello from fixture",
    );
}

#[test]
fn hello_leaf_runs_chrooted() {
    pack_and_run(
        "hello/bin/hello-leaf",
        &[],
        "/usr/local/bin/hello-leaf",
        "hello-leaf: leaf=42",
    );
}

#[test]
fn rpath_app_runs_chrooted() {
    pack_and_run(
        "rpath/bin/app",
        &[],
        "/usr/local/bin/app",
        "rpath: leaf=42 mid=43",
    );
}

#[test]
fn runpath_ok_app_runs_chrooted() {
    pack_and_run(
        "runpath-ok/bin/app",
        &[],
        "/usr/local/bin/app",
        "runpath-ok: leaf=42 mid=43",
    );
}

#[test]
fn cycle_app_runs_chrooted() {
    pack_and_run("cycle/bin/app", &[], "/usr/local/bin/app", "cycle: a=1 b=2");
}

#[test]
fn origin_app_runs_chrooted_from_its_dest() {
    pack_and_run(
        "origin/bin/app",
        &["-d", "/opt/app/bin"],
        "/opt/app/bin/app",
        "origin: priv=7",
    );
}

#[test]
fn static_app_runs_chrooted() {
    pack_and_run(
        "static/bin/app",
        &[],
        "/usr/local/bin/app",
        "static: hello from fixture",
    );
}

#[test]
fn static_pie_app_runs_chrooted() {
    pack_and_run(
        "static/bin/app-pie",
        &[],
        "/usr/local/bin/app-pie",
        "static-pie: hello from fixture",
    );
}

/// The other side of `runpath_is_not_inherited`: what the tool leaves out
/// with --allow-missing, the real loader does not find either.
#[test]
fn runpath_app_fails_chrooted_like_the_loader_says() {
    if !root_ok() {
        return;
    }
    let input = fx("runpath/bin/app");
    let Some(img) = Chroot::pack([s(&input), "--allow-missing"]) else {
        return;
    };
    let out = img
        .command(&["/usr/local/bin/app"])
        .output()
        .expect("running chroot");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(127), "stderr: {stderr}");
    assert!(
        stderr.contains("libleaf.so.1: cannot open shared object file"),
        "the loader should fail on libleaf.so.1 only: {stderr}"
    );
}

// ------------------------------------------------------------------ redis (lab 05)

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = assert_cmd::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .timeout(Duration::from_secs(5))
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn redis_server_answers_ping_chrooted() {
    if !root_ok() {
        return;
    }
    let redis = Path::new("/usr/bin/redis-server");
    let installed = redis.exists() && have("redis-cli");
    if !require(installed, "redis-server and redis-cli are not installed") {
        return;
    }
    let Some(img) = Chroot::pack([redis]) else {
        return;
    };
    let port = free_port();
    let port_arg = port.to_string();
    let log = img.tmp.path().join("redis.log");
    let mut server = img.spawn(
        &[
            "/usr/local/bin/redis-server",
            "--port",
            &port_arg,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        &log,
    );
    let reply = server.poll(Duration::from_secs(10), || {
        redis_cli(port, &["ping"]).filter(|r| r == "PONG")
    });
    let _ = redis_cli(port, &["shutdown", "nosave"]);
    let _ = server.child.wait_timeout_or_kill(Duration::from_secs(5));
    drop(server);
    assert_eq!(
        reply.as_deref(),
        Some("PONG"),
        "no PONG from the chrooted redis-server on port {port} within 10 s:\n{}",
        fs::read_to_string(&log).unwrap_or_default()
    );
}

trait WaitTimeout {
    fn wait_timeout_or_kill(&mut self, limit: Duration) -> std::io::Result<()>;
}

impl WaitTimeout for Child {
    /// Waits up to `limit` for a clean exit, then kills.
    fn wait_timeout_or_kill(&mut self, limit: Duration) -> std::io::Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill()?;
        self.wait().map(|_| ())
    }
}

// ------------------------------------------------------------------ musl

#[test]
fn musl_hello_runs_chrooted() {
    if !root_ok() || !musl_ok("musl/bin/hello") {
        return;
    }
    pack_and_run(
        "musl/bin/hello",
        &[],
        "/usr/local/bin/hello",
        "musl: hello from fixture",
    );
}

#[test]
fn musl_hello_leaf_runs_chrooted() {
    if !root_ok() || !musl_ok("musl/bin/hello-leaf") {
        return;
    }
    pack_and_run(
        "musl/bin/hello-leaf",
        &[],
        "/usr/local/bin/hello-leaf",
        "musl-hello-leaf: leaf=42",
    );
}

// ------------------------------------------------------------------ aarch64

const SYSROOT: &str = "/usr/aarch64-linux-gnu";
const QEMU: &str = "qemu-aarch64-static";

fn aarch64_run(rel: &str, line: &str) {
    if !root_ok() {
        return;
    }
    let fixture = have("aarch64-linux-gnu-gcc") && fx(rel).exists();
    if !require(
        fixture,
        &format!("the aarch64 fixture {rel} is not built (install gcc-aarch64-linux-gnu)"),
    ) || !require(
        Path::new(SYSROOT).join("lib/libc.so.6").exists(),
        &format!("no aarch64 sysroot at {SYSROOT}"),
    ) || !require(
        have(QEMU),
        &format!("{QEMU} not found (install qemu-user-static)"),
    ) {
        return;
    }
    let input = fx(rel);
    let Some(img) = Chroot::pack([s(&input), "--root", SYSROOT]) else {
        return;
    };
    // Nothing of the host's architecture may leak into the image.
    let elves = img.listing.elf_files();
    assert!(!elves.is_empty());
    for (path, class, machine) in &elves {
        assert_ne!(
            *machine,
            EM_X86_64,
            "{path} is an x86-64 ELF in an aarch64 image\n{}",
            img.listing.dump()
        );
        assert_eq!(
            (*class, *machine),
            (2, EM_AARCH64),
            "{path} is not an aarch64 ELF64 file"
        );
    }
    // Run it chrooted through a copy of the static qemu: no host fallback.
    let qemu = path_of(QEMU);
    fs::copy(&qemu, img.dir.join(".qemu-aarch64-static")).expect("copying qemu");
    let name = basename(rel);
    assert_runs(
        &img,
        &["/.qemu-aarch64-static", &format!("/usr/local/bin/{name}")],
        line,
    );
}

#[test]
fn aarch64_hello_runs_under_qemu() {
    aarch64_run("aarch64/bin/hello", "aarch64: hello from fixture");
}

#[test]
fn aarch64_hello_leaf_runs_under_qemu() {
    aarch64_run("aarch64/bin/hello-leaf", "aarch64-hello-leaf: leaf=42");
}

// ------------------------------------------------------------------ run-time needs

#[test]
fn a_required_note_library_is_in_the_image() {
    // app dlopens libplug.so.1, which only its .note.dlopen names.
    pack_and_run("note/bin/app", &[], "/usr/local/bin/app", "note: plug=42");
}

#[test]
fn pthread_exit_finds_libgcc_s_in_the_image() {
    // glibc dlopens libgcc_s.so.1 to unwind the exiting thread, and aborts
    // without it; nothing in the program's headers names it.
    pack_and_run(
        "needs/bin/threads",
        &[],
        "/usr/local/bin/threads",
        "threads: joined",
    );
}
