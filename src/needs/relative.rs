//! Files a program finds relative to its own location, which `-d` moves
//! it away from. Two rules, for the inputs only:
//!
//! - **`$ORIGIN`**: a DT_RPATH or DT_RUNPATH element with `$ORIGIN` names a
//!   directory beside the program (the JDK's `bin/java` searches
//!   `$ORIGIN/../lib`). The libraries the loader finds there are packed
//!   beside the program wherever it goes; the other files of that directory
//!   are a need, met when the image has each where the program will look
//!   (same name, the element expanded from the program's place in the
//!   archive). Shared objects of another class or machine do not count, nor do
//!   libraries a `.note.dlopen` of the closure names, nor the program's own
//!   directory (its siblings; see the next rule), nor the loader's and the
//!   standard program directories.
//! - **Own directory**: a program outside the standard program directories
//!   whose strings name its own directory (postgres computes `$libdir` from
//!   its location, `src/port/path.c`). It needs to stay there.

use std::collections::HashSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::model::{Evidence, Kind, Need, Remedy};
use super::objects::{Objects, elf_kind};
use super::places::{has_file, real_dir, whole_dir};
use crate::elf::FileId;
use crate::fsroot::{Root, normalize};
use crate::loader::substitute;
use crate::resolve::{Closure, Loc, Object};

/// Where programs live: a program here that names its directory does not
/// look for its own files there.
pub const STANDARD_DIRS: [&str; 7] = [
    "/usr/bin",
    "/bin",
    "/usr/sbin",
    "/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/games",
];
/// Entries of one `$ORIGIN` directory looked at, at most.
const MAX_ENTRIES: usize = 10_000;

/// The program-relative needs of the inputs of `closures`; `root` is the
/// target's root, `image` the planned image, `loader_dirs` the real in-root
/// directories the loaders search by themselves.
pub fn find(
    root: &Root,
    objects: &Objects,
    closures: &[Closure],
    image: &Root,
    loader_dirs: &HashSet<PathBuf>,
) -> Vec<Need> {
    let mut needs = Vec::new();
    for closure in closures {
        let input = &closure.objects[0];
        let own = input
            .loc
            .path()
            .parent()
            .unwrap_or(Path::new("/"))
            .to_path_buf();
        let placed = input.at.parent().as_path().to_path_buf();
        let moved = own != placed;
        needs.extend(own_directory(objects, input, &own, moved));
        let Some(list) = input.facts.runpath.as_ref().or(input.facts.rpath.as_ref()) else {
            continue;
        };
        // Libraries the closure's notes name are the notes' business.
        let noted: HashSet<String> = closure
            .objects
            .iter()
            .filter_map(|o| objects.facts(&o.source))
            .flat_map(|f| {
                let entries: Vec<_> = f.notes.iter().flatten().cloned().collect();
                entries.into_iter().flat_map(|e| e.sonames)
            })
            .collect();
        for element in list.as_bytes().split(|&b| b == b':') {
            let at = (&own, &placed, moved);
            let dirs = (image, loader_dirs, &noted);
            needs.extend(origin(root, closure, input, element, at, dirs));
        }
    }
    needs
}

/// The own-directory rule.
fn own_directory(objects: &Objects, input: &Object, own: &Path, moved: bool) -> Option<Need> {
    if STANDARD_DIRS.iter().any(|d| own == Path::new(d)) || own == Path::new("/") {
        return None;
    }
    let strings = objects.strings(&input.source);
    let own_text = own.to_string_lossy();
    let spelled = strings.paths.iter().find(|p| {
        p.strip_prefix(own_text.as_ref())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })?;
    Some(Need {
        kind: Kind::ProgramRelative,
        object: normalize(input.loc.path()),
        id: input.id,
        evidence: Evidence::String(spelled.clone()),
        remedy: Remedy::Dest(own.to_path_buf()),
        met: !moved,
        hint: true,
        path: Some(own.to_path_buf()),
        files: None,
    })
}

/// The `$ORIGIN` rule for one path-list element; `at` is the program's own
/// directory, its directory in the archive, and whether they differ.
fn origin(
    root: &Root,
    closure: &Closure,
    input: &Object,
    element: &[u8],
    (own, placed, moved): (&PathBuf, &PathBuf, bool),
    (image, loader_dirs, noted): (&Root, &HashSet<PathBuf>, &HashSet<String>),
) -> Option<Need> {
    let (lib, platform) = (
        closure.loader.lib.as_bytes(),
        closure.loader.platform.as_bytes(),
    );
    let (expanded, uses_origin) = substitute(element, own.as_os_str().as_bytes(), lib, platform)?;
    if !uses_origin {
        return None;
    }
    let (in_archive, _) = substitute(element, placed.as_os_str().as_bytes(), lib, platform)?;
    let dir = normalize(Path::new(std::ffi::OsStr::from_bytes(&expanded)));
    let there = normalize(Path::new(std::ffi::OsStr::from_bytes(&in_archive)));
    if dir == normalize(own) {
        return None; // Its siblings: the own-directory rule's business.
    }
    // A host input's $ORIGIN is a host path; one inside a sysroot, in-root.
    let host_dir = match &input.loc {
        Loc::Host(_) => dir.clone(),
        Loc::InRoot(_) => {
            let real = real_dir(root, &dir)?;
            if loader_dirs.contains(&real) {
                return None;
            }
            root.to_host(&real)
        }
    };
    let standard = STANDARD_DIRS.iter().any(|d| dir == Path::new(d));
    let real_host = fs::canonicalize(&host_dir).ok()?;
    let loader_dir = root
        .from_host(&real_host)
        .is_some_and(|p| loader_dirs.contains(&p));
    if standard || loader_dir {
        return None;
    }
    let kind = input.facts.header;
    let mut names: Vec<_> = fs::read_dir(&host_dir)
        .ok()?
        .flatten()
        .take(MAX_ENTRIES)
        .map(|e| e.file_name())
        .collect();
    names.sort();
    // The closure's own libraries there are placed beside the program.
    let loaded: HashSet<FileId> = closure.objects.iter().map(|o| o.id).collect();
    let (mut any, mut count, mut size, mut at_own_place) = (false, 0u64, 0u64, true);
    for name in names {
        let Ok(meta) = fs::metadata(host_dir.join(&name)) else {
            continue;
        };
        let foreign = elf_kind(&host_dir.join(&name))
            .is_some_and(|k| k != (kind.class, kind.data, kind.machine));
        let named = noted.contains(name.to_string_lossy().as_ref());
        if !meta.is_file() || foreign || named || loaded.contains(&FileId::of(&meta)) {
            continue;
        }
        any = true;
        if has_file(image, &there.join(&name)) {
            continue;
        }
        count += 1;
        size += meta.len();
        at_own_place &= has_file(image, &dir.join(&name));
    }
    if !any {
        return None;
    }
    let add = whole_dir(&host_dir, &real_host, &dir);
    let met = count == 0;
    let remedy = match (moved, at_own_place && !met) {
        (true, true) => Remedy::Dest(own.clone()),
        (true, false) => Remedy::DestAndAdd {
            dest: own.clone(),
            add,
        },
        (false, _) => Remedy::AddFile(add),
    };
    Some(Need {
        kind: Kind::ProgramRelative,
        object: normalize(input.loc.path()),
        id: input.id,
        evidence: Evidence::Origin(String::from_utf8_lossy(element).into_owned()),
        remedy,
        met,
        hint: true,
        path: Some(dir),
        files: Some((count, size)),
    })
}
