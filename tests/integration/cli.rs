//! The command line as a user meets it: messages, output naming, flags, exit
//! codes, and that a failed run never loses or half-writes an archive.
//!
//! Every test runs the real binary in its own temporary directory and reads
//! the archive back with the `tar` crate.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{
    Archive, Kind, assert_fails, ca_read, expected_summary, fixtures, gunzip, hello, hello_leaf,
    is_gzip, is_root, listing, os, run, run_ok, tmp, verbose_sources,
};

fn leaf_lib() -> PathBuf {
    fixtures().join("leaf/lib/libleaf.so.1")
}

// ---------------------------------------------------------------- success messages

#[test]
fn success_prints_one_summary_line_and_nothing_on_stdout() {
    let dir = tmp();
    let (stdout, stderr) = run_ok(dir.path(), [hello_leaf()]);
    assert!(
        stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&stdout)
    );
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(lines[0].starts_with("extract-elf-so: wrote rootfs.tar: "));
    assert_eq!(lines[0], expected_summary("rootfs.tar", &archive, None));
    // Sanity: the summary counts something real.
    assert!(
        archive.of_kind(Kind::File).count() >= 3,
        "{:?}",
        archive.paths()
    );
}

#[test]
fn quiet_prints_nothing() {
    let dir = tmp();
    let out = run(dir.path(), os(&[&"-q", &hello()]));
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.is_empty(),
        "-q printed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    assert!(archive.get("usr/local/bin/hello").is_some());
}

#[test]
fn verbose_lists_every_entry_with_its_source() {
    let dir = tmp();
    let (stdout, stderr) = run_ok(dir.path(), os(&[&"-v", &hello_leaf()]));
    assert!(stdout.is_empty());
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.last().copied(),
        Some(expected_summary("rootfs.tar", &archive, None).as_str())
    );
    let listed = &lines[..lines.len() - 1];
    assert_eq!(
        listed.len(),
        archive.items.len(),
        "one line per entry:\n{stderr}"
    );
    for item in &archive.items {
        let matching: Vec<&&str> = listed
            .iter()
            .filter(|l| {
                l.strip_prefix("  ")
                    .and_then(|r| r.strip_prefix(item.path.as_str()))
                    .is_some_and(|r| r.is_empty() || r.starts_with(' ') || r == "/")
            })
            .collect();
        assert_eq!(matching.len(), 1, "{}: lines {matching:?}", item.path);
    }
    let sources = verbose_sources(&stderr);
    for file in archive.of_kind(Kind::File) {
        let source = sources
            .get(&file.path)
            .unwrap_or_else(|| panic!("{}: no source listed in\n{stderr}", file.path));
        let bytes = fs::read(source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        assert!(
            bytes == file.data,
            "{}: listed source {} differs",
            file.path,
            source.display()
        );
    }
    assert_eq!(
        sources.get("usr/local/bin/hello-leaf"),
        Some(&hello_leaf()),
        "the input's own path is its source"
    );
}

#[test]
fn gzip_flag_writes_valid_gzip_and_summary_mentions_gzipped() {
    let dir = tmp();
    let (stdout, stderr) = run_ok(dir.path(), os(&[&"-z", &hello()]));
    assert!(stdout.is_empty());
    assert_eq!(listing(dir.path()), ["rootfs.tar.gz"]);
    let bytes = fs::read(dir.path().join("rootfs.tar.gz")).unwrap();
    assert!(is_gzip(&bytes));
    let archive = Archive::from_tar(&gunzip(&bytes));
    assert!(archive.get("usr/local/bin/hello").is_some());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("gzipped"), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        expected_summary("rootfs.tar.gz", &archive, Some(bytes.len() as u64))
    );
}

// ---------------------------------------------------------------- output naming

#[test]
fn default_output_is_rootfs_tar() {
    let dir = tmp();
    run_ok(dir.path(), [hello()]);
    assert_eq!(listing(dir.path()), ["rootfs.tar"]);
    let bytes = fs::read(dir.path().join("rootfs.tar")).unwrap();
    assert!(!is_gzip(&bytes), "plain tar expected");
    let archive = Archive::from_tar(&bytes);
    assert_eq!(
        archive.get("usr/local/bin/hello").map(|i| i.kind),
        Some(Kind::File)
    );
}

