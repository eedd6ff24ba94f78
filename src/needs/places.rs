//! The places a need is about, and whether the planned image has them.
//!
//! glibc reads users and groups from `/etc/passwd` and `/etc/group` (its
//! built-in `files` service, with or without `nsswitch.conf`), time zones
//! from `/usr/share/zoneinfo` (`TZDIR`'s default, `time/tzfile.c`), runs
//! `/bin/sh` for `system` and `popen`, and reads its gconv configuration
//! from the directory compiled into libc, which libc names as a string
//! (`.../gconv/gconv-modules.cache`). musl reads zoneinfo from three places
//! (`src/time/__tz.c`) and has no gconv.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::model::WholeDir;
use super::objects::Objects;
use crate::fsroot::Root;
use crate::loader::{Libc, Loader, directories};

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SHELL: &str = "/bin/sh";
/// Where glibc reads time zones.
pub const GLIBC_ZONEINFO: &str = "/usr/share/zoneinfo";
/// Where musl reads time zones, in order.
pub const MUSL_ZONEINFO: [&str; 3] = ["/usr/share/zoneinfo", "/share/zoneinfo", "/etc/zoneinfo"];
/// The files glibc reads its gconv configuration from, first found wins.
pub const GCONV_CONFIG: [&str; 2] = ["gconv-modules.cache", "gconv-modules"];

/// Whether `root` has something other than a directory at `path`, links
/// followed (a generated file counts).
pub fn has_file(root: &Root, path: &Path) -> bool {
    root.follow(path).is_ok() && !root.is_dir(path)
}

/// Whether `root` has a directory at `path`, links followed.
pub fn has_dir(root: &Root, path: &Path) -> bool {
    root.is_dir(path)
}

/// Whether the image has what user and group lookups read.
pub fn has_users(image: &Root) -> bool {
    has_file(image, Path::new(PASSWD)) && has_file(image, Path::new(GROUP))
}

/// Whether the image has the time zone database where `libc` reads it.
pub fn has_zoneinfo(image: &Root, libc: Libc) -> bool {
    match libc {
        Libc::Glibc => has_dir(image, Path::new(GLIBC_ZONEINFO)),
        Libc::Musl => MUSL_ZONEINFO.iter().any(|d| has_dir(image, Path::new(d))),
    }
}

/// Whether the image has glibc's gconv configuration in `dir`.
pub fn has_gconv(image: &Root, dir: &Path) -> bool {
    GCONV_CONFIG.iter().any(|f| has_file(image, &dir.join(f)))
}

/// The gconv directory glibc's libc at host path `libc` names.
pub fn gconv_dir(objects: &Objects, libc: &Path) -> Option<PathBuf> {
    let cache = objects.strings(libc).gconv_cache.clone()?;
    cache.parent().map(Path::to_path_buf)
}

/// The gconv directory glibc's libc at host path `libc` names, read from
/// its strings: what packs gconv modules takes them from there.
pub fn gconv_dir_of(libc: &Path) -> Option<PathBuf> {
    gconv_dir(&Objects::default(), libc)
}

/// Real in-root paths of the directories the loaders search by
/// themselves: their default directories and those of the root's
/// `ld.so.conf` (which reach glibc through the cache).
pub fn loader_dirs<'a>(root: &Root, loaders: impl Iterator<Item = &'a Loader>) -> HashSet<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        directories(root, Path::new("/etc/ld.so.conf")).unwrap_or_default();
    for loader in loaders {
        dirs.extend(loader.default_dirs.iter().cloned());
    }
    dirs.iter().filter_map(|d| real_dir(root, d)).collect()
}

/// Real in-root paths of the directories the loaders are in (`/lib64` on
/// x86_64, which programs name too), `/` left out. The loader does not
/// search them: they are not plugin directories, but a program may still
/// keep its own libraries beside its own loader.
pub fn interp_dirs<'a>(root: &Root, loaders: impl Iterator<Item = &'a Loader>) -> HashSet<PathBuf> {
    loaders
        .filter_map(|l| l.interp.as_deref().and_then(Path::parent))
        .filter(|d| d.is_absolute())
        .filter_map(|d| real_dir(root, d))
        .filter(|d| d.parent().is_some())
        .collect()
}

