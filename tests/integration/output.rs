//! The output side: what `-o` may name and how it is written, what is
//! printed when standard output or error goes away, and how names are
//! shown. Each test pins one promise of README's "Promises" section;
//! everything happens in the test's own directories (or in a private mount
//! namespace).

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Archive, fx, hello, hello_leaf, listing, os, tmp};

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

// ------------------------------------------------------------ output that goes away

/// A directory of `n` empty files, so views run longer than a pipe holds.
fn many_files(dir: &Path, n: usize) -> OsString {
    let many = dir.join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..n {
        File::create(many.join(format!("file-with-a-longish-name-{i:05}"))).unwrap();
    }
    let mut spec = many.into_os_string();
    spec.push(":/many");
    spec
}

#[test]
fn views_end_quietly_when_their_reader_goes_away() {
    let t = tmp();
    let spec = many_files(t.path(), 3000);
    for view in ["--list", "--json", "--tree"] {
        // A reader that closed before anything was written.
        let mut child = Command::new(bin())
            .current_dir(t.path())
            .arg(view)
            .arg(hello_leaf())
            .arg("--add-file")
            .arg(&spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let status = wait_for(&mut child, Duration::from_secs(60));
        let stderr = stderr_of(&mut child);
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{view}: {stderr}");
        assert_eq!(stderr, "", "{view}");
    }
    // And `| head`, as a shell runs it.
    for view in ["--list", "--json"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg("\"$0\" \"$1\" \"$2\" --add-file \"$3\" | head -n 1 >/dev/null; echo \"${PIPESTATUS[0]}\"")
            .arg(bin())
            .arg(view)
            .arg(hello())
            .arg(&spec)
            .current_dir(t.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "0\n",
            "{view}: {stderr}"
        );
        assert_eq!(stderr, "", "{view}");
    }
}

#[test]
fn unwritable_standard_error_keeps_the_exit_status() {
    let t = tmp();
    let dir = t.path();
    let missing = fx("missing/bin/app");
    let cases: &[(&[&dyn AsRef<std::ffi::OsStr>], i32, bool)] = &[
        (&[&"-o", &"ok.tar", &hello()], 0, true),
        (&[&"-v", &"-o", &"v.tar", &hello()], 0, true),
        (
            &[&"--allow-missing", &"-o", &"warned.tar", &missing],
            0,
            true,
        ),
        (&[&"-o", &"failed.tar", &missing], 1, false),
        (&[&"-o", &"none.tar", &dir.join("nothing")], 1, false),
        (&[&"--level", &"0", &hello()], 2, false),
    ];
    for (args, code, writes) in cases {
        let args = os(args);
        let out_name = args
            .iter()
            .position(|a| a == "-o")
            .map(|i| dir.join(&args[i + 1]));
        // Standard error on a full device, then on a closed pipe.
        for closed_pipe in [false, true] {
            if let Some(out) = &out_name {
                let _ = fs::remove_file(out);
            }
            let mut cmd = Command::new(bin());
            cmd.current_dir(dir).args(&args).stdout(Stdio::null());
            if closed_pipe {
                cmd.stderr(Stdio::piped());
            } else {
                cmd.stderr(File::options().write(true).open("/dev/full").unwrap());
            }
            let mut child = cmd.spawn().unwrap();
            drop(child.stderr.take());
            let status = wait_for(&mut child, Duration::from_secs(60));
            assert_eq!(
                status.and_then(|s| s.code()),
                Some(*code),
                "{args:?}, closed pipe {closed_pipe}"
            );
            if let Some(out) = &out_name {
                assert_eq!(out.exists(), *writes, "{args:?}");
                if *writes {
                    Archive::read_tar(out);
                }
            }
        }
    }
    assert_eq!(partials(dir), Vec::<String>::new());
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
