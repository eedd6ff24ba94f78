//! What the extras (`--add-file`, directory inputs, `--nss-net`, `--cert`,
//! and the flags that pack what programs need at run time) ask the plan for, as data: they look at the root and the tree, the
//! planner carries their requests out in order.

use std::path::PathBuf;

use super::entry::Role;
use super::meta::FileMeta;
use crate::fsroot::ArchivePath;

/// One thing to put into the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A host file, with its metadata, at `at`.
    File {
        at: ArchivePath,
        source: PathBuf,
        meta: FileMeta,
        role: Role,
    },
    /// A symbolic link as it is on the host.
    Link {
        at: ArchivePath,
        target: PathBuf,
        mtime: i64,
        role: Role,
    },
    /// A directory with the mode and time of a host directory.
    Dir {
        at: ArchivePath,
        meta: FileMeta,
        role: Role,
    },
    /// An empty directory made by this tool with `mode`, and the time of the
    /// directories made to hold entries (a directory already there keeps its
    /// time and takes the mode).
    MadeDir { at: ArchivePath, mode: u32 },
    /// A file written by this tool, unless something is already at `at`.
    Generated {
        at: ArchivePath,
        content: Vec<u8>,
        role: Role,
    },
    /// A relative link to the entry at `to`, unless something is already at `at`.
    LinkTo {
        at: ArchivePath,
        to: ArchivePath,
        role: Role,
    },
    /// An in-root path, with each link on the way.
    Rooted { path: PathBuf, role: Role },
    /// The objects of the run's closure number `index` from `from` on.
    Objects {
        index: usize,
        from: usize,
        role: Role,
    },
    /// The objects `from..to` of the run's closure number `index`.
    ObjectRange {
        index: usize,
        from: usize,
        to: usize,
        role: Role,
    },
}
