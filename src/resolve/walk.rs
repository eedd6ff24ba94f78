//! The walk: objects breadth-first in load order, each name resolved once.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::sync::Arc;

use super::context::Context;
use super::model::{Closure, Dep, Loc, Missing, Object, Via};
use super::probe::{Candidate, Probe, probe};
use super::search::Search;
use super::versions;
use crate::elf::{ElfFacts, FileId};
use crate::error::{Error, Result};
use crate::fsroot::{ArchivePath, normalize};
use crate::loader::{Libc, Loader, SystemSearch};

/// Resolves the closure of one input (a host path) that will be stored at `at`.
pub fn input(ctx: &Context, input: &Path, at: ArchivePath) -> Result<Closure> {
    // An input inside a `--root` is resolved there, so that its links (an
    // absolute one starts again at the root) and its $ORIGIN stay in the root.
    let absolute = std::path::absolute(input).map_err(|e| Error::io(input, e))?;
    let sysroot = ctx.root.dir().is_some_and(|d| d != Path::new("/"));
    if sysroot && let Some(in_root) = ctx.root.from_host(&normalize(&absolute)) {
        let followed = ctx.root.follow(&in_root)?;
        return match followed.file {
            Some(_) => self::in_root(ctx, &in_root, at),
            None => Err(Error::IsDirectory {
                path: input.to_path_buf(),
            }),
        };
    }
    let file = crate::elf::read_elf(input)?;
    let facts = file.facts.clone()?;
    refuse_unloadable(&facts, input)?;
    let source = std::fs::canonicalize(input).map_err(|e| Error::io(input, e))?;
    let id = file.id;
    ctx.files.keep(&source, file);
    // The program's $ORIGIN is its real directory: the kernel resolves /proc/self/exe.
    walk(ctx, Loc::Host(source.clone()), source, facts, id, at)
}

/// Resolves the closure of an object already inside the root, at the
/// in-root path `path`, that will be stored at `at` (the planned image's
/// programs when checking it, NSS modules next to libc).
pub fn in_root(ctx: &Context, path: &Path, at: ArchivePath) -> Result<Closure> {
    let followed = ctx.root.follow(path)?;
    let source = followed.file.ok_or_else(|| Error::IsDirectory {
        path: path.to_path_buf(),
    })?;
    let file = ctx.files.get(&source)?;
    let facts = file.facts?;
    refuse_unloadable(&facts, path)?;
    walk(ctx, Loc::InRoot(followed.real), source, facts, file.id, at)
}

/// An input must be a program the kernel would run or an object the loader
/// would load.
fn refuse_unloadable(facts: &ElfFacts, path: &Path) -> Result<()> {
    match crate::elf::unloadable(facts) {
        None => Ok(()),
        Some(reason) => Err(Error::NotLoadable {
            path: path.to_path_buf(),
            reason,
        }),
    }
}

fn walk(
    ctx: &Context,
    loc: Loc,
    source: std::path::PathBuf,
    facts: Arc<ElfFacts>,
    id: FileId,
    at: ArchivePath,
) -> Result<Closure> {
    let loader = ctx.loader_for(&facts);
    let main = Object {
        loc,
        source,
        facts,
        via: Via::Input,
        at,
        loaded_by: None,
        deps: Vec::new(),
        names: Vec::new(),
        aliases: Vec::new(),
        id,
    };
    let mut w = Walk {
        ctx,
        loader,
        objects: vec![main],
        missing: Vec::new(),
    };
    w.load_interpreter();
    w.load_needed_from(0);
    w.missing.extend(versions::check(&w.loader, &w.objects, 0));
    let loader_files = match &w.loader.system {
        SystemSearch::Musl {
            path_file: Some(file),
        } => vec![file.clone()],
        _ => Vec::new(),
    };
    Ok(Closure {
        loader: w.loader,
        objects: w.objects,
        missing: w.missing,
        loader_files,
        dlopens: Vec::new(),
    })
}

impl Closure {
    /// Loads `name` as a `dlopen` from object `caller` would (the caller's
    /// search path, the program's DT_RPATH unless the caller has DT_RUNPATH),
    /// with everything it needs. Returns the object's index, or `None` when it
    /// is missing (recorded in `missing`).
    pub fn dlopen(&mut self, ctx: &Context, caller: usize, name: &OsStr) -> Option<usize> {
        let found = self.walk_on(ctx, |w| {
            let start = w.objects.len();
            let found = w.load(caller, name);
            w.opened(caller, name, found, start);
            found
        });
        self.dlopens.push((caller, name.to_os_string()));
        found
    }

