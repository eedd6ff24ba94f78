//! The writer: turns a plan into tar (optionally gzip) bytes, and is the only
//! part that touches the output.
//!
//! [`output`] owns where the bytes go (a temporary file renamed into place,
//! standard output, a device), [`target`] what the output path names and
//! which outputs are refused; [`tar`] encodes the entries; [`gzip`]
//! compresses on every core with libdeflate, one gzip member per chunk (also
//! for other writers of the crate, such as image layers), on [`pool`]'s
//! threads; [`writeback`] syncs the archive to disk while it is written.

pub(crate) mod gzip;
mod output;
mod pool;
mod tar;
mod target;
mod writeback;

pub use output::{Output, Written, remove_partial, write};

// For the image writer, which writes layers with the same tar stream, gzip
// and write-behind.
pub(crate) use gzip::ChunkedGz;
pub(crate) use tar::{copy_buffer, tar_into};
pub(crate) use writeback::Writeback;
