//! The archive tree, in memory: where each entry goes, decided without
//! touching the disk.
//!
//! Paths are joined through links already in the tree (a library added at
//! `/lib/x` lands in `usr/lib` when `lib -> usr/lib` is there), and when
//! several paths hold one file (same device and inode) its content is stored
//! once: the other paths become relative links to it. An input always keeps
//! its content, since a program's `$ORIGIN` is its real directory.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::entry::{Entry, Plan, Role};
use super::meta::FileMeta;
use super::setid::{DroppedSetid, SetidRule};
use crate::elf::FileId;
use crate::error::{Error, Result};
use crate::fsroot::{self, ArchivePath, Followed, Node, Stat};

/// How many links a path may lead through in the tree.
const MAX_TREE_LINKS: usize = 40;

#[derive(Debug, Clone)]
struct TreeNode {
    node: Node,
    mode: u32,
    mtime: u64,
    role: Role,
    id: Option<FileId>,
    /// Stored at its own real path in the root (preferred to hold content).
    rooted: bool,
}

/// The archive being planned.
#[derive(Debug)]
pub struct Tree {
    /// Clamp for modification times (`SOURCE_DATE_EPOCH`).
    clamp: Option<u64>,
    nodes: BTreeMap<PathBuf, TreeNode>,
    setid: SetidRule,
}

impl Tree {
    pub fn new(clamp: Option<u64>) -> Self {
        Tree {
            clamp,
            nodes: BTreeMap::new(),
            setid: SetidRule::default(),
        }
    }

    /// Keeps the setuid and setgid bits of files root does not own, which
    /// are otherwise dropped ([`DroppedSetid`]).
    pub fn keep_setid(&mut self, keep: bool) {
        self.setid.keep = keep;
    }

    /// The setuid and setgid bits dropped so far, one record per file.
    pub fn dropped_setid(&self) -> &[DroppedSetid] {
        &self.setid.dropped
    }

    /// Adds a regular file at `at` with content from the host file `source`;
    /// `rooted` when `at` is the file's own real path in the root.
    pub fn add_file(
        &mut self,
        at: &ArchivePath,
        source: &Path,
        meta: &FileMeta,
        role: Role,
        rooted: bool,
    ) -> Result<()> {
        let at = self.place(at.as_path())?;
        let mode = self.setid.mode(meta, source, &at);
        let node = TreeNode {
            node: Node::File {
                source: source.to_path_buf(),
                size: meta.size,
            },
            mode,
            mtime: self.mtime(meta.mtime),
            role,
            id: Some(meta.id),
            rooted,
        };
        self.insert(at, node)
    }

