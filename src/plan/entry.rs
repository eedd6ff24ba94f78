//! The plan: every entry of the archive, decided before anything is written.

use super::setid::DroppedSetid;
use std::path::PathBuf;

use crate::fsroot::{ArchivePath, Node};
use crate::needs::Need;
use crate::resolve::{Closure, Missing};

/// Why an entry is in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Input,
    Interpreter,
    Library,
    /// A file given with `--add`.
    Added,
    /// A library loaded as `dlopen` would load it, asked for by soname (`--dlopen`).
    Dlopen,
    /// What host name lookup needs (`--nss-net`).
    Nss,
    /// What libc itself loads with `dlopen` (`libgcc_s.so.1`).
    LibcDlopen,
    /// A library a `.note.dlopen` note names.
    Note,
    /// The CA bundle and its well-known paths (`--cert`).
    Cert,
    /// The user and group files (`--users`).
    Users,
    /// glibc's gconv modules and their configuration (`--gconv`).
    Gconv,
    /// Time zone files (`--tzdata`).
    Tzdata,
    /// A compiled locale (`--locale`).
    Locale,
    /// `/bin/sh`, through its links (`--shell`).
    Shell,
    /// A file, link or tree given with `--add-file` or as a directory input.
    Extra,
    /// A file the image's loader reads (musl's path file).
    LoaderConfig,
    /// A directory made to hold other entries, or made empty (`--mkdir`, a
    /// home directory).
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
            Role::Dlopen => "dlopen",
            Role::Nss => "nss",
            Role::LibcDlopen => "libc dlopen",
            Role::Note => "dlopen note",
            Role::Cert => "cert",
            Role::Users => "users",
            Role::Gconv => "gconv",
            Role::Tzdata => "tzdata",
            Role::Locale => "locale",
            Role::Shell => "shell",
            Role::Extra => "extra",
            Role::LoaderConfig => "loader config",
            Role::Parent => "directory",
        }
    }
}

/// One archive entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: ArchivePath,
    pub node: Node,
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
            .map(|e| match &e.node {
                Node::File { size, .. } => *size,
                Node::Generated { content } => content.len() as u64,
                _ => 0,
            })
            .sum()
    }

    /// Number of regular files.
    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.node, Node::File { .. } | Node::Generated { .. }))
            .count()
    }

    /// Number of symbolic links.
    pub fn link_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.node, Node::Symlink { .. }))
            .count()
    }
}

/// What planning a run found: the plan, and the closures it was made from.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    pub closures: Vec<Closure>,
    /// Libraries the loader would not find, over all inputs, without repeats.
    pub missing: Vec<Missing>,
    /// Files whose setuid or setgid bits were dropped, one record each.
    pub dropped_setid: Vec<DroppedSetid>,
    /// What the packed objects ask for at run time, and whether the plan
    /// meets it.
    pub needs: Vec<Need>,
    /// Host directories packed whole (directory inputs and added
    /// directories): an archive written inside one would be packed by the
    /// next run.
    pub packed_dirs: Vec<PathBuf>,
}

impl Planned {
    /// A plan with nothing resolved behind it (files the tool lays out
    /// itself, such as an image archive's blobs).
    pub fn of_plan(plan: Plan) -> Planned {
        Planned {
            plan,
            closures: Vec::new(),
            missing: Vec::new(),
            dropped_setid: Vec::new(),
            needs: Vec::new(),
            packed_dirs: Vec::new(),
        }
    }
}
