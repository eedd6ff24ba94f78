//! What the test modules share. Nothing here uses the crate's own code: the
//! binary is run, and what it writes is read back from the outside.

mod archive;
mod chroot;
mod elf;
mod files;
mod fixtures;
mod host;
mod inputs;
pub mod ldcache_image;
mod tool;

pub use archive::{Archive, Item, Kind, basename, gunzip, is_gzip, unpack};
pub use chroot::{Chroot, path_of};
pub use elf::{EM_AARCH64, EM_X86_64, interp, readelf_needed};
pub use files::{bytes, file_id, host_path, listing, marked, os, s, same_file, tmp, write};
pub use fixtures::{fixtures, have};
pub use host::{CaWrite, ca_read, ca_write, free_port, is_root, require, which};
pub use inputs::{
    assert_holds_fixture, built, fx, hello, hello_leaf, mini_sysroot, musl_ok, packed,
};
pub use tool::{
    Run, assert_fails, expected_summary, hint_flags, run, run_ok, run_tool, run_tool_timeout, tool,
    verbose_sources,
};
