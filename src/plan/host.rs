//! Planning from the disk: closures and in-root paths become tree entries,
//! with the metadata and links read from the root or the host.
//!
//! Libraries found inside the root keep the path the loader found them at,
//! with every symbolic link met on the way kept as a link (`lib64 ->
//! usr/lib64`, `libz.so.1 -> libz.so.1.2.13`), so the interpreter path and
//! merged-/usr layouts exist exactly. Inputs go to `--dest`, `--add` files to
//! `--sodir`, and moved libraries to the path the resolver chose.

use std::collections::HashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::entry::{Plan, Role};
use super::meta::FileMeta;
use super::request::Request;
use super::tree::Tree;
use crate::error::{Error, Result};
use crate::fsroot::{ArchivePath, Root};
use crate::resolve::{Closure, Loc, Via};

/// How many soname links in a row are kept for one moved library.
const MAX_SIBLING_LINKS: usize = 40;

/// The tree being planned and the root its files come from.
#[derive(Debug)]
pub struct Planner {
    root: Root,
    tree: Tree,
    /// In-root paths added with their links, with the strongest role they
    /// were added with: entries are never replaced, so adding one again with
    /// a role no stronger would change nothing (every input adds the loader
    /// and libc).
    rooted: HashMap<PathBuf, Role>,
}

impl Planner {
    /// A planner for files of `root`, with times clamped to `clamp`.
    pub fn new(root: Root, clamp: Option<u64>) -> Self {
        Planner {
            root,
            tree: Tree::new(clamp),
            rooted: HashMap::new(),
        }
    }

    /// The tree planned so far.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Keeps the setuid and setgid bits of files root does not own
    /// (see [`Tree::keep_setid`]).
    pub fn keep_setid(&mut self, keep: bool) {
        self.tree.keep_setid(keep);
    }

    /// Adds every object of a closure. Objects found in the root at the path
    /// they will have go in first, with their links, so that later entries
    /// are joined through those links; inputs and moved objects follow.
    pub fn add_closure(&mut self, closure: &Closure, input_role: Role) -> Result<()> {
        for file in &closure.loader_files {
            self.add_rooted(file, Role::LoaderConfig)?;
        }
        self.add_objects(closure, 0, input_role, Role::Library)
    }

    /// Adds the objects of a closure from index `from` on, libraries with `lib_role`.
    pub fn add_objects(
        &mut self,
        closure: &Closure,
        from: usize,
        input_role: Role,
        lib_role: Role,
    ) -> Result<()> {
        let to = closure.objects.len();
        self.add_object_range(closure, from, to, input_role, lib_role)
    }

    /// Adds the objects `from..to` of a closure, libraries with `lib_role`.
    fn add_object_range(
        &mut self,
        closure: &Closure,
        from: usize,
        to: usize,
        input_role: Role,
        lib_role: Role,
    ) -> Result<()> {
        // Every path an object is reached by: where it was found, and any
        // other path a search found the same file at.
        let mut places = Vec::new();
        let to = to.min(closure.objects.len());
        for object in &closure.objects[from.min(to)..to] {
            let role = match object.via {
                Via::Input => input_role,
                Via::Interpreter => Role::Interpreter,
                _ => lib_role,
            };
            places.push((&object.loc, &object.at, object, role));
            for (loc, at) in &object.aliases {
                places.push((loc, at, object, role));
            }
        }
        let (in_place, moved): (Vec<_>, Vec<_>) = places
            .into_iter()
            .partition(|(loc, at, _, _)| matches!(loc, Loc::InRoot(p) if p == at.as_path()));
        for (_, at, _, role) in in_place {
            self.add_rooted(at.as_path(), role)?;
        }
        for (loc, at, object, role) in moved {
            let meta = FileMeta::of(
                &fs::metadata(&object.source).map_err(|e| Error::io(&object.source, e))?,
            );
            if object.via == Via::Input {
                self.tree.add_file(at, &object.source, &meta, role, false)?;
                continue;
            }
            // Keep soname links that stay in their directory (libz.so.1 -> libz.so.1.2.13).
            let mut at = at.clone();
            if let Some(mut host) = self.host_of(loc) {
                for _ in 0..MAX_SIBLING_LINKS {
                    let Some(target) = sibling_link(&host) else {
                        break;
                    };
                    let link_meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
                    self.tree
                        .add_link(&at, &target, FileMeta::of(&link_meta).mtime, role)?;
                    at = at.with_file_name(&target);
                    host.set_file_name(&target);
                }
            }
            self.tree
                .add_file(&at, &object.source, &meta, role, false)?;
        }
        Ok(())
    }

    /// The host path of a located object, its directory followed inside the root.
    fn host_of(&self, loc: &Loc) -> Option<PathBuf> {
        match loc {
            Loc::Host(p) => Some(p.clone()),
            Loc::InRoot(p) => {
                let dir = self.root.follow(p.parent()?).ok()?;
                Some(self.root.to_host(&dir.real.join(p.file_name()?)))
            }
        }
    }

