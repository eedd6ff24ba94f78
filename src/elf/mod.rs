//! ELF facts: what the dynamic loader reads from a file, read without running it.
//!
//! [`files::read_elf`] opens a file once and reads its header ([`header`]),
//! then its program headers, PT_INTERP and the dynamic section ([`facts`]),
//! through a small positioned window ([`window`]), and the symbol versions it
//! needs and defines ([`versions`]). [`Files`] keeps what each file gave for
//! the rest of a run; [`check`] is the loader's verdict on a candidate
//! library.

pub mod consts;

mod check;
mod facts;
mod files;
mod header;
mod versions;
mod window;

pub use check::{Check, check, unloadable};
pub use facts::ElfFacts;
pub use files::{ElfFile, FileId, Files, read_elf};
pub use header::Header;
pub use versions::{NeededVersion, Version, Versions, VersionsNeeded};
