//! The archive plan: every entry of the archive, decided before anything is
//! written, and checked before it is.
//!
//! [`Tree`] is the archive in memory, pure; [`Planner`] fills it from
//! closures and the root, reading metadata and links from the disk;
//! [`Request`] is what the extras ask it for, as data. [`verify`] runs the
//! image's own loader inside the finished [`Plan`]. Setuid and setgid bits
//! of files root does not own are dropped ([`DroppedSetid`]).

mod entry;
mod host;
mod meta;
mod request;
mod setid;
mod tree;
mod verify;

pub use entry::{Entry, Plan, Planned, Role};
pub use host::Planner;
pub use meta::FileMeta;
pub use request::Request;
pub use setid::DroppedSetid;
pub use tree::Tree;
pub use verify::{image_root, verify};
