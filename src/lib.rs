//! `extract-elf-so`: pack ELF programs and exactly the shared libraries their
//! dynamic loader would load into a reproducible tar archive, for `FROM
//! scratch` container images, without ever running them.
//!
//! The pipeline runs one way: inputs -> ELF facts (`elf`) -> closures
//! (`resolve`, with the target's `loader` and paths in its root, `fsroot`)
//! -> what they need at run time (`needs`) -> the archive plan (`plan`,
//! with the `extras`) -> the writer (`write`).
//! [`plan`] runs it up to a checked plan; [`write`] writes it; the views
//! show it. CONTRIBUTING.md has the map.

#![deny(unsafe_code)]

mod elf;
mod error;
mod extras;
mod fsroot;
mod image;
mod loader;
mod needs;
mod pipeline;
mod plan;
mod resolve;
mod view;
mod write;

/// The fixture tree and the `ld.so.cache` builder the integration tests use,
/// shared with the unit tests.
#[cfg(test)]
#[path = "../tests/integration/util/fixtures.rs"]
pub mod test_fixtures;
#[cfg(test)]
#[path = "../tests/integration/util/ldcache_image.rs"]
pub mod test_ldcache;

pub use error::{
    DanglingLink, Error, LoadProblem, LoadProblemKind, Result, Unavailable, chain, describe_io,
};
pub use extras::mkdir::{DEFAULT_MODE, EmptyDir};
pub use fsroot::{ArchivePath, Node, Root};
pub use image::{
    CredsSource, ImageError, Login, Outcome as ImageOutcome, Request as ImageRequest,
    Setting as ImageSetting, Settings as ImageSettings, remove_partial as remove_partial_image,
    report_json as image_report_json, report_text as image_report_text, summary as image_summary,
    write_image,
};
pub use needs::{
    DlopenEntry, EXCEPTIONS, Evidence, Kind, Need, Priority, Remedy, WholeDir, gconv_dir,
};
pub use pipeline::{ExtraFile, Options, plan};
pub use plan::{DroppedSetid, Entry, Plan, Planned, Role};
pub use resolve::Missing;
pub use view::{Report, escape, human, json, list, tree, verbose};
pub use write::{Output, Written, remove_partial, write};

/// The parsers of untrusted input (ELF files, `ld.so.cache`, `ld.so.conf`),
/// for the fuzz targets and the hardening tests.
pub mod parse {
    pub use crate::elf::{
        ElfFacts, ElfFile, FileId, Header, NeededVersion, NoteEntry, RuntimeFacts, Symbols,
        Version, Versions, VersionsNeeded, consts, note_descriptor, read_elf, read_runtime,
        scan_strings,
    };
    pub use crate::loader::{
        Cache, CacheEntry, Line, accepted_flags, directories as conf_directories, libcmp,
        parse as parse_conf,
    };
}
