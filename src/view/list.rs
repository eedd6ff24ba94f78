//! The plan as lines: `--list` for scripts and `-v` for people.

use std::fmt::Write as _;

use super::escape::{path as shown, raw};
use crate::fsroot::Node;
use crate::plan::Plan;

/// One line per entry: archive path, kind, and source or link target,
/// tab-separated, each name escaped.
pub fn list(plan: &Plan) -> String {
    let mut out = String::new();
    for entry in &plan.entries {
        let (kind, detail) = match &entry.node {
            Node::Dir => ("dir", String::new()),
            Node::File { source, .. } => ("file", shown(source)),
            Node::Generated { .. } => ("file", "(generated)".to_string()),
            Node::Symlink { target } => ("symlink", raw(target)),
        };
        let _ = writeln!(out, "{}\t{kind}\t{detail}", shown(entry.path.relative()));
    }
    out
}

/// One indented line per entry: directories with a `/`, files with where
/// their content comes from and why they are there, links with their
/// target; names escaped.
pub fn verbose(plan: &Plan) -> String {
    let mut out = String::new();
    for entry in &plan.entries {
        let path = shown(entry.path.relative());
        let role = entry.role.as_str();
        let _ = match &entry.node {
            Node::Dir => writeln!(out, "  {path}/"),
            Node::File { source, .. } => {
                writeln!(out, "  {path}  <- {} ({role})", shown(source))
            }
            Node::Generated { .. } => writeln!(out, "  {path}  (generated, {role})"),
            Node::Symlink { target } => writeln!(out, "  {path} -> {}", raw(target)),
        };
    }
    out
}
