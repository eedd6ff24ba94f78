//! What a closure is made of: objects, the edges between them, and what the
//! loader would not find.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::elf::{ElfFacts, FileId};
use crate::error::tidy;
use crate::fsroot::ArchivePath;
use crate::loader::Loader;

/// Where a file or directory is: inside the root, or a host path (inputs and
/// what `$ORIGIN` reaches from them). Keeping the two apart means the root is
/// never joined to a path that already has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Loc {
    InRoot(PathBuf),
    Host(PathBuf),
}

impl Loc {
    /// The path as the loader would see it.
    pub fn path(&self) -> &Path {
        match self {
            Loc::InRoot(p) | Loc::Host(p) => p,
        }
    }

    /// The same kind of place, `name` further down.
    pub(super) fn join(&self, name: &OsStr) -> Loc {
        self.map(|p| p.join(name))
    }

    /// The directory holding this place.
    pub(super) fn parent(&self) -> Loc {
        self.map(|p| p.parent().unwrap_or(Path::new("/")).to_path_buf())
    }

    /// The same kind of place at `f(path)`.
    pub(super) fn map(&self, f: impl FnOnce(&Path) -> PathBuf) -> Loc {
        match self {
            Loc::InRoot(p) => Loc::InRoot(f(p)),
            Loc::Host(p) => Loc::Host(f(p)),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.path().display().fmt(f)
    }
}

/// How an object was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Input,
    Interpreter,
    Rpath,
    LibraryPath,
    Runpath,
    Cache,
    ConfDir,
    DefaultDir,
    /// A DT_NEEDED name containing `/`, opened as given.
    Direct,
}

impl Via {
    /// A short word for listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Input => "input",
            Via::Interpreter => "interpreter",
            Via::Rpath => "rpath",
            Via::LibraryPath => "library-path",
            Via::Runpath => "runpath",
            Via::Cache => "ld.so.cache",
            Via::ConfDir => "ld.so.conf",
            Via::DefaultDir => "default path",
            Via::Direct => "direct",
        }
    }
}

/// One DT_NEEDED edge (or `dlopen` call).
#[derive(Debug, Clone)]
pub struct Dep {
    pub name: OsString,
    /// Index of the object it resolved to; `None` when missing.
    pub object: Option<usize>,
}

/// One object the loader would map.
#[derive(Debug, Clone)]
pub struct Object {
    /// The path it was opened by (search dir plus name), links unresolved.
    pub loc: Loc,
    /// Host path of the file's content.
    pub source: PathBuf,
    /// Shared with every other closure that loads the same file.
    pub facts: Arc<ElfFacts>,
    pub via: Via,
    /// Where the image's loader will find it.
    pub at: ArchivePath,
    /// The object whose dependency caused this one to load (glibc's `l_loader`).
    pub loaded_by: Option<usize>,
    pub deps: Vec<Dep>,
    /// Names it was requested under.
    pub(super) names: Vec<OsString>,
    pub id: FileId,
    /// Other paths a search found this same file at (a second DT_NEEDED name
    /// that is a link to it), with their places in the archive: the image
    /// must have them too, or its loader would not find that name.
    pub aliases: Vec<(Loc, ArchivePath)>,
}

impl Object {
    /// Whether glibc takes this object for `name` (step 0, `_dl_name_match_p`):
    /// a name it was requested under, its path (unless it is the program),
    /// or its DT_SONAME.
    pub(super) fn answers_to(&self, name: &OsStr) -> bool {
        self.names.iter().any(|n| n == name)
            || self.facts.soname.as_deref() == Some(name)
            || (self.via != Via::Input && self.loc.path().as_os_str() == name)
    }
}

/// A library the loader would not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: OsString,
    /// The object that needs it.
    pub needed_by: PathBuf,
    /// Directories tried, in order, as the loader sees them.
    pub searched: Vec<PathBuf>,
    /// Why a file that was found could not be used.
    pub note: Option<String>,
}

/// Paths are shown [`tidy`].
impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (needed by {})",
            self.name.to_string_lossy(),
            tidy(&self.needed_by).display()
        )?;
        if let Some(note) = &self.note {
            write!(f, ": {note}")?;
        }
        if !self.searched.is_empty() {
            let dirs: Vec<String> = self
                .searched
                .iter()
                .map(|d| tidy(d).display().to_string())
                .collect();
            write!(f, "; searched {}", dirs.join(":"))?;
        }
        Ok(())
    }
}

/// The closure of one input.
#[derive(Debug, Clone)]
pub struct Closure {
    /// The loader that runs the input.
    pub loader: Arc<Loader>,
    /// Objects in load order; the input is first.
    pub objects: Vec<Object>,
    pub missing: Vec<Missing>,
    /// Other in-root files the image's loader reads (musl's path file).
    pub loader_files: Vec<PathBuf>,
    /// Names loaded with `dlopen`, and the object that called it, in order.
    pub dlopens: Vec<(usize, OsString)>,
}
