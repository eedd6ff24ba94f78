//! Finding the needs of a planned run, and whether the image meets them.
//!
//! A need is found on evidence in a packed object; it is worth a hint only
//! on the evidence that the object needs it rather than might (the rules of
//! README's "Run-time needs"): imports that say so in an input (a library's
//! imports are shared by nearly every program and give a need without a
//! hint), a time zone string beside the time zone imports, a plugin
//! directory that is not one of the exceptions, a recommended note.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;

use super::load::{LIBGCC_S_SONAME, Loaded, libc_of, load, note_caller};
use super::model::{Evidence, Kind, Need, Remedy};
use super::objects::{
    GCONV, LIBGCC_S, Objects, SHELL, TIME_ZONES, USERS_BY_NAME, USERS_OTHER, among,
};
use super::places::{
    GLIBC_ZONEINFO, PASSWD, gconv_dir, has_file, has_gconv, has_users, has_zoneinfo, interp_dirs,
    loader_dirs, real_dir,
};
use super::{plugins, relative};
use crate::elf::{DlopenEntry, Priority};
use crate::fsroot::{Root, normalize};
use crate::loader::Libc;
use crate::resolve::{Closure, Context};

/// Finds what the packed objects of a run ask for at run time; reads each
/// file once for the whole run.
pub struct Finder<'a> {
    ctx: &'a Context,
    objects: Objects,
}

