//! Extra files: `--add-file SRC[:DEST]` and directory inputs.
//!
//! Files, links and whole trees are placed as given: links stay links, and
//! directories keep their modes. Every ELF file among them gets its libraries
//! resolved from its new place, like an input; a library that a program of
//! the same tree loads is resolved as part of that program. In a directory
//! input, a link that leads out of the tree must reach something else the
//! archive holds (brought in with `--add-file`), and so must a link added
//! by itself; otherwise it would dangle in the image. Every such link is
//! checked once the plan is complete ([`dangling`]), and all that would
//! dangle are reported together.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::elf::FileId;
use crate::error::{DanglingLink, Error, Result};
use crate::fsroot::{ArchivePath, normalize};
use crate::plan::{FileMeta, Request, Role, Tree};
use crate::resolve::{self, Closure, Context};

/// A link that must reach something else the archive holds: one of a
/// directory input that leads out of its tree, or one added by itself.
#[derive(Debug, Clone)]
pub struct OutsideLink {
    pub at: ArchivePath,
    /// Host path of the link.
    pub src: PathBuf,
    /// Its target, as stored.
    pub target: PathBuf,
}

/// What adding a file or tree brings in.
#[derive(Debug, Default)]
pub struct Added {
    /// Its files, links and directories, in order.
    pub requests: Vec<Request>,
    /// Closures of the ELF files among them, to plan after them.
    pub closures: Vec<Closure>,
    /// Links that leave a directory input's tree, or the link added, to
    /// check once everything is planned.
    pub outside: Vec<OutsideLink>,
    /// The host directory walked, when a whole tree was added.
    pub walked: Option<PathBuf>,
}

/// What adding `src` (a file, link or directory on the host) at `dest`
/// brings in. `tree_input` says it is a directory input, whose links must
/// stay inside.
pub fn add(
    ctx: &Context,
    src: &Path,
    dest: &ArchivePath,
    role: Role,
    tree_input: bool,
) -> Result<Added> {
    let mut added = Added::default();
    let mut elves = Vec::new();
    // A directory input given by a symbolic link is the directory it names:
    // with a trailing `/`, every look at the top follows the link.
    let src = &if tree_input {
        src.join("")
    } else {
        src.to_path_buf()
    };
    let meta = fs::symlink_metadata(src).map_err(|e| Error::io(src, e))?;
    if !meta.is_dir() {
        if meta.file_type().is_symlink() {
            let target = fs::read_link(src).map_err(|e| Error::io(src, e))?;
            added.outside.push(OutsideLink {
                at: dest.clone(),
                src: src.to_path_buf(),
                target,
            });
        }
        added.requests.push(request(src, dest, role, &mut elves)?);
        resolve_elves(ctx, elves, &mut added)?;
        return Ok(added);
    }
    added.walked = Some(src.to_path_buf());
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
            dest.clone()
        } else {
            ArchivePath::normalized(&dest.as_path().join(rel))
        };
        if entry.file_type().is_symlink() && tree_input {
            let target = fs::read_link(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            if leaves_tree(rel, &target) {
                added.outside.push(OutsideLink {
                    at: at.clone(),
                    src: entry.path().to_path_buf(),
                    target,
                });
            }
        }
        added
            .requests
            .push(request(entry.path(), &at, role, &mut elves)?);
    }
    resolve_elves(ctx, elves, &mut added)?;
    Ok(added)
}

