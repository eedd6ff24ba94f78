//! In-root directories packed whole (`--tzdata`, `--locale`): the links on
//! the way to the directory, then every entry under it at its own path in
//! the root.
//!
//! Links inside the directory stay links when they lead to something inside
//! it (`UTC -> Etc/UTC`, `posix/Europe/Paris -> ../Europe/Paris`); one that
//! leads out of it, or nowhere, is left out rather than packed dangling
//! (Debian's `zoneinfo/localtime -> /etc/localtime`).

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsroot::{ArchivePath, Followed, Root};
use crate::plan::{FileMeta, Request, Role};

use super::files::host_request;

/// The requests for the in-root directory `dir`, whole, with `role`; the
/// error of following `dir` when it does not lead to a directory.
pub fn whole_dir(root: &Root, dir: &Path, role: Role) -> Result<Vec<Request>> {
    let followed = root.follow(dir)?;
    if !root.is_dir(&followed.real) {
        return Err(Error::io(
            root.to_host(&followed.real),
            std::io::Error::from(std::io::ErrorKind::NotADirectory),
        ));
    }
    let mut requests = links_on_the_way(root, &followed, role)?;
    let host_dir = root.to_host(&followed.real);
    let walk = walkdir::WalkDir::new(&host_dir)
        .follow_links(false)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(&host_dir).to_path_buf();
            match e.into_io_error() {
                Some(io) => Error::io(&path, io),
                None => Error::SymlinkLoop { path },
            }
        })?;
        let rel = entry
            .path()
            .strip_prefix(&host_dir)
            .unwrap_or(Path::new(""));
        let in_root = followed.real.join(rel);
        let at = ArchivePath::normalized(&in_root);
        let meta = fs::symlink_metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        if meta.file_type().is_symlink() && !leads_inside(root, &in_root, &followed.real) {
            continue;
        }
        if let Some(request) = host_request(entry.path(), &meta, at, role)? {
            requests.push(request);
        }
    }
    Ok(requests)
}

/// The links met on the way to a followed in-root path, as links.
pub fn links_on_the_way(root: &Root, followed: &Followed, role: Role) -> Result<Vec<Request>> {
    let mut requests = Vec::new();
    for link in &followed.links {
        let host = root.to_host(&link.path);
        let meta = fs::symlink_metadata(&host).map_err(|e| Error::io(&host, e))?;
        requests.push(Request::Link {
            at: ArchivePath::normalized(&link.path),
            target: link.target.clone(),
            mtime: FileMeta::of(&meta).mtime,
            role,
        });
    }
    Ok(requests)
}

/// Whether the in-root link `link` leads to a file or directory under `top`
/// (an in-root path free of links).
pub fn leads_inside(root: &Root, link: &Path, top: &Path) -> bool {
    root.follow(link)
        .is_ok_and(|f| f.real.starts_with(top) && (f.file.is_some() || root.is_dir(&f.real)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// What the requests put where (`PATH file`, `PATH dir`, `PATH -> TARGET`,
    /// `PATH rooted`), sorted.
    pub(crate) fn shown(requests: &[Request]) -> Vec<String> {
        let mut out: Vec<String> = requests
            .iter()
            .map(|r| match r {
                Request::File { at, .. } => format!("{} file", at.display()),
                Request::Dir { at, .. } => format!("{} dir", at.display()),
                Request::Link { at, target, .. } => {
                    format!("{} -> {}", at.display(), target.display())
                }
                Request::Rooted { path, .. } => format!("{} rooted", path.display()),
                other => format!("{other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_directory_whole_keeps_its_inner_links_and_drops_the_others() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("real/data/Etc")).unwrap();
        fs::write(t.join("real/data/Etc/UTC"), b"tz").unwrap();
        symlink("Etc/UTC", t.join("real/data/UTC")).unwrap();
        symlink("Etc", t.join("real/data/Link-to-dir")).unwrap();
        symlink("/etc/localtime", t.join("real/data/localtime")).unwrap();
        symlink("../outside", t.join("real/data/up")).unwrap();
        fs::write(t.join("real/outside"), b"x").unwrap();
        symlink("Etc/nothing", t.join("real/data/dangling")).unwrap();
        symlink("real", t.join("usr")).unwrap();
        let root = Root::new(t);
        let got = shown(&whole_dir(&root, Path::new("/usr/data"), Role::Tzdata).unwrap());
        let want = [
            "/real/data dir",
            "/real/data/Etc dir",
            "/real/data/Etc/UTC file",
            "/real/data/Link-to-dir -> Etc",
            "/real/data/UTC -> Etc/UTC",
            "/usr -> real",
        ];
        assert_eq!(got, want);
        // Not a directory, or nothing there: the error names the host path.
        let err = whole_dir(&root, Path::new("/usr/outside"), Role::Tzdata).unwrap_err();
        assert!(err.to_string().contains("real/outside"), "{err}");
        let err = whole_dir(&root, Path::new("/nothing"), Role::Tzdata).unwrap_err();
        assert!(err.is_io(std::io::ErrorKind::NotFound), "{err}");
    }
}
