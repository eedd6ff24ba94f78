//! The target's dynamic loader: which libc, which directories, which tokens.
//!
//! [`Loader`] describes the loader that would run a program (glibc's or
//! musl's, inside the root); it reads the root's `/etc/ld.so.cache`
//! ([`ldcache`]), or the `ld.so.conf` ldconfig would make one from
//! ([`ldconf`]), and the default directories compiled into `ld.so`.
//! [`substitute`] expands `$ORIGIN`, `$LIB` and `$PLATFORM`.

mod describe;
mod dst;
mod ldcache;
mod ldconf;
mod system_dirs;

pub use describe::{Libc, Loader, SystemSearch};
pub use dst::substitute;
pub use ldcache::{Cache, CacheEntry, accepted_flags, libcmp};
pub use ldconf::{Line, directories, parse};
