//! What the output path really is, and the outputs refused before anything
//! is written.
//!
//! A symbolic link given as the output is written through, as shells and GNU
//! tar do: the file replaced is the link's target, and the link stays. A
//! terminal is refused whatever path names it. The archive may not be
//! written over a file it packs (compared by device and inode, as GNU tar
//! refuses "file is the archive"), nor be created inside a directory it
//! packs whole, where the next run would pack it.

use std::fs::{self, Metadata};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::elf::FileId;
use crate::error::{Error, Result};
use crate::fsroot::Node;
use crate::plan::Planned;

/// How many links an output path may lead through (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;
/// How many `..` steps are taken looking for a packed directory above the output.
const MAX_DEPTH: usize = 1000;

/// The file an output path names, links followed.
#[derive(Debug)]
pub(super) struct Target {
    /// The path to write: the given one, or the end of its chain of links.
    pub path: PathBuf,
    /// What is there now, if anything (never a link).
    pub meta: Option<Metadata>,
}

impl Target {
    /// Follows the links of `path`'s last name (the directories before it
    /// the kernel follows itself). A dangling link gives the path it points
    /// to, which is then created.
    pub fn resolve(path: &Path) -> Result<Target> {
        if path.as_os_str().as_bytes().ends_with(b"/") {
            return Err(Error::OutputIsDirectory {
                path: path.to_path_buf(),
            });
        }
        let mut at = path.to_path_buf();
        for _ in 0..=MAX_LINKS {
            let meta = match fs::symlink_metadata(&at) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Target {
                        path: at,
                        meta: None,
                    });
                }
                Err(e) => return Err(Error::io(&at, e)),
            };
            if !meta.file_type().is_symlink() {
                if meta.is_dir() {
                    return Err(Error::OutputIsDirectory { path: at });
                }
                return Ok(Target {
                    path: at,
                    meta: Some(meta),
                });
            }
            let link = fs::read_link(&at).map_err(|e| Error::io(&at, e))?;
            at = match at.parent() {
                Some(dir) if link.is_relative() => dir.join(link),
                _ => link,
            };
        }
        Err(Error::SymlinkLoop {
            path: path.to_path_buf(),
        })
    }

    /// Whether there is a regular file to replace.
    pub fn existing_file(&self) -> Option<&Metadata> {
        self.meta.as_ref().filter(|m| m.is_file())
    }

    /// The directory the file is (or will be) in.
    pub fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

/// Refuses an output that is a file of the plan, or that would be created
/// inside a directory packed whole. `out` names the output in errors;
/// `existing` is what is there now (a regular file to compare), `dir` the
/// directory it is (or will be) in.
pub(super) fn refuse_packed(
    planned: &Planned,
    out: &Path,
    existing: Option<&Metadata>,
    dir: Option<&Path>,
) -> Result<()> {
    if let Some(meta) = existing.filter(|m| m.is_file()) {
        let id = FileId::of(meta);
        for entry in &planned.plan.entries {
            let Node::File { source, .. } = &entry.node else {
                continue;
            };
            if fs::metadata(source).is_ok_and(|m| FileId::of(&m) == id) {
                return Err(Error::OutputIsPacked {
                    path: out.to_path_buf(),
                    packed: source.clone(),
                });
            }
        }
    }
    if let Some(dir) = dir
        && let Some(packed) = packed_dir_holding(dir, &planned.packed_dirs)
    {
        return Err(Error::OutputInPackedDir {
            path: out.to_path_buf(),
            dir: packed,
        });
    }
    Ok(())
}

/// The directory of `packed` that is `dir` or holds it at any depth, by
/// device and inode: `..` is followed up to `/`, so neither a link nor a
/// relative path can hide it.
fn packed_dir_holding(dir: &Path, packed: &[PathBuf]) -> Option<PathBuf> {
    let ids: Vec<(FileId, &PathBuf)> = packed
        .iter()
        .filter_map(|d| fs::metadata(d).ok().map(|m| (FileId::of(&m), d)))
        .collect();
    if ids.is_empty() {
        return None;
    }
    let mut at = dir.to_path_buf();
    let mut id = FileId::of(&fs::metadata(&at).ok()?);
    for _ in 0..MAX_DEPTH {
        if let Some((_, d)) = ids.iter().find(|(i, _)| *i == id) {
            return Some(d.to_path_buf());
        }
        let up = at.join("..");
        let up_id = FileId::of(&fs::metadata(&up).ok()?);
        if up_id == id {
            return None;
        }
        (at, id) = (up, up_id);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_are_followed_to_the_file_they_name() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::write(t.join("file"), b"x").unwrap();
        fs::create_dir(t.join("d")).unwrap();
        symlink("file", t.join("rel")).unwrap();
        symlink(t.join("rel"), t.join("abs")).unwrap();
        symlink("../nothing", t.join("d/dangling")).unwrap();
        symlink("d", t.join("dirlink")).unwrap();
        symlink("loop", t.join("loop")).unwrap();

        let got = Target::resolve(&t.join("abs")).unwrap();
        assert_eq!(got.path, t.join("file"));
        assert!(got.existing_file().is_some());
        let got = Target::resolve(&t.join("d/dangling")).unwrap();
        assert_eq!(got.path, t.join("d/../nothing"));
        assert!(got.meta.is_none());
        assert_eq!(got.dir(), t.join("d/.."));
        assert!(matches!(
            Target::resolve(&t.join("dirlink")),
            Err(Error::OutputIsDirectory { .. })
        ));
        assert!(matches!(
            Target::resolve(&t.join("new/")),
            Err(Error::OutputIsDirectory { .. })
        ));
        assert!(matches!(
            Target::resolve(&t.join("loop")),
            Err(Error::SymlinkLoop { .. })
        ));
        assert_eq!(
            Target::resolve(Path::new("x")).unwrap().dir(),
            Path::new(".")
        );
    }

    #[test]
    fn a_packed_directory_is_found_above_at_any_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("app/a/b")).unwrap();
        fs::create_dir(t.join("other")).unwrap();
        symlink(t.join("app/a"), t.join("other/into")).unwrap();
        let packed = vec![t.join("app")];
        for inside in ["app", "app/a/b", "other/into", "other/into/b/.."] {
            assert_eq!(
                packed_dir_holding(&t.join(inside), &packed),
                Some(t.join("app")),
                "{inside}"
            );
        }
        assert_eq!(packed_dir_holding(&t.join("other"), &packed), None);
        assert_eq!(packed_dir_holding(t, &packed), None);
        assert_eq!(packed_dir_holding(&t.join("app"), &[]), None);
    }
}
