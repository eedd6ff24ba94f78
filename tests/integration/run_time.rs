//! What programs need at run time that no ELF header names, packed by the
//! flags `--users`, `--gconv`, `--tzdata`, `--locale`, `--shell`, `--mkdir`
//! and `--dlopen`, on small roots built at test time; and links added with
//! `--add-file`, or by a directory input, that must not dangle in the image.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::symlink;

use crate::util::{Kind, assert_fails, fx, os, run, run_tool, tmp, write};

// ------------------------------------------------------------------ links

#[test]
fn add_file_of_a_link_needs_its_target_in_the_archive() {
    let dir = tmp();
    let base = fs::canonicalize(dir.path()).unwrap();
    write(&base.join("note.txt"), b"target\n");
    symlink("note.txt", base.join("current")).unwrap();
    let app = fx("static/bin/app");
    let line = assert_fails(
        &base,
        &os(&[&"--add-file", &"current:/etc/app/current", &app]),
        1,
        &[
            &format!(
                "{}/current -> note.txt: nothing at /etc/app/note.txt",
                base.display()
            ),
            &format!(
                "add it with --add-file {}/note.txt:/etc/app/note.txt",
                base.display()
            ),
        ],
    );
    assert!(line.contains("a link would lead to nothing"), "{line}");
    // With its target at that place, it packs.
    let archive = run_tool(
        &base,
        os(&[
            &"--add-file",
            &"current:/etc/app/current",
            &"--add-file",
            &"note.txt:/etc/app/note.txt",
            &app,
        ]),
    )
    .archive();
    assert_eq!(archive.entry("etc/app/current").kind, Kind::Symlink);
    assert_eq!(archive.file("etc/app/current").data, b"target\n");
}

#[test]
fn every_dangling_link_is_reported_in_one_run() {
    let dir = tmp();
    let base = fs::canonicalize(dir.path()).unwrap();
    let tree = base.join("tree");
    write(&tree.join("inside.txt"), b"in\n");
    write(&base.join("outside.txt"), b"out\n");
    symlink(base.join("outside.txt"), tree.join("out-link")).unwrap();
    symlink("../gone.txt", tree.join("gone-link")).unwrap();
    symlink("inside.txt", tree.join("fine-link")).unwrap();
    symlink("/nowhere/at/all", base.join("broken")).unwrap();
    let out = run(
        &base,
        os(&[
            &"--add-file",
            &"broken:/etc/broken",
            &fx("static/bin/app"),
            &tree,
        ]),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let b = base.display();
    assert_eq!(
        lines,
        [
            "extract-elf-so: error: links would lead to nothing in the archive:".to_string(),
            format!(
                "  {b}/broken -> /nowhere/at/all: nothing at /nowhere/at/all in the archive, \
                 and the link leads nowhere here either"
            ),
            format!(
                "  {b}/tree/gone-link -> ../gone.txt: nothing at /usr/local/bin/gone.txt in the archive, \
                 and the link leads nowhere here either"
            ),
            format!(
                "  {b}/tree/out-link -> {b}/outside.txt: nothing at {b}/outside.txt in the archive \
                 (here it is {b}/outside.txt): add it with --add-file {b}/outside.txt"
            ),
        ],
        "{stderr}"
    );
    assert!(!base.join("rootfs.tar").exists(), "nothing is written");
}

#[test]
fn add_file_bin_sh_is_a_working_shell_or_a_clear_error() {
    let sh = std::path::Path::new("/bin/sh");
    let meta = fs::symlink_metadata(sh).expect("/bin/sh");
    let dir = tmp();
    let app = fx("static/bin/app");
    let args = |more: &[&dyn AsRef<OsStr>]| {
        let mut args = os(&[&"--add-file", &"/bin/sh", &app]);
        args.extend(os(more));
        args
    };
    if !meta.file_type().is_symlink() {
        // A shell that is a file packs as one, with its libraries.
        let archive = run_tool(dir.path(), args(&[])).archive();
        assert_eq!(archive.file("bin/sh").path, "bin/sh");
        return;
    }
    let target = fs::read_link(sh).unwrap();
    let real = fs::canonicalize(sh).unwrap();
    let wanted = if target.is_absolute() {
        target.clone()
    } else {
        sh.parent().unwrap().join(&target)
    };
    let line = assert_fails(
        dir.path(),
        &args(&[]),
        1,
        &[
            &format!("/bin/sh -> {}", target.display()),
            &format!(
                "add it with --add-file {}:{}",
                real.display(),
                wanted.display()
            ),
            "or pack the shell with --shell",
        ],
    );
    assert!(!line.contains('\n'));
    // The suggestion works: the link leads to the shell, an ELF program.
    let spec = format!("{}:{}", real.display(), wanted.display());
    let archive = run_tool(dir.path(), args(&[&"--add-file", &spec])).archive();
    let shell = archive.file("bin/sh");
    assert_eq!(&shell.data[..4], b"\x7fELF", "{}", shell.path);
}
