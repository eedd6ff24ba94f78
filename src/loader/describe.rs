//! The target's dynamic loader: which libc, which directories, which tokens.
//!
//! Derived from the program's ELF header and PT_INTERP and from the loader
//! file itself, inside the root. glibc's compiled-in default directories are
//! read out of its `ld.so` (the `system_dirs` string that `--help` prints as
//! "Shared library search path"), so a Debian multiarch loader, a Fedora lib64
//! loader and a cross sysroot's loader each give their own list. When the
//! loader cannot be read, a table by machine is used (Debian's layout where the
//! root is multiarch, upstream's otherwise).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::ldcache::{self, Cache};
use super::ldconf;
use super::system_dirs::system_dirs_in_loader;
use crate::elf::consts as elf;
use crate::elf::{ElfFacts, Header};
use crate::fsroot::Root;

/// Which C library's loader runs the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    Glibc,
    Musl,
}

/// Where the target's loader looks after the object's own paths.
#[derive(Debug, Clone)]
pub enum SystemSearch {
    /// glibc: the cache (or what ldconfig would put in one), then the default dirs.
    Glibc {
        cache: Option<Cache>,
        /// Directories from ld.so.conf, used when the root has no cache.
        conf_dirs: Vec<PathBuf>,
        accepted_flags: Vec<i32>,
    },
    /// musl: the path file if present, else the built-in list.
    Musl {
        /// In-root path of `etc/ld-musl-ARCH.path` when it exists.
        path_file: Option<PathBuf>,
    },
}

/// Everything about the target's loader the resolver needs.
#[derive(Debug, Clone)]
pub struct Loader {
    pub libc: Libc,
    /// Class, byte order, machine and flags every library must match.
    pub header: Header,
    /// PT_INTERP of the program, in-root.
    pub interp: Option<PathBuf>,
    /// The loader's default directories, in order, in-root.
    pub default_dirs: Vec<PathBuf>,
    /// Value of `$LIB`.
    pub lib: String,
    /// Value of `$PLATFORM`.
    pub platform: String,
    pub system: SystemSearch,
}

/// Debian's multiarch triplet for a machine, if it has one.
fn triplet(header: &Header) -> Option<&'static str> {
    Some(match (header.machine, header.is_64()) {
        (elf::EM_X86_64, true) => "x86_64-linux-gnu",
        (elf::EM_X86_64, false) => "x86_64-linux-gnux32",
        (elf::EM_386, false) => "i386-linux-gnu",
        (elf::EM_AARCH64, true) => "aarch64-linux-gnu",
        (elf::EM_ARM, false) if header.flags & elf::EF_ARM_ABI_FLOAT_HARD != 0 => {
            "arm-linux-gnueabihf"
        }
        (elf::EM_ARM, false) => "arm-linux-gnueabi",
        (elf::EM_RISCV, true) => "riscv64-linux-gnu",
        (elf::EM_PPC64, true) if header.is_big_endian() => "powerpc64-linux-gnu",
        (elf::EM_PPC64, true) => "powerpc64le-linux-gnu",
        (elf::EM_S390, true) => "s390x-linux-gnu",
        (elf::EM_MIPS, true) => "mips64el-linux-gnuabi64",
        (elf::EM_LOONGARCH, true) => "loongarch64-linux-gnu",
        _ => return None,
    })
}

/// AT_PLATFORM for a machine (the value of `$PLATFORM`).
fn platform(header: &Header) -> &'static str {
    match (header.machine, header.is_64()) {
        (elf::EM_X86_64, _) => "x86_64",
        (elf::EM_386, _) => "i686",
        (elf::EM_AARCH64, _) => "aarch64",
        (elf::EM_ARM, _) => "v7l",
        (elf::EM_PPC64, _) if header.is_big_endian() => "ppc64",
        (elf::EM_PPC64, _) => "ppc64le",
        (elf::EM_S390, _) => "s390x",
        (elf::EM_RISCV, _) => "riscv64",
        _ => "",
    }
}

/// The musl architecture name in an interpreter path `.../ld-musl-ARCH.so.1`.
fn musl_arch(interp: &Path) -> Option<&str> {
    let name = interp.file_name()?.to_str()?;
    name.strip_prefix("ld-musl-")?.strip_suffix(".so.1")
}

impl Loader {
    /// Which libc's loader would run `program`: musl's by its interpreter
    /// name, or, for a library or static input, by what it links against.
    pub fn libc_of(program: &ElfFacts) -> Libc {
        let musl = match &program.interp {
            Some(path) => musl_arch(Path::new(path)).is_some(),
            None => program
                .needed
                .iter()
                .any(|n| n == "libc.so" || n.to_string_lossy().starts_with("ld-musl-")),
        };
        if musl { Libc::Musl } else { Libc::Glibc }
    }

    /// Describes the loader that would run `program`, inside `root`.
    pub fn for_program(root: &Root, program: &ElfFacts) -> Loader {
        let interp = program.interp.as_ref().map(PathBuf::from);
        match Self::libc_of(program) {
            Libc::Musl => Self::musl(root, program.header, interp),
            Libc::Glibc => Self::glibc(root, program.header, interp),
        }
    }

