//! What the plan keeps of a host file's metadata.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use crate::elf::FileId;

/// What the tree keeps of a host file's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    /// Permission bits (with setuid/setgid/sticky).
    pub mode: u32,
    /// Modification time, seconds since 1970.
    pub mtime: i64,
    pub id: FileId,
    pub size: u64,
    /// Owner and group on this machine (the archive stores root's).
    pub uid: u32,
    pub gid: u32,
}

impl FileMeta {
    pub fn of(meta: &Metadata) -> Self {
        FileMeta {
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
            id: FileId::of(meta),
            size: meta.len(),
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }
}
