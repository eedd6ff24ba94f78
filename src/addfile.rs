//! Extra files: `--add-file SRC[:DEST]` and directory inputs.
//!
//! Files, links and whole trees are placed as given: links stay links, and
//! directories keep their modes. Every ELF file among them gets its libraries
//! resolved from its new place, like an input; a library that a program of
//! the same tree loads is resolved as part of that program. In a directory input, a link
//! that leads out of the tree must reach something else the archive holds
//! (brought in with `--add-file`); otherwise it would dangle in the image.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{self, Builder, Role};
use crate::resolve::{self, Closure, Context};

/// One `--add-file` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddFile {
    /// Host path of the file, link or directory.
    pub src: PathBuf,
    /// In-archive absolute path it goes to.
    pub dest: PathBuf,
}

impl AddFile {
    /// Parses `SRC[:DEST]`; DEST defaults to SRC's own absolute path.
    pub fn parse(spec: &OsStr) -> Result<AddFile> {
        let bytes = spec.as_bytes();
        let (src, dest) = match bytes.iter().position(|&b| b == b':') {
            Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
            None => (bytes, None),
        };
        let src = PathBuf::from(OsStr::from_bytes(src));
        if src.as_os_str().is_empty() {
            return Err(Error::Usage(format!(
                "--add-file {}: give SRC or SRC:DEST",
                spec.to_string_lossy()
            )));
        }
        let dest = match dest {
            Some(d) if !d.is_empty() => PathBuf::from(OsStr::from_bytes(d)),
            _ => std::path::absolute(&src).map_err(|e| Error::io(&src, e))?,
        };
        let dest = plan::archive_dir("--add-file", &dest)?;
        if dest == Path::new("/") {
            return Err(Error::Usage(format!(
                "--add-file {}: DEST cannot be the archive root",
                spec.to_string_lossy()
            )));
        }
        Ok(AddFile { src, dest })
    }
}

/// A link of a directory input that leads out of its tree.
#[derive(Debug, Clone)]
pub struct OutsideLink {
    /// In-archive path of the link.
    pub at: PathBuf,
    /// Host path of the link.
    pub src: PathBuf,
}

/// What adding a file or tree brought in.
#[derive(Debug, Default)]
pub struct Added {
    /// Closures of the ELF files found.
    pub closures: Vec<Closure>,
    /// Links that leave a directory input's tree, to check once everything is planned.
    pub outside: Vec<OutsideLink>,
}

/// Adds `src` (a file, link or directory on the host) at `dest`.
/// `tree_input` says it is a directory input, whose links must stay inside.
pub fn add(
    builder: &mut Builder,
    ctx: &Context,
    src: &Path,
    dest: &Path,
    role: Role,
    tree_input: bool,
) -> Result<Added> {
    let mut added = Added::default();
    let mut elves = Vec::new();
    let meta = fs::symlink_metadata(src).map_err(|e| Error::io(src, e))?;
    if !meta.is_dir() {
        add_one(builder, src, dest, role, &mut elves)?;
        resolve_elves(builder, ctx, elves, role, &mut added)?;
        return Ok(added);
    }
    let walk = walkdir::WalkDir::new(src)
        .follow_links(false)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(src).to_path_buf();
            match e.into_io_error() {
                Some(io) => Error::io(&path, io),
                None => Error::SymlinkLoop { path },
            }
        })?;
        let rel = entry.path().strip_prefix(src).unwrap_or(Path::new(""));
        let at = if rel.as_os_str().is_empty() {
            dest.to_path_buf()
        } else {
            dest.join(rel)
        };
        if entry.file_type().is_symlink() && tree_input {
            let target = fs::read_link(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            if leaves_tree(rel, &target) {
                added.outside.push(OutsideLink {
                    at: at.clone(),
                    src: entry.path().to_path_buf(),
                });
            }
        }
        add_one(builder, entry.path(), &at, role, &mut elves)?;
    }
    resolve_elves(builder, ctx, elves, role, &mut added)?;
    Ok(added)
}

