//! Proof before writing: the image's own loader, simulated inside the planned tree.
//!
//! The plan is turned into an image root (its directories, links and files,
//! nothing else: no ld.so.cache, no ld.so.conf, no `--library-path`), and
//! every input is resolved again from its place in that tree with the same
//! rules, the way the loader inside a `FROM scratch` container would. Each
//! DT_NEEDED edge must reach the very file (device and inode) that the host
//! resolution chose. A difference means the image would not run as planned,
//! and the run is refused before anything is written. Each problem is
//! reported once, where it starts: the dependencies of an object the image
//! would not load are not reported as well. The image's files are
//! host files that planning has read; their ELF facts are not read again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;

use super::entry::Plan;
use crate::elf::FileId;
use crate::error::{Error, LoadProblem, LoadProblemKind, Result};
use crate::fsroot::{ArchivePath, Node, Root};
use crate::resolve::{self, Closure, Context};

/// The image tree of a plan, as a root the resolver can search.
pub fn image_root(plan: &Plan) -> Root {
    let nodes: BTreeMap<PathBuf, Node> = plan
        .entries
        .iter()
        .map(|e| (e.path.as_path().to_path_buf(), e.node.clone()))
        .collect();
    Root::image(nodes)
}

/// Checks that the image's loader finds what was planned for every input,
/// which `planning` resolved; fails with every difference when it would not.
pub fn verify(plan: &Plan, closures: &[Closure], planning: &Context) -> Result<()> {
    let problems = problems(plan, closures, planning)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::WouldNotLoad(problems))
    }
}

/// Each way the image would not load as planned, sorted, without repeats.
fn problems(plan: &Plan, closures: &[Closure], planning: &Context) -> Result<Vec<LoadProblem>> {
    // The image's files are host files planning has read: not read again.
    let ctx = Context::new(image_root(plan), Vec::new()).sharing_files(planning);
    let mut problems = Vec::new();
    for planned in closures {
        let input = &planned.objects[0];
        let mut seen = resolve::in_root(&ctx, input.at.as_path(), input.at.clone())?;
        // Replay the dlopen calls (NSS modules) from the same callers.
        for (caller, name) in &planned.dlopens {
            let id = planned.objects[*caller].id;
            if let Some(i) = seen.objects.iter().position(|o| o.id == id) {
                seen.dlopen(&ctx, i, name);
            }
        }
        let image = edges(&seen);
        let loaded: HashSet<FileId> = seen.objects.iter().map(|o| o.id).collect();
        for ((from, name), want) in edges(planned) {
            let Some(want) = want else {
                continue; // Already reported as missing.
            };
            if !loaded.contains(&from) {
                // The image would not load the object that needs it: that
                // is the problem, reported where that object is needed.
                continue;
            }
            let needed_by = planned
                .objects
                .iter()
                .find(|o| o.id == from)
                .map(|o| o.at.as_path().to_path_buf())
                .unwrap_or_default();
            let kind = match image.get(&(from, name.clone())) {
                Some(Some(got)) if got.0 == want.0 => continue,
                Some(Some(got)) => LoadProblemKind::Other {
                    loaded: got.1.as_path().to_path_buf(),
                    planned: want.1.as_path().to_path_buf(),
                },
                _ => LoadProblemKind::NotFound {
                    why: seen
                        .missing
                        .iter()
                        .find(|m| m.name == name)
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| name.to_string_lossy().into_owned()),
                },
            };
            problems.push(LoadProblem {
                name,
                needed_by,
                kind,
            });
        }
    }
    // The order of the lines as read, whatever the order the edges came in.
    problems.sort_by_cached_key(|p| p.to_string());
    problems.dedup();
    Ok(problems)
}

/// A DT_NEEDED edge: the needer's file and the name.
type Edge = (FileId, OsString);
/// What an edge reached: the file and where it is in the archive.
type Reached = Option<(FileId, ArchivePath)>;

/// Every DT_NEEDED edge of a closure and what it reached.
fn edges(closure: &Closure) -> HashMap<Edge, Reached> {
    let mut out = HashMap::new();
    for object in &closure.objects {
        for dep in &object.deps {
            let reached = dep.object.map(|i| {
                let o = &closure.objects[i];
                (o.id, o.at.clone())
            });
            out.entry((object.id, dep.name.clone())).or_insert(reached);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Planner, Role};
    use crate::test_fixtures::fixtures;
    use std::path::Path;

    fn host_plan(program: &Path) -> (Plan, Closure, Context) {
        let ctx = Context::new(Root::host(), Vec::new());
        let at = ArchivePath::normalized(Path::new("/app/prog"));
        let closure = resolve::input(&ctx, program, at).unwrap();
        let mut planner = Planner::new(Root::host(), None);
        planner.add_closure(&closure, Role::Input).unwrap();
        (planner.finish(), closure, ctx)
    }

    #[test]
    fn a_complete_plan_loads() {
        let (plan, closure, ctx) = host_plan(&fixtures().join("hello/bin/hello-leaf"));
        assert_eq!(problems(&plan, &[closure], &ctx).unwrap(), Vec::new());
    }

    #[test]
    fn a_library_left_out_is_reported() {
        let (mut plan, closure, ctx) = host_plan(&fixtures().join("hello/bin/hello-leaf"));
        let before = plan.entries.len();
        plan.entries
            .retain(|e| e.path.file_name() != Some("libc.so.6".as_ref()));
        assert!(plan.entries.len() < before, "libc.so.6 was planned");
        let err = verify(&plan, &[closure], &ctx).unwrap_err();
        let Error::WouldNotLoad(problems) = err else {
            panic!("{err}")
        };
        assert!(
            problems
                .iter()
                .any(|p| p.to_string().starts_with("libc.so.6 (needed by /app/prog)")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_library_left_out_is_reported_once_not_with_its_dependencies() {
        let (mut plan, closure, ctx) = host_plan(&fixtures().join("hello/bin/hello-leaf"));
        let before = plan.entries.len();
        let leaf = |e: &crate::plan::Entry| {
            e.path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libleaf.so.1"))
        };
        plan.entries.retain(|e| !leaf(e));
        assert!(plan.entries.len() < before, "libleaf.so.1 was planned");
        let lines: Vec<String> = problems(&plan, &[closure], &ctx)
            .unwrap()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].starts_with("libleaf.so.1 (needed by /app/prog): "),
            "{lines:#?}"
        );
    }
}
