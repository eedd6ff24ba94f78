//! What some errors carry: the data of a failure, shown as a message.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// What a run-time need (users, gconv, time zones, a locale, the shell, a
/// library to `dlopen`) was to be packed from, missing from the root. Host
/// paths, so that a sysroot's are shown as they can be looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("no account {name} in {}", .file.display())]
    Account { name: String, file: PathBuf },
    #[error("no dynamically linked glibc program among the inputs: gconv is glibc's")]
    NoGlibc,
    #[error("{}: names no gconv directory", .libc.display())]
    GconvDir { libc: PathBuf },
    #[error("{}: no gconv configuration (gconv-modules)", .dir.display())]
    GconvConfig { dir: PathBuf },
    #[error("no charset {name} in {}, and it is not built into glibc", .dir.display())]
    Charset { name: String, dir: PathBuf },
    #[error("no time zone {name} in {}", .dir.display())]
    Zone { name: String, dir: PathBuf },
    #[error("{}: no time zone data", .dir.display())]
    Zoneinfo { dir: PathBuf },
    #[error(
        "no compiled locale {name} in {}{}", .dir.display(),
        .archive.as_ref().map(|a| format!(
            ", only {} may hold it", .dir.join(a.file_name().unwrap_or_default()).display()
        )).unwrap_or_default()
    )]
    Locale {
        name: String,
        dir: PathBuf,
        /// The in-root path of the root's `locale-archive`, when it has one.
        archive: Option<PathBuf>,
    },
    #[error("{}: no shell there", .path.display())]
    Shell { path: PathBuf },
    #[error("{name}: dlopen from {} would not find it{}", .caller.display(), .why)]
    Dlopen {
        name: String,
        caller: PathBuf,
        /// Where it looked (or why a file found would not load), as text.
        why: String,
    },
    #[error("no ELF program or library among the inputs to dlopen from")]
    NoCaller,
}

/// A link that would lead to nothing in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DanglingLink {
    /// Host path of the link.
    pub link: PathBuf,
    /// Archive path of the link.
    pub at: PathBuf,
    /// Its target, as stored.
    pub target: PathBuf,
    /// The archive path the target names, folded lexically.
    pub reaches: PathBuf,
    /// The file or directory the target leads to on the host, when it exists.
    pub host: Option<PathBuf>,
}

impl fmt::Display for DanglingLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} -> {}: nothing at {} in the archive",
            self.link.display(),
            self.target.display(),
            self.reaches.display()
        )?;
        if self.host.is_none() {
            write!(f, ", and the link leads nowhere here either")?;
        }
        Ok(())
    }
}

pub(super) struct DanglingList<'a>(pub(super) &'a [DanglingLink]);

impl fmt::Display for DanglingList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One link on the same line, several one to a line.
        let sep = if self.0.len() == 1 { " " } else { "\n  " };
        for link in self.0 {
            write!(f, "{sep}{link}")?;
        }
        Ok(())
    }
}

/// One way the planned image would not load as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// The DT_NEEDED name.
    pub name: OsString,
    /// In-archive path of the object that needs it.
    pub needed_by: PathBuf,
    pub kind: LoadProblemKind,
}

/// What the image's loader would do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadProblemKind {
    /// Load another file than the one planned (in-archive paths).
    Other { loaded: PathBuf, planned: PathBuf },
    /// Find nothing; `why` says where it looked.
    NotFound { why: String },
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.to_string_lossy();
        let needer = self.needed_by.display();
        match &self.kind {
            LoadProblemKind::Other { loaded, planned } => write!(
                f,
                "{name} (needed by {needer}): the image would load {} instead of {}",
                loaded.display(),
                planned.display()
            ),
            LoadProblemKind::NotFound { why } => write!(
                f,
                "{name} (needed by {needer}): the image's loader would not find it ({why})"
            ),
        }
    }
}

pub(super) struct ProblemList<'a>(pub(super) &'a [LoadProblem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in self.0 {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}
