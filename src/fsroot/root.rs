//! The target's root: this host's `/`, a `--root` sysroot, or a planned image.
//!
//! This is the one place that turns a path as the target's loader sees it
//! ("in-root", always absolute) into a path on this host. It joins the root
//! exactly once, and follows symbolic links inside the root ([`follow`]), so
//! nothing from the host leaks into a sysroot.
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
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::follow::{Followed, Stat, follow, normalize};
use super::node::Node;
use crate::error::{Error, Result};

/// The root the target's loader runs in: a directory of this host, or the
/// tree of a planned image (to check what its loader would find).
#[derive(Debug, Clone)]
pub struct Root {
    backing: Backing,
}

/// What a root's paths are read from.
#[derive(Debug, Clone)]
enum Backing {
    Dir(PathBuf, Arc<Seen>),
    Image(Arc<BTreeMap<PathBuf, Node>>),
}

/// What the paths of a directory root were found to be, by in-root path. An
/// error is kept as its OS error code (other errors are not kept).
#[derive(Default)]
struct Seen(Mutex<HashMap<PathBuf, Looked>>);

/// What looking a path up gave: what it is, or an OS error code.
type Looked = std::result::Result<Stat, i32>;

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

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, Looked>> {
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

impl Root {
    /// The host's own root, `/`.
    pub fn host() -> Self {
        Self::new("/")
    }

    /// A sysroot at `dir` (a host path).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Root {
            backing: Backing::Dir(dir.into(), Arc::default()),
        }
    }

    /// The tree of a planned image, keyed by absolute in-image paths.
    pub fn image(nodes: BTreeMap<PathBuf, Node>) -> Self {
        Root {
            backing: Backing::Image(Arc::new(nodes)),
        }
    }

    /// The host directory of this root, unless it is an image.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backing {
            Backing::Dir(d, _) => Some(d),
            Backing::Image(_) => None,
        }
    }

    /// The host path of an in-root path, joining the root once. Relative
    /// in-root paths are taken from the root's top, as a chroot would. For an
    /// image, the content of a file, else a path that does not exist.
    pub fn to_host(&self, in_root: &Path) -> PathBuf {
        match &self.backing {
            Backing::Dir(dir, _) => {
                let rel = in_root.strip_prefix("/").unwrap_or(in_root);
                if rel.as_os_str().is_empty() {
                    dir.clone()
                } else {
                    dir.join(rel)
                }
            }
            Backing::Image(nodes) => match nodes.get(&normalize(in_root)) {
                Some(Node::File { source, .. }) => source.clone(),
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

    /// The content of an in-root file, links followed inside the root.
    pub fn contents(&self, in_root: &Path) -> Option<Vec<u8>> {
        fs::read(self.follow(in_root).ok()?.file?).ok()
    }

    /// Whether an in-root path leads to a directory.
    pub fn is_dir(&self, in_root: &Path) -> bool {
        self.follow(in_root)
            .is_ok_and(|r| matches!(self.stat(&r.real), Ok(Stat::Dir)))
    }

    /// The names in an in-root directory, in no order, its links followed
    /// inside the root: only the directory they lead to in the root is listed.
    pub fn read_dir(&self, in_root: &Path) -> Result<Vec<OsString>> {
        let real = self.follow(in_root)?.real;
        match &self.backing {
            Backing::Dir(..) => {
                let host = self.to_host(&real);
                let names = fs::read_dir(&host).map_err(|e| Error::io(&host, e))?;
                names
                    .map(|entry| entry.map(|e| e.file_name()))
                    .collect::<io::Result<_>>()
                    .map_err(|e| Error::io(&host, e))
            }
            Backing::Image(nodes) => Ok(nodes
                .keys()
                .filter(|p| p.parent() == Some(real.as_path()))
                .filter_map(|p| p.file_name().map(OsString::from))
                .collect()),
        }
    }

    /// What an in-root path is, without following a final link.
    fn stat(&self, in_root: &Path) -> Result<Stat> {
        match &self.backing {
            Backing::Dir(_, seen) => seen.stat(in_root, &self.to_host(in_root)),
            Backing::Image(nodes) => match nodes.get(in_root) {
                Some(Node::Dir) => Ok(Stat::Dir),
                Some(Node::File { source, .. }) => Ok(Stat::File(source.clone())),
                Some(Node::Symlink { target }) => Ok(Stat::Link(target.clone())),
                Some(Node::Generated { .. }) => Ok(Stat::Other),
                None if in_root == Path::new("/") => Ok(Stat::Dir),
                None => Err(Error::io(in_root, io::Error::from(io::ErrorKind::NotFound))),
            },
        }
    }

    /// Follows every symbolic link of an in-root path inside this root.
    ///
    /// A missing file gives an `Io` error of kind `NotFound`.
    pub fn follow(&self, in_root: &Path) -> Result<Followed> {
        follow(in_root, |p| self.stat(p), |p| self.to_host(p))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A temporary tree with `usr/lib/libx.so.1` and `lib -> usr/lib`, as a
    /// system with a merged /usr has.
    pub(crate) fn merged_usr_tree() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("usr/lib")).unwrap();
        fs::write(t.join("usr/lib/libx.so.1"), b"x").unwrap();
        symlink("usr/lib", t.join("lib")).unwrap();
        tmp
    }

    #[test]
    fn absolute_links_stay_inside_the_root() {
        let tmp = merged_usr_tree();
        let root = Root::new(tmp.path());
        symlink("/lib/libx.so.1", tmp.path().join("usr/lib/abs")).unwrap();
        // An absolute link to a host file must not be followed onto the host.
        symlink("/bin/sh", tmp.path().join("usr/lib/escape")).unwrap();
        symlink(
            "../../../../../../lib/libx.so.1",
            tmp.path().join("usr/lib/climb"),
        )
        .unwrap();

        let r = root.follow(Path::new("/lib/libx.so.1")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].path, Path::new("/lib"));

        let r = root.follow(Path::new("/usr/lib/abs")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));
        assert_eq!(r.links.len(), 2, "{:?}", r.links);

        let r = root.follow(Path::new("/usr/lib/climb")).unwrap();
        assert_eq!(r.real, Path::new("/usr/lib/libx.so.1"));

        let err = root.follow(Path::new("/usr/lib/escape")).unwrap_err();
        assert!(
            err.to_string().contains(&tmp.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_root_and_its_clones_look_each_path_up_once() {
        let tmp = merged_usr_tree();
        let t = tmp.path();
        let root = Root::new(t);
        let found = root.follow(Path::new("/lib/libx.so.1")).unwrap();
        let missing = root.follow(Path::new("/lib/liby.so.1")).unwrap_err();

        // Change the tree: the root keeps what it found, a new root sees the change.
        fs::remove_file(t.join("lib")).unwrap();
        fs::create_dir(t.join("lib")).unwrap();
        fs::write(t.join("lib/liby.so.1"), b"y").unwrap();
        let clone = root.clone();
        let again = clone.follow(Path::new("/lib/libx.so.1")).unwrap();
        assert_eq!(again.real, found.real);
        assert_eq!(again.links, found.links);
        let err = clone.follow(Path::new("/lib/liby.so.1")).unwrap_err();
        assert_eq!(err.to_string(), missing.to_string());
        assert!(
            matches!(err, Error::Io { ref cause, .. } if cause.kind() == io::ErrorKind::NotFound)
        );
        let fresh = Root::new(t);
        assert!(fresh.follow(Path::new("/lib/libx.so.1")).is_err());
        assert_eq!(
            fresh.follow(Path::new("/lib/liby.so.1")).unwrap().real,
            Path::new("/lib/liby.so.1")
        );
    }

    #[test]
    fn directories_are_listed_through_links_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let (t, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
        fs::create_dir_all(t.join("real")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(t.join("real/inside"), b"").unwrap();
        fs::write(outside.join("outside"), b"").unwrap();
        // On the host this link leads out of the root; inside it, to /real.
        symlink("/real", t.join("abs")).unwrap();
        symlink(&outside, t.join("real/host")).unwrap();
        let root = Root::new(&t);
        let names = |p: &str| {
            let mut names = root.read_dir(Path::new(p)).unwrap();
            names.sort();
            names
        };
        assert_eq!(names("/abs"), ["host", "inside"]);
        assert!(root.read_dir(Path::new("/abs/host")).is_err());
        let image = Root::image(BTreeMap::from([
            (PathBuf::from("/d"), Node::Dir),
            (PathBuf::from("/d/x"), Node::Dir),
            (PathBuf::from("/d/x/y"), Node::Dir),
            (PathBuf::from("/l"), Node::Symlink { target: "d".into() }),
        ]));
        assert_eq!(image.read_dir(Path::new("/l")).unwrap(), ["x"]);
    }

    #[test]
    fn link_loops_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        symlink("b", tmp.path().join("a")).unwrap();
        symlink("a", tmp.path().join("b")).unwrap();
        let err = Root::new(tmp.path()).follow(Path::new("/a")).unwrap_err();
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
    }
}
