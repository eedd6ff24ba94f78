//! ELF facts: what the dynamic loader reads from a file, read without running it.
//!
//! [`files::read_elf`] opens a file once and reads its header ([`header`]),
//! then its program headers, PT_INTERP and the dynamic section ([`facts`]),
//! through a small positioned window ([`window`]), and the symbol versions it
//! needs and defines ([`versions`]). [`Files`] keeps what each file gave for
//! the rest of a run; [`check`] is the loader's verdict on a candidate
//! library.
//!
//! What an object asks for after it starts is read apart, only for what a
//! run packs: the symbols it imports and its `.note.dlopen` notes
//! ([`runtime`], through [`symbols`] and [`notes`] over the segments of
//! [`layout`]), and the strings of its read-only data ([`strings`]).

pub mod consts;

mod check;
mod facts;
mod files;
mod header;
mod layout;
mod notes;
mod runtime;
mod strings;
mod symbols;
mod versions;
mod window;

pub use check::{Check, check, unloadable};
pub use facts::ElfFacts;
pub use files::{ElfFile, FileId, Files, read_elf};
pub use header::Header;
pub use notes::{DlopenEntry, NoteEntry, Priority, descriptor as note_descriptor};
pub use runtime::{RuntimeFacts, read_runtime};
pub use strings::scan_strings;
pub use symbols::Symbols;
pub use versions::{NeededVersion, Version, Versions, VersionsNeeded};