impl<'a> Finder<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        Finder {
            ctx,
            objects: Objects::default(),
        }
    }

    /// Loads into the closures what will certainly be loaded at run time
    /// (see [`load`](super::load)): dlopen notes' libraries down to
    /// `level`, and `libgcc_s.so.1` where glibc loads it.
    pub fn load(&self, closures: &mut [Closure], level: Priority) -> Vec<Loaded> {
        load(self.ctx, &self.objects, closures, level)
    }

    /// Every need of the objects of `closures`, the first `inputs` of which
    /// are the closures of the inputs, with whether `image` (the planned
    /// image) meets it: each once, the inputs' first.
    pub fn find(&self, closures: &[Closure], inputs: usize, image: &Root) -> Vec<Need> {
        let mut found = Found::default();
        let primary = &closures[..inputs.min(closures.len())];
        for closure in primary {
            self.object_needs(closure, 0, true, image, &mut found);
        }
        for closure in closures {
            for index in 0..closure.objects.len() {
                self.object_needs(closure, index, false, image, &mut found);
            }
        }
        let root = &self.ctx.root;
        let loaders = || closures.iter().map(|c| c.loader.as_ref());
        let loader_dirs = loader_dirs(root, loaders());
        let mut excluded = loader_dirs.clone();
        excluded.extend(interp_dirs(root, loaders()));
        for closure in closures {
            if let Some(libc) = libc_of(closure)
                && let Some(dir) = gconv_dir(&self.objects, &closure.objects[libc].source)
                && let Some(real) = real_dir(root, &dir)
            {
                excluded.insert(real);
            }
        }
        let mut needs = found.needs;
        needs.extend(plugins::find(
            root,
            &self.objects,
            closures,
            image,
            &excluded,
        ));
        needs.extend(relative::find(
            root,
            &self.objects,
            primary,
            image,
            &loader_dirs,
        ));
        needs
    }

    /// The needs object `index` of `closure` shows by its imports and notes;
    /// `input` when it is an input, whose imports are worth hints.
    fn object_needs(
        &self,
        closure: &Closure,
        index: usize,
        input: bool,
        image: &Root,
        found: &mut Found,
    ) {
        let object = &closure.objects[index];
        let Some(facts) = self.objects.facts(&object.source) else {
            return;
        };
        let imports = facts.imports();
        let glibc = closure.loader.libc == Libc::Glibc;
        let need = |kind, evidence, remedy, met, hint, path: Option<PathBuf>| Need {
            kind,
            object: normalize(object.loc.path()),
            id: object.id,
            evidence,
            remedy,
            met,
            hint,
            path,
            files: None,
        };
        let (by_name, other) = (among(imports, USERS_BY_NAME), among(imports, USERS_OTHER));
        if !by_name.is_empty() || !other.is_empty() {
            let hint = input && !by_name.is_empty();
            let symbols = [by_name, other].concat();
            let path = Some(PathBuf::from(PASSWD));
            let evidence = Evidence::Imports(symbols);
            found.add(need(
                Kind::Users,
                evidence,
                Remedy::Users,
                has_users(image),
                hint,
                path,
            ));
        }
        let gconv = among(imports, GCONV);
        if glibc && !gconv.is_empty() {
            let libc = libc_of(closure).map(|i| &closure.objects[i].source);
            let dir = libc.and_then(|libc| gconv_dir(&self.objects, libc));
            let met = dir.as_ref().is_some_and(|d| has_gconv(image, d));
            let evidence = Evidence::Imports(gconv);
            found.add(need(Kind::Gconv, evidence, Remedy::Gconv, met, input, dir));
        }
        let shell = among(imports, SHELL);
        if !shell.is_empty() {
            let sh = PathBuf::from(super::places::SHELL);
            let met = has_file(image, &sh);
            let evidence = Evidence::Imports(shell);
            found.add(need(
                Kind::Shell,
                evidence,
                Remedy::Shell,
                met,
                input,
                Some(sh),
            ));
        }
        let tz = among(imports, TIME_ZONES);
        if input && !tz.is_empty() {
            let string = self.objects.strings(&object.source).tz.clone();
            let hint = string.is_some();
            let evidence = match string {
                Some(s) => Evidence::ImportsAndString(tz, s),
                None => Evidence::Imports(tz),
            };
            let met = has_zoneinfo(image, closure.loader.libc);
            let path = Some(PathBuf::from(GLIBC_ZONEINFO));
            found.add(need(
                Kind::TimeZones,
                evidence,
                Remedy::TimeZones,
                met,
                hint,
                path,
            ));
        }
        let unwinds = among(imports, LIBGCC_S);
        if glibc && !unwinds.is_empty() && libc_of(closure).is_some() {
            let libgcc = loaded(closure, LIBGCC_S_SONAME);
            let evidence = Evidence::Imports(unwinds);
            let met = libgcc.is_some();
            found.add(need(
                Kind::LibgccS,
                evidence,
                Remedy::Automatic,
                met,
                true,
                libgcc,
            ));
        }
        for entry in &facts.notes {
            let note = match entry {
                Ok(entry) => {
                    let met = entry.sonames.iter().any(|n| loaded(closure, n).is_some());
                    let remedy = match entry.priority {
                        Priority::Required => Remedy::Automatic,
                        _ if !met && !self.findable(closure, index, entry) => Remedy::Unavailable,
                        level => Remedy::DlopenNotes(level),
                    };
                    let hint = entry.priority == Priority::Recommended;
                    need(
                        Kind::DlopenNote,
                        Evidence::Note(entry.clone()),
                        remedy,
                        met,
                        hint,
                        None,
                    )
                }
                Err(why) => {
                    let evidence = Evidence::MalformedNote(why.clone());
                    need(
                        Kind::DlopenNote,
                        evidence,
                        Remedy::Automatic,
                        false,
                        false,
                        None,
                    )
                }
            };
            found.add(note);
        }
    }
}

impl Finder<'_> {
    /// Whether a `dlopen` from object `index` of `closure` would find one
    /// of the libraries `entry` names, as loading it would (on a copy).
    fn findable(&self, closure: &Closure, index: usize, entry: &DlopenEntry) -> bool {
        let names: Vec<OsString> = entry.sonames.iter().map(OsString::from).collect();
        let caller = note_caller(closure, index);
        let mut copy = closure.clone();
        copy.dlopen_first(self.ctx, caller, &names, false).is_some()
    }
}

/// Needs found so far, each once.
#[derive(Default)]
struct Found {
    needs: Vec<Need>,
    seen: HashSet<(Kind, crate::elf::FileId, String)>,
}

impl Found {
    fn add(&mut self, need: Need) {
        if self
            .seen
            .insert((need.kind, need.id, need.evidence.to_string()))
        {
            self.needs.push(need);
        }
    }
}

/// The path of the object of `closure` loaded as `name` (its SONAME or its
/// file name), if one is.
fn loaded(closure: &Closure, name: &str) -> Option<PathBuf> {
    closure
        .objects
        .iter()
        .find(|o| {
            o.facts.soname.as_deref() == Some(name.as_ref())
                || o.loc.path().file_name() == Some(name.as_ref())
        })
        .map(|o| normalize(o.loc.path()))
}
