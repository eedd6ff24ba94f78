//! What goes into the archive besides the closures, asked of the plan as
//! [`Request`](crate::plan::Request)s: extra files and directory inputs
//! ([`files`]), what name lookup needs ([`nss`]), the CA bundle ([`cert`]).

pub mod cert;
pub mod files;
pub mod nss;
