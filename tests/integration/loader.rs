//! The loader's rules that decide whether the image would load, through the
//! real binary: path elements glibc takes from the working directory (taken
//! from `/` of the root, never from the host's working directory), files
//! neither the kernel nor the loader would take as inputs, symbol versions
//! (LOADER.md §11) and `DF_1_NODEFLIB` libraries whose dependencies come from
//! a directory the image will not have. Scenarios are the fixtures'
//! `relpath/`, `unloadable/`, `versions/` and `nodeflib/`.

use std::fs;
use std::path::Path;

use crate::util::{
    self, Kind, assert_fails, assert_holds_fixture, built, bytes, marked, mini_sysroot, os, packed,
    require, run_tool, s, tmp, verbose_sources, write,
};

fn host_libc() -> Vec<u8> {
    bytes(&fs::canonicalize("/lib/x86_64-linux-gnu/libc.so.6").unwrap())
}

/// Copies of libc and libleaf in `dir` and `dir/lib`, where a search from
/// the working directory `dir` would find them.
fn decoys_in(dir: &Path) -> Vec<Vec<u8>> {
    let leaf = bytes(&built("leaf/lib/libleaf.so.1.0.0"));
    let mut decoys = Vec::new();
    for sub in ["", "lib"] {
        let libc = marked(&host_libc(), &format!("working directory {sub}"));
        let leaf = marked(&leaf, &format!("working directory {sub}"));
        write(&dir.join(sub).join("libc.so.6"), &libc);
        write(&dir.join(sub).join("libleaf.so.1"), &leaf);
        decoys.extend([libc, leaf]);
    }
    decoys
}

/// No file of the archive holds one of `decoys`, and no source lies in
/// `cwd` outside `allowed`.
fn assert_no_decoy(run: &util::Run, cwd: &Path, allowed: Option<&Path>, decoys: &[Vec<u8>]) {
    let archive = run.archive();
    for item in archive.of_kind(Kind::File) {
        assert!(
            !decoys.contains(&item.data),
            "{} is a copy from the working directory\n{}",
            item.path,
            run.stderr
        );
    }
    for (path, source) in verbose_sources(&run.stderr) {
        assert!(
            !source.starts_with(cwd) || allowed.is_some_and(|a| source.starts_with(a)),
            "{path} comes from {}, in the working directory\n{}",
            source.display(),
            run.stderr
        );
    }
}

// ------------------------------------------------------------------ relative path elements

/// glibc takes an empty (`:`) or relative (`lib`) DT_RUNPATH element from
/// the process's working directory. In a root they are taken from the
/// root's `/`, where an image's loader with the default working directory
/// looks: never from the working directory of the tool, whose copies of
/// libc and libleaf must not be packed.
#[test]
fn empty_and_relative_path_elements_in_a_root_are_taken_from_its_top() {
    let t = tmp();
    let cwd = fs::canonicalize(t.path()).unwrap();
    let decoys = decoys_in(&cwd);
    let root = cwd.join("root");
    mini_sysroot(&root);
    let leaf = bytes(&built("leaf/lib/libleaf.so.1.0.0"));
    let top = marked(&leaf, "root /");
    let lib = marked(&leaf, "root /lib");
    write(&root.join("libleaf.so.1"), &top);
    write(&root.join("usr/lib/libleaf.so.1"), &lib);
    let root_libc = bytes(&root.join("usr/lib/x86_64-linux-gnu/libc.so.6"));

    let run = run_tool(
        &cwd,
        [s(&built("relpath/bin/app-empty")), "--root", s(&root), "-v"],
    );
    assert_no_decoy(&run, &cwd, Some(&root), &decoys);
    let archive = run.archive();
    assert_eq!(archive.file("libleaf.so.1").data, top, "{}", archive.dump());
    assert_eq!(
        archive.file("lib/x86_64-linux-gnu/libc.so.6").data,
        root_libc
    );

    let run = run_tool(
        &cwd,
        [s(&built("relpath/bin/app-lib")), "--root", s(&root), "-v"],
    );
    assert_no_decoy(&run, &cwd, Some(&root), &decoys);
    let archive = run.archive();
    // `lib` is /lib of the root, a link to usr/lib, kept as in the root.
    assert_eq!(
        archive.file("lib/libleaf.so.1").data,
        lib,
        "{}",
        archive.dump()
    );
    assert_eq!(archive.entry("lib").link.as_deref(), Some("usr/lib"));
    assert_eq!(
        archive.file("lib/x86_64-linux-gnu/libc.so.6").data,
        root_libc
    );
}

/// Without a root, the same elements are taken from the host's `/`: what
/// is packed does not depend on where the tool runs.
#[test]
fn empty_and_relative_path_elements_without_a_root_are_taken_from_the_hosts_top() {
    if !require(
        !Path::new("/libc.so.6").exists() && !Path::new("/lib/libc.so.6").exists(),
        "a libc.so.6 in / or /lib of this host",
    ) {
        return;
    }
    let t = tmp();
    let cwd = fs::canonicalize(t.path()).unwrap();
    let decoys = decoys_in(&cwd);
    let leaf_dir = built("leaf/lib");
    for app in ["relpath/bin/app-empty", "relpath/bin/app-lib"] {
        let run = run_tool(&cwd, [s(&built(app)), "--library-path", s(&leaf_dir), "-v"]);
        assert_no_decoy(&run, &cwd, None, &decoys);
        let archive = run.archive();
        assert_eq!(
            archive.file("lib/x86_64-linux-gnu/libc.so.6").data,
            host_libc(),
            "{app}"
        );
    }
}

