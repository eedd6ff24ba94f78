//! The plan as lines: `--list` for scripts and `-v` for people.

use std::fmt::Write as _;

use crate::fsroot::Node;
use crate::plan::Plan;

/// One line per entry: archive path, kind, and source or link target, tab-separated.
pub fn list(plan: &Plan) -> String {
    let mut out = String::new();
    for entry in &plan.entries {
        let (kind, detail) = match &entry.node {
            Node::Dir => ("dir", String::new()),
            Node::File { source, .. } => ("file", source.display().to_string()),
            Node::Generated { .. } => ("file", "(generated)".to_string()),
            Node::Symlink { target } => ("symlink", target.display().to_string()),
        };
        let _ = writeln!(out, "{}\t{kind}\t{detail}", entry.path.relative().display());
    }
    out
}

/// One indented line per entry: directories with a `/`, files with where
/// their content comes from and why they are there, links with their target.
pub fn verbose(plan: &Plan) -> String {
    let mut out = String::new();
    for entry in &plan.entries {
        let path = entry.path.relative().display();
        let role = entry.role.as_str();
        let _ = match &entry.node {
            Node::Dir => writeln!(out, "  {path}/"),
            Node::File { source, .. } => {
                writeln!(out, "  {path}  <- {} ({role})", source.display())
            }
            Node::Generated { .. } => writeln!(out, "  {path}  (generated, {role})"),
            Node::Symlink { target } => writeln!(out, "  {path} -> {}", target.display()),
        };
    }
    out
}