    fn musl(root: &Root, header: Header, interp: Option<PathBuf>) -> Loader {
        // The path file sits at <interp minus its last two components>/etc.
        let path_file = interp.as_deref().and_then(|interp| {
            let arch = musl_arch(interp)?;
            let prefix = interp.parent()?.parent()?;
            let file = prefix.join("etc").join(format!("ld-musl-{arch}.path"));
            root.follow(&file).is_ok().then_some(file)
        });
        let default_dirs = match &path_file {
            Some(file) => {
                let text = root.contents(file).unwrap_or_default();
                String::from_utf8_lossy(&text)
                    .split(['\n', ':'])
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from)
                    .collect()
            }
            None => ["/lib", "/usr/local/lib", "/usr/lib"]
                .iter()
                .map(PathBuf::from)
                .collect(),
        };
        Loader {
            libc: Libc::Musl,
            header,
            interp,
            default_dirs,
            lib: String::new(),
            platform: String::new(),
            system: SystemSearch::Musl { path_file },
        }
    }

    fn glibc(root: &Root, header: Header, interp: Option<PathBuf>) -> Loader {
        let default_dirs = interp
            .as_deref()
            .and_then(|i| root.contents(i))
            .and_then(|bytes| system_dirs_in_loader(&bytes, header.is_64(), header.is_big_endian()))
            .unwrap_or_else(|| fallback_dirs(root, &header));
        // $LIB is the last part of slibdir, the first default dir (Debian: lib/<triplet>).
        let lib = default_dirs
            .first()
            .map(|d| d.to_string_lossy().trim_matches('/').to_string())
            .unwrap_or_else(|| "lib".to_string());
        let cache = root
            .contents(Path::new("/etc/ld.so.cache"))
            .and_then(|bytes| Cache::parse(&bytes, header.is_big_endian()));
        let conf_dirs = if cache.is_none() {
            ldconf::directories(root, Path::new("/etc/ld.so.conf")).unwrap_or_default()
        } else {
            Vec::new()
        };
        Loader {
            libc: Libc::Glibc,
            header,
            interp,
            default_dirs,
            lib,
            platform: platform(&header).to_string(),
            system: SystemSearch::Glibc {
                cache,
                conf_dirs,
                accepted_flags: ldcache::accepted_flags(
                    header.machine,
                    header.is_64(),
                    header.flags,
                ),
            },
        }
    }

    /// Whether `name` is served by musl's loader itself (libc, libm, libpthread, ...).
    pub fn musl_reserved(&self, name: &OsStr) -> bool {
        if self.libc != Libc::Musl {
            return false;
        }
        let name = name.to_string_lossy();
        if self
            .interp
            .as_deref()
            .is_some_and(|i| i.as_os_str() == name.as_ref())
        {
            return true;
        }
        let Some(rest) = name.strip_prefix("lib") else {
            return false;
        };
        ["c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet."]
            .iter()
            .any(|p| rest.starts_with(p))
    }
}

/// Default dirs when the loader file cannot be read: Debian's multiarch list
/// when the root has the triplet directory, else the upstream lib64/lib pair.
fn fallback_dirs(root: &Root, header: &Header) -> Vec<PathBuf> {
    if let Some(t) = triplet(header) {
        let multiarch = [format!("/lib/{t}"), format!("/usr/lib/{t}")];
        if multiarch.iter().any(|d| root.is_dir(Path::new(d))) {
            let mut dirs: Vec<PathBuf> = multiarch.iter().map(PathBuf::from).collect();
            dirs.extend([PathBuf::from("/lib"), PathBuf::from("/usr/lib")]);
            return dirs;
        }
    }
    let lib64 = header.is_64()
        && matches!(
            header.machine,
            elf::EM_X86_64 | elf::EM_AARCH64 | elf::EM_PPC64 | elf::EM_S390 | elf::EM_RISCV
        );
    let dirs: &[&str] = match (lib64, header.machine) {
        (true, elf::EM_RISCV) => &["/lib64/lp64d", "/usr/lib64/lp64d"],
        (true, _) => &["/lib64", "/usr/lib64"],
        (false, _) => &["/lib", "/usr/lib"],
    };
    dirs.iter().map(PathBuf::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_hosts_loader() {
        let Ok(Ok(facts)) = crate::elf::read_elf(Path::new("/bin/sh")).map(|f| f.facts) else {
            return;
        };
        let target = Loader::for_program(&Root::host(), &facts);
        assert_eq!(target.libc, Libc::Glibc);
        assert!(target.default_dirs.len() >= 2, "{:?}", target.default_dirs);
        if cfg!(all(target_arch = "x86_64", target_env = "gnu"))
            && Path::new("/lib/x86_64-linux-gnu").is_dir()
        {
            assert_eq!(target.default_dirs[0], Path::new("/lib/x86_64-linux-gnu"));
            assert_eq!(target.lib, "lib/x86_64-linux-gnu");
        }
    }

    #[test]
    fn musl_names() {
        assert_eq!(
            musl_arch(Path::new("/lib/ld-musl-x86_64.so.1")),
            Some("x86_64")
        );
        assert_eq!(musl_arch(Path::new("/lib64/ld-linux-x86-64.so.2")), None);
        let header = Header {
            class: 2,
            data: 1,
            osabi: 0,
            e_type: 3,
            machine: elf::EM_X86_64,
            flags: 0,
        };
        let tmp = tempfile::tempdir().unwrap();
        let t = Loader::musl(
            &Root::new(tmp.path()),
            header,
            Some("/lib/ld-musl-x86_64.so.1".into()),
        );
        for name in [
            "libc.so",
            "libm.so.6",
            "libpthread.so.0",
            "libdl.so.2",
            "/lib/ld-musl-x86_64.so.1",
        ] {
            assert!(t.musl_reserved(OsStr::new(name)), "{name}");
        }
        assert!(!t.musl_reserved(OsStr::new("libcrypt.so.1")));
        assert_eq!(
            t.default_dirs,
            vec![
                PathBuf::from("/lib"),
                "/usr/local/lib".into(),
                "/usr/lib".into()
            ]
        );
    }
}
