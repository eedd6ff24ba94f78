//! The output side: what `-o` may name and how it is written, what is
//! printed when standard output or error goes away, and how names are
//! shown. Each test pins one promise of README's "Promises" section;
//! everything happens in the test's own directories (or in a private mount
//! namespace).

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{
    Archive, assert_fails, bytes, fx, hello, hello_leaf, is_root, listing, mini_sysroot, os,
    require, run, run_ok, tmp, write,
};

/// The binary, for commands built by hand.
fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin!("extract-elf-so").to_path_buf()
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
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

// ------------------------------------------------- the archive is not its own input

/// A copy of the `hello` fixture tree (programs and libleaf) in `dir`.
fn hello_tree(dir: &Path) -> PathBuf {
    let tree = dir.join("hello");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(hello().parent().unwrap().parent().unwrap())
        .arg(&tree)
        .status();
    assert!(copied.is_ok_and(|s| s.success()));
    tree
}

#[test]
fn output_that_is_a_packed_file_is_refused_and_left_alone() {
    let t = tmp();
    let dir = t.path();
    let tree = hello_tree(dir);
    let prog = tree.join("bin/hello-leaf");
    let lib = tree.join("lib/libleaf.so.1.0.0");
    let conf = dir.join("app.conf");
    write(&conf, "setting = 1\n");
    fs::hard_link(&prog, dir.join("hard")).unwrap();
    symlink(&lib, dir.join("to-lib")).unwrap();
    let app = dir.join("app");
    fs::create_dir(&app).unwrap();
    fs::copy(hello(), app.join("hello")).unwrap();
    write(&app.join("data.txt"), "data\n");
    let add_conf = {
        let mut spec = conf.clone().into_os_string();
        spec.push(":/etc/app.conf");
        spec
    };
    // (output, what it is, the file that must stay as it was)
    let cases: &[(PathBuf, &str, PathBuf)] = &[
        (prog.clone(), "the input", prog.clone()),
        (dir.join("hard"), "a hard link to the input", prog.clone()),
        (lib.clone(), "a library", lib.clone()),
        (
            tree.join("lib/libleaf.so.1"),
            "a link to a library",
            lib.clone(),
        ),
        (
            dir.join("to-lib"),
            "an absolute link to a library",
            lib.clone(),
        ),
        (conf.clone(), "an --add-file source", conf.clone()),
        (
            app.join("data.txt"),
            "a file of a directory input",
            app.join("data.txt"),
        ),
    ];
    for (out, what, kept) in cases {
        let before = bytes(kept);
        let args = os(&[&"-o", out, &prog, &"--add-file", &add_conf, &app]);
        let line = assert_fails(dir, &args, 1, &["refusing to write the archive"]);
        assert!(bytes(kept) == before, "{what}: {} changed", kept.display());
        assert!(line.contains("a file it packs"), "{what}: {line}");
    }
    // The loader, in a sysroot (never the host's).
    let sys = dir.join("sys");
    mini_sysroot(&sys);
    let loader = sys.join("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    let before = bytes(&loader);
    let args = os(&[&"--root", &sys, &"-o", &loader, &hello()]);
    assert_fails(dir, &args, 1, &["a file it packs"]);
    assert!(bytes(&loader) == before, "the loader changed");
    // Standard output appended to a packed file.
    let out = Command::new(bin())
        .current_dir(dir)
        .args(["-o", "-"])
        .arg(&prog)
        .arg("--add-file")
        .arg(&add_conf)
        .stdout(File::options().append(true).open(&conf).unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("standard output: refusing"), "{stderr}");
    assert_eq!(fs::read_to_string(&conf).unwrap(), "setting = 1\n");
}

#[test]
fn output_inside_a_directory_input_is_refused_even_on_a_first_run() {
    let t = tmp();
    let dir = t.path();
    let app = dir.join("app");
    fs::create_dir_all(app.join("sub")).unwrap();
    fs::copy(hello(), app.join("hello")).unwrap();
    symlink("app/sub", dir.join("alias")).unwrap();
    let added = dir.join("share");
    fs::create_dir(&added).unwrap();
    write(&added.join("x.txt"), "x\n");
    let mut spec = added.clone().into_os_string();
    spec.push(":/usr/share/x");
    for out in [
        app.join("new.tar"),
        app.join("sub/new.tar"),
        dir.join("alias/new.tar"),
        added.join("new.tar"),
    ] {
        let args = os(&[&"-o", &out, &app, &"--add-file", &spec]);
        let line = assert_fails(dir, &args, 1, &["a directory it packs whole"]);
        assert!(!out.exists(), "{line}");
        assert_eq!(listing(&app), ["hello", "sub"]);
    }
    // The default output, in the current directory, which is the input.
    let args = os(&[&"../app"]);
    assert_fails(
        &app,
        &args,
        1,
        &["rootfs.tar", "a directory it packs whole"],
    );
    // Beside the directory is fine.
    run_ok(dir, os(&[&"-o", &dir.join("out.tar"), &app]));
}

// ------------------------------------------------------------ links and devices

#[test]
fn output_link_is_written_through_and_stays_a_link() {
    let t = tmp();
    let dir = t.path();
    fs::create_dir(dir.join("real")).unwrap();
    write(&dir.join("real/old.tar"), "old");
    symlink("real/old.tar", dir.join("to-file")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    symlink("../real/new.tar", dir.join("sub/dangling")).unwrap();
    symlink(dir.join("to-file"), dir.join("chain")).unwrap();
    for (link, target) in [
        ("to-file", "real/old.tar"),
        ("sub/dangling", "real/new.tar"),
        ("chain", "real/old.tar"),
    ] {
        let before = fs::read_link(dir.join(link)).unwrap();
        run_ok(dir, os(&[&"-o", &link, &hello()]));
        let meta = fs::symlink_metadata(dir.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
        assert_eq!(fs::read_link(dir.join(link)).unwrap(), before);
        Archive::read_tar(&dir.join(target));
        assert_eq!(partials(&dir.join("real")), Vec::<String>::new());
    }
}

#[test]
fn output_link_to_a_fifo_writes_into_the_fifo() {
    let t = tmp();
    let dir = t.path();
    let fifo = dir.join("pipe");
    mkfifo(&fifo);
    symlink(&fifo, dir.join("out")).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    let mut child = Command::new(bin())
        .current_dir(dir)
        .args(["-o", "out"])
        .arg(hello())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_for(&mut child, Duration::from_secs(60));
    let stderr = stderr_of(&mut child);
    if status.is_none() {
        // Unblock the reader: the tool never opened the FIFO.
        drop(File::options().write(true).open(&fifo));
    }
    assert!(status.is_some_and(|s| s.success()), "{status:?}: {stderr}");
    let archive = Archive::from_tar(&reader.join().unwrap());
    assert!(archive.get("usr/local/bin/hello").is_some());
    assert!(
        fs::symlink_metadata(dir.join("out"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(partials(dir), Vec::<String>::new());
}

/// Whether private mount namespaces can be made here (root and `unshare`).
fn can_unshare() -> bool {
    is_root()
        && Command::new("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

#[test]
fn dev_stdout_without_proc_stays_a_link() {
    if !require(can_unshare(), "needs root and unshare for a private /dev") {
        return;
    }
    // In a private mount namespace with its own empty /proc and /dev,
    // /dev/stdout is a dangling link, as in a container without /proc: it
    // must be written through (and fail, its target's directory missing),
    // never replaced by a regular file.
    let t = tmp();
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount -t tmpfs none /proc && mount -t tmpfs none /dev \
             && ln -s /proc/self/fd/1 /dev/stdout \
             && { \"$0\" -o /dev/stdout \"$1\"; echo \"exit $?\"; } \
             && if [ -L /dev/stdout ]; then echo link; fi; ls -A /dev",
        )
        .arg(bin())
        .arg(hello())
        .current_dir(t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "exit 1\nlink\nstdout\n", "{stderr}");
    assert!(stderr.contains("/proc/self/fd/1"), "{stderr}");
    assert!(
        Path::new("/dev/null").exists(),
        "the host's /dev was touched"
    );
}

// ------------------------------------------------------------ owner, mode, umask

#[test]
fn replaced_output_keeps_its_owner_and_mode() {
    if !require(is_root(), "needs root to give a file to another user") {
        return;
    }
    let t = tmp();
    let out = t.path().join("out.tar");
    write(&out, "old");
    std::os::unix::fs::chown(&out, Some(1000), Some(1000)).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o600)).unwrap();
    run_ok(t.path(), os(&[&"-o", &out, &hello()]));
    let meta = fs::metadata(&out).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o600);
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    Archive::read_tar(&out);
}

/// Runs the tool in a private mount namespace with an empty `/proc`, under
/// `umask`, writing `out`.
fn run_without_proc(dir: &Path, umask: &str, out: &Path) -> std::process::Output {
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs none /proc && umask \"$1\" && exec \"$0\" -o \"$2\" \"$3\"")
        .arg(bin())
        .arg(umask)
        .arg(out)
        .arg(hello())
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn new_output_gets_the_umask_without_proc() {
    if !require(can_unshare(), "needs root and unshare for a private /proc") {
        return;
    }
    let t = tmp();
    for (umask, mode) in [("077", 0o600), ("027", 0o640), ("002", 0o664)] {
        let out = t.path().join(format!("out-{umask}.tar"));
        let done = run_without_proc(t.path(), umask, &out);
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(done.status.success(), "umask {umask}: {stderr}");
        assert_eq!(
            fs::metadata(&out).unwrap().mode() & 0o7777,
            mode,
            "umask {umask}"
        );
        Archive::read_tar(&out);
    }
    assert!(
        Path::new("/proc/self").exists(),
        "the host's /proc was touched"
    );
}

// ------------------------------------------------------------ terminals

#[test]
fn a_terminal_is_refused_whatever_path_names_it() {
    if !require(
        Command::new("python3").arg("-V").output().is_ok(),
        "needs python3 for a pseudo-terminal",
    ) {
        return;
    }
    let t = tmp();
    // Opens a pty, runs the tool with -o naming its other end (by its own
    // path, then through a link), and reports exit codes and what arrived.
    let script = r#"
import os, pty, select, subprocess, sys
tool, prog, link = sys.argv[1:4]
master, slave = pty.openpty()
name = os.ttyname(slave)
os.symlink(name, link)
for out in (name, link):
    p = subprocess.run([tool, "-o", out, prog], capture_output=True, timeout=60)
    got = b""
    while select.select([master], [], [], 0.2)[0]:
        got += os.read(master, 65536)
    print(p.returncode, len(got), p.stderr.decode().strip())
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(bin())
        .arg(hello())
        .arg(t.path().join("tty-link"))
        .current_dir(t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for line in lines {
        assert!(line.starts_with("2 0 extract-elf-so: error: "), "{line}");
        assert!(
            line.contains("refusing to write an archive to a terminal"),
            "{line}"
        );
    }
}

// ------------------------------------------------------------ names and roots

#[test]
fn output_names_up_to_name_max_work() {
    let t = tmp();
    for len in [240, 247, 255] {
        let name = "n".repeat(len - 4) + ".tar";
        run_ok(t.path(), os(&[&"-o", &name, &hello()]));
        Archive::read_tar(&t.path().join(&name));
        assert_eq!(partials(t.path()), Vec::<String>::new());
    }
    // Over NAME_MAX the system refuses it, and says so.
    let long = "n".repeat(256);
    assert_fails(
        t.path(),
        &os(&[&"-o", &long, &hello()]),
        1,
        &["file name too long"],
    );
}

#[test]
fn output_that_is_a_directory_says_so() {
    let t = tmp();
    fs::create_dir(t.path().join("existdir")).unwrap();
    symlink("existdir", t.path().join("dirlink")).unwrap();
    for out in ["existdir", "dirlink", "existdir/", "newdir/"] {
        let line = assert_fails(
            t.path(),
            &os(&[&"-o", &out, &hello()]),
            1,
            &["is a directory"],
        );
        assert!(!line.contains("ELF"), "{line}");
    }
}

#[test]
fn root_that_is_missing_or_not_a_directory_is_refused_up_front() {
    let t = tmp();
    let file = t.path().join("file");
    write(&file, "not a directory");
    let none = t.path().join("none");
    for (root, why) in [
        (&file, "not a directory"),
        (&none, "no such file or directory"),
    ] {
        for view in [None, Some("--list")] {
            let mut args = os(&[&"--root", root, &hello()]);
            args.extend(view.map(OsString::from));
            let line = assert_fails(t.path(), &args, 2, &["--root", why]);
            assert!(!line.contains("interpreter"), "{line}");
        }
    }
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

// ------------------------------------------------------------ sources that change while written

/// Runs the tool writing into a FIFO with a big file first and `small`
/// last; once it is writing, calls `meddle` (the tool is then held inside
/// the big file by the FIFO) and reads the rest. Returns the exit status,
/// standard error and the bytes written.
fn meddle_while_writing(
    dir: &Path,
    small: &Path,
    meddle: impl FnOnce(),
) -> (Option<ExitStatus>, String, Vec<u8>) {
    let big = dir.join("big");
    File::create(&big).unwrap().set_len(8 << 20).unwrap();
    let fifo = dir.join("out.pipe");
    mkfifo(&fifo);
    let (started, wait_started) = mpsc::channel();
    let (go, wait_go) = mpsc::channel::<()>();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut file = File::open(fifo).unwrap();
            let mut data = vec![0; 512];
            file.read_exact(&mut data).unwrap();
            started.send(()).unwrap();
            let _ = wait_go.recv();
            file.read_to_end(&mut data).unwrap();
            data
        })
    };
    let spec = |src: &Path, at: &str| {
        let mut spec = src.as_os_str().to_owned();
        spec.push(at);
        spec
    };
    let mut child = Command::new(bin())
        .current_dir(dir)
        .arg("-o")
        .arg(&fifo)
        .arg(hello())
        .arg("--add-file")
        .arg(spec(&big, ":/a/big"))
        .arg("--add-file")
        .arg(spec(small, ":/z/small"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if wait_started.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = child.kill();
        drop(File::options().write(true).open(&fifo));
        panic!("the tool did not start writing: {}", stderr_of(&mut child));
    }
    meddle();
    go.send(()).unwrap();
    let status = wait_for(&mut child, Duration::from_secs(30));
    let stderr = stderr_of(&mut child);
    (status, stderr, reader.join().unwrap())
}

#[test]
fn a_source_replaced_by_a_fifo_while_writing_fails_without_blocking() {
    let t = tmp();
    let small = t.path().join("small");
    write(&small, "small file\n");
    let (status, stderr, _) = meddle_while_writing(t.path(), &small, || {
        fs::remove_file(&small).unwrap();
        mkfifo(&small);
    });
    assert!(status.is_some(), "blocked on the FIFO: {stderr}");
    assert_eq!(status.unwrap().code(), Some(1), "{stderr}");
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{stderr}");
    assert!(line.contains(&small.display().to_string()), "{stderr}");
    assert!(line.contains("no longer a regular file"), "{stderr}");
}

#[test]
fn a_source_that_grows_while_writing_is_cut_and_reported() {
    let t = tmp();
    let small = t.path().join("small");
    write(&small, "planned\n");
    let (status, stderr, data) = meddle_while_writing(t.path(), &small, || {
        let mut file = File::options().append(true).open(&small).unwrap();
        file.write_all(b"grown since\n").unwrap();
    });
    // GNU tar's exit status for "file changed as we read it".
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{stderr}");
    let warning = format!(
        "extract-elf-so: warning: {}: file changed as we read it",
        small.display()
    );
    assert!(stderr.lines().any(|l| l == warning), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    let archive = Archive::from_tar(&data);
    assert_eq!(archive.file("z/small").data, b"planned\n");
    assert_eq!(archive.file("a/big").size, 8 << 20);
}

// ------------------------------------------------------------ names shown

#[test]
fn names_with_control_bytes_are_escaped_in_text_and_exact_in_json() {
    let t = tmp();
    let names = t.path().join("names");
    fs::create_dir(&names).unwrap();
    let odd: [&[u8]; 4] = [b"tab\there", b"new\nline", b"back\\slash", b"bad\xffbyte"];
    for name in odd {
        fs::write(names.join(OsString::from_vec(name.to_vec())), "x").unwrap();
    }
    symlink(
        OsString::from_vec(b"to\tbad\xfe".to_vec()),
        names.join("link"),
    )
    .unwrap();
    let mut spec = names.clone().into_os_string();
    spec.push(":/names");
    let src = names.display().to_string();

    let (stdout, _) = run_ok(t.path(), os(&[&"--list", &hello(), &"--add-file", &spec]));
    let list = String::from_utf8(stdout).expect("escaped --list is UTF-8");
    for line in list.lines() {
        assert_eq!(line.split('\t').count(), 3, "{line:?}");
    }
    for want in [
        format!("names/tab\\there\tfile\t{src}/tab\\there"),
        format!("names/new\\nline\tfile\t{src}/new\\nline"),
        format!("names/back\\\\slash\tfile\t{src}/back\\\\slash"),
        format!("names/bad\\xffbyte\tfile\t{src}/bad\\xffbyte"),
        "names/link\tsymlink\tto\\tbad\\xfe".to_string(),
    ] {
        assert!(
            list.lines().any(|l| l == want),
            "missing {want:?} in\n{list}"
        );
    }

    let out = run(
        t.path(),
        os(&[&"-v", &"-o", &"out.tar", &hello(), &"--add-file", &spec]),
    );
    assert!(out.status.success());
    let verbose = String::from_utf8(out.stderr).expect("escaped -v is UTF-8");
    assert!(
        verbose.contains(&format!(
            "  names/new\\nline  <- {src}/new\\nline (extra)\n"
        )),
        "{verbose}"
    );
    assert!(
        verbose.contains("  names/link -> to\\tbad\\xfe\n"),
        "{verbose}"
    );

    let (stdout, _) = run_ok(t.path(), os(&[&"--json", &hello(), &"--add-file", &spec]));
    let text = String::from_utf8(stdout).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = json["entries"].as_array().unwrap();
    let entry = |path: &str| {
        entries
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("no {path:?} in {text}"))
    };
    // Valid UTF-8, however odd, is exact as a string and needs no bytes.
    for name in ["tab\there", "new\nline", "back\\slash"] {
        let e = entry(&format!("names/{name}"));
        assert_eq!(e["source"], format!("{src}/{name}"));
        assert!(
            e.get("path_bytes").is_none() && e.get("source_bytes").is_none(),
            "{e}"
        );
    }
    let bad = entry("names/bad\u{fffd}byte");
    let exact = |v: &serde_json::Value| -> Vec<u8> {
        v.as_array()
            .unwrap_or_else(|| panic!("not an array: {v}"))
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect()
    };
    assert_eq!(exact(&bad["path_bytes"]), b"names/bad\xffbyte");
    let mut source = names.as_os_str().as_bytes().to_vec();
    source.extend_from_slice(b"/bad\xffbyte");
    assert_eq!(exact(&bad["source_bytes"]), source);
    let link = entry("names/link");
    assert_eq!(link["target"], "to\tbad\u{fffd}");
    assert_eq!(exact(&link["target_bytes"]), b"to\tbad\xfe");
    // Today's fields keep their order in the text: new ones only come in between.
    let path_at = text.find("\"path\": \"usr/local/bin/hello\"").unwrap();
    let start = text[..path_at].rfind('{').unwrap();
    let end = path_at + text[path_at..].find('}').unwrap();
    let hello_entry = &text[start..end];
    let at = |key: &str| hello_entry.find(&format!("\"{key}\":")).unwrap();
    let order = ["kind", "mode", "mtime", "path", "role", "size", "source"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{hello_entry}");
}

#[test]
fn a_link_to_the_top_is_stored_as_one_slash() {
    let t = tmp();
    symlink("/", t.path().join("top")).unwrap();
    let mut spec = t.path().join("top").into_os_string();
    spec.push(":/x/top");
    run_ok(
        t.path(),
        os(&[&"-o", &"out.tar", &hello(), &"--add-file", &spec]),
    );
    let data = fs::read(t.path().join("out.tar")).unwrap();
    let mut archive = tar::Archive::new(&data[..]);
    let target = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .find(|e| e.path_bytes().as_ref() == b"x/top")
        .expect("x/top")
        .link_name_bytes()
        .expect("a link target")
        .into_owned();
    assert_eq!(target, b"/");
}

#[test]
fn add_file_dest_ending_in_a_slash_is_a_directory_to_put_it_in() {
    let t = tmp();
    write(&t.path().join("f"), "content\n");
    fs::create_dir(t.path().join("d")).unwrap();
    write(&t.path().join("d/inner"), "inner\n");
    run_ok(
        t.path(),
        os(&[
            &"-o",
            &"out.tar",
            &hello(),
            &"--add-file",
            &"f:/etc/x/",
            &"--add-file",
            &"d/:/srv//",
        ]),
    );
    let archive = Archive::read_tar(&t.path().join("out.tar"));
    assert_eq!(archive.file("etc/x/f").data, b"content\n");
    assert_eq!(archive.entry("etc/x").kind, crate::util::Kind::Dir);
    assert_eq!(archive.file("srv/d/inner").data, b"inner\n");
}

#[test]
fn displayed_paths_are_tidy() {
    let t = tmp();
    let dir = t.path();
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::copy(hello_leaf(), dir.join("bin/app")).unwrap();
    let lib = dir.join("opt/a");
    fs::create_dir_all(&lib).unwrap();
    let leaf = hello()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib/libleaf.so.1.0.0");
    fs::copy(&leaf, lib.join("libleaf.so.1")).unwrap();
    let messy = format!("{}////", lib.display());
    let found = format!("{}/libleaf.so.1 (library-path)", lib.display());
    let (tree, _) = run_ok(dir, os(&[&"--tree", &"--library-path", &messy, &"bin/app"]));
    let tree = String::from_utf8(tree).unwrap();
    assert!(tree.contains(&found), "{tree}");
    // A library not found: its searched directories, in the message and in JSON.
    let empty = format!("{}/.//", dir.join("empty").display());
    fs::create_dir(dir.join("empty")).unwrap();
    let missing = fx("missing/bin/app");
    let out = run(dir, os(&[&"--json", &"--library-path", &empty, &missing]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let want = dir.join("empty").display().to_string();
    let searched = json["missing"][0]["searched"].as_array().unwrap();
    assert!(searched.iter().any(|d| d == want.as_str()), "{stdout}");
    assert!(stderr.contains(&format!("{want}:")), "{stderr}");
    for text in [&tree[..], &stdout[..], &stderr[..]] {
        assert!(!text.contains("//") && !text.contains("/./"), "{text}");
    }
}
