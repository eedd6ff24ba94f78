//! Container images written straight from the plan, with no daemon: an OCI
//! image layout directory or archive, a Docker archive, or a push to a
//! registry (`--image TRANSPORT:REFERENCE`).
//!
//! The plan is split into layers by what changes least ([`layers`]), each
//! written with the archive writer and compressed and hashed in one pass
//! into a blob ([`blob`]); the configuration and manifest ([`oci`]) follow
//! from the flags ([`config`]) and the ELF files. [`build`] runs it all and
//! hands the blobs to the transport ([`layout`], [`docker_archive`],
//! [`registry`] with [`client`] and [`auth`]) that [`reference`] parsed; [`show`] says
//! what was done.

mod auth;
mod blob;
mod build;
mod client;
mod config;
mod docker_archive;
mod error;
mod layers;
mod layout;
mod oci;
mod reference;
mod registry;
mod show;

pub use blob::remove_partial;
pub use build::{Outcome, write_image};
pub use config::{Request, Settings};
pub use error::{CredsSource, ImageError, Login, Setting};
pub use show::{report_json, report_text, summary};