#[test]
fn name_with_a_directory_writes_inside_it() {
    let dir = tmp();
    fs::create_dir(dir.path().join("out")).unwrap();
    let (_, stderr) = run_ok(dir.path(), os(&[&"-n", &"out/rootfs", &hello()]));
    assert_eq!(listing(dir.path()), ["out"]);
    assert_eq!(listing(&dir.path().join("out")), ["rootfs.tar"]);
    let archive = Archive::read(&dir.path().join("out/rootfs.tar"));
    assert!(archive.get("usr/local/bin/hello").is_some());
    assert!(
        stderr.starts_with("extract-elf-so: wrote out/rootfs.tar: "),
        "{stderr}"
    );
}

#[test]
fn name_in_a_missing_directory_fails_and_leaves_nothing() {
    let dir = tmp();
    assert_fails(
        dir.path(),
        &os(&[&"-n", &"out/rootfs", &hello()]),
        1,
        &["out"],
    );
    assert!(!dir.path().join("out").exists());
}

#[test]
fn name_ending_in_tar_is_not_doubled() {
    let dir = tmp();
    run_ok(dir.path(), os(&[&"-n", &"x.tar", &hello()]));
    assert_eq!(listing(dir.path()), ["x.tar"]);
    let bytes = fs::read(dir.path().join("x.tar")).unwrap();
    assert!(!is_gzip(&bytes));
    Archive::from_tar(&bytes);
}

#[test]
fn name_ending_in_tar_gz_gives_gzip() {
    let dir = tmp();
    let (_, stderr) = run_ok(dir.path(), os(&[&"-n", &"x.tar.gz", &hello()]));
    assert_eq!(listing(dir.path()), ["x.tar.gz"]);
    let bytes = fs::read(dir.path().join("x.tar.gz")).unwrap();
    let archive = Archive::from_tar(&gunzip(&bytes));
    assert!(archive.get("usr/local/bin/hello").is_some());
    assert!(stderr.contains("gzipped"), "{stderr}");
}

#[test]
fn output_path_is_used_exactly() {
    let dir = tmp();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let target = dir.path().join("sub/image");
    run_ok(dir.path(), os(&[&"-o", &target, &hello()]));
    assert_eq!(listing(dir.path()), ["sub"]);
    assert_eq!(listing(&dir.path().join("sub")), ["image"]);
    let bytes = fs::read(&target).unwrap();
    assert!(!is_gzip(&bytes), "no -z, no .gz: plain tar");
    assert!(
        Archive::from_tar(&bytes)
            .get("usr/local/bin/hello")
            .is_some()
    );
}

#[test]
fn output_dash_writes_the_archive_and_only_it_to_stdout() {
    let dir = tmp();
    let (stdout, stderr) = run_ok(dir.path(), os(&[&"-o", &"-", &hello_leaf()]));
    assert_eq!(listing(dir.path()), Vec::<String>::new(), "no file written");
    let archive = Archive::from_tar(&stdout);
    assert!(archive.get("usr/local/bin/hello-leaf").is_some());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("rootfs.tar"), "{stderr}");
    // The same archive as a file: stdout carried exactly the archive bytes.
    run_ok(dir.path(), os(&[&"-o", &"file.tar", &hello_leaf()]));
    let file = fs::read(dir.path().join("file.tar")).unwrap();
    assert!(
        stdout == file,
        "stdout ({} bytes) differs from the file ({} bytes)",
        stdout.len(),
        file.len()
    );
}

