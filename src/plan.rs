//! The archive plan: every entry of the archive, decided before anything is written.
//!
//! The plan is a small file tree. Libraries found inside the root keep the
//! path the loader found them at, with every symbolic link met on the way
//! kept as a link (`lib64 -> usr/lib64`, `libz.so.1 -> libz.so.1.2.13`), so
//! the interpreter path and merged-/usr layouts exist exactly. Inputs go to
//! `--dest`, `--add` files to `--sodir`, and moved libraries to the path the
//! resolver chose. Paths are joined through links already in the tree, and
//! when several paths lead to one file its content is stored once: the other
//! paths become relative links to it (an input always keeps its content, since
//! a program's `$ORIGIN` is its real directory).

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::resolve::{Closure, Loc, Via};
use crate::root::Root;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    /// A regular file whose content is read from `source` (a host path).
    File {
        source: PathBuf,
        size: u64,
    },
    /// A regular file written by this tool (such as `etc/nsswitch.conf`).
    Generated {
        content: Vec<u8>,
    },
    Symlink {
        target: PathBuf,
    },
}

/// Why an entry is in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Input,
    Interpreter,
    Library,
    /// A file given with `--add`.
    Added,
    /// What host name lookup needs (`--nss-net`).
    Nss,
    /// The CA bundle and its well-known paths (`--cert`).
    Cert,
    /// A file, link or tree given with `--add-file` or as a directory input.
    Extra,
    /// A file the image's loader reads (musl's path file).
    LoaderConfig,
    /// A directory made to hold other entries.
    Parent,
}

impl Role {
    /// A short word for listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Input => "input",
            Role::Interpreter => "interpreter",
            Role::Library => "library",
            Role::Added => "added",
            Role::Nss => "nss",
            Role::Cert => "cert",
            Role::Extra => "extra",
            Role::LoaderConfig => "loader config",
            Role::Parent => "directory",
        }
    }
}

/// One archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative path inside the archive: no leading `/`, no `.` or `..`.
    pub path: PathBuf,
    pub kind: Kind,
    /// Permission bits (with setuid/setgid/sticky).
    pub mode: u32,
    pub mtime: u64,
    pub role: Role,
}

/// Everything the writer will store, in archive order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub entries: Vec<Entry>,
}

impl Plan {
    /// Total size of file contents.
    pub fn content_size(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| match &e.kind {
                Kind::File { size, .. } => *size,
                Kind::Generated { content } => content.len() as u64,
                _ => 0,
            })
            .sum()
    }

    /// Number of regular files.
    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::File { .. } | Kind::Generated { .. }))
            .count()
    }
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    mode: u32,
    mtime: u64,
    role: Role,
    id: Option<(u64, u64)>,
    /// Stored at its own real path in the root (preferred to hold content).
    rooted: bool,
}

/// Builds a plan from closures and `--add` placements.
#[derive(Debug)]
pub struct Builder {
    root: Root,
    /// Clamp for modification times (`SOURCE_DATE_EPOCH`).
    clamp: Option<u64>,
    nodes: BTreeMap<PathBuf, Node>,
    /// In-root paths added with their links, with the strongest role they
    /// were added with: nodes are never replaced, so adding one again with a
    /// role no stronger would change nothing (every input adds the loader
    /// and libc).
    rooted: HashMap<PathBuf, Role>,
}

const MAX_TREE_LINKS: usize = 40;