    /// Adds a file written by this tool, with mode 0644, unless `at` is taken.
    pub fn add_generated(&mut self, at: &ArchivePath, content: Vec<u8>, role: Role) -> Result<()> {
        if self.has(at) {
            return Ok(());
        }
        let at = self.place(at.as_path())?;
        let node = TreeNode {
            node: Node::Generated { content },
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
    pub fn add_dir(&mut self, at: &ArchivePath, meta: &FileMeta, role: Role) -> Result<()> {
        let at = self.make_dir(at.as_path(), 0)?;
        let mtime = self.mtime(meta.mtime);
        if let Some(node) = self.nodes.get_mut(&at) {
            node.mode = meta.mode;
            node.mtime = mtime;
            node.role = node.role.min(role);
        }
        Ok(())
    }

    /// Makes a directory with `mode`; a new one gets the made directories' time.
    pub fn add_made_dir(&mut self, at: &ArchivePath, mode: u32) -> Result<()> {
        let at = self.make_dir(at.as_path(), 0)?;
        self.nodes.entry(at).and_modify(|node| node.mode = mode);
        Ok(())
    }

    /// Adds a symbolic link at `at`, as it is in the root or on the host.
    pub fn add_link(
        &mut self,
        at: &ArchivePath,
        target: &Path,
        mtime: i64,
        role: Role,
    ) -> Result<()> {
        let at = self.place(at.as_path())?;
        let node = TreeNode {
            node: Node::Symlink {
                target: target.to_path_buf(),
            },
            mode: 0o777,
            mtime: self.mtime(mtime),
            role,
            id: None,
            rooted: true,
        };
        self.insert(at, node)
    }

    /// Adds a relative link at `at` to the entry at `to`, unless `at` is
    /// taken; `to` must already be in the tree.
    pub fn add_link_to(&mut self, at: &ArchivePath, to: &ArchivePath, role: Role) -> Result<()> {
        if self.has(at) {
            return Ok(());
        }
        let real = self.follow(to.as_path())?.real;
        let mtime = self.nodes.get(&real).map_or(0, |n| n.mtime);
        let at = self.place(at.as_path())?;
        let node = TreeNode {
            node: Node::Symlink {
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

    /// Whether the tree has an entry at `at`, links followed.
    pub fn has(&self, at: &ArchivePath) -> bool {
        self.follow(at.as_path()).is_ok()
    }

    /// Follows the links of an in-archive path inside the tree.
    fn follow(&self, at: &Path) -> Result<Followed> {
        let stat = |p: &Path| match self.nodes.get(p).map(|n| &n.node) {
            Some(Node::Dir) => Ok(Stat::Dir),
            Some(Node::File { source, .. }) => Ok(Stat::File(source.clone())),
            Some(Node::Generated { .. }) => Ok(Stat::Other),
            Some(Node::Symlink { target }) => Ok(Stat::Link(target.clone())),
            None if p == Path::new("/") => Ok(Stat::Dir),
            None => Err(Error::io(
                p,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
        };
        fsroot::follow(at, stat, Path::to_path_buf)
    }

    fn mtime(&self, mtime: i64) -> u64 {
        let mtime = u64::try_from(mtime).unwrap_or(0);
        match self.clamp {
            Some(clamp) => mtime.min(clamp),
            None => mtime,
        }
    }

    fn insert(&mut self, at: PathBuf, node: TreeNode) -> Result<()> {
        match self.nodes.get_mut(&at) {
            None => {
                self.nodes.insert(at, node);
                Ok(())
            }
            Some(old) if old.node == node.node || (old.id.is_some() && old.id == node.id) => {
                // The same thing reached twice: keep the stronger role (an input stays an input).
                old.role = old.role.min(node.role);
                old.rooted |= node.rooted;
                Ok(())
            }
            Some(old) => Err(Error::Conflict {
                path: archive_name(&at),
                first: describe(&old.node),
                second: describe(&node.node),
            }),
        }
    }

    /// The real in-tree path for `at`: parents are created as directories or
    /// followed through links already in the tree.
    fn place(&mut self, at: &Path) -> Result<PathBuf> {
        let name = at
            .file_name()
            .ok_or_else(|| Error::NotAFilePath {
                path: at.to_path_buf(),
            })?
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
            match self.nodes.get(&next).map(|n| n.node.clone()) {
                None => {
                    self.nodes.insert(
                        next.clone(),
                        TreeNode {
                            node: Node::Dir,
                            mode: 0o755,
                            mtime: 0,
                            role: Role::Parent,
                            id: None,
                            rooted: false,
                        },
                    );
                    done = next;
                }
                Some(Node::Dir) => done = next,
                Some(Node::Symlink { target }) => {
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
                Some(node @ (Node::File { .. } | Node::Generated { .. })) => {
                    return Err(Error::Conflict {
                        path: archive_name(&next),
                        first: describe(&node),
                        second: PathBuf::from("a directory"),
                    });
                }
            }
        }
        Ok(done)
    }

    /// Finishes the plan: one content per file, links for the other paths,
    /// directory times, archive order.
    pub fn finish(self) -> Plan {
        Plan {
            entries: entries(self.nodes),
        }
    }
}

/// The entries of a finished tree: the content of each file (same device and
/// inode) is held by one path, an input, else a file at its own path in the
/// root, else the first path; the others become relative links to it.
/// Directories made to hold entries, and generated files, get the newest
/// time of the tree.
fn entries(mut nodes: BTreeMap<PathBuf, TreeNode>) -> Vec<Entry> {
    let mut holders: HashMap<FileId, PathBuf> = HashMap::new();
    let mut files: Vec<(&PathBuf, &TreeNode)> = nodes
        .iter()
        .filter(|(_, n)| matches!(n.node, Node::File { .. }))
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
        if let Some(node) = nodes.get_mut(&path) {
            node.node = Node::Symlink { target };
            node.mode = 0o777;
            node.id = None;
        }
    }
    let dir_time = nodes
        .values()
        .filter(|n| matches!(n.node, Node::File { .. } | Node::Symlink { .. }))
        .map(|n| n.mtime)
        .max()
        .unwrap_or(0);
    nodes
        .into_iter()
        .map(|(path, node)| Entry {
            path: ArchivePath::normalized(&path),
            mtime: match node.node {
                Node::Dir if node.role == Role::Parent => dir_time,
                Node::Generated { .. } => dir_time,
                _ => node.mtime,
            },
            node: node.node,
            mode: node.mode,
            role: node.role,
        })
        .collect()
}

fn archive_name(at: &Path) -> String {
    at.strip_prefix("/").unwrap_or(at).display().to_string()
}

fn describe(node: &Node) -> PathBuf {
    match node {
        Node::Dir => PathBuf::from("a directory"),
        Node::File { source, .. } => source.clone(),
        Node::Generated { .. } => PathBuf::from("a generated file"),
        Node::Symlink { target } => PathBuf::from(format!("a link to {}", target.display())),
    }
}

/// A relative link target from the directory of `from` to `to` (both absolute, link-free).
fn relative_link(from: &Path, to: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(p: &str) -> ArchivePath {
        ArchivePath::normalized(Path::new(p))
    }

    fn meta(ino: u64, size: u64) -> FileMeta {
        FileMeta {
            mode: 0o644,
            mtime: 10,
            id: FileId { dev: 1, ino },
            size,
            uid: 0,
            gid: 0,
        }
    }

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
    fn paths_are_joined_through_links_and_content_is_stored_once() {
        let mut tree = Tree::new(Some(5));
        tree.add_link(&at("/lib"), Path::new("usr/lib"), 3, Role::Library)
            .unwrap();
        let src = Path::new("/src/libx.so.1.0");
        tree.add_file(
            &at("/lib/libx.so.1.0"),
            src,
            &meta(7, 1),
            Role::Library,
            true,
        )
        .unwrap();
        // The same file at another path: stored as a link to the rooted one.
        tree.add_file(
            &at("/opt/libx.so.1"),
            src,
            &meta(7, 1),
            Role::Library,
            false,
        )
        .unwrap();
        tree.add_generated(&at("/etc/x"), b"x".to_vec(), Role::Nss)
            .unwrap();
        // Taken paths are left alone.
        tree.add_generated(&at("/etc/x"), b"other".to_vec(), Role::Nss)
            .unwrap();
        tree.add_link_to(&at("/etc/x"), &at("/opt/libx.so.1"), Role::Cert)
            .unwrap();
        let plan = tree.finish();
        let got: Vec<(String, Node, u64)> = plan
            .entries
            .iter()
            .map(|e| {
                (
                    e.path.relative().display().to_string(),
                    e.node.clone(),
                    e.mtime,
                )
            })
            .collect();
        let link = |t: &str| Node::Symlink { target: t.into() };
        let file = Node::File {
            source: src.to_path_buf(),
            size: 1,
        };
        let want = vec![
            ("etc".to_string(), Node::Dir, 5),
            (
                "etc/x".into(),
                Node::Generated {
                    content: b"x".to_vec(),
                },
                5,
            ),
            ("lib".into(), link("usr/lib"), 3),
            ("opt".into(), Node::Dir, 5),
            ("opt/libx.so.1".into(), link("../usr/lib/libx.so.1.0"), 5),
            ("usr".into(), Node::Dir, 5),
            ("usr/lib".into(), Node::Dir, 5),
            ("usr/lib/libx.so.1.0".into(), file, 5),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn made_directories_take_their_mode_and_the_directories_time() {
        let mut tree = Tree::new(None);
        tree.add_file(
            &at("/bin/app"),
            Path::new("/a"),
            &meta(1, 1),
            Role::Input,
            false,
        )
        .unwrap();
        let host_dir = FileMeta {
            mtime: 3,
            ..meta(2, 0)
        };
        tree.add_dir(&at("/srv"), &host_dir, Role::Extra).unwrap();
        for (path, mode) in [("/tmp", 0o1777), ("/var/lib/x", 0o700), ("/srv", 0o750)] {
            tree.add_made_dir(&at(path), mode).unwrap();
        }
        let plan = tree.finish();
        let got: Vec<(String, u32, u64, Role)> = plan
            .entries
            .iter()
            .filter(|e| e.node == Node::Dir)
            .map(|e| {
                (
                    e.path.relative().display().to_string(),
                    e.mode,
                    e.mtime,
                    e.role,
                )
            })
            .collect();
        let made = |p: &str, mode| (p.to_string(), mode, 10, Role::Parent);
        let want = vec![
            made("bin", 0o755),
            ("srv".to_string(), 0o750, 3, Role::Extra),
            made("tmp", 0o1777),
            made("var", 0o755),
            made("var/lib", 0o755),
            made("var/lib/x", 0o700),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn setid_bits_root_does_not_own_are_dropped_once_per_file_unless_kept() {
        let foreign = FileMeta {
            mode: 0o4755,
            uid: 1000,
            ..meta(1, 1)
        };
        let mode_of = |keep: bool| {
            let mut tree = Tree::new(None);
            tree.keep_setid(keep);
            for path in ["/bin/x", "/opt/x"] {
                tree.add_file(&at(path), Path::new("/src/x"), &foreign, Role::Input, false)
                    .unwrap();
            }
            let dropped: Vec<String> = tree
                .dropped_setid()
                .iter()
                .map(|d| d.at.to_string())
                .collect();
            let plan = tree.finish();
            (
                plan.entries
                    .iter()
                    .find(|e| e.path == at("/bin/x"))
                    .unwrap()
                    .mode,
                dropped,
            )
        };
        assert_eq!(mode_of(false), (0o755, vec!["/bin/x".to_string()]));
        assert_eq!(mode_of(true), (0o4755, Vec::new()));
    }

    #[test]
    fn two_files_at_one_path_conflict() {
        let mut tree = Tree::new(None);
        tree.add_file(
            &at("/x/f"),
            Path::new("/a"),
            &meta(1, 1),
            Role::Input,
            false,
        )
        .unwrap();
        let err = tree
            .add_file(
                &at("/x/f"),
                Path::new("/b"),
                &meta(2, 1),
                Role::Input,
                false,
            )
            .unwrap_err();
        assert!(err.to_string().starts_with("x/f: both /a and /b"), "{err}");
        let err = tree
            .add_file(
                &at("/x/f/g"),
                Path::new("/c"),
                &meta(3, 1),
                Role::Input,
                false,
            )
            .unwrap_err();
        assert!(
            err.to_string().starts_with("x/f: both /a and a directory"),
            "{err}"
        );
    }
}
