//! `--shell`: the root's `/bin/sh`, for `system()` and `popen()`.
//!
//! glibc's `system` and `popen` run `/bin/sh -c` (`sysdeps/posix/system.c`,
//! `libio/iopopen.c`), as do programs that `exec` a shell themselves;
//! without one, `popen` fails and some programs report it as ENOMEM
//! (postgres's initdb). The shell is packed at `/bin/sh` through the root's
//! own links (Debian: `bin -> usr/bin`, `sh -> dash`) and resolved as an
//! input at its own path in the root, not moved to `--dest`, so its
//! libraries are packed and checked like any program's.

use std::path::Path;

use super::files::Added;
use crate::error::{Result, Unavailable};
use crate::fsroot::ArchivePath;
use crate::plan::{Request, Role};
use crate::resolve::{self, Context};

/// Where `system` and `popen` find the shell.
pub const SH: &str = "/bin/sh";

/// The shell with the links that lead to it, and its closure.
pub fn add(ctx: &Context) -> Result<Added> {
    let sh = Path::new(SH);
    let followed = match ctx.root.follow(sh) {
        Ok(f) if f.file.is_some() => f,
        _ => {
            return Err(Unavailable::Shell {
                path: ctx.root.to_host(sh),
            }
            .into());
        }
    };
    let closure = resolve::in_root(ctx, sh, ArchivePath::normalized(&followed.real))?;
    Ok(Added {
        requests: vec![Request::Rooted {
            path: sh.to_path_buf(),
            role: Role::Shell,
        }],
        closures: vec![closure],
        outside: Vec::new(),
        walked: None,
    })
}
