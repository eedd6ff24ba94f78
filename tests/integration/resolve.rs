//! Archive contents for each fixture scenario (fixtures/README.md), checked
//! from the outside: the real binary is run, and its archive is read back with
//! the `tar` crate. Paths are followed through the archive's own links, as the
//! image's loader would follow them.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{
    Archive, EM_X86_64, Kind, assert_holds_fixture, basename, built, bytes, fixtures, host_path,
    marked, mini_sysroot, packed, readelf_needed, require, run_tool, run_tool_timeout, s,
    same_file, tmp, unpack, write,
};

/// The host loader's default directories, as `ld.so --help` prints them
/// ("(system search path)"), relative, e.g. `lib/x86_64-linux-gnu`. Falls back
/// to Debian's amd64 list when the loader cannot tell.
fn host_default_dirs() -> Vec<String> {
    let from_loader = Command::new("/lib64/ld-linux-x86-64.so.2")
        .arg("--help")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.contains("(system search path)"))
                .filter_map(|l| l.split_whitespace().next())
                .map(|d| d.trim_start_matches('/').to_string())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !from_loader.is_empty() {
        return from_loader;
    }
    [
        "lib/x86_64-linux-gnu",
        "usr/lib/x86_64-linux-gnu",
        "lib",
        "usr/lib",
    ]
    .iter()
    .map(|d| d.to_string())
    .collect()
}

/// Where `name` is in the image for a loader searching its default
/// directories: the first default dir in which the archive has it.
fn in_default_dirs(archive: &Archive, name: &str) -> Option<String> {
    host_default_dirs()
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| archive.is_file(p))
}

/// The interpreter and libc of an x86-64 glibc program are in the image, and
/// libc is the host's.
fn assert_glibc_base(archive: &Archive) {
    let interp = &archive.file("lib64/ld-linux-x86-64.so.2").data;
    assert_eq!(
        &interp[..4],
        b"\x7fELF",
        "the interpreter is not an ELF file"
    );
    let libc = in_default_dirs(archive, "libc.so.6").unwrap_or_else(|| {
        panic!(
            "libc.so.6 is in none of the default dirs {:?}\narchive:\n{}",
            host_default_dirs(),
            archive.dump()
        )
    });
    assert_eq!(
        archive.file(&libc).data,
        bytes(Path::new("/lib/x86_64-linux-gnu/libc.so.6")),
        "{libc} is not the host's libc.so.6"
    );
}

