//! Following symbolic links inside a tree, never out of it.
//!
//! An absolute link target starts again at the tree's top and `..` never
//! climbs above it, so nothing from the host leaks into a sysroot or an
//! image. `fs::canonicalize` is never used.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// How many symbolic links one lookup may follow (Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// A symbolic link met while following a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// In-root path of the link itself.
    pub path: PathBuf,
    /// The link's target, as stored.
    pub target: PathBuf,
}

/// An in-root path with every symbolic link followed.
#[derive(Debug, Clone)]
pub struct Followed {
    /// In-root path of the file itself, free of links, `.` and `..`.
    pub real: PathBuf,
    /// The links followed on the way, in order.
    pub links: Vec<Link>,
    /// Host path of the content when it is a regular file.
    pub file: Option<PathBuf>,
}

/// Follows every link of `in_root` in a tree described by `stat`, which says
/// what one path is without following a final link; `shown` names a path in
/// errors. Absolute targets start again at the tree's top and `..` stops there.
pub fn follow(
    in_root: &Path,
    stat: impl Fn(&Path) -> Result<Stat>,
    shown: impl Fn(&Path) -> PathBuf,
) -> Result<Followed> {
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
    Ok(Followed {
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

    #[test]
    fn normalizes_lexically_never_above_the_top() {
        assert_eq!(normalize(Path::new("/a/../../b/./c")), Path::new("/b/c"));
        assert_eq!(
            normalize(Path::new("//opt/a////libc.so.6")),
            Path::new("/opt/a/libc.so.6")
        );
    }
}