// ------------------------------------------------------------------ unloadable inputs

/// Files the kernel would not run and the loader would not load are
/// refused as inputs and as `--add` libraries, with the reason.
#[test]
fn files_neither_the_kernel_nor_the_loader_would_take_are_refused() {
    let t = tmp();
    let cases = [
        ("leaf.o", "relocatable object"),
        ("core", "core file"),
        ("freebsd", "OS ABI 9"),
        ("noload", "PT_LOAD"),
    ];
    for (name, why) in cases {
        let file = built(&format!("unloadable/{name}"));
        assert_fails(t.path(), &os(&[&file]), 1, &[s(&file), why]);
        assert_fails(
            t.path(),
            &os(&[&"-a", &file, &built("hello/bin/hello")]),
            1,
            &[s(&file), why],
        );
    }
}

/// In a directory input, an object file is a plain file: packed as it is,
/// its libraries not looked for.
#[test]
fn an_object_file_in_a_directory_input_is_packed_as_a_file() {
    let t = tmp();
    let tree = t.path().join("tree");
    write(&tree.join("bin/hello"), bytes(&built("hello/bin/hello")));
    write(&tree.join("obj/leaf.o"), bytes(&built("unloadable/leaf.o")));
    let archive = run_tool(t.path(), [&tree]).archive();
    assert_holds_fixture(
        &archive,
        "usr/local/bin/tree/obj/leaf.o",
        "unloadable/leaf.o",
    );
    archive.file("usr/local/bin/tree/bin/hello");
}

// ------------------------------------------------------------------ symbol versions

/// versions/bin/app needs version V2 of libver.so.1; the copy its DT_RUNPATH
/// finds first (lib1/) defines only V1. The loader refuses it there and does
/// not go on to lib2/, so the run is refused, naming the file, the version
/// and the program; with `--allow-missing` the copy the loader takes is packed.
#[test]
fn a_version_the_found_library_does_not_define_is_refused() {
    let t = tmp();
    let app = built("versions/bin/app");
    let run = run_tool(t.path(), [&app]);
    run.expect_code(1);
    assert!(!run.out.exists());
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("libver.so.1 (needed by"))
        .unwrap_or_else(|| panic!("no line for libver.so.1:\n{}", run.stderr));
    for want in ["`V2'", "lib1/libver.so.1", s(&app)] {
        assert!(line.contains(want), "{want} not in {line:?}");
    }
    assert!(!line.contains("`V1'"), "{line}");

    let run = run_tool(t.path(), [s(&app), "--allow-missing"]);
    let archive = run.archive();
    assert!(run.stderr.contains("`V2'"), "{}", run.stderr);
    assert_holds_fixture(
        &archive,
        "usr/local/lib1/libver.so.1",
        "versions/lib1/libver.so.1",
    );
    assert!(archive.get("usr/local/lib2/libver.so.1").is_none());
}

/// versions/bin/app-v1 needs only V1, which the first copy defines.
#[test]
fn a_library_defining_every_version_needed_is_packed() {
    let archive = packed("versions/bin/app-v1");
    assert_holds_fixture(
        &archive,
        "usr/local/lib1/libver.so.1",
        "versions/lib1/libver.so.1",
    );
}

// ------------------------------------------------------------------ DF_1_NODEFLIB

/// nodeflib/lib/libmid.so.1 has DF_1_NODEFLIB and DT_RUNPATH $ORIGIN; its
/// libleaf.so.1 is found only through `--library-path`. The image's loader
/// skips the default directories for libmid, so libleaf goes where libmid's
/// own DT_RUNPATH finds it in the image, beside libmid.
#[test]
fn a_nodefaultlib_librarys_dependency_goes_where_its_own_path_finds_it() {
    let t = tmp();
    let leaf_dir = built("leaf/lib");
    let run = run_tool(
        t.path(),
        [
            s(&built("nodeflib/bin/app")),
            "--library-path",
            s(&leaf_dir),
        ],
    );
    let archive = run.archive();
    assert_eq!(
        archive.file("usr/local/lib/libleaf.so.1").data,
        bytes(&leaf_dir.join("libleaf.so.1.0.0"))
    );
    assert_eq!(
        archive.named("libleaf.so.1"),
        vec!["usr/local/lib/libleaf.so.1".to_string()],
        "{}",
        archive.dump()
    );
}

/// nodeflib/bare/libmid.so.1 has DF_1_NODEFLIB and no path of its own: the
/// image's loader would find its libleaf nowhere, which is said clearly.
#[test]
fn a_nodefaultlib_library_with_no_path_of_its_own_cannot_have_its_dependency() {
    let t = tmp();
    let leaf_dir = built("leaf/lib");
    let app = built("nodeflib/bin/app-bare");
    let run = run_tool(t.path(), [s(&app), "--library-path", s(&leaf_dir)]);
    run.expect_code(1);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("libleaf.so.1 (needed by"))
        .unwrap_or_else(|| panic!("no line for libleaf.so.1:\n{}", run.stderr));
    for want in ["bare/libmid.so.1", "DF_1_NODEFLIB"] {
        assert!(line.contains(want), "{want} not in {line:?}");
    }
    let run = run_tool(
        t.path(),
        [s(&app), "--library-path", s(&leaf_dir), "--allow-missing"],
    );
    let archive = run.archive();
    assert!(
        archive.named("libleaf.so.1").is_empty(),
        "{}",
        archive.dump()
    );
}