/// Resolves the ELF files found, programs first: a library that a program
/// of the tree already loads is resolved as part of that program (it may
/// rely on the program's DT_RPATH); only the others are taken on their own.
fn resolve_elves(
    builder: &mut Builder,
    ctx: &Context,
    elves: Vec<(PathBuf, PathBuf)>,
    role: Role,
    added: &mut Added,
) -> Result<()> {
    let mut facts = Vec::with_capacity(elves.len());
    for (src, at) in elves {
        let f = crate::elf::read_facts(&src)?;
        facts.push((f.interp.is_none(), src, at));
    }
    // Programs (with an interpreter) first, in the walk's order.
    facts.sort_by_key(|(library, _, _)| *library);
    for (library, src, at) in facts {
        if library {
            let meta = fs::metadata(&src).map_err(|e| Error::io(&src, e))?;
            let id = (meta.dev(), meta.ino());
            let loaded = added
                .closures
                .iter()
                .any(|c| c.objects.iter().any(|o| o.id == id));
            if loaded {
                continue;
            }
        }
        let closure = resolve::resolve(ctx, &src, at)?;
        builder.add_closure(&closure, role)?;
        added.closures.push(closure);
    }
    Ok(())
}

/// Adds one file, link or directory; ELF files are noted in `elves` to be resolved.
fn add_one(
    builder: &mut Builder,
    src: &Path,
    at: &Path,
    role: Role,
    elves: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    let meta = fs::symlink_metadata(src).map_err(|e| Error::io(src, e))?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = fs::read_link(src).map_err(|e| Error::io(src, e))?;
        builder.add_link(at, &target, &meta, role)
    } else if kind.is_dir() {
        builder.add_dir(at, &meta, role)
    } else if kind.is_file() {
        builder.add_file(at, src, &meta, role)?;
        if is_elf(src)? {
            elves.push((src.to_path_buf(), at.to_path_buf()));
        }
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{}: not a regular file, link or directory",
            src.display()
        )))
    }
}

/// Whether a link at `rel` (relative to the tree's top) with `target` leads out of the tree.
fn leaves_tree(rel: &Path, target: &Path) -> bool {
    if target.is_absolute() {
        return true;
    }
    let mut depth: isize = rel.parent().map_or(0, |p| p.components().count() as isize);
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn is_elf(path: &Path) -> Result<bool> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let n = file.read(&mut magic).map_err(|e| Error::io(path, e))?;
    Ok(n == 4 && magic == *b"\x7fELF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let a = AddFile::parse(OsStr::new("redis.conf:/etc/redis/redis.conf")).unwrap();
        assert_eq!(a.src, PathBuf::from("redis.conf"));
        assert_eq!(a.dest, PathBuf::from("/etc/redis/redis.conf"));
        let b = AddFile::parse(OsStr::new("/usr/share/zoneinfo")).unwrap();
        assert_eq!(b.dest, PathBuf::from("/usr/share/zoneinfo"));
        let c = AddFile::parse(OsStr::new("x:etc/x")).unwrap();
        assert_eq!(c.dest, PathBuf::from("/etc/x"));
        assert!(AddFile::parse(OsStr::new("a:/../../etc/x")).is_err());
        assert!(AddFile::parse(OsStr::new(":/x")).is_err());
        assert!(AddFile::parse(OsStr::new("a:/")).is_err());
    }

    #[test]
    fn links_leaving_a_tree() {
        let cases = [
            ("a", "b", false),
            ("d/a", "../b", false),
            ("a", "../b", true),
            ("d/a", "../../b", true),
            ("a", "/etc/x", true),
            ("d/e/a", "../x/../../y", false),
        ];
        for (rel, target, want) in cases {
            assert_eq!(
                leaves_tree(Path::new(rel), Path::new(target)),
                want,
                "{rel} -> {target}"
            );
        }
    }
}
