//! The closure: every object the target's loader would map for one input.
//!
//! Nothing is executed. The order is the loader's own: objects are taken
//! breadth-first, DT_NEEDED in file order, and each name is resolved once, by
//! its first requester, with that requester's search path; later requesters
//! find it already loaded.
//!
//! glibc (`elf/dl-load.c` `_dl_map_object`), for a name without `/`:
//!
//! 0. an object already loaded under that name, path or DT_SONAME (ld.so
//!    itself answers to its SONAME), or the same file (device and inode);
//! 1. only if the requester has no DT_RUNPATH: the DT_RPATH of the requester,
//!    then of the object that loaded it and so on up, then of the program
//!    (an object that has both tags has its DT_RPATH ignored);
//! 2. `--library-path` directories (where `LD_LIBRARY_PATH` would be; the
//!    host's own `LD_LIBRARY_PATH` is never used);
//! 3. the requester's own DT_RUNPATH (not inherited);
//! 4. `/etc/ld.so.cache` of the root, baseline entries with the flags the
//!    target loader accepts; if the root has no cache, the directories of its
//!    `/etc/ld.so.conf`, which is what ldconfig would put in one;
//! 5. the loader's default directories.
//!
//! DF_1_NODEFLIB on the requester skips the default directories in steps 4
//! and 5. `$ORIGIN`, `$LIB` and `$PLATFORM` (also `${...}`) are expanded in
//! path lists and in names with `/`, `$ORIGIN` against the list's owner. Each
//! candidate is checked as `open_verify` does: a file of another ELF class or
//! machine is skipped; a file that is not ELF, or has the wrong byte order, or
//! an OS ABI the loader rejects, ends the search for that name with an error.
//! glibc-hwcaps subdirectories are not probed: the image must carry the
//! baseline library so it runs on every CPU of the architecture.
//!
//! musl (`ldso/dynlink.c` `load_library`): names musl serves itself (`libc.so`,
//! `libm.so.6`, ...) resolve to the interpreter; then an object already found
//! under that file name; then `--library-path`; then the DT_RUNPATH, else
//! DT_RPATH, of the requester and of each object up its chain (both
//! inherited; only `$ORIGIN` is expanded, any other `$` drops the list); then
//! `etc/ld-musl-ARCH.path` or `/lib:/usr/local/lib:/usr/lib`. musl checks
//! nothing, so the first file that opens is the one it would load; if that
//! file does not fit the program, it is reported.
//!
//! Each object also gets the path it will have in the archive (`at`): its own
//! path when the image's loader will search there, the `--dest` path for
//! inputs, `$ORIGIN` paths re-expanded from the new location of their owner,
//! and the first default directory for libraries that only a cache, an
//! ld.so.conf directory or `--library-path` found (the image has none of them).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::candidate::{Check, check};
use crate::dst::substitute;
use crate::elf::{self as elffile, ElfFacts};
use crate::error::{Error, Result};
use crate::files::Files;
use crate::root::{self, Root};
use crate::target::{Libc, SystemSearch, Target};

/// Where a file or directory is: inside the root, or a host path (inputs and
/// what `$ORIGIN` reaches from them). Keeping the two apart means the root is
/// never joined to a path that already has it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Loc {
    InRoot(PathBuf),
    Host(PathBuf),
}

impl Loc {
    /// The path as the loader would see it.
    pub fn path(&self) -> &Path {
        match self {
            Loc::InRoot(p) | Loc::Host(p) => p,
        }
    }

    fn join(&self, name: &OsStr) -> Loc {
        match self {
            Loc::InRoot(p) => Loc::InRoot(p.join(name)),
            Loc::Host(p) => Loc::Host(p.join(name)),
        }
    }

    fn parent(&self) -> Loc {
        let parent = |p: &Path| p.parent().unwrap_or(Path::new("/")).to_path_buf();
        match self {
            Loc::InRoot(p) => Loc::InRoot(parent(p)),
            Loc::Host(p) => Loc::Host(parent(p)),
        }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.path().display().fmt(f)
    }
}

