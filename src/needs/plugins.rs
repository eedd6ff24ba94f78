//! Plugin directories: directories of shared objects that a packed object
//! loads code from at run time, found as strings in it.
//!
//! An object that imports `dlopen` (or libltdl's `lt_dlopen*`, as
//! ImageMagick's libMagickCore does) and names, in its read-only strings,
//! an absolute path (alone or inside a longer string such as
//! `--modules-path=/usr/lib/nginx/modules`) that is a directory of the root
//! holding shared objects of its own class and machine (counted down four
//! levels, links to files followed: perl keeps them in `auto/POSIX/`). Not
//! counted: the loaders' own directories (default and `ld.so.conf` ones,
//! and the one each loader is in),
//! glibc's gconv directory, trees that never hold plugins (`/sys`, `/etc`,
//! `/usr/share`, ...) and a few directories that hold more; and a
//! directory whose shared objects all lie in directories found below it
//! gives way to them. Libraries whose plugins their users rarely need
//! (OpenSSL, SASL, Kerberos, PAM, p11-kit, libbluray: [`EXCEPTIONS`]) are reported
//! without a hint.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use super::model::{Evidence, Kind, Need, Remedy};
use super::objects::{LOADERS, Objects, among, elf_kind};
use super::places::{real_dir, whole_dir};
use crate::elf::{FileId, Header};
use crate::fsroot::{Root, normalize};
use crate::resolve::{Closure, Object};

/// Libraries (by SONAME prefix) whose plugin directories get no hint.
pub const EXCEPTIONS: &[(&str, &str)] = &[
    ("libcrypto.so", "OpenSSL engines and providers"),
    ("libsasl2.so", "Cyrus SASL mechanisms"),
    ("libkrb5", "MIT Kerberos plugins"),
    ("libpam.so", "PAM modules"),
    ("libp11-kit.so", "p11-kit's PKCS#11 modules"),
    ("libbluray.so", "libbluray's Java runtime for BD-J menus"),
];
/// Directories that hold programs or everything, never plugins alone.
const NOT_PLUGINS: &[&str] = &["/usr/bin", "/usr/sbin", "/usr/local", "/usr/libexec"];
/// Trees that never hold plugins: kernel and runtime file systems, data,
/// configuration, homes, headers and debug symbols. Libraries name many
/// paths there (libsystemd's `/sys/...`), and walking them costs.
const NO_PLUGINS_BELOW: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/tmp",
    "/boot",
    "/etc",
    "/home",
    "/root",
    "/var",
    "/usr/share",
    "/usr/include",
    "/usr/src",
    "/usr/lib/debug",
];
/// How deep below a directory shared objects are counted.
const MAX_DEPTH: usize = 4;
/// Entries looked at below one directory, at most.
const MAX_ENTRIES: usize = 50_000;

/// A shared object in a plugin directory.
#[derive(Debug, Clone)]
struct SoFile {
    /// Its path below the directory.
    rel: PathBuf,
    id: FileId,
    size: u64,
    /// `(class, byte order, machine)` of its ELF header.
    kind: (u8, u8, u16),
}

/// A directory found in an object.
struct Found<'a> {
    carrier: &'a Object,
    spelled: String,
    /// The path as spelled, with `//`, `.` and `..` folded.
    dir: PathBuf,
    real: PathBuf,
    files: Vec<SoFile>,
}

/// The plugin directories the objects of `closures` name, looked up in
/// `root`, with whether `image` holds their shared objects; `excluded` are
/// real in-root directories that are not plugin directories.
pub fn find(
    root: &Root,
    objects: &Objects,
    closures: &[Closure],
    image: &Root,
    excluded: &HashSet<PathBuf>,
) -> Vec<Need> {
    let mut carriers: Vec<&Object> = Vec::new();
    let mut seen_sources = HashSet::new();
    for object in closures.iter().flat_map(|c| &c.objects) {
        if seen_sources.insert(&object.source)
            && !among(&objects.imports(&object.source), LOADERS).is_empty()
        {
            carriers.push(object);
        }
    }
    let mut walked: HashMap<PathBuf, Vec<SoFile>> = HashMap::new();
    let mut found: Vec<Found> = Vec::new();
    for carrier in carriers {
        let header = carrier.facts.header;
        for spelled in &objects.strings(&carrier.source).paths {
            let dir = normalize(Path::new(spelled));
            let never = NO_PLUGINS_BELOW.iter().any(|d| dir.starts_with(d));
            if never || dir.components().count() < 3 {
                continue; // "/", "/usr", "/opt": never plugins alone.
            }
            let Some(real) = real_dir(root, &dir) else {
                continue;
            };
            let not_plugins = NOT_PLUGINS.iter().any(|d| real == Path::new(d));
            if not_plugins || excluded.contains(&real) || found.iter().any(|f| f.real == real) {
                continue;
            }
            let all = walked
                .entry(real.clone())
                .or_insert_with(|| shared_objects(root, &real));
            let files: Vec<SoFile> = all
                .iter()
                .filter(|f| f.kind == kind_of(&header))
                .cloned()
                .collect();
            if !files.is_empty() {
                found.push(Found {
                    carrier,
                    spelled: spelled.clone(),
                    dir,
                    real,
                    files,
                });
            }
        }
    }
    collapse(&mut found);
    found.into_iter().map(|f| need(root, f, image)).collect()
}

