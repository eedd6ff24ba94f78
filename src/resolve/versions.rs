//! Symbol versions, checked as glibc checks them once every object of a load
//! is mapped (`elf/dl-version.c` `_dl_check_map_versions`, `match_symbol`;
//! LOADER.md §11).
//!
//! Each version an object requires of a library (DT_VERNEED) must be one the
//! object loaded under that library's name defines (DT_VERDEF), the name
//! matched as step 0 matches it (`find_needed`, `_dl_name_match_p`). A
//! missing version that is not weak fails the whole load, and the loader does
//! not go on to another candidate: the library is the one its search found,
//! whatever a later copy would define. A library with no DT_VERDEF only draws
//! a warning from glibc, and musl checks nothing.
//!
//! A missing version is reported as a [`Missing`] library with a note: like a
//! library that is not found, it stops the program before it starts, and
//! like one it can be put right by other means than this archive (a newer
//! library added to the image later), so the caller decides about both alike.

use super::model::{Missing, Object};
use crate::fsroot::normalize;
use crate::loader::{Libc, Loader};

/// The versions that objects from index `from` on require and the loader
/// would not find in the libraries loaded for them.
pub(super) fn check(loader: &Loader, objects: &[Object], from: usize) -> Vec<Missing> {
    if loader.libc != Libc::Glibc {
        return Vec::new();
    }
    let mut missing = Vec::new();
    for object in objects.iter().skip(from) {
        for needed in &object.facts.versions.needed {
            // A dependency that was not found is reported already.
            let Some(library) = objects.iter().find(|o| o.answers_to(&needed.file)) else {
                continue;
            };
            for wanted in &needed.versions {
                if wanted.weak || library.facts.versions.defines(&wanted.version) {
                    continue;
                }
                missing.push(Missing {
                    name: needed.file.clone(),
                    needed_by: normalize(object.loc.path()),
                    searched: Vec::new(),
                    note: Some(format!(
                        "{}: version `{}' not found",
                        library.loc,
                        wanted.version.name.to_string_lossy()
                    )),
                });
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use crate::fsroot::{ArchivePath, Root};
    use crate::resolve::{Context, input};
    use crate::test_fixtures::fixtures;

    fn closure_of(program: &str) -> crate::resolve::Closure {
        let ctx = Context::new(Root::host(), Vec::new());
        let at = ArchivePath::normalized(std::path::Path::new("/app/prog"));
        input(&ctx, &fixtures().join(program), at).unwrap()
    }

    #[test]
    fn a_version_the_found_library_lacks_is_missing() {
        let closure = closure_of("versions/bin/app");
        let notes: Vec<String> = closure.missing.iter().map(|m| m.to_string()).collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        let lib1 = fixtures().join("versions/bin/../lib1/libver.so.1");
        let program = fixtures().join("versions/bin/app");
        assert_eq!(
            notes[0],
            format!(
                "libver.so.1 (needed by {}): {}: version `V2' not found",
                program.display(),
                lib1.display()
            )
        );
        // The library stays what the loader would load.
        assert!(closure.objects.iter().any(|o| o.loc.path() == lib1));
        assert!(closure_of("versions/bin/app-v1").missing.is_empty());
    }
}
