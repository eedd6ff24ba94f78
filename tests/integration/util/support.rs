//! Running the tool, reading the archives it writes back, and small facts
//! about ELF files and directories.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use tar::EntryType;

/// The tool, run in `dir` with a clean `SOURCE_DATE_EPOCH`.
pub fn tool(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("extract-elf-so").expect("binary extract-elf-so");
    cmd.current_dir(dir).env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// Runs the tool in `dir` with `args` and returns its output (whatever the exit code).
pub fn run<I, S>(dir: &Path, args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    tool(dir)
        .args(args)
        .output()
        .expect("running extract-elf-so")
}

/// Runs the tool and asserts it exits 0; returns (stdout, stderr).
pub fn run_ok<I, S>(dir: &Path, args: I) -> (Vec<u8>, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = run(dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "extract-elf-so {args:?} failed:\n{stderr}"
    );
    (out.stdout, stderr)
}

/// What an archive entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other(u8),
}

/// One archive entry, read back.
#[derive(Debug, Clone)]
pub struct Item {
    /// Path without a trailing `/`.
    pub path: String,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: Option<String>,
    pub gname: Option<String>,
    pub mtime: u64,
    pub size: u64,
    pub link: Option<String>,
    pub data: Vec<u8>,
}

/// A whole archive, in order.
#[derive(Debug, Clone)]
pub struct Archive {
    pub items: Vec<Item>,
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Decompresses gzip bytes, panicking if they are not a valid gzip stream.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    assert!(
        is_gzip(bytes),
        "not gzip: starts with {:02x?}",
        &bytes[..bytes.len().min(4)]
    );
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip stream");
    out
}

impl Archive {
    /// Parses tar bytes; panics if they are not a valid archive.
    pub fn from_tar(bytes: &[u8]) -> Archive {
        assert!(!bytes.is_empty(), "empty archive");
        assert_eq!(bytes.len() % 512, 0, "tar length is not a multiple of 512");
        let mut archive = tar::Archive::new(bytes);
        let mut items = Vec::new();
        for entry in archive.entries().expect("tar entries") {
            let mut entry = entry.expect("tar entry");
            let header = entry.header().clone();
            let path = entry
                .path()
                .expect("entry path")
                .to_string_lossy()
                .into_owned();
            let path = path.trim_end_matches('/').to_string();
            let kind = match header.entry_type() {
                EntryType::Regular => Kind::File,
                EntryType::Directory => Kind::Dir,
                EntryType::Symlink => Kind::Symlink,
                other => Kind::Other(other.as_byte()),
            };
            let link = entry
                .link_name()
                .expect("link name")
                .map(|l| l.to_string_lossy().into_owned());
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("entry data");
            items.push(Item {
                path,
                kind,
                mode: header.mode().expect("mode"),
                uid: header.uid().expect("uid"),
                gid: header.gid().expect("gid"),
                uname: header.username().expect("username").map(str::to_string),
                gname: header.groupname().expect("groupname").map(str::to_string),
                mtime: header.mtime().expect("mtime"),
                size: header.size().expect("size"),
                link,
                data,
            });
        }
        assert!(!items.is_empty(), "archive has no entries");
        Archive { items }
    }

    /// Parses tar or tar.gz bytes (by the gzip magic).
    pub fn from_bytes(bytes: &[u8]) -> Archive {
        if is_gzip(bytes) {
            Archive::from_tar(&gunzip(bytes))
        } else {
            Archive::from_tar(bytes)
        }
    }

    pub fn read(path: &Path) -> Archive {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Archive::from_bytes(&bytes)
    }

    pub fn get(&self, path: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.path == path)
    }

    pub fn paths(&self) -> Vec<&str> {
        self.items.iter().map(|i| i.path.as_str()).collect()
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == kind)
    }

    /// Follows `path` (absolute or relative to the archive root) through the
    /// archive's own entries, symbolic links included, as a loader in the
    /// image would. Returns the final entry, or why it cannot be reached.
    pub fn resolve(&self, path: &str) -> Result<&Item, String> {
        let map: HashMap<&str, &Item> = self.items.iter().map(|i| (i.path.as_str(), i)).collect();
        let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            match part.as_str() {
                "" | "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let mut here = done.clone();
            here.push(part.clone());
            let joined = here.join("/");
            let item = map
                .get(joined.as_str())
                .ok_or_else(|| format!("{path}: {joined} is not in the archive"))?;
            match item.kind {
                Kind::Symlink => {
                    hops += 1;
                    if hops > 40 {
                        return Err(format!("{path}: too many links"));
                    }
                    let target = item.link.clone().unwrap_or_default();
                    if target.starts_with('/') {
                        done.clear();
                    }
                    pending.extend(target.split('/').rev().map(str::to_string));
                }
                Kind::Dir => done.push(part),
                _ if pending.iter().all(|p| p.is_empty() || p == ".") => done.push(part),
                _ => return Err(format!("{path}: {joined} is not a directory")),
            }
        }
        let joined = done.join("/");
        map.get(joined.as_str())
            .copied()
            .ok_or_else(|| format!("{path}: resolves to the archive root"))
    }
}

