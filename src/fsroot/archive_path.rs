//! Paths inside the archive.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// An absolute path inside the archive being planned: `/` followed by plain
/// names, with no `.`, `..` or repeated `/`. Distinct from the host path a
/// file's content comes from and from the path the target's loader sees in
/// a `--root`, though all three often read alike.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArchivePath(PathBuf);

impl ArchivePath {
    /// The archive's top, `/`.
    pub fn root() -> Self {
        ArchivePath(PathBuf::from("/"))
    }

    /// A path given by a user: relative means from the archive's top, and
    /// `..` may not be used to leave it (nor anywhere else).
    pub fn parse(path: &Path) -> Result<Self> {
        let mut out = PathBuf::from("/");
        for c in path.components() {
            match c {
                Component::Normal(n) => out.push(n),
                Component::RootDir | Component::CurDir => {}
                Component::ParentDir | Component::Prefix(_) => {
                    return Err(Error::ArchivePathEscapes {
                        path: path.to_path_buf(),
                    });
                }
            }
        }
        Ok(ArchivePath(out))
    }

    /// An absolute path with `.` and `..` folded lexically, never above `/`.
    pub fn normalized(path: &Path) -> Self {
        ArchivePath(super::normalize(path))
    }

    /// The path, absolute.
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The path without its leading `/`, as a tar entry is named.
    pub fn relative(&self) -> &Path {
        self.0.strip_prefix("/").unwrap_or(&self.0)
    }

    /// This path with `name` (a plain file name) added.
    pub fn join(&self, name: impl AsRef<OsStr>) -> Self {
        ArchivePath(self.0.join(name.as_ref()))
    }

    /// The directory holding this path; `/` for `/`.
    pub fn parent(&self) -> Self {
        ArchivePath(self.0.parent().unwrap_or(Path::new("/")).to_path_buf())
    }

    /// The last name, if the path is not `/`.
    pub fn file_name(&self) -> Option<&OsStr> {
        self.0.file_name()
    }

    /// This path with its last name replaced.
    pub fn with_file_name(&self, name: impl AsRef<OsStr>) -> Self {
        ArchivePath(self.0.with_file_name(name.as_ref()))
    }

    pub fn display(&self) -> std::path::Display<'_> {
        self.0.display()
    }
}

impl AsRef<Path> for ArchivePath {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl fmt::Display for ArchivePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.display().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths() {
        let parse = |p: &str| ArchivePath::parse(Path::new(p)).map(|a| a.as_path().to_path_buf());
        assert_eq!(parse("bin").unwrap(), Path::new("/bin"));
        assert_eq!(
            parse("/usr/local/bin/").unwrap(),
            Path::new("/usr/local/bin")
        );
        assert_eq!(parse("./x/./y").unwrap(), Path::new("/x/y"));
        assert!(parse("../../x").is_err());
        assert!(parse("/a/../b").is_err());
        let top = ArchivePath::root();
        assert_eq!(top.relative(), Path::new(""));
        assert_eq!(top.join("etc").relative(), Path::new("etc"));
        assert_eq!(top.parent(), top);
    }
}
