//! Paths inside the target's root (`/` or a `--root` sysroot).
//!
//! This module is the one place that turns a path as the target's loader sees
//! it ("in-root", always absolute) into a path on this host. It joins the root
//! exactly once, and resolves symbolic links inside the root: an absolute link
//! target starts again at the root and `..` never climbs above it, so nothing
//! from the host leaks into a sysroot. `fs::canonicalize` is never used here.
//!
//! What each path of a directory root is (a directory, a file, a link and its
//! target, or an error) is looked up once and kept by the root and its clones:
//! resolving many libraries walks the same directories and links (`/lib`,
//! `/usr/lib/<triplet>`) again and again. A run takes its root not to change
//! while it plans.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};

/// How many symbolic links one lookup may follow (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// The root the target's loader runs in: a directory of this host, or the
/// tree of a planned image (to check what its loader would find).
#[derive(Debug, Clone)]
pub struct Root {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Dir(PathBuf, Arc<Seen>),
    Image(Arc<BTreeMap<PathBuf, Node>>),
}

/// What the paths of a directory root were found to be, by in-root path. An
/// error is kept as its OS error code (other errors are not kept).
#[derive(Default)]
struct Seen(Mutex<HashMap<PathBuf, Found>>);

type Found = std::result::Result<Stat, i32>;

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seen({} paths)", self.lock().len())
    }
}

impl Seen {
    /// What `in_root` is, at host path `host`, looked up on first use.
    fn stat(&self, in_root: &Path, host: &Path) -> Result<Stat> {
        let known = self.lock().get(in_root).cloned();
        let found = match known {
            Some(found) => found.map_err(io::Error::from_raw_os_error),
            None => {
                let found = lstat(host);
                let kept = match &found {
                    Ok(stat) => Some(Ok(stat.clone())),
                    Err(e) => e.raw_os_error().map(Err),
                };
                if let Some(kept) = kept {
                    self.lock().insert(in_root.to_path_buf(), kept);
                }
                found
            }
        };
        found.map_err(|e| Error::io(host, e))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, Found>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a host path is, without following a final link.
fn lstat(host: &Path) -> io::Result<Stat> {
    let meta = fs::symlink_metadata(host)?;
    Ok(if meta.file_type().is_symlink() {
        Stat::Link(fs::read_link(host)?)
    } else if meta.is_dir() {
        Stat::Dir
    } else if meta.is_file() {
        Stat::File(host.to_path_buf())
    } else {
        Stat::Other
    })
}

/// One path of an image tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// A regular file with the host path of its content.
    File(PathBuf),
    /// A file with no host content (written by this tool).
    Data,
    Link(PathBuf),
}

/// A symbolic link met while resolving a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// In-root path of the link itself.
    pub path: PathBuf,
    /// The link's target, as stored.
    pub target: PathBuf,
}

/// An in-root path with every symbolic link resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// In-root path of the file itself, free of links, `.` and `..`.
    pub real: PathBuf,
    /// The links followed on the way, in order.
    pub links: Vec<Link>,
    /// Host path of the content when it is a regular file.
    pub file: Option<PathBuf>,
}

impl Root {
    /// The host's own root, `/`.
    pub fn host() -> Self {
        Self::new("/")
    }

