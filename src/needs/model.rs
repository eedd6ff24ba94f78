//! What a need is: what a packed object asks for at run time, the evidence
//! for it, what would meet it, and whether the plan does.

use std::fmt;
use std::path::PathBuf;

use crate::elf::{DlopenEntry, FileId, Priority};

/// What kind of thing an object asks for at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `/etc/passwd` and `/etc/group`, for user and group lookups.
    Users,
    /// glibc's gconv modules and their configuration, for `iconv_open`.
    Gconv,
    /// `/bin/sh`, for `system` and `popen`.
    Shell,
    /// The time zone database.
    TimeZones,
    /// `libgcc_s.so.1`, which glibc loads for unwinding.
    LibgccS,
    /// A directory of shared objects the object loads code from.
    PluginDir,
    /// A library a `.note.dlopen` note names, or a note that cannot be read.
    DlopenNote,
    /// Files found relative to the program's own directory.
    ProgramRelative,
}

impl Kind {
    /// The word for scripts and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Gconv => "gconv",
            Kind::Shell => "shell",
            Kind::TimeZones => "tz",
            Kind::LibgccS => "libgcc_s",
            Kind::PluginDir => "plugin-dir",
            Kind::DlopenNote => "dlopen-note",
            Kind::ProgramRelative => "program-relative",
        }
    }
}

/// What in the object shows the need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Undefined dynamic symbols it imports.
    Imports(Vec<&'static str>),
    /// Imported symbols, and a string of its read-only data.
    ImportsAndString(Vec<&'static str>, String),
    /// A string of its read-only data, as spelled there.
    String(String),
    /// An entry of a `.note.dlopen` note.
    Note(DlopenEntry),
    /// A `.note.dlopen` note, or an entry of one, that cannot be read.
    MalformedNote(String),
    /// An element of its DT_RPATH or DT_RUNPATH that uses `$ORIGIN`.
    Origin(String),
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Imports(symbols) => write!(f, "imports {}", symbols.join(", ")),
            Evidence::ImportsAndString(symbols, string) => {
                write!(
                    f,
                    "imports {} and has the string {string:?}",
                    symbols.join(", ")
                )
            }
            Evidence::String(string) => write!(f, "has the string {string:?}"),
            Evidence::Note(entry) => {
                write!(f, ".note.dlopen names {}", entry.sonames.join(" or "))?;
                let mut about = Vec::new();
                if let Some(feature) = &entry.feature {
                    about.push(format!("feature {feature}"));
                }
                about.push(entry.priority.as_str().to_string());
                write!(f, " ({})", about.join(", "))
            }
            Evidence::MalformedNote(why) => write!(f, "malformed .note.dlopen: {why}"),
            Evidence::Origin(element) => write!(f, "searches {element}"),
        }
    }
}

/// What meets a need. The command line turns it into a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Nothing to ask for: packed whenever the root has it.
    Automatic,
    /// Nothing to ask for: the root has nothing that meets it where it is
    /// looked for.
    Unavailable,
    /// A passwd and a group file.
    Users,
    /// The gconv configuration and modules.
    Gconv,
    /// `/bin/sh` with its libraries.
    Shell,
    /// The time zone database.
    TimeZones,
    /// A directory of the root, whole, at the path where it is looked for.
    AddFile(WholeDir),
    /// The libraries of dlopen notes down to this priority.
    DlopenNotes(Priority),
    /// The program kept in its own directory.
    Dest(PathBuf),
    /// The program kept in its own directory, with a directory beside it.
    DestAndAdd { dest: PathBuf, add: WholeDir },
}

/// A directory to pack whole: its contents taken from `src` on the host,
/// placed at `at` in the archive. `src` is `at` itself when that is a
/// directory of the host; otherwise (inside a sysroot, or when `at` is a
/// link) it is the real directory's host path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeDir {
    pub src: PathBuf,
    pub at: PathBuf,
}

/// One thing a packed object asks for at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub kind: Kind,
    /// The object the evidence is in, as the loader sees it.
    pub object: PathBuf,
    /// Its file, to show the need beside it.
    pub id: FileId,
    pub evidence: Evidence,
    pub remedy: Remedy,
    /// Whether the plan holds what meets it.
    pub met: bool,
    /// Whether an unmet need is worth a hint: the evidence says the object
    /// needs it, not only that it might.
    pub hint: bool,
    /// The in-root place the need is about: a plugin directory, the
    /// directory `$ORIGIN` names, or the program's own directory.
    pub path: Option<PathBuf>,
    /// How many files that place holds (shared objects, for a plugin
    /// directory; files not packed, for `$ORIGIN`), and their size in bytes.
    pub files: Option<(u64, u64)>,
}

impl Need {
    /// Whether this need is worth a hint and the plan does not meet it.
    pub fn unmet_hint(&self) -> bool {
        self.hint && !self.met
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_as_a_phrase() {
        let entry = DlopenEntry {
            sonames: vec!["liblz4.so.1".into(), "liblz4.so.0".into()],
            feature: Some("lz4".into()),
            description: None,
            priority: Priority::Suggested,
        };
        let cases = [
            (
                Evidence::Imports(vec!["getpwnam", "initgroups"]),
                "imports getpwnam, initgroups",
            ),
            (
                Evidence::ImportsAndString(vec!["tzset"], "TZ".into()),
                "imports tzset and has the string \"TZ\"",
            ),
            (
                Evidence::Note(entry),
                ".note.dlopen names liblz4.so.1 or liblz4.so.0 (feature lz4, suggested)",
            ),
            (
                Evidence::Origin("$ORIGIN/../lib".into()),
                "searches $ORIGIN/../lib",
            ),
        ];
        for (evidence, want) in cases {
            assert_eq!(evidence.to_string(), want);
        }
    }
}
