//! What one path of an image tree is: the plan's entries and the image root
//! the planned image is checked in are made of these.

use std::path::PathBuf;

/// One path of an image tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// A regular file whose content is read from `source` (a host path).
    File {
        source: PathBuf,
        size: u64,
    },
    /// A regular file written by this tool (such as `etc/nsswitch.conf`).
    Generated {
        content: Vec<u8>,
    },
    Symlink {
        target: PathBuf,
    },
}
