//! Helpers for the archive tests (`resolve`, `e2e`): running
//! the real binary, reading its archive back with the `tar` crate, following
//! the archive's own symbolic links, unpacking it, and the policy for tests
//! that need optional tools.
//!
//! Nothing here uses the crate's own code: the archive is checked from the
//! outside, as `tar`, `chroot` and the image's loader would see it.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// ELF e_machine values used by the tests.
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

/// What running the tool gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `-o` path (it may not exist).
    pub out: PathBuf,
}

impl Run {
    /// Panics with the tool's output unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "extract-elf-so exited with {:?}, expected {code}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.code,
            self.stderr,
            self.stdout
        );
        self
    }

    /// Expects exit 0 and reads the archive.
    pub fn archive(&self) -> Listing {
        self.expect_code(0);
        Listing::read(&self.out)
    }
}

/// Runs `extract-elf-so -o <tmp>/out.tar ARGS...` with `tmp` as the current
/// directory (so relative paths and a default output land there), under a
/// time limit so a resolver that loops fails instead of hanging.
pub fn run_tool<I, S>(tmp: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_tool_timeout(tmp, args, Duration::from_secs(120))
}

pub fn run_tool_timeout<I, S>(tmp: &Path, args: I, limit: Duration) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = tmp.join("out.tar");
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = assert_cmd::Command::cargo_bin("extract-elf-so")
        .expect("the extract-elf-so binary")
        .current_dir(tmp)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("LD_LIBRARY_PATH")
        .arg("-o")
        .arg(&out)
        .args(&args)
        .timeout(limit)
        .output()
        .expect("running extract-elf-so");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
    };
    assert!(
        run.code.is_some(),
        "extract-elf-so did not exit by itself within {limit:?} (killed: {:?}), args {args:?}\n--- stderr ---\n{}",
        output.status,
        run.stderr
    );
    run
}

/// One archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File(Vec<u8>),
    Symlink(PathBuf),
    /// Anything else (hard link, device, ...), with its tar type byte.
    Other(u8),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub mode: u32,
}

/// An archive read back: entries by path (no leading `/`, no trailing `/`).
#[derive(Debug, Clone)]
pub struct Listing {
    pub entries: BTreeMap<String, Entry>,
    /// Paths in archive order, with repeats if the archive has any.
    pub order: Vec<String>,
}

/// How many links one lookup in the archive may follow.
const MAX_LINKS: usize = 40;

