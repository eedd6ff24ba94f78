//! Views of a plan without writing it: a sorted listing, the same as JSON,
//! and the dependency tree of each input (like `lddtree`).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::Planned;
use crate::plan::Kind;
use crate::resolve::{Closure, Via};
use crate::verify::image_root;

/// One line per entry: archive path, kind, and source or link target, tab-separated.
pub fn list(planned: &Planned) -> String {
    let mut out = String::new();
    for entry in &planned.plan.entries {
        let (kind, detail) = match &entry.kind {
            Kind::Dir => ("dir", String::new()),
            Kind::File { source, .. } => ("file", source.display().to_string()),
            Kind::Generated { .. } => ("file", "(generated)".to_string()),
            Kind::Symlink { target } => ("symlink", target.display().to_string()),
        };
        let _ = writeln!(out, "{}\t{kind}\t{detail}", entry.path.display());
    }
    out
}

/// The plan as JSON: every entry with its path, kind, source or target,
/// size, role, and the entry paths of the objects that need it; then the
/// libraries that were not found.
pub fn json(planned: &Planned) -> String {
    let needed_by = needed_by(planned);
    let entries: Vec<Value> = planned
        .plan
        .entries
        .iter()
        .map(|e| {
            let mut v = json!({
                "path": e.path.to_string_lossy(),
                "mode": format!("{:04o}", e.mode),
                "mtime": e.mtime,
                "role": e.role.as_str(),
            });
            let obj = v.as_object_mut().expect("a JSON object");
            match &e.kind {
                Kind::Dir => {
                    obj.insert("kind".into(), json!("dir"));
                }
                Kind::File { source, size } => {
                    obj.insert("kind".into(), json!("file"));
                    obj.insert("source".into(), json!(source.to_string_lossy()));
                    obj.insert("size".into(), json!(size));
                }
                Kind::Generated { content } => {
                    obj.insert("kind".into(), json!("file"));
                    obj.insert("generated".into(), json!(true));
                    obj.insert("size".into(), json!(content.len()));
                }
                Kind::Symlink { target } => {
                    obj.insert("kind".into(), json!("symlink"));
                    obj.insert("target".into(), json!(target.to_string_lossy()));
                }
            }
            if let Some(needers) = needed_by.get(&Path::new("/").join(&e.path)) {
                let list: Vec<String> = needers
                    .iter()
                    .map(|p| p.strip_prefix("/").unwrap_or(p).display().to_string())
                    .collect();
                obj.insert("needed_by".into(), json!(list));
            }
            v
        })
        .collect();
    let missing: Vec<Value> = planned
        .missing
        .iter()
        .map(|m| {
            json!({
                "name": m.name.to_string_lossy(),
                "needed_by": m.needed_by.to_string_lossy(),
                "searched": m.searched.iter().map(|d| d.to_string_lossy()).collect::<Vec<_>>(),
                "note": m.note,
            })
        })
        .collect();
    json_text(&json!({ "entries": entries, "missing": missing }))
}

/// A JSON value as pretty-printed text ending in a newline.
pub fn json_text(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// For each real in-archive file path, the archive paths of the objects that
/// name it in DT_NEEDED (or as their interpreter).
fn needed_by(planned: &Planned) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let image = image_root(&planned.plan);
    let real = |at: &Path| image.resolve(at).map(|r| r.real).ok();
    let mut map: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for closure in &planned.closures {
        let input_at = &closure.objects[0].at;
        for object in &closure.objects {
            // Both sides as archive entry paths, links resolved.
            let Some(needer) = real(&object.at) else {
                continue;
            };
            let needers = object.deps.iter().filter_map(|d| d.object);
            for i in needers {
                if let Some(path) = real(&closure.objects[i].at) {
                    map.entry(path).or_default().push(needer.clone());
                }
            }
            if object.via == Via::Interpreter
                && let (Some(path), Some(input)) = (real(&object.at), real(input_at))
            {
                map.entry(path).or_default().push(input);
            }
        }
    }
    for needers in map.values_mut() {
        needers.sort();
        needers.dedup();
    }
    map
}

/// The dependency tree of each input: every DT_NEEDED name, where it was
/// found and how, and where it goes in the archive when that differs.
/// Each library's own dependencies are shown at its first appearance.
pub fn tree(planned: &Planned) -> String {
    let mut out = String::new();
    for closure in &planned.closures {
        let input = &closure.objects[0];
        let _ = writeln!(out, "{} => {}", input.loc, input.at.display());
        if let Some(i) = closure
            .objects
            .iter()
            .position(|o| o.via == Via::Interpreter)
        {
            let o = &closure.objects[i];
            let _ = writeln!(out, "    interpreter => {}", o.loc);
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
        let name = dep.name.to_string_lossy();
        let Some(i) = dep.object else {
            let _ = writeln!(out, "{pad}{name} => not found");
            continue;
        };
        let o = &closure.objects[i];
        let mut line = format!("{pad}{name} => {} ({})", o.loc, o.via.as_str());
        if o.loc.path() != o.at {
            let _ = write!(line, " -> {}", o.at.display());
        }
        let _ = writeln!(out, "{line}");
        if shown.insert(i) {
            branch(closure, i, depth + 1, shown, out);
        }
    }
}
