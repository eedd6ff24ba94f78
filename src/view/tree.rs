//! `--tree`: the dependency tree of each input, like `lddtree`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

use super::escape;
use crate::error::tidy;
use crate::plan::Planned;
use crate::resolve::{Closure, Via};

/// The dependency tree of each input: every DT_NEEDED name, where it was
/// found and how, and where it goes in the archive when that differs.
/// Each library's own dependencies are shown at its first appearance; names
/// are escaped.
pub fn tree(planned: &Planned) -> String {
    let mut out = String::new();
    for closure in &planned.closures {
        let input = &closure.objects[0];
        let _ = writeln!(
            out,
            "{} => {}",
            escape::path(input.loc.path()),
            escape::path(input.at.as_path())
        );
        if let Some(i) = closure
            .objects
            .iter()
            .position(|o| o.via == Via::Interpreter)
        {
            let o = &closure.objects[i];
            let _ = writeln!(out, "    interpreter => {}", escape::path(o.loc.path()));
        }
        let mut shown = HashSet::new();
        shown.insert(0);
        branch(closure, 0, 1, &mut shown, &mut out);
        for m in &closure.missing {
            if m.note.is_some() && m.searched.is_empty() {
                let _ = writeln!(out, "    {m}");
            }
        }
    }
    out
}

fn branch(
    closure: &Closure,
    at: usize,
    depth: usize,
    shown: &mut HashSet<usize>,
    out: &mut String,
) {
    let pad = "    ".repeat(depth);
    for dep in &closure.objects[at].deps {
        let name = escape::escape(dep.name.as_bytes());
        let Some(i) = dep.object else {
            let _ = writeln!(out, "{pad}{name} => not found");
            continue;
        };
        let o = &closure.objects[i];
        let mut line = format!(
            "{pad}{name} => {} ({})",
            escape::path(o.loc.path()),
            o.via.as_str()
        );
        if tidy(o.loc.path()) != o.at.as_path() {
            let _ = write!(line, " -> {}", escape::path(o.at.as_path()));
        }
        let _ = writeln!(out, "{line}");
        if shown.insert(i) {
            branch(closure, i, depth + 1, shown, out);
        }
    }
}
