//! `--json`: the plan for scripts, its schema given by the types below.
//!
//! Field names and types are kept from release to release (fields are only
//! ever added), and keys come in alphabetical order, as they always have.
//!
//! Names are strings, with bytes that are not UTF-8 shown as U+FFFD; a name
//! that is not UTF-8 also gets its exact bytes in a `_bytes` field beside
//! it (an array of numbers), present only then. Paths are shown with
//! repeated `/` and `.` components left out.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::tidy;
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
    #[serde(skip_serializing_if = "Option::is_none")]
    needed_by_bytes: Option<Vec<Vec<u8>>>,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path_bytes: Option<Vec<u8>>,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    /// Host path of a file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_bytes: Option<Vec<u8>>,
    /// A link's target.
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_bytes: Option<Vec<u8>>,
}

/// A library the loader would not find.
#[derive(Serialize)]
struct MissingJson {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_bytes: Option<Vec<u8>>,
    needed_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    needed_by_bytes: Option<Vec<u8>>,
    note: Option<String>,
    searched: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    searched_bytes: Option<Vec<Vec<u8>>>,
}

/// A name as a JSON string: lossy where it is not UTF-8.
fn text(name: &OsStr) -> String {
    name.to_string_lossy().into_owned()
}

/// A name's exact bytes, when its string is not exact.
fn exact(name: &OsStr) -> Option<Vec<u8>> {
    name.to_str().is_none().then(|| name.as_bytes().to_vec())
}

/// The exact bytes of every name of a list, when any string is not exact.
fn all_exact<'a>(names: impl IntoIterator<Item = &'a OsStr> + Clone) -> Option<Vec<Vec<u8>>> {
    let lossy = names.clone().into_iter().any(|n| n.to_str().is_none());
    lossy.then(|| names.into_iter().map(|n| n.as_bytes().to_vec()).collect())
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
            let needers: Option<Vec<&OsStr>> = needed_by.get(e.path.as_path()).map(|needers| {
                needers
                    .iter()
                    .map(|p| p.strip_prefix("/").unwrap_or(p).as_os_str())
                    .collect()
            });
            let path = e.path.relative().as_os_str();
            let mut entry = EntryJson {
                generated: None,
                kind: "file",
                mode: format!("{:04o}", e.mode),
                mtime: e.mtime,
                needed_by: needers
                    .as_ref()
                    .map(|n| n.iter().map(|p| text(p)).collect()),
                needed_by_bytes: needers.as_ref().and_then(|n| all_exact(n.iter().copied())),
                path: text(path),
                path_bytes: exact(path),
                role: e.role.as_str(),
                size: None,
                source: None,
                source_bytes: None,
                target: None,
                target_bytes: None,
            };
            match &e.node {
                Node::Dir => entry.kind = "dir",
                Node::File { source, size } => {
                    let source = tidy(source);
                    entry.source = Some(text(source.as_os_str()));
                    entry.source_bytes = exact(source.as_os_str());
                    entry.size = Some(*size);
                }
                Node::Generated { content } => {
                    entry.generated = Some(true);
                    entry.size = Some(content.len() as u64);
                }
                Node::Symlink { target } => {
                    entry.kind = "symlink";
                    entry.target = Some(text(target.as_os_str()));
                    entry.target_bytes = exact(target.as_os_str());
                }
            }
            entry
        })
        .collect();
    let missing = planned
        .missing
        .iter()
        .map(|m| {
            let needer = tidy(&m.needed_by);
            let searched: Vec<PathBuf> = m.searched.iter().map(|d| tidy(d)).collect();
            MissingJson {
                name: text(&m.name),
                name_bytes: exact(&m.name),
                needed_by: text(needer.as_os_str()),
                needed_by_bytes: exact(needer.as_os_str()),
                note: m.note.clone(),
                searched: searched.iter().map(|d| text(d.as_os_str())).collect(),
                searched_bytes: all_exact(searched.iter().map(|d| d.as_os_str())),
            }
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