/// How an object was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Input,
    Interpreter,
    Rpath,
    LibraryPath,
    Runpath,
    Cache,
    ConfDir,
    DefaultDir,
    /// A DT_NEEDED name containing `/`, opened as given.
    Direct,
}

impl Via {
    /// A short word for listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Input => "input",
            Via::Interpreter => "interpreter",
            Via::Rpath => "rpath",
            Via::LibraryPath => "library-path",
            Via::Runpath => "runpath",
            Via::Cache => "ld.so.cache",
            Via::ConfDir => "ld.so.conf",
            Via::DefaultDir => "default path",
            Via::Direct => "direct",
        }
    }
}

/// One DT_NEEDED edge.
#[derive(Debug, Clone)]
pub struct Dep {
    pub name: OsString,
    /// Index of the object it resolved to; `None` when missing.
    pub object: Option<usize>,
}

/// One object the loader would map.
#[derive(Debug, Clone)]
pub struct Object {
    /// The path it was opened by (search dir plus name), links unresolved.
    pub loc: Loc,
    /// Host path of the file's content.
    pub source: PathBuf,
    /// Shared with every other closure that loads the same file.
    pub facts: Arc<ElfFacts>,
    pub via: Via,
    /// In-archive absolute path where the image's loader will find it.
    pub at: PathBuf,
    /// The object whose dependency caused this one to load (glibc's `l_loader`).
    pub loader: Option<usize>,
    pub deps: Vec<Dep>,
    /// Names it was requested under.
    names: Vec<OsString>,
    /// Device and inode of the content.
    pub id: (u64, u64),
    /// Other paths a search found this same file at (a second DT_NEEDED name
    /// that is a link to it), with their places in the archive: the image
    /// must have them too, or its loader would not find that name.
    pub aliases: Vec<(Loc, PathBuf)>,
}

/// A library the loader would not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub name: OsString,
    /// The object that needs it.
    pub needed_by: PathBuf,
    /// Directories tried, in order, as the loader sees them.
    pub searched: Vec<PathBuf>,
    /// Why a file that was found could not be used.
    pub note: Option<String>,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (needed by {})",
            self.name.to_string_lossy(),
            self.needed_by.display()
        )?;
        if let Some(note) = &self.note {
            write!(f, ": {note}")?;
        }
        if !self.searched.is_empty() {
            let dirs: Vec<String> = self
                .searched
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            write!(f, "; searched {}", dirs.join(":"))?;
        }
        Ok(())
    }
}

/// The closure of one input.
#[derive(Debug, Clone)]
pub struct Closure {
    pub target: Arc<Target>,
    /// Objects in load order; the input is first.
    pub objects: Vec<Object>,
    pub missing: Vec<Missing>,
    /// Other in-root files the image's loader reads (musl's path file).
    pub loader_files: Vec<PathBuf>,
    /// Names loaded with `dlopen`, and the object that called it, in order.
    pub dlopens: Vec<(usize, OsString)>,
}

impl Closure {
    /// Loads `name` as a `dlopen` from object `caller` would (the caller's
    /// search path, the program's DT_RPATH unless the caller has DT_RUNPATH),
    /// with everything it needs. Returns the object's index, or `None` when it
    /// is missing (recorded in `missing`).
    pub fn dlopen(&mut self, ctx: &Context, caller: usize, name: &OsStr) -> Option<usize> {
        let mut r = Resolver {
            ctx,
            target: Arc::clone(&self.target),
            objects: std::mem::take(&mut self.objects),
            missing: std::mem::take(&mut self.missing),
        };
        let start = r.objects.len();
        let found = r.load(caller, name);
        r.objects[caller].deps.push(Dep {
            name: name.to_os_string(),
            object: found,
        });
        r.load_needed_from(start);
        self.objects = r.objects;
        self.missing = r.missing;
        self.dlopens.push((caller, name.to_os_string()));
        found
    }
}

