//! `--nss-net`: what host name lookup needs that no DT_NEEDED names.
//!
//! glibc loads its NSS modules with dlopen, so they never appear in the
//! closure, and it reads `/etc/nsswitch.conf`, `/etc/hosts`, `/etc/services`
//! and `/etc/protocols`. For each glibc program this packs
//! `libnss_files.so.2`, `libnss_dns.so.2` and `libresolv.so.2` from the
//! directory its libc was found in (so the right architecture and layout,
//! in a `--root` too), each with its own libraries. Since glibc 2.34 the
//! files and dns backends are built into libc and those files are stubs:
//! they are packed where they exist, and a missing one is an error only when
//! libc has no built-in backend either. The `nsswitch.conf` written names
//! only `files` and `dns`, never a module that was not packed (the host's may
//! name `systemd`, `mdns4_minimal`, ...). musl has no NSS: it reads only
//! `/etc/hosts` (then DNS through `/etc/resolv.conf`), `/etc/services` and
//! `/etc/protocols`. `/etc/resolv.conf` is never packed: the container
//! runtime provides it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{Builder, Role};
use crate::resolve::{self, Closure, Context, Loc};
use crate::target::Libc;

/// The modules a `hosts: files dns` lookup and files lookups load, in order.
pub const MODULES: [&str; 3] = ["libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"];

/// The `etc/nsswitch.conf` written for glibc programs.
pub const NSSWITCH: &str = "\
# Written by extract-elf-so --nss-net: only services built into glibc or packed.
passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
ethers:         files
rpc:            files
";

/// The `etc/hosts` written when none was supplied with `--add-file`.
pub const HOSTS: &str = "\
127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
";

/// Adds what name lookup needs for the programs of `closures`. Returns the
/// closures of the NSS modules, to be planned and checked like any other.
pub fn add(builder: &mut Builder, ctx: &Context, closures: &[Closure]) -> Result<Vec<Closure>> {
    let mut modules: Vec<Closure> = Vec::new();
    let mut glibc = false;
    for closure in closures {
        if closure.target.libc != Libc::Glibc {
            continue;
        }
        glibc = true;
        let Some(libc) = closure
            .objects
            .iter()
            .find(|o| o.facts.soname.as_deref() == Some("libc.so.6".as_ref()))
        else {
            continue; // A static program: it has no libc to load modules next to.
        };
        let at_dir = libc.at.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut lacking = Vec::new();
        for name in MODULES {
            let loc = match &libc.loc {
                Loc::InRoot(p) => Loc::InRoot(p.with_file_name(name)),
                Loc::Host(p) => Loc::Host(p.with_file_name(name)),
            };
            let at = at_dir.join(name);
            if modules.iter().any(|m| m.objects[0].at == at) {
                continue;
            }
            let found = match &loc {
                Loc::InRoot(p) => match ctx.root.resolve(p) {
                    Ok(r) if r.file.is_some() => Some(resolve::resolve_in_root(ctx, p, at)?),
                    _ => None,
                },
                Loc::Host(p) if p.is_file() => Some(resolve::resolve(ctx, p, at)?),
                Loc::Host(_) => None,
            };
            match found {
                Some(closure) => modules.push(closure),
                None => lacking.push((name, loc)),
            }
        }
        let needs_module = lacking.iter().any(|(name, _)| *name != "libresolv.so.2");
        if needs_module && !has_builtin_backends(&libc.source) {
            let names: Vec<String> = lacking.iter().map(|(_, loc)| loc.to_string()).collect();
            return Err(Error::Invalid(format!(
                "--nss-net: name lookup would not work: {} not found, and {} has no built-in files and dns backends (glibc before 2.34)",
                names.join(", "),
                libc.loc
            )));
        }
    }
    for closure in &modules {
        builder.add_closure(closure, Role::Nss)?;
    }
    if glibc {
        builder.add_generated(Path::new("/etc/nsswitch.conf"), NSSWITCH.into(), Role::Nss)?;
    }
    for file in ["/etc/services", "/etc/protocols"] {
        builder.add_rooted(Path::new(file), Role::Nss).map_err(|e| {
            Error::Invalid(format!(
                "--nss-net: {file} is needed for service and protocol lookups: {e} (Debian and Ubuntu: install netbase)"
            ))
        })?;
    }
    if !builder.has(Path::new("/etc/hosts")) {
        builder.add_generated(Path::new("/etc/hosts"), HOSTS.into(), Role::Nss)?;
    }
    Ok(modules)
}

/// Whether a glibc libc has the files and dns NSS backends built in (2.34+).
fn has_builtin_backends(libc: &PathBuf) -> bool {
    const NEEDLE: &[u8] = b"_nss_dns_gethostbyname4_r";
    fs::read(libc).is_ok_and(|bytes| bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE))
}
