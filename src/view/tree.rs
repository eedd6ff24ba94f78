//! `--tree`: the dependency tree of each input, like `lddtree`, with what
//! each object needs at run time.
//!
//! A library's own dependencies are shown once: where it appears again in
//! the same input's tree, it is named on one "see above" line of its
//! parent; where a later input loads it with the very same subtree, its
//! line refers back to the input it was shown under. Large closures stay
//! readable that way (ffmpeg's, or ImageMagick's coders added whole).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

use super::escape;
use crate::elf::FileId;
use crate::error::tidy;
use crate::needs::{Kind, Need, Remedy};
use crate::plan::Planned;
use crate::resolve::{Closure, Via};

/// Words the flag that meets a need.
type Flag<'a> = &'a dyn Fn(&Remedy) -> Option<String>;

/// The dependency tree of each input: every DT_NEEDED name (and `dlopen`),
/// where it was found and how, where it goes in the archive when that
/// differs, and the needs of each object under it.
pub fn tree(planned: &Planned, flag: Flag) -> String {
    let mut needs: HashMap<FileId, Vec<&Need>> = HashMap::new();
    for need in &planned.needs {
        needs.entry(need.id).or_default().push(need);
    }
    let mut printer = Printer {
        closures: &planned.closures,
        needs,
        flag,
        needs_shown: HashSet::new(),
        expanded: HashMap::new(),
        out: String::new(),
    };
    for c in 0..planned.closures.len() {
        printer.input(c);
    }
    printer.out
}

struct Printer<'a> {
    closures: &'a [Closure],
    needs: HashMap<FileId, Vec<&'a Need>>,
    flag: Flag<'a>,
    /// Objects whose needs were printed.
    needs_shown: HashSet<FileId>,
    /// Where each file's subtree was first shown: closure and object.
    expanded: HashMap<FileId, (usize, usize)>,
    out: String,
}

impl Printer<'_> {
    fn input(&mut self, c: usize) {
        let closure = &self.closures[c];
        let input = &closure.objects[0];
        let _ = writeln!(
            self.out,
            "{} => {}",
            escape::path(input.loc.path()),
            escape::path(input.at.as_path())
        );
        if let Some(o) = closure.objects.iter().find(|o| o.via == Via::Interpreter) {
            let _ = writeln!(
                self.out,
                "    interpreter => {}",
                escape::path(o.loc.path())
            );
        }
        self.object_needs(input.id, 1);
        let mut shown = HashSet::from([0]);
        self.branch(c, 0, 1, &mut shown);
        for m in &closure.missing {
            if m.note.is_some() && m.searched.is_empty() {
                let _ = writeln!(self.out, "    {m}");
            }
        }
    }

    /// The dependencies of object `at` of closure `c`, at `depth`.
    fn branch(&mut self, c: usize, at: usize, depth: usize, shown: &mut HashSet<usize>) {
        let closure = &self.closures[c];
        let pad = "    ".repeat(depth);
        let mut again = Vec::new();
        for dep in &closure.objects[at].deps {
            let name = escape::escape(dep.name.as_bytes());
            let Some(i) = dep.object else {
                let _ = writeln!(self.out, "{pad}{name} => not found");
                continue;
            };
            if shown.contains(&i) {
                again.push(name);
                continue;
            }
            shown.insert(i);
            let o = &closure.objects[i];
            let mut line = format!(
                "{pad}{name} => {} ({})",
                escape::path(o.loc.path()),
                o.via.as_str()
            );
            if tidy(o.loc.path()) != o.at.as_path() {
                let _ = write!(line, " -> {}", escape::path(o.at.as_path()));
            }
            if closure
                .dlopens
                .iter()
                .any(|(caller, n)| *caller == at && *n == dep.name)
            {
                line.push_str(" [dlopen]");
            }
            if let Some(&(first_c, first_i)) = self.expanded.get(&o.id)
                && first_c != c
                && same_subtree(&self.closures[first_c], first_i, closure, i)
            {
                let under = escape::path(self.closures[first_c].objects[0].loc.path());
                let _ = writeln!(self.out, "{line} (its libraries as under {under})");
                shown.extend(reachable(closure, i));
                continue;
            }
            let _ = writeln!(self.out, "{line}");
            self.expanded.entry(o.id).or_insert((c, i));
            self.object_needs(o.id, depth + 1);
            self.branch(c, i, depth + 1, shown);
        }
        if !again.is_empty() {
            let _ = writeln!(self.out, "{pad}(see above: {})", again.join(", "));
        }
    }

    /// The needs of one file, under its line, the first time it is shown.
    fn object_needs(&mut self, id: FileId, depth: usize) {
        if !self.needs_shown.insert(id) {
            return;
        }
        let pad = "    ".repeat(depth);
        for need in self.needs.get(&id).into_iter().flatten() {
            let place = match (need.kind, &need.path) {
                (Kind::PluginDir | Kind::ProgramRelative, Some(path)) => {
                    format!(" {}", path.display())
                }
                _ => String::new(),
            };
            let files = need
                .files
                .map(|(n, size)| {
                    let s = if n == 1 { "" } else { "s" };
                    format!("{n} file{s}, {}; ", super::human(size))
                })
                .unwrap_or_default();
            let state = match (need.met, (self.flag)(&need.remedy)) {
                (true, _) => "met".to_string(),
                (false, Some(flag)) => format!("not met: {flag}"),
                (false, None) => "not met".to_string(),
            };
            let _ = writeln!(
                self.out,
                "{pad}need {}{place}: {} ({files}{state})",
                need.kind.as_str(),
                need.evidence
            );
        }
    }
}

/// Every object reachable from object `from` of `closure`, itself included.
fn reachable(closure: &Closure, from: usize) -> Vec<usize> {
    let mut seen = vec![from];
    let mut next = 0;
    while next < seen.len() {
        for dep in &closure.objects[seen[next]].deps {
            if let Some(i) = dep.object
                && !seen.contains(&i)
            {
                seen.push(i);
            }
        }
        next += 1;
    }
    seen
}

/// Whether object `i` of `a` and object `j` of `b` have the same subtree:
/// the same names needed by the same files, reaching the same files (how
/// each was found may differ: a library input reaches the loader through
/// the cache, a program as its interpreter).
fn same_subtree(a: &Closure, i: usize, b: &Closure, j: usize) -> bool {
    edges(a, i) == edges(b, j)
}

/// The edges below one object, sorted: needer, name, and the file reached.
fn edges(closure: &Closure, from: usize) -> Vec<(FileId, &std::ffi::OsStr, Option<FileId>)> {
    let mut out: Vec<_> = reachable(closure, from)
        .into_iter()
        .flat_map(|k| {
            let o = &closure.objects[k];
            o.deps.iter().map(move |d| {
                let to = d.object.map(|t| closure.objects[t].id);
                (o.id, d.name.as_os_str(), to)
            })
        })
        .collect();
    out.sort();
    out
}