/// What the resolver needs besides the input.
#[derive(Debug, Clone)]
pub struct Context {
    pub root: Root,
    /// `--library-path` directories (host paths), searched where `LD_LIBRARY_PATH` would be.
    pub library_path: Vec<PathBuf>,
    /// The directory relative path-list elements are taken from.
    pub cwd: PathBuf,
    /// Loaders already described, shared by the programs that use them, so
    /// the loader file and the cache are read once, not once per input.
    targets: RefCell<Vec<Arc<Target>>>,
    /// ELF files already read, so that a library many programs need is read
    /// once, not once per input.
    files: Files,
    /// Host candidates already looked at (what `$ORIGIN` reaches from the
    /// inputs): the real path of a regular file, or `None`.
    host_files: RefCell<HashMap<PathBuf, Option<PathBuf>>>,
}

impl Context {
    pub fn new(root: Root, library_path: Vec<PathBuf>, cwd: PathBuf) -> Self {
        Context {
            root,
            library_path,
            cwd,
            targets: RefCell::new(Vec::new()),
            files: Files::default(),
            host_files: RefCell::new(HashMap::new()),
        }
    }

    /// This context, sharing the host files `other` has read and will read.
    pub fn sharing_files(mut self, other: &Context) -> Self {
        self.files = other.files.clone();
        self
    }

    /// The real path of the host file `path` when it is a regular file,
    /// looked at once.
    fn host_file(&self, path: &Path) -> Option<PathBuf> {
        if let Some(known) = self.host_files.borrow().get(path) {
            return known.clone();
        }
        let file = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
            }
            _ => None,
        };
        self.host_files
            .borrow_mut()
            .insert(path.to_path_buf(), file.clone());
        file
    }

    /// The loader that would run `program`, described once per kind.
    fn target_for(&self, program: &ElfFacts) -> Arc<Target> {
        let libc = Target::libc_of(program);
        let interp = program.interp.as_ref().map(PathBuf::from);
        let mut known = self.targets.borrow_mut();
        let same =
            |t: &&Arc<Target>| t.libc == libc && t.header == program.header && t.interp == interp;
        if let Some(t) = known.iter().find(same) {
            return Arc::clone(t);
        }
        let fresh = Arc::new(Target::for_program(&self.root, program));
        known.push(Arc::clone(&fresh));
        fresh
    }
}

/// A directory of a search list, with where the image will have it.
#[derive(Debug, Clone)]
struct SearchDir {
    loc: Loc,
    /// In-archive directory when the image's loader searches this directory
    /// too; `None` when files found here must move to a default directory.
    at: Option<PathBuf>,
}

/// What probing one candidate path gave.
enum Probe {
    Absent,
    Skip(String),
    Fatal(String),
    Found(Box<Found>),
}

struct Found {
    source: PathBuf,
    facts: Arc<ElfFacts>,
    id: (u64, u64),
}

/// Resolves the closure of one input (a host path) that will be stored at `at`.
pub fn resolve(ctx: &Context, input: &Path, at: PathBuf) -> Result<Closure> {
    // An input inside a `--root` is resolved there, so that its links (an
    // absolute one starts again at the root) and its $ORIGIN stay in the root.
    let absolute = std::path::absolute(input).map_err(|e| Error::io(input, e))?;
    let sysroot = ctx.root.dir().is_some_and(|d| d != Path::new("/"));
    if sysroot && let Some(in_root) = ctx.root.from_host(&root::normalize(&absolute)) {
        let resolved = ctx.root.resolve(&in_root)?;
        return match resolved.file {
            Some(_) => resolve_in_root(ctx, &in_root, at),
            None => Err(Error::IsDirectory {
                path: input.to_path_buf(),
            }),
        };
    }
    let file = elffile::read(input)?;
    let facts = file.facts.clone()?;
    let source = std::fs::canonicalize(input).map_err(|e| Error::io(input, e))?;
    let id = file.id;
    ctx.files.keep(&source, file);
    // The program's $ORIGIN is its real directory: the kernel resolves /proc/self/exe.
    closure(ctx, Loc::Host(source.clone()), source, facts, id, at)
}