    /// Loads the first of `names` that a `dlopen` from object `caller` would
    /// find (alternatives, most preferred first), with everything it needs.
    /// When none is found, the first is recorded as missing if `required`,
    /// and nothing is recorded otherwise.
    pub fn dlopen_first(
        &mut self,
        ctx: &Context,
        caller: usize,
        names: &[OsString],
        required: bool,
    ) -> Option<usize> {
        let before = self.missing.len();
        let (found, opened) = self.walk_on(ctx, |w| {
            let start = w.objects.len();
            let found = names
                .iter()
                .find_map(|name| Some((name, w.load(caller, name)?)));
            // Each name not found was recorded as missing: keep the first only
            // when nothing was found and the library is required.
            let keep = usize::from(found.is_none() && required);
            w.missing.truncate(before + keep);
            let result = match found {
                Some((name, i)) => Some((name, Some(i))),
                None if required => names.first().map(|name| (name, None)),
                None => None,
            };
            if let Some((name, object)) = result {
                w.opened(caller, name, object, start);
            }
            (found.map(|(_, i)| i), result.map(|(name, _)| name.clone()))
        });
        if let Some(name) = opened {
            self.dlopens.push((caller, name));
        }
        found
    }

    /// Runs `load` on a walk that goes on from this closure, and keeps what
    /// it loaded and found missing.
    fn walk_on<T>(&mut self, ctx: &Context, load: impl FnOnce(&mut Walk) -> T) -> T {
        let mut w = Walk {
            ctx,
            loader: Arc::clone(&self.loader),
            objects: std::mem::take(&mut self.objects),
            missing: std::mem::take(&mut self.missing),
        };
        let result = load(&mut w);
        self.objects = w.objects;
        self.missing = w.missing;
        result
    }
}

/// A closure being loaded.
struct Walk<'a> {
    ctx: &'a Context,
    loader: Arc<Loader>,
    objects: Vec<Object>,
    missing: Vec<Missing>,
}

