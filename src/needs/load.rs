//! What will certainly be loaded at run time, loaded into the closures so it
//! is planned and checked in the image like any library: the libraries
//! `.note.dlopen` notes name, and `libgcc_s.so.1` where glibc loads it.
//!
//! - A note's library is resolved as `dlopen` from the object carrying the
//!   note would find it (glibc: that object's search path and the
//!   program's DT_RPATH, LOADER.md §1; musl: the program's chain, §9); the
//!   first of its alternatives found is taken. Required ones are always
//!   loaded, and one that is not found is missing like a DT_NEEDED library;
//!   the others down to the priority asked for are loaded when found.
//! - glibc `dlopen`s `libgcc_s.so.1` from libc for `pthread_exit`,
//!   `pthread_cancel` and `backtrace` (`misc/unwind-link.c`, 2.34+; without
//!   it the process aborts). It is loaded for every glibc program one of
//!   whose objects imports one of them, as libc's `dlopen` would find it,
//!   when the root has it.
//!
//! Objects loaded this way are read in turn: their notes and imports count.

use std::ffi::OsString;

use super::objects::{LIBGCC_S, Objects, among};
use crate::elf::Priority;
use crate::loader::Libc;
use crate::resolve::{Closure, Context};

/// The soname glibc loads for unwinding.
pub const LIBGCC_S_SONAME: &str = "libgcc_s.so.1";

/// Why objects were loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// libc itself loads them.
    Libc,
    /// A `.note.dlopen` note names them.
    Note,
}

/// Objects `from..to` of closure number `closure` were loaded for `cause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub closure: usize,
    pub from: usize,
    pub to: usize,
    pub cause: Cause,
}

/// Loads into each closure what its objects will certainly load at run
/// time: libraries of their dlopen notes down to priority `level`, and
/// `libgcc_s.so.1` for glibc programs that need it. Returns what was loaded.
pub fn load(
    ctx: &Context,
    objects: &Objects,
    closures: &mut [Closure],
    level: Priority,
) -> Vec<Loaded> {
    let mut loaded = Vec::new();
    for (index, closure) in closures.iter_mut().enumerate() {
        let libc = libc_of(closure);
        let mut libgcc_tried = false;
        let mut next = 0;
        while next < closure.objects.len() {
            let Some(facts) = objects.facts(&closure.objects[next].source) else {
                next += 1;
                continue;
            };
            for entry in facts.notes.iter().flatten() {
                if entry.priority > level {
                    continue;
                }
                let names: Vec<OsString> = entry.sonames.iter().map(OsString::from).collect();
                let caller = note_caller(closure, next);
                let from = closure.objects.len();
                let required = entry.priority == Priority::Required;
                closure.dlopen_first(ctx, caller, &names, required);
                push(&mut loaded, index, from, closure, Cause::Note);
            }
            let unwinds = !among(facts.imports(), LIBGCC_S).is_empty();
            if let Some(libc) = libc.filter(|_| unwinds && !libgcc_tried) {
                libgcc_tried = true;
                let from = closure.objects.len();
                let name = [OsString::from(LIBGCC_S_SONAME)];
                closure.dlopen_first(ctx, libc, &name, false);
                push(&mut loaded, index, from, closure, Cause::Libc);
            }
            next += 1;
        }
    }
    loaded
}

/// The object whose search a `dlopen` from object `index` of `closure`
/// uses: itself, but for musl, whose dlopen searches with the program's
/// chain.
pub fn note_caller(closure: &Closure, index: usize) -> usize {
    if closure.loader.libc == Libc::Musl {
        0
    } else {
        index
    }
}

/// The index of glibc's `libc.so.6` in a glibc closure.
pub fn libc_of(closure: &Closure) -> Option<usize> {
    if closure.loader.libc != Libc::Glibc {
        return None;
    }
    closure
        .objects
        .iter()
        .position(|o| o.facts.soname.as_deref() == Some("libc.so.6".as_ref()))
}

/// Notes the objects a `dlopen` added, if any.
fn push(loaded: &mut Vec<Loaded>, closure: usize, from: usize, c: &Closure, cause: Cause) {
    if c.objects.len() > from {
        loaded.push(Loaded {
            closure,
            from,
            to: c.objects.len(),
            cause,
        });
    }
}
