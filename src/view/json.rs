//! `--json`: the plan for scripts, its schema given by the types below.
//!
//! Field names and types are kept from release to release (fields are only
//! ever added), and keys come in alphabetical order, as they always have.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fsroot::Node;
use crate::needs::{Need, Remedy};
use crate::plan::{Planned, image_root};
use crate::resolve::Via;

/// The whole document.
#[derive(Serialize)]
struct Document {
    entries: Vec<EntryJson>,
    missing: Vec<MissingJson>,
    needs: Vec<NeedJson>,
}

/// One archive entry.
#[derive(Serialize)]
struct EntryJson {
    /// `true` for a file written by the tool itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    generated: Option<bool>,
    /// `dir`, `file` or `symlink`.
    kind: &'static str,
    /// Octal permission bits, four digits.
    mode: String,
    mtime: u64,
    /// Archive paths of the objects that name this file in DT_NEEDED (or as
    /// their interpreter).
    #[serde(skip_serializing_if = "Option::is_none")]
    needed_by: Option<Vec<String>>,
    path: String,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Host path of a file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// A link's target.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

/// A library the loader would not find.
#[derive(Serialize)]
struct MissingJson {
    name: String,
    needed_by: String,
    note: Option<String>,
    searched: Vec<String>,
}

/// What a packed object asks for at run time.
#[derive(Serialize)]
struct NeedJson {
    /// What in the object shows it.
    evidence: String,
    /// How many shared objects (or files) `path` holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<u64>,
    /// The flag that meets it, as typed; null when nothing is to be asked for.
    flag: Option<String>,
    /// Whether it gets a hint when unmet.
    hint: bool,
    kind: &'static str,
    met: bool,
    /// The object, as the loader sees it.
    object: String,
    /// The place it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Bytes of the files `files` counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
}

impl NeedJson {
    fn new(need: &Need, flag: &dyn Fn(&Remedy) -> Option<String>) -> Self {
        NeedJson {
            evidence: need.evidence.to_string(),
            files: need.files.map(|(n, _)| n),
            flag: flag(&need.remedy),
            hint: need.hint,
            kind: need.kind.as_str(),
            met: need.met,
            object: need.object.to_string_lossy().into_owned(),
            path: need.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
            size: need.files.map(|(_, size)| size),
        }
    }
}

/// The plan as JSON: every entry with its path, kind, source or target,
/// size, role, and the entry paths of the objects that need it; then the
/// libraries that were not found; then the run-time needs, each with the
/// flag that meets it as `flag` words it.
pub fn json(planned: &Planned, flag: &dyn Fn(&Remedy) -> Option<String>) -> String {
    let needed_by = needed_by(planned);
    let entries = planned
        .plan
        .entries
        .iter()
        .map(|e| {
            let mut entry = EntryJson {
                generated: None,
                kind: "file",
                mode: format!("{:04o}", e.mode),
                mtime: e.mtime,
                needed_by: needed_by.get(e.path.as_path()).map(|needers| {
                    needers
                        .iter()
                        .map(|p| p.strip_prefix("/").unwrap_or(p).display().to_string())
                        .collect()
                }),
                path: e.path.relative().to_string_lossy().into_owned(),
                role: e.role.as_str(),
                size: None,
                source: None,
                target: None,
            };
            match &e.node {
                Node::Dir => entry.kind = "dir",
                Node::File { source, size } => {
                    entry.source = Some(source.to_string_lossy().into_owned());
                    entry.size = Some(*size);
                }
                Node::Generated { content } => {
                    entry.generated = Some(true);
                    entry.size = Some(content.len() as u64);
                }
                Node::Symlink { target } => {
                    entry.kind = "symlink";
                    entry.target = Some(target.to_string_lossy().into_owned());
                }
            }
            entry
        })
        .collect();
    let missing = planned
        .missing
        .iter()
        .map(|m| MissingJson {
            name: m.name.to_string_lossy().into_owned(),
            needed_by: m.needed_by.to_string_lossy().into_owned(),
            note: m.note.clone(),
            searched: m
                .searched
                .iter()
                .map(|d| d.to_string_lossy().into_owned())
                .collect(),
        })
        .collect();
    let needs = planned
        .needs
        .iter()
        .map(|n| NeedJson::new(n, flag))
        .collect();
    pretty(&Document {
        entries,
        missing,
        needs,
    })
}

/// A value as pretty-printed JSON text ending in a newline.
pub(super) fn pretty(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// For each real in-archive file path, the archive paths of the objects that
/// name it in DT_NEEDED (or as their interpreter).
fn needed_by(planned: &Planned) -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let image = image_root(&planned.plan);
    let real = |at: &Path| image.follow(at).map(|r| r.real).ok();
    let mut map: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for closure in &planned.closures {
        let input_at = closure.objects[0].at.as_path();
        for object in &closure.objects {
            // Both sides as archive entry paths, links followed.
            let Some(needer) = real(object.at.as_path()) else {
                continue;
            };
            let needers = object.deps.iter().filter_map(|d| d.object);
            for i in needers {
                if let Some(path) = real(closure.objects[i].at.as_path()) {
                    map.entry(path).or_default().push(needer.clone());
                }
            }
            if object.via == Via::Interpreter
                && let (Some(path), Some(input)) = (real(object.at.as_path()), real(input_at))
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
