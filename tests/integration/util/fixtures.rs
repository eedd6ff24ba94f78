//! Builds the fixture tree of `fixtures/` (see `fixtures/README.md`) once per
//! checkout, and tells whether a tool the optional scenarios need is there.
//!
//! Standalone: only `std`, and nothing of the crate or of the integration
//! test binary, so the crate's unit tests can include this file too
//! (`#[path = "..."] mod fixtures;`). The manifest directory comes from
//! `CARGO_MANIFEST_DIR`, which both kinds of test target see.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture tree built by `fixtures/build.sh` (see `fixtures/README.md`),
/// e.g. `fixtures().join("rpath/bin/app")`.
///
/// Built once per checkout into `target/fixtures-<hash>`, the hash covering
/// `fixtures/build.sh` and `fixtures/src/*`, so editing either rebuilds it.
/// Safe to call from many threads and many test processes at once: the build
/// runs under an exclusive lock on `target/fixtures.lock`, and the script
/// renames a finished tree into place, so an existing directory is complete.
/// Panics with the script's output if the build fails.
pub fn fixtures() -> PathBuf {
    // A failed build is remembered too, so the other tests of this process
    // panic with the same message instead of rebuilding.
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(build_fixtures) {
        Ok(dir) => dir.clone(),
        Err(msg) => panic!("{msg}"),
    }
}

fn fixtures_hash() -> String {
    let root = manifest_dir().join("fixtures");
    let src = root.join("src");
    let mut files = vec![root.join("build.sh")];
    let mut sources: Vec<PathBuf> = fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("reading {}: {e}", src.display()))
        .map(|entry| entry.expect("reading fixtures/src").path())
        .filter(|p| p.is_file())
        .collect();
    sources.sort();
    files.extend(sources);

    let mut hasher = DefaultHasher::new();
    for file in &files {
        file.strip_prefix(&root).unwrap().hash(&mut hasher);
        fs::read(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()))
            .hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

fn build_fixtures() -> Result<PathBuf, String> {
    let target = manifest_dir().join("target");
    fs::create_dir_all(&target).unwrap_or_else(|e| panic!("creating {}: {e}", target.display()));
    let dir = target.join(format!("fixtures-{}", fixtures_hash()));

    let lock_path = target.join("fixtures.lock");
    let lock = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("opening {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("locking {}: {e}", lock_path.display()));

    if !dir.is_dir() {
        // Leftovers of a build that was killed (nobody else builds: we hold the lock).
        if let Ok(entries) = fs::read_dir(&target) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with(".fixtures-")
                    && (name.contains(".tmp.") || name.contains(".old."))
                {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }

        let script = manifest_dir().join("fixtures/build.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .current_dir(manifest_dir())
            .output()
            .unwrap_or_else(|e| panic!("running bash {}: {e}", script.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!(
                "bash {} {} failed ({}):\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}",
                script.display(),
                dir.display(),
                out.status
            ));
        }
        // Compiler warnings and "skipping <scenario>" notices.
        eprint!("{stdout}{stderr}");
    }

    drop(lock); // unlocks
    Ok(dir)
}

/// Whether `cmd` is an executable file on `PATH` (or, if it contains a `/`,
/// whether that path is an executable file).
pub fn have(cmd: &str) -> bool {
    fn is_executable(path: &Path) -> bool {
        fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    if cmd.is_empty() {
        return false;
    }
    if cmd.contains('/') {
        return is_executable(Path::new(cmd));
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(cmd))))
}
