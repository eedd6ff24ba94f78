//! Proof before writing: the image's own loader, simulated inside the planned tree.
//!
//! The plan is turned into an image root (its directories, links and files,
//! nothing else: no ld.so.cache, no ld.so.conf, no `--library-path`), and
//! every input is resolved again from its place in that tree with the same
//! rules, the way the loader inside a `FROM scratch` container would. Each
//! DT_NEEDED edge must reach the very file (device and inode) that the host
//! resolution chose. A difference means the image would not run as planned,
//! and the run is refused before anything is written. The image's files are
//! host files that planning has read; their ELF facts are not read again.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::plan::Plan;
use crate::resolve::{self, Closure, Context};
use crate::root::{Node, Root};

/// The image tree of a plan, as a root the resolver can search.
pub fn image_root(plan: &Plan) -> Root {
    let nodes: BTreeMap<PathBuf, Node> = plan
        .entries
        .iter()
        .map(|e| (Path::new("/").join(&e.path), e.kind.to_node()))
        .collect();
    Root::image(nodes)
}

/// Checks that the image's loader finds what was planned for every input,
/// which `planning` resolved. Returns one line per problem; empty when the
/// image would load as planned.
pub fn verify(plan: &Plan, closures: &[Closure], planning: &Context) -> Result<Vec<String>> {
    // The image's files are host files planning has read: not read again.
    let ctx =
        Context::new(image_root(plan), Vec::new(), PathBuf::from("/")).sharing_files(planning);
    let mut problems = Vec::new();
    for planned in closures {
        let input = &planned.objects[0];
        let mut seen = resolve::resolve_in_root(&ctx, &input.at, input.at.clone())?;
        // Replay the dlopen calls (NSS modules) from the same callers.
        for (caller, name) in &planned.dlopens {
            let id = planned.objects[*caller].id;
            if let Some(i) = seen.objects.iter().position(|o| o.id == id) {
                seen.dlopen(&ctx, i, name);
            }
        }
        let image = edges(&seen);
        for ((from, name), want) in edges(planned) {
            let Some(want) = want else {
                continue; // Already reported as missing.
            };
            let needer = planned
                .objects
                .iter()
                .find(|o| o.id == from)
                .map(|o| o.at.clone());
            let needer = needer.unwrap_or_default();
            match image.get(&(from, name.clone())) {
                Some(Some(got)) if got.0 == want.0 => {}
                Some(Some(got)) => problems.push(format!(
                    "{} (needed by {}): the image would load {} instead of {}",
                    name.to_string_lossy(),
                    needer.display(),
                    got.1.display(),
                    want.1.display()
                )),
                _ => {
                    let why = seen
                        .missing
                        .iter()
                        .find(|m| m.name == name)
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| name.to_string_lossy().into_owned());
                    problems.push(format!(
                        "{} (needed by {}): the image's loader would not find it ({why})",
                        name.to_string_lossy(),
                        needer.display()
                    ));
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    Ok(problems)
}

type Edge = ((u64, u64), OsString);
type Target = Option<((u64, u64), PathBuf)>;

/// Every DT_NEEDED edge of a closure: (needer's file, name) -> the file it reached and where.
fn edges(closure: &Closure) -> HashMap<Edge, Target> {
    let mut out = HashMap::new();
    for object in &closure.objects {
        for dep in &object.deps {
            let target = dep.object.map(|i| {
                let o = &closure.objects[i];
                (o.id, o.at.clone())
            });
            out.entry((object.id, dep.name.clone())).or_insert(target);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Builder, Role};

    fn host_plan(program: &Path) -> (Plan, Closure, Context) {
        let ctx = Context::new(Root::host(), Vec::new(), PathBuf::from("/"));
        let closure = resolve::resolve(&ctx, program, PathBuf::from("/app/prog")).unwrap();
        let mut builder = Builder::new(Root::host(), None);
        builder.add_closure(&closure, Role::Input).unwrap();
        (builder.finish(), closure, ctx)
    }

    #[test]
    fn a_complete_plan_loads() {
        let (plan, closure, ctx) = host_plan(Path::new("/bin/sh"));
        assert_eq!(
            verify(&plan, &[closure], &ctx).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_library_left_out_is_reported() {
        let (mut plan, closure, ctx) = host_plan(Path::new("/bin/sh"));
        let before = plan.entries.len();
        plan.entries
            .retain(|e| e.path.file_name() != Some("libc.so.6".as_ref()));
        assert!(plan.entries.len() < before, "libc.so.6 was planned");
        let problems = verify(&plan, &[closure], &ctx).unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("libc.so.6 (needed by /app/prog)")),
            "{problems:?}"
        );
    }
}