/// Fails with every link of `links` that leads to nothing in the planned
/// `tree`, each with what its target is on the host (or that it dangles
/// there too).
pub fn dangling(links: &[OutsideLink], tree: &Tree) -> Result<()> {
    let mut found: Vec<DanglingLink> = Vec::new();
    for link in links {
        if tree.has(&link.at) {
            continue;
        }
        let reaches = normalize(
            &link
                .at
                .as_path()
                .parent()
                .unwrap_or(Path::new("/"))
                .join(&link.target),
        );
        let dangling = DanglingLink {
            link: std::path::absolute(&link.src).unwrap_or_else(|_| link.src.clone()),
            at: link.at.as_path().to_path_buf(),
            target: link.target.clone(),
            reaches,
            host: fs::canonicalize(&link.src).ok(),
        };
        if !found.contains(&dangling) {
            found.push(dangling);
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        found.sort_by(|a, b| a.at.cmp(&b.at));
        Err(Error::DanglingLinks(found))
    }
}

/// Resolves the ELF files found, programs first: a library that a program
/// of the tree already loads is resolved as part of that program (it may
/// rely on the program's DT_RPATH); only the others are taken on their own.
fn resolve_elves(
    ctx: &Context,
    elves: Vec<(PathBuf, ArchivePath)>,
    added: &mut Added,
) -> Result<()> {
    let mut facts = Vec::with_capacity(elves.len());
    for (src, at) in elves {
        let f = crate::elf::read_elf(&src)?.facts?;
        // Object files, core files and the like are packed as they are.
        if crate::elf::unloadable(&f).is_none() {
            facts.push((f.interp.is_none(), src, at));
        }
    }
    // Programs (with an interpreter) first, in the walk's order.
    facts.sort_by_key(|(library, _, _)| *library);
    for (library, src, at) in facts {
        if library {
            let meta = fs::metadata(&src).map_err(|e| Error::io(&src, e))?;
            let id = FileId::of(&meta);
            let loaded = added
                .closures
                .iter()
                .any(|c| c.objects.iter().any(|o| o.id == id));
            if loaded {
                continue;
            }
        }
        added.closures.push(resolve::input(ctx, &src, at)?);
    }
    Ok(())
}

/// The request for one file, link or directory; ELF files are noted in
/// `elves` to be resolved.
fn request(
    src: &Path,
    at: &ArchivePath,
    role: Role,
    elves: &mut Vec<(PathBuf, ArchivePath)>,
) -> Result<Request> {
    let meta = fs::symlink_metadata(src).map_err(|e| Error::io(src, e))?;
    if meta.is_file() && is_elf(src)? {
        elves.push((src.to_path_buf(), at.clone()));
    }
    host_request(src, &meta, at.clone(), role)?.ok_or_else(|| Error::UnsupportedFileType {
        path: src.to_path_buf(),
    })
}

/// The host file, link or directory `src`, whose metadata (of the link
/// itself, for a link) is `meta`, as it is at `at`: `None` for another kind
/// of file (a device, a socket, a FIFO).
pub fn host_request(
    src: &Path,
    meta: &fs::Metadata,
    at: ArchivePath,
    role: Role,
) -> Result<Option<Request>> {
    let kind = meta.file_type();
    let request = if kind.is_symlink() {
        let target = fs::read_link(src).map_err(|e| Error::io(src, e))?;
        Request::Link {
            at,
            target,
            mtime: FileMeta::of(meta).mtime,
            role,
        }
    } else if kind.is_dir() {
        Request::Dir {
            at,
            meta: FileMeta::of(meta),
            role,
        }
    } else if kind.is_file() {
        Request::File {
            at,
            source: src.to_path_buf(),
            meta: FileMeta::of(meta),
            role,
        }
    } else {
        return Ok(None);
    };
    Ok(Some(request))
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
    fn a_directory_input_given_by_a_link_is_walked_through_it() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("tree/sub")).unwrap();
        fs::write(t.join("tree/sub/file"), b"x").unwrap();
        std::os::unix::fs::symlink("tree", t.join("link")).unwrap();
        let ctx = Context::new(crate::fsroot::Root::host(), Vec::new());
        let at = ArchivePath::normalized(Path::new("/srv/link"));
        let added = add(&ctx, &t.join("link"), &at, Role::Input, true).unwrap();
        let paths: Vec<String> = added
            .requests
            .iter()
            .map(|r| match r {
                Request::Dir { at, .. } => format!("dir {at}"),
                Request::File { at, .. } => format!("file {at}"),
                other => format!("{other:?}"),
            })
            .collect();
        let want = [
            "dir /srv/link",
            "dir /srv/link/sub",
            "file /srv/link/sub/file",
        ];
        assert_eq!(paths, want);
        // Given with --add-file, a link stays a link.
        let added = add(&ctx, &t.join("link"), &at, Role::Extra, false).unwrap();
        assert!(matches!(added.requests[..], [Request::Link { .. }]));
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