/// `PT_INTERP` of an ELF file (ELF32 or ELF64, little or big endian), without a leading `/`.
pub fn interp(path: &Path) -> Option<String> {
    let b = fs::read(path).ok()?;
    if b.len() < 52 || &b[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = b[4] == 2;
    let le = b[5] == 1;
    let u16_at = |o: usize| -> Option<u64> {
        let s: [u8; 2] = b.get(o..o + 2)?.try_into().ok()?;
        Some(if le {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        } as u64)
    };
    let u32_at = |o: usize| -> Option<u64> {
        let s: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        } as u64)
    };
    let u64_at = |o: usize| -> Option<u64> {
        let s: [u8; 8] = b.get(o..o + 8)?.try_into().ok()?;
        Some(if le {
            u64::from_le_bytes(s)
        } else {
            u64::from_be_bytes(s)
        })
    };
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(32)?, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)?, u16_at(42)?, u16_at(44)?)
    };
    for i in 0..phnum {
        let ph = usize::try_from(phoff + i * phentsize).ok()?;
        if u32_at(ph)? != 3 {
            continue;
        }
        let (off, size) = if is64 {
            (u64_at(ph + 8)?, u64_at(ph + 32)?)
        } else {
            (u32_at(ph + 4)?, u32_at(ph + 16)?)
        };
        let s = b.get(usize::try_from(off).ok()?..usize::try_from(off + size).ok()?)?;
        let s = s.split(|&c| c == 0).next()?;
        return Some(
            String::from_utf8_lossy(s)
                .trim_start_matches('/')
                .to_string(),
        );
    }
    None
}

/// The `-v` listing: archive path -> source path, for the file lines
/// (`  PATH  <- SOURCE (ROLE)`).
pub fn verbose_sources(stderr: &str) -> HashMap<String, PathBuf> {
    let mut out = HashMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        let Some((path, source)) = rest.split_once("  <- ") else {
            continue;
        };
        let source = match source.rfind(" (") {
            Some(at) => &source[..at],
            None => source,
        };
        out.insert(path.to_string(), PathBuf::from(source));
    }
    out
}

/// Device and inode of a host file (following links).
pub fn file_id(path: &Path) -> (u64, u64) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
    (meta.dev(), meta.ino())
}

/// Bytes in decimal units, the way the summary line prints sizes.
pub fn human(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in ["kB", "MB", "GB", "TB"] {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// The summary line the tool should print for `archive` written to `name`.
pub fn expected_summary(name: &str, archive: &Archive, gzip_len: Option<u64>) -> String {
    let files = archive.of_kind(Kind::File).count();
    let links = archive.of_kind(Kind::Symlink).count();
    let size: u64 = archive.of_kind(Kind::File).map(|i| i.size).sum();
    let mut line = format!(
        "extract-elf-so: wrote {name}: {files} {}, {links} {}, {}",
        if files == 1 { "file" } else { "files" },
        if links == 1 { "link" } else { "links" },
        human(size)
    );
    if let Some(gz) = gzip_len {
        line.push_str(&format!(" ({} gzipped)", human(gz)));
    }
    line
}

/// Runs a command that must fail with `code`, print one `extract-elf-so:
/// error:` line naming every string of `names`, no panic, nothing on
/// stdout, and write nothing into `dir`. Returns the error line.
pub fn assert_fails(dir: &Path, args: &[OsString], code: i32, names: &[&str]) -> String {
    let before = super::common::listing(dir);
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code of {args:?}; stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout of {args:?}: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic for {args:?}:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "want one line for {args:?}, got:\n{stderr}");
    assert!(
        lines[0].starts_with("extract-elf-so: error: "),
        "{args:?}: {stderr}"
    );
    for name in names {
        assert!(
            lines[0].contains(name),
            "{args:?}: error should name {name:?}: {stderr}"
        );
    }
    assert_eq!(
        super::common::listing(dir),
        before,
        "{args:?} left files behind"
    );
    lines[0].to_string()
}

/// The fixture program that needs only libc.
pub fn hello() -> std::path::PathBuf {
    super::common::fixtures().join("hello/bin/hello")
}

/// The fixture program that needs libleaf through `$ORIGIN/../lib`.
pub fn hello_leaf() -> std::path::PathBuf {
    super::common::fixtures().join("hello/bin/hello-leaf")
}
