//! The integration tests, one binary with a module per area. Each runs the
//! real `extract-elf-so` binary on the fixtures of `fixtures/` and on trees
//! built at test time, and checks what it writes from the outside;
//! `hardening` also calls the library's parsers, `inspect` its size
//! formatting, and `layout` reads the source to hold the layout's rules.
//! `image` drives skopeo, umoci and registries against `--image`.
//! `util` holds what several areas share.
//!
//! All tests run in this one process: a test that changes something of the
//! host for a while (the CA store) holds a lock that the tests reading it
//! take too (`ca_read` in `util`).

mod archive;
mod cli;
mod e2e;
mod extras;
mod gzip;
mod hardening;
mod image;
mod inspect;
mod layout;
mod loader;
mod needs;
mod output;
mod resolve;
mod run_time;
mod run_time_e2e;
mod util;
