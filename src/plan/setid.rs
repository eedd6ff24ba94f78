//! Setuid and setgid bits of files not owned by root.
//!
//! Every entry is stored as root's (owner and group 0), so that the archive
//! does not depend on this machine's users. A setuid bit on a file owned by
//! another user would then run it as root in the image, and a setgid bit on
//! a file of another group would run it with root's group: rights the file
//! never had. Such bits are dropped, and each drop is reported, unless they
//! are kept on purpose. Bits of files owned by root mean what they meant.

use std::fmt;
use std::path::{Path, PathBuf};

use super::meta::FileMeta;
use crate::fsroot::ArchivePath;

/// The setuid bit.
const S_ISUID: u32 = 0o4000;
/// The setgid bit.
const S_ISGID: u32 = 0o2000;

/// Setuid or setgid bits dropped from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedSetid {
    /// Host path of the file.
    pub source: PathBuf,
    /// Where it is in the archive.
    pub at: ArchivePath,
    /// The bits dropped: setuid (`0o4000`), setgid (`0o2000`) or both.
    pub bits: u32,
    /// The file's owner and group on this machine.
    pub uid: u32,
    pub gid: u32,
}

impl DroppedSetid {
    /// What dropping the setid bits of a file with `meta` would record, if
    /// it has any that root does not own.
    pub(super) fn of(meta: &FileMeta, source: PathBuf, at: ArchivePath) -> Option<Self> {
        let mut bits = 0;
        if meta.mode & S_ISUID != 0 && meta.uid != 0 {
            bits |= S_ISUID;
        }
        if meta.mode & S_ISGID != 0 && meta.gid != 0 {
            bits |= S_ISGID;
        }
        (bits != 0).then_some(DroppedSetid {
            source,
            at,
            bits,
            uid: meta.uid,
            gid: meta.gid,
        })
    }
}

/// Whether such bits are kept, and those dropped so far.
#[derive(Debug, Default)]
pub(super) struct SetidRule {
    pub(super) keep: bool,
    /// One record per source file.
    pub(super) dropped: Vec<DroppedSetid>,
}

impl SetidRule {
    /// The mode to store for the file with `meta` read from `source`, at
    /// `at` in the archive, recording what is dropped.
    pub(super) fn mode(&mut self, meta: &FileMeta, source: &Path, at: &Path) -> u32 {
        let at = ArchivePath::normalized(at);
        match DroppedSetid::of(meta, source.to_path_buf(), at) {
            Some(dropped) if !self.keep => {
                let mode = meta.mode & !dropped.bits;
                if !self.dropped.iter().any(|d| d.source == source) {
                    self.dropped.push(dropped);
                }
                mode
            }
            _ => meta.mode,
        }
    }
}

impl fmt::Display for DroppedSetid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, whose) = match (self.bits & S_ISUID != 0, self.bits & S_ISGID != 0) {
            (true, true) => (
                "setuid and setgid bits",
                format!("uid {} and gid {}", self.uid, self.gid),
            ),
            (true, false) => ("setuid bit", format!("uid {}", self.uid)),
            _ => ("setgid bit", format!("gid {}", self.gid)),
        };
        write!(
            f,
            "{}: {what} dropped from {}: owned by {whose}, it is stored as root's",
            self.source.display(),
            self.at.relative().display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::FileId;
    use std::path::Path;

    #[test]
    fn only_bits_that_root_does_not_own_are_dropped() {
        let meta = |mode, uid, gid| FileMeta {
            mode,
            mtime: 0,
            id: FileId { dev: 1, ino: 1 },
            size: 0,
            uid,
            gid,
        };
        let dropped = |m: &FileMeta| {
            let at = ArchivePath::normalized(Path::new("/bin/x"));
            DroppedSetid::of(m, "/src/x".into(), at).map(|d| (d.bits, d.to_string()))
        };
        assert_eq!(dropped(&meta(0o6755, 0, 0)), None);
        assert_eq!(dropped(&meta(0o0755, 1000, 1000)), None);
        assert_eq!(dropped(&meta(0o1777, 1000, 1000)), None);
        let cases = [
            (meta(0o4755, 1000, 0), 0o4000, "setuid bit", "uid 1000"),
            (meta(0o6755, 0, 50), 0o2000, "setgid bit", "gid 50"),
            (
                meta(0o6750, 7, 8),
                0o6000,
                "setuid and setgid bits",
                "uid 7 and gid 8",
            ),
        ];
        for (m, bits, what, whose) in cases {
            let want = format!(
                "/src/x: {what} dropped from bin/x: owned by {whose}, it is stored as root's"
            );
            assert_eq!(dropped(&m), Some((bits, want)));
        }
    }
}