/// The real in-root path of a directory, links followed inside the root.
pub fn real_dir(root: &Root, dir: &Path) -> Option<PathBuf> {
    let followed = root.follow(dir).ok()?;
    root.is_dir(&followed.real).then_some(followed.real)
}

/// How to pack a directory whole at `at` in the archive, as `--add-file`
/// takes it: `host` is `at`'s host path and `real_host` the real
/// directory's. `at` alone serves when it is the host path of a directory
/// (not a link, which `--add-file` would pack as a link); otherwise the
/// contents come from the real directory.
pub fn whole_dir(host: &Path, real_host: &Path, at: &Path) -> WholeDir {
    let plain = host == at && fs::symlink_metadata(host).is_ok_and(|m| m.is_dir());
    WholeDir {
        src: if plain { at } else { real_host }.to_path_buf(),
        at: at.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::Node;
    use std::collections::BTreeMap;

    fn image(paths: &[(&str, Node)]) -> Root {
        let nodes: BTreeMap<PathBuf, Node> = paths
            .iter()
            .map(|(p, n)| (PathBuf::from(p), n.clone()))
            .collect();
        Root::image(nodes)
    }

    #[test]
    fn what_the_image_has() {
        let file = Node::Generated {
            content: b"root:x:0:0::/:/sbin/nologin\n".to_vec(),
        };
        let link = |t: &str| Node::Symlink { target: t.into() };
        let img = image(&[
            ("/etc", Node::Dir),
            ("/etc/passwd", file.clone()),
            ("/bin", link("usr/bin")),
            ("/usr", Node::Dir),
            ("/usr/bin", Node::Dir),
            ("/usr/bin/sh", link("dash")),
            ("/usr/bin/dash", file.clone()),
            ("/usr/share", Node::Dir),
            ("/usr/share/zoneinfo", Node::Dir),
            ("/g", Node::Dir),
            ("/g/gconv-modules", file.clone()),
        ]);
        assert!(!has_users(&img), "no /etc/group");
        assert!(has_file(&img, Path::new(SHELL)), "/bin/sh through links");
        assert!(!has_file(&img, Path::new("/usr/bin")), "a directory");
        assert!(has_zoneinfo(&img, Libc::Glibc));
        assert!(has_zoneinfo(&img, Libc::Musl));
        assert!(has_gconv(&img, Path::new("/g")));
        assert!(!has_gconv(&img, Path::new("/usr")));
        let with_group = image(&[
            ("/etc", Node::Dir),
            ("/etc/passwd", file.clone()),
            ("/etc/group", file),
        ]);
        assert!(has_users(&with_group));
        assert!(!has_zoneinfo(&with_group, Libc::Glibc));
    }

    #[test]
    fn a_whole_directory_comes_from_its_real_path_unless_it_is_one() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("modules-1.0");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("modules");
        std::os::unix::fs::symlink("modules-1.0", &link).unwrap();
        // A directory of the host: packed from where it is.
        let plain = whole_dir(&real, &real, &real);
        assert_eq!((plain.src.as_path(), plain.at.as_path()), (&*real, &*real));
        // A link: the contents of its target, at the link's path.
        let linked = whole_dir(&link, &real, &link);
        assert_eq!(
            (linked.src.as_path(), linked.at.as_path()),
            (&*real, &*link)
        );
        // Inside a sysroot: from the root's copy, at the in-root path.
        let in_root = Path::new("/usr/lib/plugins");
        let rooted = whole_dir(&tmp.path().join("usr/lib/plugins"), &real, in_root);
        assert_eq!(
            (rooted.src.as_path(), rooted.at),
            (&*real, in_root.to_path_buf())
        );
    }
}
