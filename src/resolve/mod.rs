//! The closure: every object the target's loader would map for one input.
//!
//! Nothing is executed. The order is the loader's own ([`walk`]): objects are
//! taken breadth-first, DT_NEEDED in file order, and each name is resolved
//! once, by its first requester, with that requester's search path; later
//! requesters find it already loaded.
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
//! path lists and in names with `/`, `$ORIGIN` against the list's owner
//! ([`search`]). What the loader takes from the process's working directory
//! (an empty or relative path element, a relative name with `/`) is taken
//! from `/` of the root, the working directory of an image that sets none:
//! never from this host's. Each candidate is checked as `open_verify` does ([`probe`]):
//! a file of another ELF class or machine is skipped; a file that is not ELF,
//! or has the wrong byte order, or an OS ABI the loader rejects, ends the
//! search for that name with an error. glibc-hwcaps subdirectories are not
//! probed: the image must carry the baseline library so it runs on every CPU
//! of the architecture.
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
//!
//! Once a closure is complete, glibc's check of symbol versions runs over it
//! ([`versions`]): a version the loaded library does not define is reported
//! like a library that is not found.
//!
//! A library that cannot be found is data ([`Missing`]), not an error: the
//! caller decides whether it is fatal.

mod context;
mod model;
mod probe;
mod search;
mod versions;
mod walk;

pub use context::Context;
pub use model::{Closure, Loc, Missing, Object, Via};
pub use walk::{in_root, input};
