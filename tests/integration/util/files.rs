//! Temporary directories, host files and arguments.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Arguments as `OsString`s.
pub fn os(args: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// `data` with a marker naming `tag` appended, so a copy cannot be mistaken
/// for another (the loader ignores trailing bytes).
pub fn marked(data: &[u8], tag: &str) -> Vec<u8> {
    let mut data = data.to_vec();
    data.extend_from_slice(format!("\0copy: {tag}\0").as_bytes());
    data
}

/// Sorted names of the entries in `dir` (hidden ones included).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes `data` to `path`, creating its parent directories.
pub fn write(path: &Path, data: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    }
    fs::write(path, data).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// Device and inode of a host file (following links).
pub fn file_id(path: &Path) -> (u64, u64) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    (meta.dev(), meta.ino())
}

/// Whether two host paths name the same file (after following links).
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The host file's bytes.
pub fn bytes(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A path as `&str` for building arguments.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Joins a host path and a relative archive path.
pub fn host_path(dir: &Path, archive_path: &str) -> PathBuf {
    dir.join(archive_path.trim_start_matches('/'))
}
