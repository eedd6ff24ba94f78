//! Views of a plan for people and scripts: `--list` and `-v` ([`list`]),
//! `--json` ([`json`]), `--tree` ([`tree`]) and the size view `--report`
//! ([`report`]). The text views show names through [`escape`].

mod escape;
mod json;
mod list;
mod report;
mod tree;

pub use escape::escape;
pub use json::json;
pub use list::{list, verbose};
pub use report::{Report, human};
pub use tree::tree;