/// Drops each directory whose shared objects all lie in directories found below it.
fn collapse(found: &mut Vec<Found>) {
    let below = |parent: &Found, all: &[Found]| -> HashSet<FileId> {
        all.iter()
            .filter(|c| c.real != parent.real && c.real.starts_with(&parent.real))
            .flat_map(|c| c.files.iter().map(|f| f.id))
            .collect()
    };
    let keep: Vec<bool> = found
        .iter()
        .map(|f| {
            let children = below(f, found);
            children.is_empty() || !f.files.iter().all(|x| children.contains(&x.id))
        })
        .collect();
    let mut keep = keep.into_iter();
    found.retain(|_| keep.next().unwrap_or(true));
}

/// The need for one directory.
fn need(root: &Root, found: Found, image: &Root) -> Need {
    let excepted = found.carrier.facts.soname.as_ref().is_some_and(|soname| {
        let soname = soname.to_string_lossy();
        EXCEPTIONS
            .iter()
            .any(|(prefix, _)| soname.starts_with(prefix))
    });
    let met = found
        .files
        .iter()
        .all(|f| image.follow(&found.dir.join(&f.rel)).is_ok());
    let size = found.files.iter().map(|f| f.size).sum();
    Need {
        kind: Kind::PluginDir,
        object: normalize(found.carrier.loc.path()),
        id: found.carrier.id,
        evidence: Evidence::String(found.spelled),
        remedy: Remedy::AddFile(whole_dir(
            &root.to_host(&found.dir),
            &root.to_host(&found.real),
            &found.dir,
        )),
        met,
        hint: !excepted,
        path: Some(found.dir),
        files: Some((found.files.len() as u64, size)),
    }
}

/// The ELF shared objects below the real in-root directory `dir`, down
/// [`MAX_DEPTH`] levels, each file once (links to files followed inside the
/// root, links to directories not), in name order.
fn shared_objects(root: &Root, dir: &Path) -> Vec<SoFile> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut budget = MAX_ENTRIES;
    visit(
        root,
        dir,
        Path::new(""),
        0,
        &mut out,
        &mut seen,
        &mut budget,
    );
    out
}

fn visit(
    root: &Root,
    dir: &Path,
    rel: &Path,
    depth: usize,
    out: &mut Vec<SoFile>,
    seen: &mut HashSet<FileId>,
    budget: &mut usize,
) {
    let Ok(entries) = fs::read_dir(root.to_host(dir)) else {
        return;
    };
    // The entry's type comes with it (no stat for each name).
    let mut names: Vec<(OsString, bool)> = entries
        .flatten()
        .map(|e| (e.file_name(), e.file_type().is_ok_and(|t| t.is_dir())))
        .collect();
    names.sort();
    for (name, is_dir) in names {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let (path, rel) = (dir.join(&name), rel.join(&name));
        if is_dir {
            if depth < MAX_DEPTH {
                visit(root, &path, &rel, depth + 1, out, seen, budget);
            }
            continue;
        }
        let name = name.to_string_lossy();
        if !(name.ends_with(".so") || name.contains(".so.")) {
            continue;
        }
        let Some(host) = root.follow(&path).ok().and_then(|f| f.file) else {
            continue;
        };
        let Ok(meta) = fs::metadata(&host) else {
            continue;
        };
        let id = FileId::of(&meta);
        if let Some(kind) = elf_kind(&host)
            && seen.insert(id)
        {
            out.push(SoFile {
                rel,
                id,
                size: meta.len(),
                kind,
            });
        }
    }
}

/// `(class, byte order, machine)` of a header, as [`elf_kind`] gives it.
fn kind_of(header: &Header) -> (u8, u8, u16) {
    (header.class, header.data, header.machine)
}
