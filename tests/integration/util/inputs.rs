//! Inputs for the tool: fixture programs by name, and a small sysroot made
//! of the host's glibc; whether an archive holds a fixture.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::archive::Archive;
use super::files::{bytes, tmp, write};
use super::fixtures::{fixtures, have};
use super::host::require;
use super::tool::run_tool;

/// A path in the fixture tree, e.g. `fx("rpath/bin/app")` (which may not
/// exist: a scenario whose compiler is missing is not built).
pub fn fx(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

/// A fixture that must have been built: panics, naming it, when it is not.
pub fn built(rel: &str) -> PathBuf {
    let path = fx(rel);
    assert!(
        path.exists(),
        "fixture {} was not built (see fixtures/README.md)",
        path.display()
    );
    path
}

/// The archive a plain run on the built fixture `rel` writes.
pub fn packed(rel: &str) -> Archive {
    let t = tmp();
    run_tool(t.path(), [built(rel)]).archive()
}

/// Asserts that `path` leads, in `archive`, to a file with the bytes of
/// the built fixture `rel`.
pub fn assert_holds_fixture(archive: &Archive, path: &str, rel: &str) {
    assert_eq!(archive.file(path).data, bytes(&built(rel)), "{path}");
}

/// The fixture program that needs only libc.
pub fn hello() -> PathBuf {
    fx("hello/bin/hello")
}

/// The fixture program that needs libleaf through `$ORIGIN/../lib`.
pub fn hello_leaf() -> PathBuf {
    fx("hello/bin/hello-leaf")
}

/// Whether the musl fixture `rel` is built, by the policy of
/// [`require`](super::host::require).
pub fn musl_ok(rel: &str) -> bool {
    let ok = have("musl-gcc") && fx(rel).exists();
    require(
        ok,
        &format!("the musl fixture {rel} is not built (install musl-tools)"),
    )
}

/// A Debian-like amd64 sysroot with copies of the host's loader and libc:
/// lib -> usr/lib, lib64 -> usr/lib64, usr/lib64/ld-linux-x86-64.so.2 ->
/// /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 (absolute, as on Debian).
pub fn mini_sysroot(root: &Path) {
    let multi = root.join("usr/lib/x86_64-linux-gnu");
    for name in ["ld-linux-x86-64.so.2", "libc.so.6"] {
        let host = fs::canonicalize(Path::new("/lib/x86_64-linux-gnu").join(name)).unwrap();
        write(&multi.join(name), bytes(&host));
    }
    fs::create_dir_all(root.join("usr/lib64")).unwrap();
    symlink("usr/lib", root.join("lib")).unwrap();
    symlink("usr/lib64", root.join("lib64")).unwrap();
    symlink(
        "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        root.join("usr/lib64/ld-linux-x86-64.so.2"),
    )
    .unwrap();
}