impl Builder {
    pub fn new(root: Root, clamp: Option<u64>) -> Self {
        Builder {
            root,
            clamp,
            nodes: BTreeMap::new(),
            rooted: HashMap::new(),
        }
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
        // Every path an object is reached by: where it was found, and any
        // other path a search found the same file at.
        let mut places = Vec::new();
        for object in &closure.objects[from.min(closure.objects.len())..] {
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
            .partition(|(loc, at, _, _)| matches!(loc, Loc::InRoot(p) if p == *at));
        for (_, at, _, role) in in_place {
            self.add_rooted(at, role)?;
        }
        for (loc, at, object, role) in moved {
            let meta = fs::metadata(&object.source).map_err(|e| Error::io(&object.source, e))?;
            if object.via == Via::Input {
                self.add_file(at, &object.source, &meta, role)?;
                continue;
            }
            // Keep soname links that stay in their directory (libz.so.1 -> libz.so.1.2.13).
            let mut at = at.clone();
            if let Some(mut host) = self.host_of(loc) {
                for _ in 0..MAX_TREE_LINKS {
                    let Some(target) = sibling_link(&host) else {
                        break;
                    };
                    let link_meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
                    self.add_link(&at, &target, &link_meta, role)?;
                    at.set_file_name(&target);
                    host.set_file_name(&target);
                }
            }
            self.add_file(&at, &object.source, &meta, role)?;
        }
        Ok(())
    }

    /// The host path of a located object, its directory resolved inside the root.
    fn host_of(&self, loc: &Loc) -> Option<PathBuf> {
        match loc {
            Loc::Host(p) => Some(p.clone()),
            Loc::InRoot(p) => {
                let dir = self.root.resolve(p.parent()?).ok()?;
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
        let resolved = self.root.resolve(in_root)?;
        for link in &resolved.links {
            let host = self.root.to_host(&link.path);
            let meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
            self.add_link(&link.path, &link.target, &meta, role)?;
        }
        let host = resolved.file.ok_or_else(|| {
            Error::Invalid(format!(
                "{}: not a regular file",
                self.root.to_host(&resolved.real).display()
            ))
        })?;
        let meta = fs::metadata(&host).map_err(|e| Error::io(&host, e))?;
        self.file_node(&resolved.real, &host, &meta, role, true)?;
        self.rooted.insert(in_root.to_path_buf(), role);
        Ok(())
    }

    /// Adds a regular file at `at` (in-archive, absolute) with content from `source`.
    pub fn add_file(
        &mut self,
        at: &Path,
        source: &Path,
        meta: &Metadata,
        role: Role,
    ) -> Result<()> {
        self.file_node(at, source, meta, role, false)
    }

    fn file_node(
        &mut self,
        at: &Path,
        source: &Path,
        meta: &Metadata,
        role: Role,
        rooted: bool,
    ) -> Result<()> {
        let at = self.place(at)?;
        let node = Node {
            kind: Kind::File {
                source: source.to_path_buf(),
                size: meta.len(),
            },
            mode: meta.mode() & 0o7777,
            mtime: self.mtime(meta),
            role,
            id: Some((meta.dev(), meta.ino())),
            rooted,
        };
        self.insert(at, node)
    }

    /// Adds a file written by this tool, with mode 0644.
    pub fn add_generated(&mut self, at: &Path, content: Vec<u8>, role: Role) -> Result<()> {
        let at = self.place(at)?;
        let node = Node {
            kind: Kind::Generated { content },
            mode: 0o644,
            // Set to the plan's directory time when finished, like directories.
            mtime: 0,
            role,
            id: None,
            rooted: false,
        };
        self.insert(at, node)
    }

    /// Adds a directory with the mode and time of `meta`.
    pub fn add_dir(&mut self, at: &Path, meta: &Metadata, role: Role) -> Result<()> {
        let at = self.make_dir(at, 0)?;
        let mtime = self.mtime(meta);
        if let Some(node) = self.nodes.get_mut(&at) {
            node.mode = meta.mode() & 0o7777;
            node.mtime = mtime;
            node.role = node.role.min(role);
        }
        Ok(())
    }

    /// Whether the tree has an entry at `at`, links followed.
    pub fn has(&self, at: &Path) -> bool {
        self.resolve(at).is_ok()
    }

    /// Resolves the links of an in-archive path inside the tree.
    fn resolve(&self, at: &Path) -> Result<crate::root::Resolved> {
        use crate::root::{Stat, resolve_by};
        let stat = |p: &Path| match self.nodes.get(p).map(|n| &n.kind) {
            Some(Kind::Dir) => Ok(Stat::Dir),
            Some(Kind::File { source, .. }) => Ok(Stat::File(source.clone())),
            Some(Kind::Generated { .. }) => Ok(Stat::Other),
            Some(Kind::Symlink { target }) => Ok(Stat::Link(target.clone())),
            None if p == Path::new("/") => Ok(Stat::Dir),
            None => Err(Error::io(
                p,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
        };
        resolve_by(at, stat, Path::to_path_buf)
    }

    /// Adds a relative link at `at` to the entry at `to`, both in-archive;
    /// `to` must already be in the tree.
    pub fn add_link_to(&mut self, at: &Path, to: &Path, role: Role) -> Result<()> {
        let real = self.resolve(to)?.real;
        let mtime = self.nodes.get(&real).map_or(0, |n| n.mtime);
        let at = self.place(at)?;
        let node = Node {
            kind: Kind::Symlink {
                target: relative_link(&at, &real),
            },
            mode: 0o777,
            mtime,
            role,
            id: None,
            rooted: false,
        };
        self.insert(at, node)
    }

    /// Adds a symbolic link at `at`.
    pub fn add_link(
        &mut self,
        at: &Path,
        target: &Path,
        meta: &Metadata,
        role: Role,
    ) -> Result<()> {
        let at = self.place(at)?;
        let node = Node {
            kind: Kind::Symlink {
                target: target.to_path_buf(),
            },
            mode: 0o777,
            mtime: self.mtime(meta),
            role,
            id: None,
            rooted: true,
        };
        self.insert(at, node)
    }

    fn mtime(&self, meta: &Metadata) -> u64 {
        let mtime = u64::try_from(meta.mtime()).unwrap_or(0);
        match self.clamp {
            Some(clamp) => mtime.min(clamp),
            None => mtime,
        }
    }

    fn insert(&mut self, at: PathBuf, node: Node) -> Result<()> {
        match self.nodes.get_mut(&at) {
            None => {
                self.nodes.insert(at, node);
                Ok(())
            }
            Some(old) if old.kind == node.kind || (old.id.is_some() && old.id == node.id) => {
                // The same thing reached twice: keep the stronger role (an input stays an input).
                old.role = old.role.min(node.role);
                old.rooted |= node.rooted;
                Ok(())
            }
            Some(old) => Err(Error::Conflict {
                path: archive_name(&at),
                first: describe(&old.kind),
                second: describe(&node.kind),
            }),
        }
    }

    /// The real in-tree path for `at`: parents are created as directories or
    /// followed through links already in the tree.
    fn place(&mut self, at: &Path) -> Result<PathBuf> {
        let name = at
            .file_name()
            .ok_or_else(|| Error::Invalid(format!("{}: not a file path", at.display())))?
            .to_os_string();
        let parent = at.parent().unwrap_or(Path::new("/"));
        let dir = self.make_dir(parent, 0)?;
        Ok(dir.join(name))
    }

    fn make_dir(&mut self, dir: &Path, depth: usize) -> Result<PathBuf> {
        if depth > MAX_TREE_LINKS {
            return Err(Error::SymlinkLoop {
                path: dir.to_path_buf(),
            });
        }
        let mut done = PathBuf::from("/");
        let parts: Vec<OsString> = dir
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some("..".into()),
                _ => None,
            })
            .collect();
        for (i, part) in parts.iter().enumerate() {
            if part == ".." {
                done.pop();
                continue;
            }
            let next = done.join(part);
            match self.nodes.get(&next).map(|n| n.kind.clone()) {
                None => {
                    self.nodes.insert(
                        next.clone(),
                        Node {
                            kind: Kind::Dir,
                            mode: 0o755,
                            mtime: 0,
                            role: Role::Parent,
                            id: None,
                            rooted: false,
                        },
                    );
                    done = next;
                }
                Some(Kind::Dir) => done = next,
                Some(Kind::Symlink { target }) => {
                    let mut rest = if target.is_absolute() {
                        target.clone()
                    } else {
                        done.join(&target)
                    };
                    for p in &parts[i + 1..] {
                        rest.push(p);
                    }
                    return self.make_dir(&rest, depth + 1);
                }
                Some(kind @ (Kind::File { .. } | Kind::Generated { .. })) => {
                    return Err(Error::Conflict {
                        path: archive_name(&next),
                        first: describe(&kind),
                        second: PathBuf::from("a directory"),
                    });
                }
            }
        }
        Ok(done)
    }

    /// Finishes the plan: one content per file, links for the other paths,
    /// directory times, archive order.
    pub fn finish(mut self) -> Plan {
        // Which path holds each file's content: an input, else a file at its
        // own path in the root, else the first path.
        let mut holders: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let mut files: Vec<(&PathBuf, &Node)> = self
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n.kind, Kind::File { .. }))
            .collect();
        files.sort_by_key(|(path, node)| (node.role != Role::Input, !node.rooted, (*path).clone()));
        let mut relink = Vec::new();
        for (path, node) in files {
            let Some(id) = node.id else { continue };
            match holders.get(&id) {
                None => {
                    holders.insert(id, path.clone());
                }
                Some(holder) => relink.push((path.clone(), relative_link(path, holder))),
            }
        }
        for (path, target) in relink {
            if let Some(node) = self.nodes.get_mut(&path) {
                node.kind = Kind::Symlink { target };
                node.mode = 0o777;
                node.id = None;
            }
        }
        let dir_time = self
            .nodes
            .values()
            .filter(|n| matches!(n.kind, Kind::File { .. } | Kind::Symlink { .. }))
            .map(|n| n.mtime)
            .max()
            .unwrap_or(0);
        let entries = self
            .nodes
            .into_iter()
            .map(|(path, node)| Entry {
                path: path.strip_prefix("/").unwrap_or(&path).to_path_buf(),
                mtime: match node.kind {
                    Kind::Dir if node.role == Role::Parent => dir_time,
                    Kind::Generated { .. } => dir_time,
                    _ => node.mtime,
                },
                kind: node.kind,
                mode: node.mode,
                role: node.role,
            })
            .collect();
        Plan { entries }
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

impl Kind {
    /// The node of an image root for this kind of entry.
    pub fn to_node(&self) -> crate::root::Node {
        use crate::root::Node;
        match self {
            Kind::Dir => Node::Dir,
            Kind::File { source, .. } => Node::File(source.clone()),
            Kind::Generated { .. } => Node::Data,
            Kind::Symlink { target } => Node::Link(target.clone()),
        }
    }
}

fn archive_name(at: &Path) -> String {
    at.strip_prefix("/").unwrap_or(at).display().to_string()
}

fn describe(kind: &Kind) -> PathBuf {
    match kind {
        Kind::Dir => PathBuf::from("a directory"),
        Kind::File { source, .. } => source.clone(),
        Kind::Generated { .. } => PathBuf::from("a generated file"),
        Kind::Symlink { target } => PathBuf::from(format!("a link to {}", target.display())),
    }
}

/// A relative link target from the directory of `from` to `to` (both absolute, link-free).
pub fn relative_link(from: &Path, to: &Path) -> PathBuf {
    let from_dir: Vec<_> = from
        .parent()
        .unwrap_or(Path::new("/"))
        .components()
        .collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from_dir.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out
}

/// Turns a user-given archive directory (`-d`, `-s`) into an in-archive
/// absolute path: relative means relative to the archive root, and `..` may
/// not be used to leave it.
pub fn archive_dir(flag: &str, dir: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::from("/");
    for c in dir.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::Usage(format!(
                    "{flag} {}: '..' is not allowed in archive paths",
                    dir.display()
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn relative_links() {
        let cases = [
            ("/usr/lib/a", "/usr/lib/b", "b"),
            ("/usr/lib/x/a", "/usr/lib/b", "../b"),
            ("/a", "/usr/lib/b", "usr/lib/b"),
            ("/usr/local/bin/app", "/usr/lib/app", "../../lib/app"),
        ];
        for (from, to, want) in cases {
            assert_eq!(
                relative_link(Path::new(from), Path::new(to)),
                Path::new(want),
                "{from}"
            );
        }
    }

    #[test]
    fn archive_dirs() {
        assert_eq!(
            archive_dir("-d", Path::new("bin")).unwrap(),
            Path::new("/bin")
        );
        assert_eq!(
            archive_dir("-d", Path::new("/usr/local/bin/")).unwrap(),
            Path::new("/usr/local/bin")
        );
        assert_eq!(
            archive_dir("-d", Path::new("./x/./y")).unwrap(),
            Path::new("/x/y")
        );
        assert!(archive_dir("-d", Path::new("../../x")).is_err());
        assert!(archive_dir("-d", Path::new("/a/../b")).is_err());
    }

    #[test]
    fn links_in_the_root_become_links_and_content_is_stored_once() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("usr/lib")).unwrap();
        fs::write(t.join("usr/lib/libx.so.1.0"), b"x").unwrap();
        symlink("libx.so.1.0", t.join("usr/lib/libx.so.1")).unwrap();
        symlink("usr/lib", t.join("lib")).unwrap();
        let mut b = Builder::new(Root::new(t), Some(5));
        b.add_rooted(Path::new("/lib/libx.so.1"), Role::Library)
            .unwrap();
        // The same file again, moved elsewhere: stored as a link.
        let src = t.join("usr/lib/libx.so.1.0");
        let meta = fs::metadata(&src).unwrap();
        b.add_file(Path::new("/opt/libx.so.1"), &src, &meta, Role::Library)
            .unwrap();
        // Joined through the tree's own link: lands in usr/lib.
        b.add_file(Path::new("/lib/other"), &src, &meta, Role::Added)
            .unwrap();
        let plan = b.finish();
        let got: Vec<(String, Kind)> = plan
            .entries
            .iter()
            .map(|e| (e.path.display().to_string(), e.kind.clone()))
            .collect();
        let link = |t: &str| Kind::Symlink { target: t.into() };
        let want = vec![
            ("lib".to_string(), link("usr/lib")),
            ("opt".into(), Kind::Dir),
            ("opt/libx.so.1".into(), link("../usr/lib/libx.so.1.0")),
            ("usr".into(), Kind::Dir),
            ("usr/lib".into(), Kind::Dir),
            ("usr/lib/libx.so.1".into(), link("libx.so.1.0")),
            (
                "usr/lib/libx.so.1.0".into(),
                Kind::File {
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
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("usr/lib")).unwrap();
        fs::write(t.join("usr/lib/libx.so.1"), b"x").unwrap();
        symlink("usr/lib", t.join("lib")).unwrap();
        let roles = |adds: &[Role]| {
            let mut b = Builder::new(Root::new(t), None);
            for role in adds {
                b.add_rooted(Path::new("/lib/libx.so.1"), *role).unwrap();
            }
            let plan = b.finish();
            let role_of = |p: &str| {
                plan.entries
                    .iter()
                    .find(|e| e.path == Path::new(p))
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

    #[test]
    fn two_files_at_one_path_conflict() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs::write(&a, b"a").unwrap();
        fs::write(&b, b"b").unwrap();
        let mut builder = Builder::new(Root::host(), None);
        builder
            .add_file(
                Path::new("/x/f"),
                &a,
                &fs::metadata(&a).unwrap(),
                Role::Input,
            )
            .unwrap();
        let err = builder
            .add_file(
                Path::new("/x/f"),
                &b,
                &fs::metadata(&b).unwrap(),
                Role::Input,
            )
            .unwrap_err();
        assert!(err.to_string().starts_with("x/f: both"), "{err}");
    }
}
