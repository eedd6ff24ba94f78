//! `--nss-net`: what host name lookup needs that no DT_NEEDED names.
//!
//! glibc loads its NSS modules with dlopen, so they never appear in the
//! closure, and it reads `/etc/nsswitch.conf`, `/etc/hosts`, `/etc/services`
//! and `/etc/protocols`. For each glibc program whose libc's directory has
//! them, `libnss_files.so.2`, `libnss_dns.so.2` and `libresolv.so.2` are
//! loaded into its closure as libc's `dlopen` would find them (so the right
//! architecture and layout, in a `--root` too), each with its own libraries,
//! and checked in the planned image like every other library. Since glibc 2.34 the
//! files and dns backends are built into libc and those files are stubs:
//! they are packed where they exist, and a missing one is an error only when
//! libc has no built-in backend either. The `nsswitch.conf` written names
//! only `files` and `dns`, never a module that was not packed (the host's may
//! name `systemd`, `mdns4_minimal`, ...); files given with `--add-file` are
//! kept instead of written. musl has no NSS: it reads only
//! `/etc/hosts` (then DNS through `/etc/resolv.conf`), `/etc/services` and
//! `/etc/protocols`. `/etc/resolv.conf` is never packed: the container
//! runtime provides it.

use std::ffi::OsStr;
use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsroot::ArchivePath;
use crate::loader::Libc;
use crate::plan::{Request, Role, Tree};
use crate::resolve::{Closure, Context, Loc};

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

/// What name lookup needs for the programs of `closures`: each glibc
/// program's closure gets the NSS modules its libc would `dlopen`, as
/// `dlopen` would find them, so they are planned and checked like any
/// library; then the files lookups read. `tree` is what is planned so far.
pub fn requests(ctx: &Context, closures: &mut [Closure], tree: &Tree) -> Result<Vec<Request>> {
    let mut requests = Vec::new();
    let mut glibc = false;
    for (index, closure) in closures.iter_mut().enumerate() {
        if closure.loader.libc != Libc::Glibc {
            continue;
        }
        glibc = true;
        let Some(libc) = closure
            .objects
            .iter()
            .position(|o| o.facts.soname.as_deref() == Some(OsStr::new("libc.so.6")))
        else {
            continue; // A static program: it has no libc to load modules.
        };
        let libc_loc = closure.objects[libc].loc.clone();
        let libc_source = closure.objects[libc].source.clone();
        let from = closure.objects.len();
        let mut lacking = Vec::new();
        for name in MODULES {
            // Packed where the root has them next to libc (stubs since glibc 2.34).
            if exists_beside(ctx, &libc_loc, name) {
                closure.dlopen(ctx, libc, OsStr::new(name));
            } else {
                lacking.push(name.to_string());
            }
        }
        let needs_module = lacking.iter().any(|name| *name != "libresolv.so.2");
        if needs_module && !has_builtin_backends(&libc_source) {
            return Err(Error::NssModulesMissing {
                lacking,
                libc: libc_loc.path().to_path_buf(),
            });
        }
        requests.push(Request::Objects {
            index,
            from,
            role: Role::Nss,
        });
    }
    let at = |p: &str| ArchivePath::normalized(Path::new(p));
    if glibc {
        requests.push(Request::Generated {
            at: at("/etc/nsswitch.conf"),
            content: NSSWITCH.into(),
            role: Role::Nss,
        });
    }
    for file in ["/etc/services", "/etc/protocols"] {
        if tree.has(&at(file)) {
            continue;
        }
        let path = Path::new(file);
        let cause = match ctx.root.follow(path) {
            Ok(followed) if followed.file.is_some() => None,
            Ok(followed) => Some(Error::NotRegularFile {
                path: ctx.root.to_host(&followed.real),
            }),
            Err(e) => Some(e),
        };
        if let Some(cause) = cause {
            return Err(Error::NetFileMissing {
                file: path.to_path_buf(),
                cause: Box::new(cause),
            });
        }
        requests.push(Request::Rooted {
            path: path.to_path_buf(),
            role: Role::Nss,
        });
    }
    requests.push(Request::Generated {
        at: at("/etc/hosts"),
        content: HOSTS.into(),
        role: Role::Nss,
    });
    Ok(requests)
}

/// Whether `name` exists in the directory libc was found in.
fn exists_beside(ctx: &Context, libc: &Loc, name: &str) -> bool {
    match libc {
        Loc::InRoot(p) => ctx
            .root
            .follow(&p.with_file_name(name))
            .is_ok_and(|r| r.file.is_some()),
        Loc::Host(p) => p.with_file_name(name).is_file(),
    }
}

/// Whether a glibc libc has the files and dns NSS backends built in (2.34+).
fn has_builtin_backends(libc: &Path) -> bool {
    const NEEDLE: &[u8] = b"_nss_dns_gethostbyname4_r";
    fs::read(libc).is_ok_and(|bytes| bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE))
}
