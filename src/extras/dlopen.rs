//! `--dlopen SONAME`: a library a program opens with `dlopen` by name,
//! which no ELF header names.
//!
//! It is loaded into the closure of the first input as a `dlopen` from that
//! program would load it (`elf/dl-open.c`: the caller's DT_RPATH chain unless
//! it has DT_RUNPATH, `--library-path`, its DT_RUNPATH, the cache, the default
//! directories), with everything it needs, placed where that search finds
//! it (or in the first default directory when only the cache found it, as
//! the image has no cache), and checked in the planned image by the same
//! `dlopen`. `--add` differs: it takes a path and puts the file in
//! `--sodir`. A name the search does not find is an error naming where it
//! looked.

use std::ffi::OsString;

use crate::error::{Result, Unavailable};
use crate::plan::{Request, Role};
use crate::resolve::{Closure, Context};

/// The requests for the libraries `names`, loaded into `closures[caller]`
/// (the first input's closure, or `None` when no input is an ELF file).
pub fn requests(
    ctx: &Context,
    closures: &mut [Closure],
    caller: Option<usize>,
    names: &[OsString],
) -> Result<Vec<Request>> {
    let index = caller.ok_or(Unavailable::NoCaller)?;
    let closure = &mut closures[index];
    let from = closure.objects.len();
    for name in names {
        let before = closure.missing.len();
        if closure.dlopen(ctx, 0, name).is_none() {
            let why = closure
                .missing
                .drain(before..)
                .find(|m| m.name == *name)
                .map(|m| {
                    let mut why = String::new();
                    if let Some(note) = &m.note {
                        why.push_str(&format!(": {note}"));
                    }
                    let dirs: Vec<String> =
                        m.searched.iter().map(|d| d.display().to_string()).collect();
                    why + &format!("; searched {}", dirs.join(":"))
                })
                .unwrap_or_default();
            return Err(Unavailable::Dlopen {
                name: name.to_string_lossy().into_owned(),
                caller: closure.objects[0].loc.path().to_path_buf(),
                why,
            }
            .into());
        }
    }
    Ok(vec![Request::Objects {
        index,
        from,
        role: Role::Dlopen,
    }])
}