impl Walk<'_> {
    /// Records that `caller` opened `name` with `dlopen`, finding `object`
    /// (objects from `start` on are what that loaded), then loads what those
    /// need and checks their symbol versions, as `dlopen` does.
    fn opened(&mut self, caller: usize, name: &OsStr, object: Option<usize>, start: usize) {
        self.objects[caller].deps.push(Dep {
            name: name.to_os_string(),
            object,
        });
        self.load_needed_from(start);
        let problems = versions::check(&self.loader, &self.objects, start);
        self.missing.extend(problems);
    }

    /// Loads the DT_NEEDED of every object from index `next` on, breadth-first.
    fn load_needed_from(&mut self, mut next: usize) {
        while next < self.objects.len() {
            let needed = self.objects[next].facts.needed.clone();
            for name in needed {
                let found = self.load(next, &name);
                self.objects[next].deps.push(Dep {
                    name,
                    object: found,
                });
            }
            next += 1;
        }
    }

    fn load_interpreter(&mut self) {
        let Some(interp) = self.loader.interp.clone() else {
            return;
        };
        let loc = Loc::InRoot(interp.clone());
        let note = match probe(self.ctx, &self.loader, &loc) {
            Probe::Found(found) => {
                let Candidate { source, facts, id } = *found;
                self.objects.push(Object {
                    loc,
                    source,
                    facts,
                    via: Via::Interpreter,
                    at: ArchivePath::normalized(&interp),
                    loaded_by: None,
                    deps: Vec::new(),
                    names: vec![interp.into_os_string()],
                    aliases: Vec::new(),
                    id,
                });
                return;
            }
            Probe::Absent | Probe::Skip(_) => {
                "the program's interpreter (PT_INTERP) does not exist".to_string()
            }
            Probe::Fatal(why) => format!("the program's interpreter {why}"),
        };
        self.missing.push(Missing {
            name: interp.into_os_string(),
            needed_by: self.objects[0].loc.path().to_path_buf(),
            searched: Vec::new(),
            note: Some(note),
        });
    }

    /// Resolves one DT_NEEDED name of object `req`; records it as missing when not found.
    fn load(&mut self, req: usize, name: &OsStr) -> Option<usize> {
        if let Some(i) = self.already_loaded(name) {
            self.alias(i, name);
            return Some(i);
        }
        let search = Search {
            ctx: self.ctx,
            loader: &self.loader,
            objects: &self.objects,
        };
        let mut searched = Vec::new();
        let mut note = None;
        for (via, dir, file) in search.candidates(req, name) {
            if let Some(dir) = &dir {
                let shown = normalize(dir.loc.path());
                if !searched.contains(&shown) {
                    searched.push(shown);
                }
            }
            let found = match probe(self.ctx, &self.loader, &file) {
                Probe::Absent => continue,
                Probe::Skip(why) => {
                    note.get_or_insert(why);
                    continue;
                }
                Probe::Fatal(why) => {
                    note = Some(why);
                    break;
                }
                Probe::Found(found) => found,
            };
            let Some(at) = search.place(req, name, dir.as_ref(), &file) else {
                note = Some(format!(
                    "found at {file}, where the image's loader will not look, and {} has \
                     DF_1_NODEFLIB (the default directories are skipped for it) but no \
                     DT_RPATH or DT_RUNPATH directory to put it in",
                    normalize(self.objects[req].loc.path()).display()
                ));
                break;
            };
            if let Some(i) = self.objects.iter().position(|o| o.id == found.id) {
                self.alias(i, name);
                let object = &mut self.objects[i];
                if object.at != at && !object.aliases.iter().any(|(_, a)| *a == at) {
                    object.aliases.push((file, at));
                }
                return Some(i);
            }
            let Candidate { source, facts, id } = *found;
            self.objects.push(Object {
                loc: file,
                source,
                facts,
                via,
                at,
                loaded_by: Some(req),
                deps: Vec::new(),
                names: vec![name.to_os_string()],
                aliases: Vec::new(),
                id,
            });
            return Some(self.objects.len() - 1);
        }
        self.missing.push(Missing {
            name: name.to_os_string(),
            needed_by: normalize(self.objects[req].loc.path()),
            searched,
            note,
        });
        None
    }

    fn alias(&mut self, i: usize, name: &OsStr) {
        if !self.objects[i].names.iter().any(|n| n == name) {
            self.objects[i].names.push(name.to_os_string());
        }
    }

    /// glibc step 0 (name, path or SONAME), or musl's reserved names and file names.
    fn already_loaded(&self, name: &OsStr) -> Option<usize> {
        match self.loader.libc {
            Libc::Glibc => self.objects.iter().position(|o| o.answers_to(name)),
            Libc::Musl => {
                if self.loader.musl_reserved(name) {
                    return self.objects.iter().position(|o| o.via == Via::Interpreter);
                }
                self.objects
                    .iter()
                    .position(|o| o.via != Via::Input && o.loc.path().file_name() == Some(name))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::Root;

    fn host_context() -> Context {
        Context::new(Root::host(), Vec::new())
    }

    /// What a closure found, in order, as text.
    fn found(closure: &Closure) -> String {
        format!("{:?}\n{:?}", closure.objects, closure.missing)
    }

    #[test]
    fn one_context_for_many_inputs_finds_what_one_for_each_finds() {
        let fixtures = crate::test_fixtures::fixtures();
        let inputs = ["rpath/bin/app", "hello/bin/hello-leaf", "rpath/bin/app"];
        let shared = host_context();
        for program in inputs {
            let path = fixtures.join(program);
            let at = ArchivePath::root()
                .join("app")
                .join(path.file_name().unwrap());
            let alone = input(&host_context(), &path, at.clone()).unwrap();
            let together = input(&shared, &path, at).unwrap();
            assert!(alone.objects.len() > 3, "{program} needs libraries");
            assert_eq!(found(&together), found(&alone), "{program}");
        }
        // Resolved inside a root, as the image check does, with the files planning read.
        let in_fixtures = Context::new(Root::new(&fixtures), Vec::new());
        let checking = Context::new(Root::new(&fixtures), Vec::new()).sharing_files(&in_fixtures);
        let program = Path::new("/runpath-ok/bin/app");
        let at = ArchivePath::normalized(program);
        let alone = in_root(&in_fixtures, program, at.clone()).unwrap();
        let together = in_root(&checking, program, at).unwrap();
        assert_eq!(found(&together), found(&alone));
    }
}