    /// A sysroot at `dir` (a host path).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root {
            kind: Kind::Dir(dir.into(), Arc::default()),
        }
    }

    /// The tree of a planned image, keyed by absolute in-image paths.
    pub fn image(nodes: BTreeMap<PathBuf, Node>) -> Self {
        Root {
            kind: Kind::Image(Arc::new(nodes)),
        }
    }

    /// The host directory of this root, unless it is an image.
    pub fn dir(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Dir(d, _) => Some(d),
            Kind::Image(_) => None,
        }
    }

    /// The host path of an in-root path, joining the root once. Relative
    /// in-root paths are taken from the root's top, as a chroot would. For an
    /// image, the content of a file, else a path that does not exist.
    pub fn to_host(&self, in_root: &Path) -> PathBuf {
        match &self.kind {
            Kind::Dir(dir, _) => {
                let rel = in_root.strip_prefix("/").unwrap_or(in_root);
                if rel.as_os_str().is_empty() {
                    dir.clone()
                } else {
                    dir.join(rel)
                }
            }
            Kind::Image(nodes) => match nodes.get(&normalize(in_root)) {
                Some(Node::File(source)) => source.clone(),
                _ => PathBuf::from("/nonexistent/image")
                    .join(in_root.strip_prefix("/").unwrap_or(in_root)),
            },
        }
    }

    /// The in-root path of a host path under this root's directory.
    pub fn from_host(&self, host: &Path) -> Option<PathBuf> {
        host.strip_prefix(self.dir()?)
            .ok()
            .map(|rel| Path::new("/").join(rel))
    }

    /// Reads a whole in-root file, links resolved inside the root.
    pub fn read(&self, in_root: &Path) -> Option<Vec<u8>> {
        fs::read(self.resolve(in_root).ok()?.file?).ok()
    }

    /// Whether an in-root path leads to a directory.
    pub fn is_dir(&self, in_root: &Path) -> bool {
        self.resolve(in_root)
            .is_ok_and(|r| matches!(self.kind_of(&r.real), Ok(Stat::Dir)))
    }

    /// What an in-root path is, without following a final link.
    fn kind_of(&self, in_root: &Path) -> Result<Stat> {
        match &self.kind {
            Kind::Dir(_, seen) => seen.stat(in_root, &self.to_host(in_root)),
            Kind::Image(nodes) => match nodes.get(in_root) {
                Some(Node::Dir) => Ok(Stat::Dir),
                Some(Node::File(source)) => Ok(Stat::File(source.clone())),
                Some(Node::Link(target)) => Ok(Stat::Link(target.clone())),
                Some(Node::Data) => Ok(Stat::Other),
                None if in_root == Path::new("/") => Ok(Stat::Dir),
                None => Err(Error::io(in_root, io::Error::from(io::ErrorKind::NotFound))),
            },
        }
    }

    /// Resolves every symbolic link of an in-root path inside this root.
    ///
    /// A missing file gives an `Io` error of kind `NotFound`.
    pub fn resolve(&self, in_root: &Path) -> Result<Resolved> {
        resolve_by(in_root, |p| self.kind_of(p), |p| self.to_host(p))
    }
}

/// Resolves every link of `in_root` in a tree described by `stat`, which says
/// what one path is without following a final link; `shown` names a path in
/// errors. Absolute targets start again at the tree's top and `..` stops there.
pub fn resolve_by(
    in_root: &Path,
    stat: impl Fn(&Path) -> Result<Stat>,
    shown: impl Fn(&Path) -> PathBuf,
) -> Result<Resolved> {
    let mut done = PathBuf::from("/");
    let mut todo: Vec<OsString> = Vec::new();
    push_components(&mut todo, in_root);
    let mut links = Vec::new();
    let mut file = None;
    while let Some(part) = todo.pop() {
        match part.to_str() {
            Some("" | ".") => continue,
            Some("..") => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let next = done.join(&part);
        match stat(&next)? {
            Stat::Link(target) => {
                if links.len() >= MAX_LINKS {
                    return Err(Error::SymlinkLoop { path: shown(&next) });
                }
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                push_components(&mut todo, &target);
                links.push(Link { path: next, target });
            }
            Stat::Dir => done = next,
            Stat::File(host) if todo.is_empty() => {
                file = Some(host);
                done = next;
            }
            Stat::Other if todo.is_empty() => done = next,
            Stat::File(_) | Stat::Other => {
                return Err(Error::io(
                    shown(&next),
                    io::Error::from_raw_os_error(20), // ENOTDIR
                ));
            }
        }
    }
    Ok(Resolved {
        real: done,
        links,
        file,
    })
}

/// What one path is, links not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stat {
    Dir,
    /// A regular file and the host path of its content.
    File(PathBuf),
    Link(PathBuf),
    Other,
}

