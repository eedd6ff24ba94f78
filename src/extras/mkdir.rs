//! `--mkdir PATH[:MODE]`: empty directories the program expects to find
//! (`/tmp`, `/run`, `/var/lib/nginx`), which nothing else would bring.
//!
//! Each gets its mode (0755 unless given) and, like the directories made to
//! hold entries, the archive's newest time, so the archive stays the same
//! from run to run. A directory already in the archive takes the mode.

use crate::fsroot::ArchivePath;
use crate::plan::Request;

/// An empty directory to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyDir {
    pub at: ArchivePath,
    /// Permission bits (with setuid/setgid/sticky).
    pub mode: u32,
}

/// The mode of a directory made without one.
pub const DEFAULT_MODE: u32 = 0o755;

/// The requests for `dirs`.
pub fn requests(dirs: &[EmptyDir]) -> Vec<Request> {
    dirs.iter()
        .map(|d| Request::MadeDir {
            at: d.at.clone(),
            mode: d.mode,
        })
        .collect()
}
