//! Reading back the archives the tool writes, with the `tar` crate: every
//! entry in archive order with its header fields and content, and paths
//! followed through the archive's own symbolic links, as `tar`, `chroot` and
//! the image's loader would see them. Also unpacking an archive into a
//! directory.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path};

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use super::elf::elf_header;

/// How many links one lookup in the archive may follow.
const MAX_LINKS: usize = 40;

/// What an archive entry is: the tool writes nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
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
    /// The target of a symbolic link.
    pub link: Option<String>,
    /// The content of a regular file (empty for the others).
    pub data: Vec<u8>,
}

/// A whole archive, in order (with repeats, if the archive has any).
#[derive(Debug, Clone)]
pub struct Archive {
    pub items: Vec<Item>,
}

pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Decompresses gzip bytes, every member of them (the tool writes one per
/// 1 MiB of tar), panicking if they are not a valid gzip stream.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    assert!(
        is_gzip(bytes),
        "not gzip: starts with {:02x?}",
        &bytes[..bytes.len().min(4)]
    );
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip stream");
    out
}

impl Archive {
    /// Parses tar bytes. Panics unless they are a valid archive of at least
    /// one entry whose paths are relative and free of `..`, holding only
    /// directories, regular files and symbolic links with a target.
    pub fn from_tar(bytes: &[u8]) -> Archive {
        assert!(!bytes.is_empty(), "empty archive");
        assert_eq!(bytes.len() % 512, 0, "tar length is not a multiple of 512");
        let mut archive = tar::Archive::new(bytes);
        let mut items = Vec::new();
        for entry in archive.entries().expect("tar entries") {
            let mut entry = entry.expect("tar entry");
            let header = entry.header().clone();
            let raw = entry.path().expect("entry path").into_owned();
            let path = raw.to_string_lossy().trim_end_matches('/').to_string();
            assert!(
                !path.is_empty() && !path.starts_with('/'),
                "archive entry with an empty or absolute path: {raw:?}"
            );
            assert!(
                raw.components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
                "archive entry path with '..' or a root: {raw:?}"
            );
            let kind = match header.entry_type() {
                EntryType::Regular => Kind::File,
                EntryType::Directory => Kind::Dir,
                EntryType::Symlink => Kind::Symlink,
                other => panic!("{path}: unexpected entry type {other:?}"),
            };
            let link = entry
                .link_name()
                .expect("link name")
                .map(|l| l.to_string_lossy().into_owned());
            assert!(
                kind != Kind::Symlink || link.is_some(),
                "{path}: a symlink entry without a target"
            );
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

    /// Reads a tar or tar.gz file (by the gzip magic).
    pub fn read(path: &Path) -> Archive {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Archive::from_bytes(&bytes)
    }

    /// Reads a file that must be a plain tar archive.
    pub fn read_tar(path: &Path) -> Archive {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        Archive::from_tar(&bytes)
    }

    /// The entry stored exactly at `path` (no link following).
    pub fn get(&self, path: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.path == path)
    }

    /// The entry stored exactly at `path`; panics with the listing if there is none.
    pub fn entry(&self, path: &str) -> &Item {
        self.get(path)
            .unwrap_or_else(|| panic!("{path} is not in the archive:\n{}", self.dump()))
    }

    /// Paths in archive order.
    pub fn paths(&self) -> Vec<&str> {
        self.items.iter().map(|i| i.path.as_str()).collect()
    }

    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.kind == kind)
    }

    /// Follows `path` (absolute or relative to the archive root) through the
    /// archive's own entries, symbolic links included, as a process chrooted
    /// into the unpacked archive would: absolute targets start at the
    /// archive root. Returns the final entry, or why it cannot be reached.
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
                    if hops > MAX_LINKS {
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

    /// The regular file `path` leads to through the archive's links; panics
    /// with the listing if it leads to nothing or to something else.
    pub fn file(&self, path: &str) -> &Item {
        let item = self
            .resolve(path)
            .unwrap_or_else(|e| panic!("{e}\narchive:\n{}", self.dump()));
        assert_eq!(
            item.kind,
            Kind::File,
            "{path} leads to {}, which is not a regular file\narchive:\n{}",
            item.path,
            self.dump()
        );
        item
    }

    /// Whether `path` leads to a regular file.
    pub fn is_file(&self, path: &str) -> bool {
        self.resolve(path).is_ok_and(|i| i.kind == Kind::File)
    }

    /// Paths of the entries that are not directories.
    pub fn non_dirs(&self) -> BTreeSet<String> {
        self.items
            .iter()
            .filter(|i| i.kind != Kind::Dir)
            .map(|i| i.path.clone())
            .collect()
    }

    /// Sorted paths of the files and links whose last component is `name`.
    pub fn named(&self, name: &str) -> Vec<String> {
        self.non_dirs()
            .into_iter()
            .filter(|p| basename(p) == name)
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
        self.of_kind(Kind::File)
            .filter_map(|i| {
                elf_header(&i.data).map(|(class, machine)| (i.path.clone(), class, machine))
            })
            .collect()
    }

    /// A listing for failure messages, like `tar -tv`.
    pub fn dump(&self) -> String {
        let mut s = String::new();
        for i in &self.items {
            let _ = match i.kind {
                Kind::Dir => writeln!(s, "  {}/", i.path),
                Kind::File => writeln!(s, "  {}  ({} bytes, mode {:o})", i.path, i.size, i.mode),
                Kind::Symlink => writeln!(
                    s,
                    "  {} -> {}",
                    i.path,
                    i.link.as_deref().unwrap_or_default()
                ),
            };
        }
        s
    }
}

/// The last component of a `/`-separated path.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Unpacks the archive at `tar_path` (plain or gzip) into `dir` with the
/// `tar` crate, keeping links, modes and times, as `docker import` would.
pub fn unpack(tar_path: &Path, dir: &Path) {
    fs::create_dir_all(dir).expect("creating the unpack directory");
    let file = File::open(tar_path).unwrap_or_else(|e| panic!("{}: {e}", tar_path.display()));
    let mut file = BufReader::new(file);
    let magic = file
        .fill_buf()
        .unwrap_or_else(|e| panic!("{}: {e}", tar_path.display()));
    let stream: Box<dyn Read> = if is_gzip(magic) {
        Box::new(MultiGzDecoder::new(file))
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