/// Resolves the closure of an object already inside the root, at the
/// in-root path `path`, that will be stored at `at` (the planned image's
/// programs when checking it, NSS modules next to libc).
pub fn resolve_in_root(ctx: &Context, path: &Path, at: PathBuf) -> Result<Closure> {
    let resolved = ctx.root.resolve(path)?;
    let source = resolved.file.ok_or_else(|| Error::IsDirectory {
        path: path.to_path_buf(),
    })?;
    let file = ctx.files.read(&source)?;
    let facts = file.facts?;
    closure(ctx, Loc::InRoot(resolved.real), source, facts, file.id, at)
}

fn closure(
    ctx: &Context,
    loc: Loc,
    source: PathBuf,
    facts: Arc<ElfFacts>,
    id: (u64, u64),
    at: PathBuf,
) -> Result<Closure> {
    let target = ctx.target_for(&facts);
    let main = Object {
        loc,
        source,
        facts,
        via: Via::Input,
        at,
        loader: None,
        deps: Vec::new(),
        names: Vec::new(),
        aliases: Vec::new(),
        id,
    };
    let mut r = Resolver {
        ctx,
        target,
        objects: vec![main],
        missing: Vec::new(),
    };
    r.load_interpreter();
    r.load_needed_from(0);
    let loader_files = match &r.target.system {
        SystemSearch::Musl {
            path_file: Some(file),
        } => vec![file.clone()],
        _ => Vec::new(),
    };
    Ok(Closure {
        target: r.target,
        objects: r.objects,
        missing: r.missing,
        loader_files,
        dlopens: Vec::new(),
    })
}

struct Resolver<'a> {
    ctx: &'a Context,
    target: Arc<Target>,
    objects: Vec<Object>,
    missing: Vec<Missing>,
}