/// Pushes the components of `path` onto a stack so that the first pops first.
fn push_components(todo: &mut Vec<OsString>, path: &Path) {
    let parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    todo.extend(parts.into_iter().rev());
}

/// Folds `.` and `..` of an absolute path lexically, never above `/`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn absolute_links_stay_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = Root::new(tmp.path());
        fs::create_dir_all(tmp.path().join("usr/lib")).unwrap();
        fs::write(tmp.path().join("usr/lib/libx.so.1"), b"x").unwrap();
        symlink("usr/lib", tmp.path().join("lib")).unwrap();
        symlink("/lib/libx.so.1", tmp.path().join("usr/lib/abs")).unwrap();
        // An absolute link to a host file must not be followed onto the host.
        symlink("/bin/sh", tmp.path().join("usr/lib/escape")).unwrap();
        symlink(
            "../../../../../../lib/libx.so.1",
            tmp.path().join("usr/lib/climb"),
        )
        .unwrap();

        let r = root.resolve(Path::new("/lib/libx.so.1")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].path, Path::new("/lib"));

        let r = root.resolve(Path::new("/usr/lib/abs")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));
        assert_eq!(r.links.len(), 2, "{:?}", r.links);

        let r = root.resolve(Path::new("/usr/lib/climb")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));

        let err = root.resolve(Path::new("/usr/lib/escape")).unwrap_err();
        assert!(
            err.to_string().contains(&tmp.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_root_and_its_clones_look_each_path_up_once() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("usr/lib")).unwrap();
        fs::write(t.join("usr/lib/libx.so.1"), b"x").unwrap();
        symlink("usr/lib", t.join("lib")).unwrap();
        let root = Root::new(t);
        let found = root.resolve(Path::new("/lib/libx.so.1")).unwrap();
        let missing = root.resolve(Path::new("/lib/liby.so.1")).unwrap_err();

        // Change the tree: the root keeps what it found, a new root sees the change.
        fs::remove_file(t.join("lib")).unwrap();
        fs::create_dir(t.join("lib")).unwrap();
        fs::write(t.join("lib/liby.so.1"), b"y").unwrap();
        let clone = root.clone();
        let again = clone.resolve(Path::new("/lib/libx.so.1")).unwrap();
        assert_eq!(again.real, found.real);
        assert_eq!(again.links, found.links);
        let err = clone.resolve(Path::new("/lib/liby.so.1")).unwrap_err();
        assert_eq!(err.to_string(), missing.to_string());
        assert!(
            matches!(err, Error::Io { ref cause, .. } if cause.kind() == io::ErrorKind::NotFound)
        );
        let fresh = Root::new(t);
        assert!(fresh.resolve(Path::new("/lib/libx.so.1")).is_err());
        assert_eq!(
            fresh.resolve(Path::new("/lib/liby.so.1")).unwrap().real,
            Path::new("/lib/liby.so.1")
        );
    }

    #[test]
    fn link_loops_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("b", tmp.path().join("a")).unwrap();
        symlink("a", tmp.path().join("b")).unwrap();
        let err = Root::new(tmp.path()).resolve(Path::new("/a")).unwrap_err();
        assert!(matches!(err, Error::SymlinkLoop { .. }), "{err}");
    }

    #[test]
    fn joins_the_root_once() {
        let root = Root::new("/sys/root");
        assert_eq!(root.dir(), Some(Path::new("/sys/root")));
        assert_eq!(
            root.to_host(Path::new("/etc/ld.so.conf")),
            Path::new("/sys/root/etc/ld.so.conf")
        );
        assert_eq!(
            root.from_host(Path::new("/sys/root/etc/x")),
            Some(PathBuf::from("/etc/x"))
        );
        assert_eq!(Root::host().to_host(Path::new("/etc")), Path::new("/etc"));
        assert_eq!(normalize(Path::new("/a/../../b/./c")), Path::new("/b/c"));
    }
}