impl Listing {
    pub fn read(path: &Path) -> Listing {
        let file = File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        let mut archive = tar::Archive::new(file);
        let mut entries = BTreeMap::new();
        let mut order = Vec::new();
        for entry in archive.entries().expect("reading the archive") {
            let mut entry = entry.expect("reading an archive entry");
            let raw = entry.path().expect("entry path").into_owned();
            let name = raw.to_string_lossy().trim_end_matches('/').to_string();
            assert!(
                !name.is_empty() && !name.starts_with('/'),
                "archive entry with an empty or absolute path: {raw:?}"
            );
            assert!(
                raw.components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
                "archive entry path with '..' or a root: {raw:?}"
            );
            let mode = entry.header().mode().expect("entry mode");
            let kind = match entry.header().entry_type() {
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mut data = Vec::new();
                    std::io::Read::read_to_end(&mut entry, &mut data).expect("entry content");
                    Kind::File(data)
                }
                tar::EntryType::Symlink => Kind::Symlink(
                    entry
                        .link_name()
                        .expect("link name")
                        .expect("a symlink entry without a target")
                        .into_owned(),
                ),
                other => Kind::Other(other.as_byte()),
            };
            order.push(name.clone());
            entries.insert(name, Entry { kind, mode });
        }
        Listing { entries, order }
    }

    /// A listing for failure messages, like `tar -tv`.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for (path, e) in &self.entries {
            let _ = match &e.kind {
                Kind::Dir => writeln!(s, "  {path}/"),
                Kind::File(d) => writeln!(s, "  {path}  ({} bytes, mode {:o})", d.len(), e.mode),
                Kind::Symlink(t) => writeln!(s, "  {path} -> {}", t.display()),
                Kind::Other(b) => writeln!(s, "  {path}  (type {b})"),
            };
        }
        s
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path.trim_start_matches('/'))
    }

    /// Follows `path` through the archive's own links, as a process chrooted
    /// into the unpacked archive would: absolute targets start at the archive
    /// root. Returns the path of what it ends at (which exists), or why not.
    pub fn resolve(&self, path: &str) -> Result<String, String> {
        let mut done: Vec<String> = Vec::new();
        let mut todo: Vec<String> = components(path).into_iter().rev().collect();
        let mut links = 0;
        while let Some(part) = todo.pop() {
            if part == ".." {
                done.pop();
                continue;
            }
            done.push(part);
            let here = done.join("/");
            let Some(entry) = self.entries.get(&here) else {
                return Err(format!("{path}: {here} is not in the archive"));
            };
            match &entry.kind {
                Kind::Symlink(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(format!("{path}: too many links"));
                    }
                    done.pop();
                    let target = target.to_string_lossy();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    todo.extend(components(&target).into_iter().rev());
                }
                Kind::Dir => {}
                _ if !todo.is_empty() => {
                    return Err(format!("{path}: {here} is not a directory"));
                }
                _ => {}
            }
        }
        Ok(done.join("/"))
    }

    /// The content of the regular file `path` leads to; panics with the listing if none.
    pub fn file(&self, path: &str) -> &[u8] {
        let real = self
            .resolve(path)
            .unwrap_or_else(|e| panic!("{e}\narchive:\n{}", self.dump()));
        match &self.entries[&real].kind {
            Kind::File(data) => data,
            other => panic!(
                "{path} leads to {real}, which is {other:?}, not a regular file\narchive:\n{}",
                self.dump()
            ),
        }
    }

    /// Whether `path` leads to a regular file.
    pub fn is_file(&self, path: &str) -> bool {
        self.resolve(path)
            .is_ok_and(|real| matches!(self.entries[&real].kind, Kind::File(_)))
    }

    /// Paths of entries that are not directories.
    pub fn non_dirs(&self) -> BTreeSet<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.kind != Kind::Dir)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Entries (files or links) whose last component is `name`.
    pub fn named(&self, name: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(p, e)| e.kind != Kind::Dir && basename(p) == name)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Last components of every file and link.
    pub fn basenames(&self) -> BTreeSet<String> {
        self.non_dirs()
            .iter()
            .map(|p| basename(p).to_string())
            .collect()
    }

    /// Regular files that are ELF, with their e_ident class and e_machine.
    pub fn elf_files(&self) -> Vec<(String, u8, u16)> {
        self.entries
            .iter()
            .filter_map(|(p, e)| match &e.kind {
                Kind::File(d) => elf_header(d).map(|(class, machine)| (p.clone(), class, machine)),
                _ => None,
            })
            .collect()
    }
}

fn components(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect()
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// (EI_CLASS, e_machine) of ELF bytes, or `None` if they are not ELF.
pub fn elf_header(data: &[u8]) -> Option<(u8, u16)> {
    if data.len() < 20 || &data[..4] != b"\x7fELF" {
        return None;
    }
    let raw = [data[18], data[19]];
    let machine = match data[5] {
        2 => u16::from_be_bytes(raw),
        _ => u16::from_le_bytes(raw),
    };
    Some((data[4], machine))
}

/// Unpacks `tar_path` into `dir` with the `tar` crate, keeping links,
/// permissions and times, as `docker import` would.
/// Unpacks the archive at `tar_path` (plain or gzip) into `dir`, keeping
/// modes and times.
pub fn unpack(tar_path: &Path, dir: &Path) {
    use std::io::BufRead;
    fs::create_dir_all(dir).expect("creating the unpack directory");
    let file = File::open(tar_path).unwrap_or_else(|e| panic!("{}: {e}", tar_path.display()));
    let mut file = std::io::BufReader::new(file);
    let magic = file
        .fill_buf()
        .unwrap_or_else(|e| panic!("{}: {e}", tar_path.display()));
    let stream: Box<dyn std::io::Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut archive = tar::Archive::new(stream);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(false);
    archive.unpack(dir).unwrap_or_else(|e| {
        panic!(
            "unpacking {} into {}: {e}",
            tar_path.display(),
            dir.display()
        )
    });
}

/// `DT_NEEDED` names of an ELF file according to `readelf -d` (binutils, an
/// oracle independent of the crate).
pub fn readelf_needed(file: &Path) -> Vec<String> {
    let out = std::process::Command::new("readelf")
        .arg("-dW")
        .arg(file)
        .output()
        .expect("running readelf (binutils)");
    assert!(
        out.status.success(),
        "readelf -d {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l.rfind(']')?;
            Some(l[start..end].to_string())
        })
        .collect()
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