impl Resolver<'_> {
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
        let Some(interp) = self.target.interp.clone() else {
            return;
        };
        let loc = Loc::InRoot(interp.clone());
        match self.probe(&loc) {
            Probe::Found(found) => {
                let Found { source, facts, id } = *found;
                self.objects.push(Object {
                    loc,
                    source,
                    facts,
                    via: Via::Interpreter,
                    at: interp.clone(),
                    loader: None,
                    deps: Vec::new(),
                    names: vec![interp.into_os_string()],
                    aliases: Vec::new(),
                    id,
                });
            }
            Probe::Absent | Probe::Skip(_) => self.missing.push(Missing {
                name: interp.into_os_string(),
                needed_by: self.objects[0].loc.path().to_path_buf(),
                searched: Vec::new(),
                note: Some("the program's interpreter (PT_INTERP) does not exist".into()),
            }),
            Probe::Fatal(note) => self.missing.push(Missing {
                name: interp.into_os_string(),
                needed_by: self.objects[0].loc.path().to_path_buf(),
                searched: Vec::new(),
                note: Some(format!("the program's interpreter {note}")),
            }),
        }
    }

    /// Resolves one DT_NEEDED name of object `req`; records it as missing when not found.
    fn load(&mut self, req: usize, name: &OsStr) -> Option<usize> {
        if let Some(i) = self.already_loaded(name) {
            self.alias(i, name);
            return Some(i);
        }
        let mut searched = Vec::new();
        let mut note = None;
        let candidates = self.candidates(req, name);
        for (via, dir, file) in candidates {
            if let Some(dir) = &dir {
                let shown = root::normalize(dir.loc.path());
                if !searched.contains(&shown) {
                    searched.push(shown);
                }
            }
            match self.probe(&file) {
                Probe::Absent => continue,
                Probe::Skip(why) => {
                    note.get_or_insert(why);
                    continue;
                }
                Probe::Fatal(why) => {
                    note = Some(why);
                    break;
                }
                Probe::Found(found) => {
                    if let Some(i) = self.objects.iter().position(|o| o.id == found.id) {
                        self.alias(i, name);
                        let at = self.place(name, dir.as_ref(), &file);
                        let object = &mut self.objects[i];
                        if object.at != at && !object.aliases.iter().any(|(_, a)| *a == at) {
                            object.aliases.push((file, at));
                        }
                        return Some(i);
                    }
                    let at = self.place(name, dir.as_ref(), &file);
                    let Found { source, facts, id } = *found;
                    self.objects.push(Object {
                        loc: file,
                        source,
                        facts,
                        via,
                        at,
                        loader: Some(req),
                        deps: Vec::new(),
                        names: vec![name.to_os_string()],
                        aliases: Vec::new(),
                        id,
                    });
                    return Some(self.objects.len() - 1);
                }
            }
        }
        self.missing.push(Missing {
            name: name.to_os_string(),
            needed_by: root::normalize(self.objects[req].loc.path()),
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
        match self.target.libc {
            Libc::Glibc => self.objects.iter().position(|o| {
                o.names.iter().any(|n| n == name)
                    || o.facts.soname.as_deref() == Some(name)
                    || (o.via != Via::Input && o.loc.path().as_os_str() == name)
            }),
            Libc::Musl => {
                if self.target.musl_reserved(name) {
                    return self.objects.iter().position(|o| o.via == Via::Interpreter);
                }
                self.objects
                    .iter()
                    .position(|o| o.via != Via::Input && o.loc.path().file_name() == Some(name))
            }
        }
    }

    /// The candidate files for `name`, in the loader's order.
    fn candidates(&self, req: usize, name: &OsStr) -> Vec<(Via, Option<SearchDir>, Loc)> {
        if name.as_bytes().contains(&b'/') {
            return self.direct(req, name).into_iter().collect();
        }
        let mut out = Vec::new();
        let add = |out: &mut Vec<_>, via: Via, dirs: Vec<SearchDir>| {
            for dir in dirs {
                let file = dir.loc.join(name);
                out.push((via, Some(dir), file));
            }
        };
        let lib_path: Vec<SearchDir> = self
            .ctx
            .library_path
            .iter()
            .map(|d| SearchDir {
                loc: Loc::Host(d.clone()),
                at: None,
            })
            .collect();
        let nodeflib = self.objects[req].facts.nodeflib;
        match &self.target.system {
            SystemSearch::Glibc {
                cache,
                conf_dirs,
                accepted_flags,
            } => {
                if self.objects[req].facts.runpath.is_none() {
                    add(&mut out, Via::Rpath, self.rpath_chain(req));
                }
                add(&mut out, Via::LibraryPath, lib_path);
                if let Some(runpath) = self.objects[req].facts.runpath.clone() {
                    add(&mut out, Via::Runpath, self.expand_list(&runpath, req));
                }
                let is_default = |p: &Path| {
                    p.parent()
                        .is_some_and(|d| self.target.default_dirs.iter().any(|x| x == d))
                };
                if let Some(cache) = cache {
                    if let Some(hit) = cache.lookup(name, accepted_flags)
                        && !(nodeflib && is_default(&hit.value))
                    {
                        let loc = Loc::InRoot(hit.value.clone());
                        let dir = SearchDir {
                            loc: loc.parent(),
                            at: is_default(&hit.value).then(|| loc.parent().path().to_path_buf()),
                        };
                        out.push((Via::Cache, Some(dir), loc));
                    }
                } else {
                    let dirs = conf_dirs
                        .iter()
                        .filter(|d| !(nodeflib && self.target.default_dirs.contains(d)))
                        .map(|d| SearchDir {
                            loc: Loc::InRoot(d.clone()),
                            at: self.target.default_dirs.contains(d).then(|| d.clone()),
                        })
                        .collect();
                    add(&mut out, Via::ConfDir, dirs);
                }
                if !nodeflib {
                    add(&mut out, Via::DefaultDir, self.default_dirs());
                }
            }
            SystemSearch::Musl { .. } => {
                add(&mut out, Via::LibraryPath, lib_path);
                let mut p = Some(req);
                while let Some(i) = p {
                    let facts = &self.objects[i].facts;
                    if let Some(list) = facts.runpath.as_ref().or(facts.rpath.as_ref()) {
                        let via = if facts.runpath.is_some() {
                            Via::Runpath
                        } else {
                            Via::Rpath
                        };
                        add(&mut out, via, self.expand_list(list, i));
                    }
                    p = self.objects[i].loader;
                }
                add(&mut out, Via::DefaultDir, self.default_dirs());
            }
        }
        out
    }

    fn default_dirs(&self) -> Vec<SearchDir> {
        self.target
            .default_dirs
            .iter()
            .map(|d| SearchDir {
                loc: Loc::InRoot(d.clone()),
                at: Some(d.clone()),
            })
            .collect()
    }

    /// DT_RPATH of the requester, up its loader chain, then of the program.
    fn rpath_chain(&self, req: usize) -> Vec<SearchDir> {
        let mut dirs = Vec::new();
        let mut visited = HashSet::new();
        let mut p = Some(req);
        while let Some(i) = p {
            visited.insert(i);
            if let Some(rpath) = self.objects[i].facts.effective_rpath() {
                dirs.extend(self.expand_list(rpath, i));
            }
            p = self.objects[i].loader;
        }
        if !visited.contains(&0)
            && let Some(rpath) = self.objects[0].facts.effective_rpath()
        {
            dirs.extend(self.expand_list(rpath, 0));
        }
        dirs
    }

    /// A DT_NEEDED name with `/`: DSTs expanded (glibc only), then opened as given.
    fn direct(&self, req: usize, name: &OsStr) -> Option<(Via, Option<SearchDir>, Loc)> {
        let (loc, at) = match self.target.libc {
            Libc::Glibc => self.expand_element(name.as_bytes(), req)?,
            Libc::Musl => self.plain_element(name.as_bytes()),
        };
        let dir = SearchDir {
            loc: loc.parent(),
            at: at
                .as_ref()
                .map(|a| a.parent().unwrap_or(Path::new("/")).to_path_buf()),
        };
        Some((Via::Direct, Some(dir), loc))
    }

    /// Splits and expands a DT_RPATH/DT_RUNPATH list owned by object `owner`.
    fn expand_list(&self, list: &OsStr, owner: usize) -> Vec<SearchDir> {
        let bytes = list.as_bytes();
        if self.target.libc == Libc::Musl {
            // musl expands only $ORIGIN; any other '$' makes it ignore the whole list.
            let mut rest = bytes;
            while let Some(at) = rest.iter().position(|&b| b == b'$') {
                let tail = &rest[at..];
                let origin = tail.starts_with(b"$ORIGIN") || tail.starts_with(b"${ORIGIN}");
                if !origin {
                    return Vec::new();
                }
                rest = &rest[at + 1..];
            }
        }
        let mut seen = HashSet::new();
        let mut dirs = Vec::new();
        for element in bytes.split(|&b| b == b':') {
            let Some((loc, at)) = self.expand_element(element, owner) else {
                continue;
            };
            // glibc drops a trailing '/' and repeated elements.
            let loc = match loc {
                Loc::InRoot(p) => Loc::InRoot(trim_slash(p)),
                Loc::Host(p) => Loc::Host(trim_slash(p)),
            };
            if seen.insert(loc.clone()) {
                dirs.push(SearchDir { loc, at });
            }
        }
        dirs
    }

    /// Expands DSTs of one element against `owner`: the path to search, and
    /// the same expression evaluated from the owner's place in the archive.
    fn expand_element(&self, element: &[u8], owner: usize) -> Option<(Loc, Option<PathBuf>)> {
        let object = &self.objects[owner];
        let origin = object.loc.parent();
        let at_origin = object.at.parent().unwrap_or(Path::new("/"));
        let (search, uses_origin) = substitute(
            element,
            origin.path().as_os_str().as_bytes(),
            self.target.lib.as_bytes(),
            self.target.platform.as_bytes(),
        )?;
        if !uses_origin {
            return Some(self.plain_element(&search));
        }
        let (in_archive, _) = substitute(
            element,
            at_origin.as_os_str().as_bytes(),
            self.target.lib.as_bytes(),
            self.target.platform.as_bytes(),
        )?;
        let search = PathBuf::from(OsString::from_vec(search));
        let loc = match origin {
            Loc::InRoot(_) => Loc::InRoot(search),
            Loc::Host(_) => Loc::Host(search),
        };
        let at = root::normalize(Path::new(OsStr::from_bytes(&in_archive)));
        Some((loc, Some(at)))
    }

    /// An element without `$ORIGIN`: absolute ones are in the root, relative
    /// ones (and the empty one) are taken from the current directory.
    fn plain_element(&self, element: &[u8]) -> (Loc, Option<PathBuf>) {
        let path = PathBuf::from(OsStr::from_bytes(element));
        if path.is_absolute() {
            (Loc::InRoot(path.clone()), Some(root::normalize(&path)))
        } else {
            (Loc::Host(self.ctx.cwd.join(path)), None)
        }
    }

    /// Where object `name`, found as `file` through `dir`, goes in the archive:
    /// where the image's loader will search, else its first default directory.
    fn place(&self, name: &OsStr, dir: Option<&SearchDir>, file: &Loc) -> PathBuf {
        match dir.and_then(|d| d.at.as_ref()) {
            Some(at) => at.join(file.path().file_name().unwrap_or(name)),
            None => self
                .target
                .default_dirs
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("/lib"))
                .join(name),
        }
    }

    /// Opens a candidate as the target loader would and checks it fits.
    fn probe(&self, loc: &Loc) -> Probe {
        let source = match loc {
            Loc::InRoot(p) => match self.ctx.root.resolve(p) {
                Ok(r) => match r.file {
                    Some(host) => host,
                    None => return Probe::Absent,
                },
                Err(Error::SymlinkLoop { path }) => {
                    return Probe::Skip(format!(
                        "{}: too many levels of symbolic links",
                        path.display()
                    ));
                }
                Err(_) => return Probe::Absent,
            },
            // A planned image has nothing outside itself: a relative search
            // path there must not find a file of this host.
            Loc::Host(_) if self.ctx.root.dir().is_none() => return Probe::Absent,
            Loc::Host(p) => match self.ctx.host_file(p) {
                Some(real) => real,
                None => return Probe::Absent,
            },
        };
        let file = match self.ctx.files.read(&source) {
            Ok(file) => file,
            Err(Error::Io { cause, .. })
                if matches!(
                    cause.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
                ) =>
            {
                return Probe::Absent;
            }
            Err(Error::NotElf { .. }) => {
                return Probe::Fatal(format!("{loc}: invalid ELF header (not an ELF file)"));
            }
            Err(e) => return Probe::Fatal(format!("{loc}: {}", strip_path(&e, &source))),
        };
        let verdict = check(&self.target.header, &file.header);
        match (self.target.libc, verdict) {
            (_, Check::Fatal(why)) => return Probe::Fatal(format!("{loc}: {why}")),
            (Libc::Glibc, Check::Skip(why)) => return Probe::Skip(format!("{loc}: {why}")),
            (Libc::Musl, Check::Skip(why)) => {
                return Probe::Fatal(format!("{loc}: {why}, and musl would load it anyway"));
            }
            (_, Check::Ok) => {}
        }
        let facts = match file.facts {
            Ok(f) => f,
            Err(e) => return Probe::Fatal(format!("{loc}: {}", strip_path(&e, &source))),
        };
        Probe::Found(Box::new(Found {
            source,
            facts,
            id: file.id,
        }))
    }
}

