//! Paths of the roots a run deals with, and the one node type of a tree.
//!
//! [`Root`] is where the target's loader runs: this host's `/`, a `--root`
//! sysroot, or the tree of a planned image. It is the one place that turns a
//! path as the loader sees it ("in-root") into a host path, and it follows
//! symbolic links inside the root ([`follow`]). [`ArchivePath`] is a path
//! inside the archive being planned; [`Node`] is what one path of an image
//! tree is.

mod archive_path;
mod follow;
mod node;
mod root;

pub use archive_path::ArchivePath;
pub use follow::{Followed, Stat, follow, normalize};
pub use node::Node;
pub use root::Root;
#[cfg(test)]
pub(crate) use root::tests::merged_usr_tree;
