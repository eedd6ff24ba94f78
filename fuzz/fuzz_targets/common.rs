//! What the targets share (each includes this file with `#[path]`): a
//! temporary directory made on the first input and kept while the process
//! lives, and the check that an error names the file it is about.

#![allow(dead_code)] // a target uses what it needs of this file

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `name` in a temporary directory made on the first call and kept while
/// the process lives; `prepare` runs once, on that path, before it is handed
/// out. One per process: later calls get the first call's path.
pub fn temp_path(name: &str, prepare: fn(&Path)) -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        prepare(&path);
        (dir, path)
    });
    path
}

/// Asserts that `error`, with its causes, names `path`.
pub fn assert_names(error: &extract_elf_so::Error, path: &Path) {
    let text = extract_elf_so::chain(error);
    let shown = path.display().to_string();
    assert!(text.contains(&shown), "error without the path: {text}");
}