/// An error's text without the leading "path: " it carries.
fn strip_path(err: &Error, path: &Path) -> String {
    let text = err.to_string();
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix)
        .map(str::to_string)
        .unwrap_or(text)
}

fn trim_slash(p: PathBuf) -> PathBuf {
    let s = p.as_os_str().as_bytes();
    if s.len() > 1 && s.ends_with(b"/") {
        let end = s.iter().rposition(|&b| b != b'/').map_or(1, |i| i + 1);
        PathBuf::from(OsStr::from_bytes(&s[..end]))
    } else {
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes() {
        assert_eq!(trim_slash("/a/b//".into()), PathBuf::from("/a/b"));
        assert_eq!(trim_slash("/".into()), PathBuf::from("/"));
    }

    fn host_context() -> Context {
        Context::new(Root::host(), Vec::new(), PathBuf::from("/"))
    }

    /// What a closure found, in order, as text.
    fn found(closure: &Closure) -> String {
        format!("{:?}\n{:?}", closure.objects, closure.missing)
    }

    #[test]
    fn one_context_for_many_inputs_finds_what_one_for_each_finds() {
        let inputs = ["/bin/sh", "/bin/ls", "/bin/sh"];
        let shared = host_context();
        for input in inputs {
            let at = PathBuf::from("/app").join(Path::new(input).file_name().unwrap());
            let alone = resolve(&host_context(), Path::new(input), at.clone()).unwrap();
            let together = resolve(&shared, Path::new(input), at).unwrap();
            assert!(alone.objects.len() > 2, "{input} needs libraries");
            assert_eq!(found(&together), found(&alone), "{input}");
        }
        // Resolved inside a root, as the image check does, with the files planning read.
        let checking = host_context().sharing_files(&shared);
        let alone =
            resolve_in_root(&host_context(), Path::new("/bin/sh"), "/bin/sh".into()).unwrap();
        let together = resolve_in_root(&checking, Path::new("/bin/sh"), "/bin/sh".into()).unwrap();
        assert_eq!(found(&together), found(&alone));
    }

    #[test]
    fn host_candidates_are_looked_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let t = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir(t.join("lib")).unwrap();
        std::fs::write(t.join("lib/libx.so.1.0"), b"x").unwrap();
        std::os::unix::fs::symlink("libx.so.1.0", t.join("lib/libx.so.1")).unwrap();
        let ctx = host_context();
        let real = Some(t.join("lib/libx.so.1.0"));
        assert_eq!(ctx.host_file(&t.join("lib/libx.so.1")), real);
        assert_eq!(ctx.host_file(&t.join("lib")), None, "a directory");
        assert_eq!(ctx.host_file(&t.join("lib/liby.so.1")), None);
        std::fs::remove_file(t.join("lib/libx.so.1")).unwrap();
        std::fs::write(t.join("lib/liby.so.1"), b"y").unwrap();
        assert_eq!(ctx.host_file(&t.join("lib/libx.so.1")), real);
        assert_eq!(ctx.host_file(&t.join("lib/liby.so.1")), None);
        assert!(host_context().host_file(&t.join("lib/liby.so.1")).is_some());
    }

    #[test]
    fn a_file_read_once_is_checked_for_each_requester() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("lib")).unwrap();
        std::fs::copy("/bin/sh", tmp.path().join("lib/libx.so.1")).unwrap();
        let program = elffile::read_facts(Path::new("/bin/sh")).unwrap();
        let ctx = Context::new(Root::new(tmp.path()), Vec::new(), PathBuf::from("/"));
        let fits = Target::for_program(&ctx.root, &program);
        let mut other_class = fits.clone();
        other_class.header.class ^= 3; // 32 <-> 64 bits
        let probe = |target: &Target| {
            let r = Resolver {
                ctx: &ctx,
                target: Arc::new(target.clone()),
                objects: Vec::new(),
                missing: Vec::new(),
            };
            match r.probe(&Loc::InRoot("/lib/libx.so.1".into())) {
                Probe::Found(found) => format!("found {}", found.source.display()),
                Probe::Skip(why) => format!("skip {why}"),
                Probe::Fatal(why) => format!("fatal {why}"),
                Probe::Absent => "absent".into(),
            }
        };
        let skip = probe(&other_class);
        assert!(
            skip.starts_with("skip /lib/libx.so.1: wrong ELF class"),
            "{skip}"
        );
        let host = tmp.path().join("lib/libx.so.1");
        assert_eq!(probe(&fits), format!("found {}", host.display()));
        assert_eq!(probe(&other_class), skip);
    }
}
