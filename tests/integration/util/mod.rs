//! Helpers shared by the integration test modules.

pub mod common;
pub mod support;
pub mod unpack;