#[test]
fn output_and_name_together_is_a_usage_error() {
    let dir = tmp();
    let out = run(dir.path(), os(&[&"-o", &"a.tar", &"-n", &"b", &hello()]));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--output") && stderr.contains("--name"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    assert!(out.stdout.is_empty());
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------- flags

#[test]
fn relative_dest_is_from_the_archive_root() {
    let dir = tmp();
    run_ok(dir.path(), os(&[&"-d", &"bin", &hello()]));
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let item = archive
        .get("bin/hello")
        .unwrap_or_else(|| panic!("{:?}", archive.paths()));
    assert_eq!(item.kind, Kind::File);
    assert!(item.data == fs::read(hello()).unwrap());
    assert!(archive.get("usr/local/bin/hello").is_none());
}

#[test]
fn absolute_dest() {
    let dir = tmp();
    run_ok(dir.path(), os(&[&"-d", &"/opt/x", &hello()]));
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let item = archive
        .get("opt/x/hello")
        .unwrap_or_else(|| panic!("{:?}", archive.paths()));
    assert_eq!(item.kind, Kind::File);
    assert_eq!(archive.get("opt/x").map(|i| i.kind), Some(Kind::Dir));
    assert!(archive.get("usr/local/bin/hello").is_none());
}

#[test]
fn dest_leaving_the_archive_is_refused() {
    let dir = tmp();
    assert_fails(
        dir.path(),
        &os(&[&"-d", &"../../x", &hello()]),
        2,
        &["../../x"],
    );
}

#[test]
fn added_library_goes_to_usr_lib_with_its_own_dependencies() {
    let dir = tmp();
    let app = fixtures().join("static/bin/app");
    // Control: the static program alone needs no libc.
    run_ok(dir.path(), os(&[&"-o", &"alone.tar", &app]));
    let alone = Archive::read(&dir.path().join("alone.tar"));
    assert!(
        !alone.paths().iter().any(|p| p.ends_with("/libc.so.6")),
        "{:?}",
        alone.paths()
    );

    let (_, stderr) = run_ok(dir.path(), os(&[&"-v", &"--add", &leaf_lib(), &app]));
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let leaf = archive
        .get("usr/lib/libleaf.so.1")
        .unwrap_or_else(|| panic!("{:?}", archive.paths()));
    assert_eq!(leaf.kind, Kind::File);
    assert!(
        leaf.data == fs::read(leaf_lib()).unwrap(),
        "libleaf content"
    );
    // libleaf's own NEEDED libc.so.6 is packed, with the content of the host file.
    let sources = verbose_sources(&stderr);
    let (libc_path, libc_source) = sources
        .iter()
        .find(|(p, _)| p.ends_with("/libc.so.6"))
        .unwrap_or_else(|| panic!("no libc.so.6 in\n{stderr}"));
    let libc = archive.resolve(libc_path).unwrap();
    assert_eq!(libc.kind, Kind::File);
    assert!(libc.data == fs::read(libc_source).unwrap());
}

#[test]
fn sodir_moves_added_libraries() {
    let dir = tmp();
    let app = fixtures().join("static/bin/app");
    let want = fs::read(leaf_lib()).unwrap();

    run_ok(
        dir.path(),
        os(&[&"-s", &"lib", &"--add", &leaf_lib(), &app]),
    );
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    // lib/ may be a link (merged /usr): follow it inside the archive.
    let leaf = archive
        .resolve("lib/libleaf.so.1")
        .unwrap_or_else(|e| panic!("{e}: {:?}", archive.paths()));
    assert_eq!(leaf.kind, Kind::File);
    assert!(leaf.data == want);

    // A directory that is no link anywhere: the entry is exactly there.
    run_ok(
        dir.path(),
        os(&[
            &"-s",
            &"opt/so",
            &"--add",
            &leaf_lib(),
            &"-o",
            &"opt.tar",
            &app,
        ]),
    );
    let archive = Archive::read(&dir.path().join("opt.tar"));
    let leaf = archive
        .get("opt/so/libleaf.so.1")
        .unwrap_or_else(|| panic!("{:?}", archive.paths()));
    assert_eq!(leaf.kind, Kind::File);
    assert!(leaf.data == want);
    assert!(
        archive.resolve("usr/lib/libleaf.so.1").is_err(),
        "{:?}",
        archive.paths()
    );
}

#[test]
fn options_after_inputs_work() {
    let dir = tmp();
    run_ok(dir.path(), os(&[&fixtures().join("static/bin/app"), &"-z"]));
    assert_eq!(listing(dir.path()), ["rootfs.tar.gz"]);
    let archive = Archive::read(&dir.path().join("rootfs.tar.gz"));
    assert!(archive.get("usr/local/bin/app").is_some());
}

#[test]
fn long_option_prefixes_work() {
    let dir = tmp();
    let missing = fixtures().join("missing/bin/app");
    let (_, stderr) = run_ok(dir.path(), os(&[&"--allow", &missing]));
    assert!(stderr.contains("libgone.so.1"), "{stderr}");
    assert!(
        Archive::read(&dir.path().join("rootfs.tar"))
            .get("usr/local/bin/app")
            .is_some()
    );

    let (_, _) = run_ok(
        dir.path(),
        os(&[&"--de", &"bin", &"-o", &"de.tar", &hello()]),
    );
    let archive = Archive::read(&dir.path().join("de.tar"));
    assert!(archive.get("bin/hello").is_some(), "{:?}", archive.paths());
}

#[test]
fn nss_net_and_cert_prefixes_add_their_files() {
    let _ca = ca_read();
    let dir = tmp();
    let out = run(dir.path(), os(&[&"--list", &"--nss", &"--cert", &hello()]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let paths: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    for want in [
        "etc/nsswitch.conf",
        "etc/hosts",
        "etc/services",
        "etc/ssl/certs/ca-certificates.crt",
    ] {
        assert!(paths.contains(&want), "{want} not listed:\n{stdout}");
    }
    assert!(
        !dir.path().join("rootfs.tar").exists(),
        "--list wrote an archive"
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn missing_input_file() {
    let dir = tmp();
    let path = dir.path().join("no-such-program");
    let line = assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
    assert!(line.contains("no such file"), "{line}");
}

#[test]
fn directory_given_as_a_library() {
    // Directories are valid inputs (packed whole), but --add takes shared libraries.
    let dir = tmp();
    let sub = dir.path().join("somedir");
    fs::create_dir(&sub).unwrap();
    let line = assert_fails(
        dir.path(),
        &os(&[&"--add", &sub, &hello()]),
        1,
        &[sub.to_str().unwrap()],
    );
    assert!(line.contains("directory"), "{line}");
}

#[test]
fn not_an_elf_file() {
    let dir = tmp();
    for name in ["text.so", "notelf.sh"] {
        let path = fixtures().join("malformed").join(name);
        let line = assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
        assert!(line.contains("not an ELF"), "{line}");
    }
}

#[test]
fn empty_file() {
    let dir = tmp();
    let path = fixtures().join("malformed/empty");
    assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
}

#[test]
fn thirty_byte_file() {
    let dir = tmp();
    let path = fixtures().join("malformed/short");
    assert_eq!(fs::metadata(&path).unwrap().len(), 30);
    assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
}

#[test]
fn truncated_elf() {
    let dir = tmp();
    let path = fixtures().join("malformed/truncated");
    assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
}

#[test]
fn program_header_offset_out_of_range() {
    let dir = tmp();
    let path = fixtures().join("malformed/badphoff");
    assert_fails(dir.path(), &os(&[&path]), 1, &[path.to_str().unwrap()]);
}

#[test]
fn symlink_loop_as_input() {
    let dir = tmp();
    let (a, b) = (dir.path().join("loop-a"), dir.path().join("loop-b"));
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    assert_fails(dir.path(), &os(&[&a]), 1, &[a.to_str().unwrap()]);
}

#[test]
fn missing_library_is_an_error() {
    let dir = tmp();
    let app = fixtures().join("missing/bin/app");
    let out = run(dir.path(), os(&[&app]));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.starts_with("extract-elf-so: error: "), "{stderr}");
    assert_eq!(stderr.matches("extract-elf-so:").count(), 1, "{stderr}");
    assert!(stderr.contains("libgone.so.1"), "{stderr}");
    assert!(!stderr.contains("libleaf"), "libleaf is found: {stderr}");
    assert!(
        stderr.contains(app.to_str().unwrap()),
        "names the needing object: {stderr}"
    );
    // The searched directories: the program's RUNPATH ($ORIGIN/../lib) and a default one.
    let lib = fixtures().join("missing/lib");
    let origin_lib = fixtures().join("missing/bin/../lib");
    assert!(
        stderr.contains(lib.to_str().unwrap()) || stderr.contains(origin_lib.to_str().unwrap()),
        "names the RUNPATH directory: {stderr}"
    );
    assert!(
        stderr.contains("/usr/lib"),
        "names a default directory: {stderr}"
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new(), "nothing written");
}

#[test]
fn allow_missing_writes_the_archive_with_a_warning() {
    let dir = tmp();
    let app = fixtures().join("missing/bin/app");
    let (stdout, stderr) = run_ok(dir.path(), os(&[&"--allow-missing", &app]));
    assert!(stdout.is_empty());
    let warning = stderr
        .lines()
        .find(|l| l.contains("warning"))
        .unwrap_or_else(|| panic!("no warning in\n{stderr}"));
    assert!(warning.starts_with("extract-elf-so: warning:"), "{warning}");
    assert!(warning.contains("libgone.so.1"), "{warning}");
    assert!(!stderr.contains("error"), "{stderr}");
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    assert!(archive.get("usr/local/bin/app").is_some());
    assert!(
        archive.paths().iter().any(|p| p.ends_with("libleaf.so.1")),
        "{:?}",
        archive.paths()
    );
    assert!(!archive.paths().iter().any(|p| p.contains("libgone")));
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("extract-elf-so: wrote rootfs.tar:")
    );
}

#[test]
fn unwritable_output_under_proc() {
    let dir = tmp();
    assert_fails(
        dir.path(),
        &os(&[&"-o", &"/proc/version.tar", &hello()]),
        1,
        &["/proc/version.tar"],
    );
    assert!(!Path::new("/proc/version.tar").exists());
}

#[test]
fn output_under_a_regular_file() {
    let dir = tmp();
    fs::write(dir.path().join("plain"), b"plain file").unwrap();
    let line = assert_fails(
        dir.path(),
        &os(&[&"-o", &"plain/x.tar", &hello()]),
        1,
        &["plain"],
    );
    assert!(line.contains("not a directory"), "{line}");
    assert_eq!(fs::read(dir.path().join("plain")).unwrap(), b"plain file");
}

#[test]
fn no_arguments_is_a_usage_error() {
    let dir = tmp();
    let out = run(dir.path(), Vec::<OsString>::new());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Usage"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[test]
fn help_exits_zero_with_examples() {
    let dir = tmp();
    let out = run(dir.path(), ["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Examples"), "{stdout}");
    assert!(stdout.contains("--allow-missing"), "{stdout}");
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

/// The flags of run-time needs sit under one heading of `--help`, each
/// with a line saying what it does.
#[test]
fn help_lists_the_run_time_need_flags_under_one_heading() {
    let dir = tmp();
    let out = run(dir.path(), ["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Run-time needs:")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect();
    let mut flags = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(flag) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        let name = flag.split(['[', ' ']).next().unwrap();
        let said = lines.get(i + 1).is_some_and(|l| l.trim().len() > 20);
        assert!(said, "--{name} has no description:\n{help}");
        flags.push(format!("--{name}"));
    }
    assert_eq!(
        flags,
        [
            "--users",
            "--gconv",
            "--tzdata",
            "--locale",
            "--shell",
            "--mkdir",
            "--dlopen",
            "--dlopen-notes",
            "--strict"
        ],
        "{help}"
    );
}

// ---------------------------------------------------------------- nothing lost

#[test]
fn failed_run_keeps_the_existing_archive() {
    let dir = tmp();
    run_ok(dir.path(), [hello()]);
    let before = fs::read(dir.path().join("rootfs.tar")).unwrap();
    Archive::from_tar(&before);

    let out = run(dir.path(), [fixtures().join("missing/bin/app")]);
    assert_eq!(out.status.code(), Some(1));
    let after = fs::read(dir.path().join("rootfs.tar")).unwrap();
    assert!(before == after, "rootfs.tar changed by a failed run");
    assert_eq!(listing(dir.path()), ["rootfs.tar"], "leftover files");
    // The tool still owns the name: a good run replaces the file.
    run_ok(dir.path(), [hello_leaf()]);
    assert!(fs::read(dir.path().join("rootfs.tar")).unwrap() != before);
    assert_eq!(listing(dir.path()), ["rootfs.tar"]);
}

/// Unmounts on drop, even when the test panics.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_keeps_the_existing_archive() {
    if !is_root() {
        eprintln!("disk_full_keeps_the_existing_archive: skipped, needs root to mount a tmpfs");
        return;
    }
    let dir = tmp();
    let mnt = dir.path().join("small");
    fs::create_dir(&mnt).unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("disk_full_keeps_the_existing_archive: skipped, cannot mount a tmpfs here");
        return;
    }
    let _guard = Mount(mnt.clone());
    let old = b"old archive bytes\n".repeat(100);
    let target = mnt.join("rootfs.tar");
    fs::write(&target, &old).unwrap();

    let env = Path::new("/usr/bin/env");
    let out = run(dir.path(), os(&[&"-o", &target, &env]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("extract-elf-so: error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no space left on device"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        fs::read(&target).unwrap() == old,
        "existing archive changed"
    );
    assert_eq!(listing(&mnt), ["rootfs.tar"], "leftover files");
}

#[test]
fn interrupted_run_leaves_nothing_behind() {
    let dir = tmp();
    // A large sparse file makes the write take long enough to interrupt.
    let big = dir.path().join("big");
    fs::File::create(&big).unwrap().set_len(4 << 30).unwrap();
    fs::write(dir.path().join("rootfs.tar.gz"), b"previous archive").unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("extract-elf-so"))
        .current_dir(dir.path())
        .args(["-z", "--add-file"])
        .arg(format!("{}:/big", big.display()))
        .arg(hello())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary file exists, then interrupt.
    let started = std::time::Instant::now();
    let partial = || {
        fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
    };
    while !partial() {
        assert!(
            started.elapsed().as_secs() < 20,
            "no temporary file appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!partial(), "the partial archive was left behind");
    assert_eq!(
        fs::read(dir.path().join("rootfs.tar.gz")).unwrap(),
        b"previous archive"
    );
}
