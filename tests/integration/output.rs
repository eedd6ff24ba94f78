//! The output side: what `-o` may name and how it is written, what is
//! printed when standard output or error goes away, and how names are
//! shown. Each test pins one promise of README's "Promises" section;
//! everything happens in the test's own directories (or in a private mount
//! namespace).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Archive, hello, listing, os, tmp};

/// The binary, for commands built by hand.
fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin!("extract-elf-so").to_path_buf()
}

/// Waits for `child` at most `limit`; kills it when it is still running.
fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    text
}

/// The names of temporary files left in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

// ------------------------------------------------------------ memory

/// Runs the tool with `args` under a limit of `kb` kB of address space;
/// returns its exit status and standard error.
fn run_limited(dir: &Path, kb: u32, args: &[&dyn AsRef<std::ffi::OsStr>]) -> (ExitStatus, String) {
    let mut child = Command::new("bash")
        .arg("-c")
        .arg("ulimit -v \"$1\" && shift && exec \"$0\" \"$@\"")
        .arg(bin())
        .arg(kb.to_string())
        .args(os(args))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_for(&mut child, Duration::from_secs(60));
    let stderr = stderr_of(&mut child);
    let status = status.unwrap_or_else(|| panic!("{kb} kB: still running after 60 s: {stderr}"));
    (status, stderr)
}

#[test]
fn gzip_under_a_memory_limit_works_or_fails_cleanly() {
    let t = tmp();
    let (mut tried, mut worked) = (0, 0);
    for kb in (12_000..=40_000).step_by(1_000) {
        // Below some limit no program starts at all (the loader, libc or
        // the runtime gives up first); such limits say nothing of the tool.
        if !run_limited(t.path(), kb, &[&"--version"]).0.success() {
            continue;
        }
        tried += 1;
        let (status, stderr) = run_limited(t.path(), kb, &[&"-z", &"-o", &"out.tar.gz", &hello()]);
        assert_eq!(
            partials(t.path()),
            Vec::<String>::new(),
            "{kb} kB: {stderr}"
        );
        match status.code() {
            Some(0) => {
                worked += 1;
                Archive::read(&t.path().join("out.tar.gz"));
            }
            Some(1) => {
                let lines: Vec<&str> = stderr.lines().collect();
                assert_eq!(lines.len(), 1, "{kb} kB: {stderr}");
                assert!(
                    lines[0].starts_with("extract-elf-so: error: out.tar.gz: out of memory"),
                    "{kb} kB: {stderr}"
                );
            }
            _ => panic!("{kb} kB: {status:?}: {stderr}"),
        }
        let _ = fs::remove_file(t.path().join("out.tar.gz"));
    }
    assert!(
        worked > 0 && worked < tried,
        "{tried} limits tried, {worked} worked"
    );
}