/// Non-directory entries under `prefix/`.
fn under(archive: &Archive, prefix: &str) -> BTreeSet<String> {
    archive
        .non_dirs()
        .into_iter()
        .filter(|p| p.starts_with(&format!("{prefix}/")))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------ rpath

#[test]
fn rpath_is_inherited_and_origin_is_reexpanded_from_the_new_input_location() {
    let archive = packed("rpath/bin/app");
    // The input keeps its content at --dest.
    assert_holds_fixture(&archive, "usr/local/bin/app", "rpath/bin/app");
    assert_eq!(archive.get("usr/local/bin/app").unwrap().kind, Kind::File);
    // $ORIGIN/../lib from usr/local/bin is usr/local/lib.
    assert_holds_fixture(
        &archive,
        "usr/local/lib/libmid.so.1",
        "rpath/lib/libmid.so.1",
    );
    // libleaf.so.1 is found only through the program's inherited DT_RPATH.
    assert_holds_fixture(
        &archive,
        "usr/local/lib/libleaf.so.1",
        "rpath/lib/libleaf.so.1.0.0",
    );
    // Nothing of the scenario lands anywhere else.
    for name in ["libmid.so.1", "libleaf.so.1", "app"] {
        let found = archive.named(name);
        assert_eq!(
            found.len(),
            1,
            "{name} should be stored once, found at {found:?}\narchive:\n{}",
            archive.dump()
        );
    }
    let local = under(&archive, "usr/local");
    assert!(
        local.is_subset(&set(&[
            "usr/local/bin/app",
            "usr/local/lib/libmid.so.1",
            "usr/local/lib/libleaf.so.1",
            "usr/local/lib/libleaf.so.1.0.0",
        ])),
        "unexpected entries under usr/local: {local:?}"
    );
    assert_glibc_base(&archive);
}

#[test]
fn rpath_versioned_library_keeps_its_real_file_and_soname_link() {
    // fixtures/README.md: for libleaf.so.1 -> libleaf.so.1.0.0, the SONAME
    // link is followed and both link and target are packed.
    let archive = packed("rpath/bin/app");
    let real = archive.get("usr/local/lib/libleaf.so.1.0.0");
    assert!(
        real.map(|e| e.kind) == Some(Kind::File),
        "usr/local/lib/libleaf.so.1.0.0 should be a regular file\narchive:\n{}",
        archive.dump()
    );
    assert_eq!(
        archive
            .resolve("usr/local/lib/libleaf.so.1")
            .map(|i| i.path.as_str()),
        Ok("usr/local/lib/libleaf.so.1.0.0"),
        "libleaf.so.1 should lead to libleaf.so.1.0.0\narchive:\n{}",
        archive.dump()
    );
    assert_eq!(
        archive.get("usr/local/lib/libleaf.so.1").unwrap().kind,
        Kind::Symlink
    );
}

// ------------------------------------------------------------------ runpath

/// Splits the tool's message about a missing `name` into the needed-by path
/// and the searched directories.
fn missing_line(stderr: &str, name: &str) -> (String, Vec<String>) {
    let key = format!("{name} (needed by ");
    let line = stderr
        .lines()
        .find(|l| l.contains(&key))
        .unwrap_or_else(|| panic!("no line with {key:?} in stderr:\n{stderr}"));
    let rest = &line[line.find(&key).unwrap() + key.len()..];
    let close = rest
        .find(')')
        .unwrap_or_else(|| panic!("no ')' in {line:?}"));
    let needed_by = rest[..close].to_string();
    let searched = rest[close..]
        .split_once("searched ")
        .map(|(_, dirs)| dirs.trim().split(':').map(str::to_string).collect())
        .unwrap_or_default();
    (needed_by, searched)
}

#[test]
fn runpath_is_not_inherited() {
    let t = tmp();
    let run = run_tool(t.path(), [built("runpath/bin/app")]);
    run.expect_code(1);
    assert!(
        !run.out.exists(),
        "nothing may be written on failure, but {} exists",
        run.out.display()
    );
    let (needed_by, searched) = missing_line(&run.stderr, "libleaf.so.1");
    // Needed by libmid.so.1 (the path it was opened by, or that path folded),
    // not by the program.
    let fx_root = fixtures();
    let opened = format!("{}/runpath/bin/../lib/libmid.so.1", fx_root.display());
    let folded = format!("{}/runpath/lib/libmid.so.1", fx_root.display());
    assert!(
        needed_by == opened || needed_by == folded,
        "libleaf.so.1 should be reported as needed by {opened} (or {folded}), got {needed_by:?}\nstderr:\n{}",
        run.stderr
    );
    // The program's DT_RUNPATH directory was not searched for libmid's need.
    assert!(
        !searched.is_empty(),
        "no searched directories listed:\n{}",
        run.stderr
    );
    let lib = built("runpath/lib");
    for dir in &searched {
        assert!(
            !same_file(Path::new(dir), &lib),
            "the program's RUNPATH dir {dir} was searched for libmid's libleaf.so.1:\n{}",
            run.stderr
        );
    }
    // ... but the loader's default directories were.
    for dir in host_default_dirs() {
        let dir = format!("/{dir}");
        assert!(
            searched.contains(&dir),
            "default dir {dir} missing from the searched list {searched:?}"
        );
    }
    // libmid itself was found.
    assert!(
        !run.stderr.contains("libmid.so.1 (needed by"),
        "libmid.so.1 reported missing:\n{}",
        run.stderr
    );
}

#[test]
fn runpath_missing_library_allowed() {
    let t = tmp();
    let run = run_tool(t.path(), [s(&built("runpath/bin/app")), "--allow-missing"]);
    let archive = run.archive();
    assert!(
        run.stderr.contains("libleaf.so.1"),
        "expected a warning about libleaf.so.1:\n{}",
        run.stderr
    );
    assert_holds_fixture(
        &archive,
        "usr/local/lib/libmid.so.1",
        "runpath/lib/libmid.so.1",
    );
    let leaf: Vec<_> = archive
        .non_dirs()
        .into_iter()
        .filter(|p| basename(p).starts_with("libleaf"))
        .collect();
    assert!(
        leaf.is_empty(),
        "runpath/lib/libleaf is unreachable for the loader but was packed: {leaf:?}"
    );
    assert_glibc_base(&archive);
}

#[test]
fn runpath_ok_resolves_everything() {
    let archive = packed("runpath-ok/bin/app");
    assert_holds_fixture(&archive, "usr/local/bin/app", "runpath-ok/bin/app");
    assert_holds_fixture(
        &archive,
        "usr/local/lib/libmid.so.1",
        "runpath-ok/lib/libmid.so.1",
    );
    // libmid's own RUNPATH $ORIGIN, from libmid's place in the image.
    assert_holds_fixture(
        &archive,
        "usr/local/lib/libleaf.so.1",
        "runpath-ok/lib/libleaf.so.1.0.0",
    );
    assert_glibc_base(&archive);
}

// ------------------------------------------------------------------ cycle

#[test]
fn cycle_terminates_and_packs_each_library_once() {
    let t = tmp();
    let start = Instant::now();
    let run = run_tool_timeout(t.path(), [built("cycle/bin/app")], Duration::from_secs(20));
    let archive = run.archive();
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    for name in ["libcyca.so", "libcycb.so"] {
        assert_eq!(
            archive.named(name),
            vec![format!("usr/local/lib/{name}")],
            "{name} should be stored once, in usr/local/lib\narchive:\n{}",
            archive.dump()
        );
        assert_holds_fixture(
            &archive,
            &format!("usr/local/lib/{name}"),
            &format!("cycle/lib/{name}"),
        );
    }
    // And each path appears once in the tar stream itself.
    let mut seen = BTreeSet::new();
    for p in archive.paths() {
        assert!(seen.insert(p), "{p} appears twice in the archive");
    }
    assert_glibc_base(&archive);
}

// ------------------------------------------------------------------ static

fn assert_only_the_input(rel: &str) {
    let archive = packed(rel);
    let name = basename(rel);
    let got: BTreeSet<String> = archive.paths().into_iter().map(str::to_string).collect();
    let want = set(&["usr", "usr/local", "usr/local/bin"])
        .into_iter()
        .chain([format!("usr/local/bin/{name}")])
        .collect();
    assert_eq!(
        got,
        want,
        "{rel}: the archive should hold the input and its directories only\narchive:\n{}",
        archive.dump()
    );
    for dir in ["usr", "usr/local", "usr/local/bin"] {
        assert_eq!(archive.entry(dir).kind, Kind::Dir, "{dir}");
    }
    let input = archive.entry(&format!("usr/local/bin/{name}"));
    assert_eq!(input.kind, Kind::File);
    assert_eq!(input.data, bytes(&built(rel)));
}

#[test]
fn static_program_is_packed_alone() {
    assert_only_the_input("static/bin/app");
}

#[test]
fn static_pie_program_is_packed_alone() {
    assert_only_the_input("static/bin/app-pie");
}

// ------------------------------------------------------------------ wrong class / machine

/// The loader skips `scenario/<skipped>/libleaf.so.1` (wrong class or
/// machine) and takes `scenario/lib/libleaf.so.1`, later on the same RPATH.
fn assert_candidate_skipped(scenario: &str, skipped: &str) {
    let archive = packed(&format!("{scenario}/bin/app"));
    let want = bytes(&built(&format!("{scenario}/lib/libleaf.so.1")));
    assert_ne!(
        want,
        bytes(&built(&format!("{scenario}/{skipped}/libleaf.so.1")))
    );
    assert_eq!(archive.file("usr/local/lib/libleaf.so.1").data, want);
    for (path, class, machine) in archive.elf_files() {
        assert_eq!(class, 2, "{path} is not ELFCLASS64");
        assert_eq!(machine, EM_X86_64, "{path} is not x86-64");
    }
    assert!(
        under(&archive, &format!("usr/local/{skipped}")).is_empty(),
        "{skipped} packed:\n{}",
        archive.dump()
    );
    assert_glibc_base(&archive);
}

#[test]
fn wrong_class_candidate_is_skipped() {
    assert_candidate_skipped("wrongclass", "lib32");
}

#[test]
fn wrong_machine_candidate_is_skipped() {
    assert_candidate_skipped("wrongmachine", "libother");
}

// ------------------------------------------------------------------ origin, -d

#[test]
fn origin_private_dir_follows_the_dest() {
    let t = tmp();
    let archive = run_tool(
        t.path(),
        [s(&built("origin/bin/app")), "-d", "/opt/app/bin"],
    )
    .archive();
    assert_holds_fixture(&archive, "opt/app/bin/app", "origin/bin/app");
    assert_holds_fixture(
        &archive,
        "opt/app/lib/private/libpriv.so.1",
        "origin/lib/private/libpriv.so.1",
    );
    assert_eq!(
        under(&archive, "opt"),
        set(&["opt/app/bin/app", "opt/app/lib/private/libpriv.so.1"])
    );
    assert!(
        under(&archive, "usr/local").is_empty(),
        "nothing belongs in usr/local with -d /opt/app/bin:\n{}",
        archive.dump()
    );
    assert_glibc_base(&archive);
}

// ------------------------------------------------------------------ library input

#[test]
fn shared_library_as_input() {
    let archive = packed("leaf/lib/libleaf.so.1");
    assert_holds_fixture(
        &archive,
        "usr/local/bin/libleaf.so.1",
        "leaf/lib/libleaf.so.1.0.0",
    );
    let libc = in_default_dirs(&archive, "libc.so.6")
        .unwrap_or_else(|| panic!("libc.so.6 not packed:\narchive:\n{}", archive.dump()));
    assert_eq!(
        archive.file(&libc).data,
        bytes(Path::new("/lib/x86_64-linux-gnu/libc.so.6"))
    );
}

// ------------------------------------------------------------------ same basename

#[test]
fn inputs_with_the_same_basename_conflict() {
    let t = tmp();
    let (a, b) = (built("rpath/bin/app"), built("runpath-ok/bin/app"));
    let run = run_tool(t.path(), [&a, &b]);
    run.expect_code(1);
    for p in [&a, &b] {
        assert!(
            run.stderr.contains(s(p)),
            "the error should name {}:\n{}",
            p.display(),
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("usr/local/bin/app"),
        "the error should name the colliding archive path:\n{}",
        run.stderr
    );
    assert!(!run.out.exists(), "nothing may be written on failure");
}

// ------------------------------------------------------------------ host program

#[test]
fn host_redis_server_closure_is_complete() {
    let redis = Path::new("/usr/bin/redis-server");
    if !require(redis.exists(), "/usr/bin/redis-server is not installed") {
        return;
    }
    let t = tmp();
    let archive = run_tool(t.path(), [redis]).archive();
    assert_eq!(
        archive.file("usr/local/bin/redis-server").data,
        bytes(redis)
    );
    // The interpreter path exists through the archive's own links.
    let interp = archive
        .resolve("lib64/ld-linux-x86-64.so.2")
        .unwrap_or_else(|e| panic!("{e}\narchive:\n{}", archive.dump()))
        .path
        .as_str();
    assert!(
        archive.is_file(interp),
        "interpreter leads to {interp}, not a file"
    );
    assert_glibc_base(&archive);

    // Ground truth from binutils: every DT_NEEDED, transitively, is in a
    // default directory of the image (redis-server has no RPATH/RUNPATH).
    let img = t.path().join("img");
    unpack(&archive_path(&t), &img);
    let basenames = archive.basenames();
    let mut todo: Vec<(String, String)> = readelf_needed(redis)
        .into_iter()
        .map(|n| (n, "redis-server".to_string()))
        .collect();
    assert!(todo.iter().any(|(n, _)| n == "libc.so.6"), "{todo:?}");
    let mut done = BTreeSet::new();
    while let Some((name, by)) = todo.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        assert!(
            basenames.contains(&name),
            "{name} (needed by {by}) is not in the archive\narchive:\n{}",
            archive.dump()
        );
        if name == "ld-linux-x86-64.so.2" {
            continue; // the interpreter, already checked
        }
        let path = in_default_dirs(&archive, &name).unwrap_or_else(|| {
            panic!(
                "{name} (needed by {by}) is in no default dir {:?}\narchive:\n{}",
                host_default_dirs(),
                archive.dump()
            )
        });
        let real = &archive.resolve(&path).unwrap().path;
        for n in readelf_needed(&host_path(&img, real)) {
            todo.push((n, name.clone()));
        }
    }
}

fn archive_path(t: &tempfile::TempDir) -> PathBuf {
    t.path().join("out.tar")
}

// ------------------------------------------------------------------ --root

/// Builds `dir/app`: DT_NEEDED libleaf.so.1 and libc.so.6, no RPATH/RUNPATH.
fn build_leaf_app(dir: &Path) -> PathBuf {
    let app = dir.join("app");
    let mut child = Command::new("gcc")
        .args(["-x", "c", "-", "-o"])
        .arg(&app)
        .arg(format!("-L{}", built("leaf/lib").display()))
        .arg("-l:libleaf.so.1")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("running gcc");
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"#include <stdio.h>\nint leaf_value(void);\nint main(void){printf(\"root-app: leaf=%d\\n\", leaf_value());return 0;}\n",
    )
    .unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success(), "gcc failed");
    assert_eq!(
        readelf_needed(&app),
        vec!["libleaf.so.1".to_string(), "libc.so.6".to_string()]
    );
    let dynamic = Command::new("readelf")
        .arg("-dW")
        .arg(&app)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dynamic.stdout);
    assert!(
        !text.contains("RPATH") && !text.contains("RUNPATH"),
        "{text}"
    );
    app
}