    /// Adds an in-root path as the loader reaches it: each link on the way as
    /// a link, then the file at its real path.
    pub fn add_rooted(&mut self, in_root: &Path, role: Role) -> Result<()> {
        if self.rooted.get(in_root).is_some_and(|added| *added <= role) {
            return Ok(());
        }
        let followed = self.root.follow(in_root)?;
        for link in &followed.links {
            let host = self.root.to_host(&link.path);
            let meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
            let at = ArchivePath::normalized(&link.path);
            self.tree
                .add_link(&at, &link.target, FileMeta::of(&meta).mtime, role)?;
        }
        let host = followed.file.ok_or_else(|| Error::NotRegularFile {
            path: self.root.to_host(&followed.real),
        })?;
        let meta = FileMeta::of(&fs::metadata(&host).map_err(|e| Error::io(&host, e))?);
        let at = ArchivePath::normalized(&followed.real);
        self.tree.add_file(&at, &host, &meta, role, true)?;
        self.rooted.insert(in_root.to_path_buf(), role);
        Ok(())
    }

    /// Carries out one request of an extra; `closures` are the run's.
    pub fn apply(&mut self, request: Request, closures: &[Closure]) -> Result<()> {
        match request {
            Request::File {
                at,
                source,
                meta,
                role,
            } => self.tree.add_file(&at, &source, &meta, role, false),
            Request::Link {
                at,
                target,
                mtime,
                role,
            } => self.tree.add_link(&at, &target, mtime, role),
            Request::Dir { at, meta, role } => self.tree.add_dir(&at, &meta, role),
            Request::MadeDir { at, mode } => self.tree.add_made_dir(&at, mode),
            Request::Generated { at, content, role } => self.tree.add_generated(&at, content, role),
            Request::LinkTo { at, to, role } => self.tree.add_link_to(&at, &to, role),
            Request::Rooted { path, role } => self.add_rooted(&path, role),
            Request::Objects { index, from, role } => {
                self.add_objects(&closures[index], from, role, role)
            }
            Request::ObjectRange {
                index,
                from,
                to,
                role,
            } => self.add_object_range(&closures[index], from, to, role, role),
        }
    }

    /// Finishes the plan.
    pub fn finish(self) -> Plan {
        self.tree.finish()
    }
}

/// The target of `path` when it is a link to another name in the same directory.
fn sibling_link(path: &Path) -> Option<PathBuf> {
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_symlink() {
        return None;
    }
    let target = fs::read_link(path).ok()?;
    let plain = target.components().count() == 1
        && matches!(target.components().next(), Some(Component::Normal(_)));
    plain.then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::{Node, merged_usr_tree};
    use std::os::unix::fs::symlink;

    #[test]
    fn links_in_the_root_become_links_and_content_is_stored_once() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("usr/lib")).unwrap();
        fs::write(t.join("usr/lib/libx.so.1.0"), b"x").unwrap();
        symlink("libx.so.1.0", t.join("usr/lib/libx.so.1")).unwrap();
        symlink("usr/lib", t.join("lib")).unwrap();
        let mut p = Planner::new(Root::new(t), Some(5));
        p.add_rooted(Path::new("/lib/libx.so.1"), Role::Library)
            .unwrap();
        // The same file again, moved elsewhere: stored as a link.
        let src = t.join("usr/lib/libx.so.1.0");
        let meta = FileMeta::of(&fs::metadata(&src).unwrap());
        let at = |p: &str| ArchivePath::normalized(Path::new(p));
        let request = |path: &str, role| Request::File {
            at: at(path),
            source: src.clone(),
            meta,
            role,
        };
        p.apply(request("/opt/libx.so.1", Role::Library), &[])
            .unwrap();
        // Joined through the tree's own link: lands in usr/lib.
        p.apply(request("/lib/other", Role::Added), &[]).unwrap();
        let plan = p.finish();
        let got: Vec<(String, Node)> = plan
            .entries
            .iter()
            .map(|e| (e.path.relative().display().to_string(), e.node.clone()))
            .collect();
        let link = |t: &str| Node::Symlink { target: t.into() };
        let want = vec![
            ("lib".to_string(), link("usr/lib")),
            ("opt".into(), Node::Dir),
            ("opt/libx.so.1".into(), link("../usr/lib/libx.so.1.0")),
            ("usr".into(), Node::Dir),
            ("usr/lib".into(), Node::Dir),
            ("usr/lib/libx.so.1".into(), link("libx.so.1.0")),
            (
                "usr/lib/libx.so.1.0".into(),
                Node::File {
                    source: src.clone(),
                    size: 1,
                },
            ),
            ("usr/lib/other".into(), link("libx.so.1.0")),
        ];
        assert_eq!(got, want);
        assert!(plan.entries.iter().all(|e| e.mtime <= 5));
    }

    #[test]
    fn a_rooted_path_added_again_keeps_the_strongest_role() {
        let tmp = merged_usr_tree();
        let t = tmp.path();
        let roles = |adds: &[Role]| {
            let mut p = Planner::new(Root::new(t), None);
            for role in adds {
                p.add_rooted(Path::new("/lib/libx.so.1"), *role).unwrap();
            }
            let plan = p.finish();
            let role_of = |path: &str| {
                plan.entries
                    .iter()
                    .find(|e| e.path.relative() == Path::new(path))
                    .unwrap()
                    .role
            };
            (role_of("lib"), role_of("usr/lib/libx.so.1"))
        };
        let (library, interpreter) = (Role::Library, Role::Interpreter);
        assert_eq!(roles(&[library]), (library, library));
        assert_eq!(roles(&[library, interpreter]), (interpreter, interpreter));
        assert_eq!(
            roles(&[interpreter, library, Role::Nss]),
            (interpreter, interpreter)
        );
    }
}
