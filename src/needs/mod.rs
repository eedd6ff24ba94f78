//! Run-time needs: what a packed object asks for after it starts, found
//! without running it, and whether the planned image meets each one.
//!
//! The evidence is in the files: the symbols an object imports (user
//! lookups, `iconv_open`, `system`, time zone calls, what makes glibc load
//! `libgcc_s.so.1`, `dlopen`), the strings of its read-only data (a plugin
//! directory, its own directory, `TZ`), its `.note.dlopen` notes and its
//! `$ORIGIN` search paths ([`objects`], read through `elf`). What will
//! certainly be loaded (note libraries, `libgcc_s.so.1`) is loaded into the
//! closures before the plan is finished ([`load`]); everything else is a
//! [`Need`] with its evidence, what meets it, and whether the finished plan
//! does ([`find`], with [`places`], [`plugins`] and [`relative`]). This
//! layer names no flag: a [`Remedy`] is data, which the command line words.

mod find;
mod load;
mod model;
mod objects;
mod places;
mod plugins;
mod relative;

pub use crate::elf::{DlopenEntry, Priority};
pub use find::Finder;
pub use load::Cause;
pub use model::{Evidence, Kind, Need, Remedy, WholeDir};
pub use places::gconv_dir_of as gconv_dir;
pub use plugins::EXCEPTIONS;