/// libleaf.so.1.0.0 [`marked`], so a copy in a sysroot cannot be mistaken
/// for the fixture.
fn marked_leaf(tag: &str) -> Vec<u8> {
    marked(
        &bytes(&built("hello/lib/libleaf.so.1.0.0")),
        &format!("sysroot {tag}"),
    )
}

fn link(target: &str, path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    symlink(target, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `etc/ld.so.conf` including `etc/ld.so.conf.d/*.conf`, one of which names `dir`; no cache.
fn ld_so_conf(root: &Path, dir: &str) {
    write(
        &root.join("etc/ld.so.conf"),
        "include /etc/ld.so.conf.d/*.conf\n",
    );
    write(&root.join("etc/ld.so.conf.d/leaf.conf"), format!("{dir}\n"));
    assert!(!root.join("etc/ld.so.cache").exists());
}

/// A directory name under /opt that does not exist on this host.
fn host_absent_opt_dir() -> String {
    let dir = format!("/opt/extract-elf-so-sysroot-only-{}", std::process::id());
    assert!(
        !Path::new(&dir).exists(),
        "{dir} exists on the host; this test needs it absent"
    );
    dir
}

#[test]
fn root_library_is_taken_from_the_root() {
    let t = tmp();
    let app = build_leaf_app(t.path());
    let root = t.path().join("root");
    let multi = root.join("usr/lib/x86_64-linux-gnu");
    let leaf = marked_leaf("root_library_is_taken_from_the_root");
    write(&multi.join("libleaf.so.1.0.0"), &leaf);
    link("libleaf.so.1.0.0", &multi.join("libleaf.so.1"));
    link("usr/lib", &root.join("lib"));
    // No loader and no libc in this root: both are reported, and the host's
    // must not be used instead.
    let run = run_tool(t.path(), [s(&app), "--root", s(&root), "--allow-missing"]);
    let archive = run.archive();
    assert!(
        run.stderr.contains("libc.so.6"),
        "libc.so.6 is not in the root and should be reported:\n{}",
        run.stderr
    );
    assert_eq!(archive.file("lib/x86_64-linux-gnu/libleaf.so.1").data, leaf);
    assert_eq!(archive.file("usr/local/bin/app").data, bytes(&app));
    let names = archive.basenames();
    for host_only in ["libc.so.6", "ld-linux-x86-64.so.2"] {
        assert!(
            !names.contains(host_only),
            "{host_only} came from the host, not the root\narchive:\n{}",
            archive.dump()
        );
    }
    assert!(
        names.is_subset(&set(&["lib", "libleaf.so.1", "libleaf.so.1.0.0", "app"])),
        "unexpected entries\narchive:\n{}",
        archive.dump()
    );
}

#[test]
fn root_ld_so_conf_include_is_read_inside_the_root_and_the_library_moves_to_a_default_dir() {
    // Regression test for a double root prefix on `include` globs
    // (<root>/<root>/etc/ld.so.conf.d/...) seen in another resolver.
    let t = tmp();
    let app = build_leaf_app(t.path());
    let root = t.path().join("root");
    mini_sysroot(&root);
    let leaf = marked_leaf("conf");
    write(&root.join("opt/leaf/lib/libleaf.so.1"), &leaf);
    ld_so_conf(&root, "/opt/leaf/lib");
    let archive = run_tool(t.path(), [s(&app), "--root", s(&root)]).archive();
    // The image has no ld.so.cache, so its loader would never look in
    // /opt/leaf/lib: the library goes to the first default directory.
    let first = &host_default_dirs()[0];
    assert_eq!(first, "lib/x86_64-linux-gnu");
    assert_eq!(
        archive.file(&format!("{first}/libleaf.so.1")).data,
        leaf,
        "libleaf.so.1 should be in the first default dir /{first}\narchive:\n{}",
        archive.dump()
    );
    assert!(
        under(&archive, "opt").is_empty(),
        "the library should be moved, not kept in opt/\narchive:\n{}",
        archive.dump()
    );
    assert_eq!(
        archive.file("lib64/ld-linux-x86-64.so.2").data,
        bytes(&root.join("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"))
    );
}

/// A mini sysroot under `dir/root` where `<link_dir>/libleaf.so.1` is an
/// absolute link to a marked libleaf in a directory that exists only in the
/// root, never on this host; and an app that needs libleaf. Returns the app,
/// the root and the marked library's bytes.
fn sysroot_with_absolute_leaf_link(dir: &Path, link_dir: &str) -> (PathBuf, PathBuf, Vec<u8>) {
    let app = build_leaf_app(dir);
    let root = dir.join("root");
    mini_sysroot(&root);
    let real_dir = host_absent_opt_dir();
    let leaf = marked_leaf(link_dir);
    write(
        &host_path(&root, &format!("{real_dir}/libleaf.so.1")),
        &leaf,
    );
    link(
        &format!("{real_dir}/libleaf.so.1"),
        &root.join(link_dir).join("libleaf.so.1"),
    );
    (app, root, leaf)
}

/// Packs `app` in `root` (from `dir`); the image's
/// lib/x86_64-linux-gnu/libleaf.so.1 must be `leaf`.
fn assert_leaf_in_first_default_dir(dir: &Path, app: &Path, root: &Path, leaf: &[u8]) {
    let archive = run_tool(dir, [s(app), "--root", s(root)]).archive();
    assert_eq!(
        archive.file("lib/x86_64-linux-gnu/libleaf.so.1").data,
        leaf,
        "archive:\n{}",
        archive.dump()
    );
}

#[test]
fn root_absolute_link_is_followed_inside_the_root() {
    let t = tmp();
    let (app, root, leaf) = sysroot_with_absolute_leaf_link(t.path(), "opt/leaf/lib");
    ld_so_conf(&root, "/opt/leaf/lib");
    assert_leaf_in_first_default_dir(t.path(), &app, &root, &leaf);
}

#[test]
fn root_absolute_link_in_a_default_dir_stays_inside_the_image() {
    let t = tmp();
    let (app, root, leaf) = sysroot_with_absolute_leaf_link(t.path(), "usr/lib/x86_64-linux-gnu");
    // Found in a default dir, so it stays there; the link's absolute target
    // must exist in the image.
    assert_leaf_in_first_default_dir(t.path(), &app, &root, &leaf);
}

#[test]
fn baseline_library_is_packed_not_a_hwcaps_variant() {
    // ldconfig records glibc-hwcaps variants in the cache, and the host's
    // loader would pick one on a capable CPU; the image must carry the
    // baseline so it runs on every CPU of the architecture.
    if !require(Path::new("/sbin/ldconfig").exists(), "ldconfig") {
        return;
    }
    let t = tmp();
    let app = build_leaf_app(t.path());
    let root = t.path().join("root");
    mini_sysroot(&root);
    let multi = root.join("usr/lib/x86_64-linux-gnu");
    let baseline = marked_leaf("baseline");
    let variant = marked_leaf("x86-64-v3");
    write(&multi.join("libleaf.so.1"), &baseline);
    write(&multi.join("glibc-hwcaps/x86-64-v3/libleaf.so.1"), &variant);
    write(&root.join("etc/ld.so.conf"), "");
    let status = Command::new("/sbin/ldconfig")
        .args(["-X", "-r"])
        .arg(&root)
        .status()
        .expect("running ldconfig");
    assert!(status.success());
    let cache = bytes(&root.join("etc/ld.so.cache"));
    let needle = b"glibc-hwcaps/x86-64-v3/libleaf.so.1";
    assert!(
        cache.windows(needle.len()).any(|w| w == needle),
        "ldconfig recorded no hwcaps variant; the test would prove nothing"
    );
    let run = run_tool(t.path(), [s(&app), "--root", s(&root), "--tree"]);
    assert!(run.stdout.contains("(ld.so.cache)"), "{}", run.stdout);
    let archive = run_tool(t.path(), [s(&app), "--root", s(&root)]).archive();
    let packed: Vec<String> = archive
        .named("libleaf.so.1")
        .into_iter()
        .filter(|p| archive.is_file(p))
        .collect();
    assert_eq!(
        packed,
        vec!["usr/lib/x86_64-linux-gnu/libleaf.so.1".to_string()],
        "{}",
        archive.dump()
    );
    assert_eq!(
        archive.file("usr/lib/x86_64-linux-gnu/libleaf.so.1").data,
        baseline
    );
    assert!(
        !archive.dump().contains("glibc-hwcaps"),
        "{}",
        archive.dump()
    );
}

/// Compiles `main` with gcc and `args` into `dir/app`.
fn compile_app(dir: &Path, args: &[&str]) -> PathBuf {
    fs::write(dir.join("m.c"), "int main(void){return 0;}\n").unwrap();
    let app = dir.join("app");
    let status = Command::new("gcc")
        .current_dir(dir)
        .arg("m.c")
        .arg("-o")
        .arg(&app)
        .args(args)
        .status()
        .expect("running gcc");
    assert!(status.success());
    app
}

#[test]
fn two_needed_names_for_one_file_both_exist_in_the_image() {
    // liba.so and libb.so are links to one file: glibc loads it once, but
    // finds it under each name, so the image needs both names.
    let t = tmp();
    let libs = t.path().join("libs");
    fs::create_dir(&libs).unwrap();
    fs::write(t.path().join("f.c"), "int f(void){return 1;}\n").unwrap();
    let status = Command::new("gcc")
        .current_dir(t.path())
        .args(["-shared", "-fPIC", "-o", "libs/base.so", "f.c"])
        .status()
        .unwrap();
    assert!(status.success());
    link("base.so", &libs.join("liba.so"));
    link("base.so", &libs.join("libb.so"));
    let app = compile_app(
        t.path(),
        &[
            "-Llibs",
            "-Wl,--no-as-needed",
            "-l:liba.so",
            "-l:libb.so",
            "-Wl,-rpath,$ORIGIN/libs",
        ],
    );
    let archive = run_tool(t.path(), [s(&app)]).archive();
    for name in ["liba.so", "libb.so"] {
        let path = format!("usr/local/bin/libs/{name}");
        assert_eq!(
            archive.resolve(&path).map(|i| i.path.as_str()),
            Ok("usr/local/bin/libs/base.so"),
            "{path}\n{}",
            archive.dump()
        );
    }
    assert!(archive.is_file("usr/local/bin/libs/base.so"));
}

#[test]
fn a_runpath_longer_than_a_page_is_read_whole() {
    let t = tmp();
    let long: String = "/x".repeat(2100);
    let app = compile_app(
        t.path(),
        &["-Wl,--enable-new-dtags", &format!("-Wl,-rpath,{long}")],
    );
    let run = run_tool(t.path(), [s(&app), "--tree"]);
    assert!(run.stdout.contains("libc.so.6 =>"), "{}", run.stdout);
}

#[test]
fn an_input_inside_the_root_is_resolved_inside_it() {
    // ROOT/usr/bin/app is an absolute link to /usr/bin/<name>, which exists
    // only in the root: following it on the host would fail or take a host file.
    let t = tmp();
    let root = t.path().join("root");
    mini_sysroot(&root);
    let name = format!("extract-elf-so-root-only-{}", std::process::id());
    assert!(!Path::new("/usr/bin").join(&name).exists());
    let program = bytes(&built("hello/bin/hello"));
    write(&root.join("usr/bin").join(&name), &program);
    link(&format!("/usr/bin/{name}"), &root.join("usr/bin/app"));
    let archive = run_tool(t.path(), [s(&root.join("usr/bin/app")), "--root", s(&root)]).archive();
    assert_eq!(archive.file("usr/local/bin/app").data, program);
    // Its libc is the root's, which mini_sysroot copied from the host.
    assert!(
        archive.resolve("lib64/ld-linux-x86-64.so.2").is_ok(),
        "{}",
        archive.dump()
    );
}
