//! What goes into the archive besides the closures, asked of the plan as
//! [`Request`](crate::plan::Request)s: extra files and directory inputs
//! ([`files`]), what name lookup needs ([`nss`]), the CA bundle ([`cert`]),
//! and what programs need at run time that no ELF header names: user and
//! group files ([`users`]), gconv modules ([`gconv`]), time zones
//! ([`tzdata`]), a compiled locale ([`locale`]), the shell ([`shell`]),
//! empty directories ([`mkdir`]) and libraries opened by name ([`dlopen`]).
//! [`rooted`] packs an in-root directory whole.

pub mod cert;
pub mod dlopen;
pub mod files;
pub mod gconv;
pub mod locale;
pub mod mkdir;
pub mod nss;
pub mod rooted;
pub mod shell;
pub mod tzdata;
pub mod users;
