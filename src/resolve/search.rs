//! The search order: for one name, the candidate files in the order the
//! target's loader tries them, glibc's and musl's each in a function of its
//! own, with where each directory will be in the image.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::context::Context;
use super::model::{Loc, Object, Via};
use crate::fsroot::ArchivePath;
use crate::loader::{Cache, Libc, Loader, SystemSearch, substitute};

/// A directory of a search list, with where the image will have it.
#[derive(Debug, Clone)]
pub(super) struct SearchDir {
    pub loc: Loc,
    /// Where the directory is in the image when the image's loader searches
    /// it too; `None` when files found here must move to a default directory.
    pub at: Option<ArchivePath>,
}

/// One file to try: how it is reached, through which directory, and where.
pub(super) type Candidate = (Via, Option<SearchDir>, Loc);

/// The search for names needed by the objects loaded so far.
pub(super) struct Search<'a> {
    pub ctx: &'a Context,
    pub loader: &'a Loader,
    pub objects: &'a [Object],
}

impl Search<'_> {
    /// The candidate files for `name`, needed by object `req`, in the loader's order.
    pub fn candidates(&self, req: usize, name: &OsStr) -> Vec<Candidate> {
        if name.as_bytes().contains(&b'/') {
            return self.direct(req, name).into_iter().collect();
        }
        let mut out = Vec::new();
        match &self.loader.system {
            SystemSearch::Glibc {
                cache,
                conf_dirs,
                accepted_flags,
            } => self.glibc(
                req,
                name,
                cache.as_ref(),
                conf_dirs,
                accepted_flags,
                &mut out,
            ),
            SystemSearch::Musl { .. } => self.musl(req, name, &mut out),
        }
        out
    }

    /// glibc's order (`_dl_map_object`): DT_RPATH up the chain unless the
    /// requester has DT_RUNPATH, `--library-path`, the requester's
    /// DT_RUNPATH, the cache (or ld.so.conf's directories), the default
    /// directories; DF_1_NODEFLIB drops the defaults from the last two.
    fn glibc(
        &self,
        req: usize,
        name: &OsStr,
        cache: Option<&Cache>,
        conf_dirs: &[PathBuf],
        accepted_flags: &[i32],
        out: &mut Vec<Candidate>,
    ) {
        let facts = &self.objects[req].facts;
        let nodeflib = facts.nodeflib;
        if facts.runpath.is_none() {
            in_each(out, name, Via::Rpath, self.rpath_chain(req));
        }
        in_each(out, name, Via::LibraryPath, self.library_path());
        if let Some(runpath) = &facts.runpath {
            in_each(out, name, Via::Runpath, self.expand_list(runpath, req));
        }
        let default_dirs = &self.loader.default_dirs;
        let is_default = |p: &Path| {
            p.parent()
                .is_some_and(|d| default_dirs.iter().any(|x| x == d))
        };
        if let Some(cache) = cache {
            // The cache names the file itself (its key may differ from
            // `name` in leading zeros), so the candidate is its value.
            if let Some(hit) = cache.lookup(name, accepted_flags)
                && !(nodeflib && is_default(&hit.value))
            {
                let file = Loc::InRoot(hit.value.clone());
                let dir = file.parent();
                let at = is_default(&hit.value).then(|| ArchivePath::normalized(dir.path()));
                out.push((Via::Cache, Some(SearchDir { loc: dir, at }), file));
            }
        } else {
            let dirs = conf_dirs
                .iter()
                .filter(|d| !(nodeflib && default_dirs.contains(d)))
                .map(|d| SearchDir {
                    loc: Loc::InRoot(d.clone()),
                    at: default_dirs.contains(d).then(|| ArchivePath::normalized(d)),
                })
                .collect();
            in_each(out, name, Via::ConfDir, dirs);
        }
        if !nodeflib {
            in_each(out, name, Via::DefaultDir, self.default_dirs());
        }
    }

    /// musl's order (`load_library`): `--library-path` first, then the
    /// DT_RUNPATH, else DT_RPATH, of the requester and each object up its
    /// chain (both inherited), then the system path.
    fn musl(&self, req: usize, name: &OsStr, out: &mut Vec<Candidate>) {
        in_each(out, name, Via::LibraryPath, self.library_path());
        let mut p = Some(req);
        while let Some(i) = p {
            let facts = &self.objects[i].facts;
            if let Some(list) = facts.runpath.as_ref().or(facts.rpath.as_ref()) {
                let via = if facts.runpath.is_some() {
                    Via::Runpath
                } else {
                    Via::Rpath
                };
                in_each(out, name, via, self.expand_list(list, i));
            }
            p = self.objects[i].loaded_by;
        }
        in_each(out, name, Via::DefaultDir, self.default_dirs());
    }

    fn library_path(&self) -> Vec<SearchDir> {
        self.ctx
            .library_path
            .iter()
            .map(|d| SearchDir {
                loc: Loc::Host(d.clone()),
                at: None,
            })
            .collect()
    }

    fn default_dirs(&self) -> Vec<SearchDir> {
        self.loader
            .default_dirs
            .iter()
            .map(|d| SearchDir {
                loc: Loc::InRoot(d.clone()),
                at: Some(ArchivePath::normalized(d)),
            })
            .collect()
    }

    /// DT_RPATH of the requester, up its loader chain, then of the program.
    fn rpath_chain(&self, req: usize) -> Vec<SearchDir> {
        let mut dirs = Vec::new();
        let mut visited = HashSet::new();
        let mut p = Some(req);
        while let Some(i) = p {
            visited.insert(i);
            if let Some(rpath) = self.objects[i].facts.effective_rpath() {
                dirs.extend(self.expand_list(rpath, i));
            }
            p = self.objects[i].loaded_by;
        }
        if !visited.contains(&0)
            && let Some(rpath) = self.objects[0].facts.effective_rpath()
        {
            dirs.extend(self.expand_list(rpath, 0));
        }
        dirs
    }

    /// A DT_NEEDED name with `/`: DSTs expanded (glibc only), then opened as given.
    fn direct(&self, req: usize, name: &OsStr) -> Option<Candidate> {
        let (loc, at) = match self.loader.libc {
            Libc::Glibc => self.expand_element(name.as_bytes(), req)?,
            Libc::Musl => self.plain_element(name.as_bytes()),
        };
        let dir = SearchDir {
            loc: loc.parent(),
            at: at.as_ref().map(ArchivePath::parent),
        };
        Some((Via::Direct, Some(dir), loc))
    }

    /// Splits and expands a DT_RPATH/DT_RUNPATH list owned by object `owner`.
    fn expand_list(&self, list: &OsStr, owner: usize) -> Vec<SearchDir> {
        let bytes = list.as_bytes();
        if self.loader.libc == Libc::Musl {
            // musl expands only $ORIGIN; any other '$' makes it ignore the whole list.
            let mut rest = bytes;
            while let Some(at) = rest.iter().position(|&b| b == b'$') {
                let tail = &rest[at..];
                let origin = tail.starts_with(b"$ORIGIN") || tail.starts_with(b"${ORIGIN}");
                if !origin {
                    return Vec::new();
                }
                rest = &rest[at + 1..];
            }
        }
        let mut seen = HashSet::new();
        let mut dirs = Vec::new();
        for element in bytes.split(|&b| b == b':') {
            // musl's `path_open` skips empty elements; glibc searches the
            // working directory for them.
            if element.is_empty() && self.loader.libc == Libc::Musl {
                continue;
            }
            let Some((loc, at)) = self.expand_element(element, owner) else {
                continue;
            };
            // glibc drops a trailing '/' and repeated elements.
            let loc = loc.map(trim_slash);
            if seen.insert(loc.clone()) {
                dirs.push(SearchDir { loc, at });
            }
        }
        dirs
    }

    /// Expands DSTs of one element against `owner`: the path to search, and
    /// the same expression evaluated from the owner's place in the archive.
    fn expand_element(&self, element: &[u8], owner: usize) -> Option<(Loc, Option<ArchivePath>)> {
        let object = &self.objects[owner];
        let origin = object.loc.parent();
        let at_origin = object.at.parent();
        let (lib, platform) = (self.loader.lib.as_bytes(), self.loader.platform.as_bytes());
        let (search, uses_origin) =
            substitute(element, origin.path().as_os_str().as_bytes(), lib, platform)?;
        if !uses_origin {
            return Some(self.plain_element(&search));
        }
        let (in_archive, _) = substitute(
            element,
            at_origin.as_path().as_os_str().as_bytes(),
            lib,
            platform,
        )?;
        let search = PathBuf::from(OsString::from_vec(search));
        let loc = origin.map(|_| search);
        let at = ArchivePath::normalized(Path::new(OsStr::from_bytes(&in_archive)));
        Some((loc, Some(at)))
    }

    /// An element without `$ORIGIN`, as a path in the root. The loader takes
    /// a relative element (and the empty one, and a relative name with `/`)
    /// from the process's working directory (`fillin_rpath`, `open_path`);
    /// an image's is `/` unless it is given another, so they are taken from
    /// `/` of the root, when planning and when checking the image alike, and
    /// never from this host's working directory.
    fn plain_element(&self, element: &[u8]) -> (Loc, Option<ArchivePath>) {
        let path = Path::new("/").join(OsStr::from_bytes(element));
        let at = ArchivePath::normalized(&path);
        (Loc::InRoot(path), Some(at))
    }

    /// Where object `name`, needed by object `req` and found as `file`
    /// through `dir`, goes in the archive: where the image's loader will
    /// search, else its first default directory. When `req` has
    /// DF_1_NODEFLIB, the image's loader skips the default directories for
    /// it, so such a library goes to a directory of `req`'s own DT_RPATH
    /// chain or DT_RUNPATH instead, preferably one that exists already;
    /// `None` when it has none.
    pub fn place(
        &self,
        req: usize,
        name: &OsStr,
        dir: Option<&SearchDir>,
        file: &Loc,
    ) -> Option<ArchivePath> {
        if let Some(at) = dir.and_then(|d| d.at.as_ref()) {
            return Some(at.join(file.path().file_name().unwrap_or(name)));
        }
        if self.loader.libc == Libc::Glibc && self.objects[req].facts.nodeflib {
            let own = self.own_dirs(req);
            let exists = |d: &&SearchDir| match &d.loc {
                Loc::InRoot(p) => self.ctx.root.is_dir(p),
                Loc::Host(p) => p.is_dir(),
            };
            let dir = own.iter().find(exists).or(own.first())?;
            return dir.at.as_ref().map(|at| at.join(name));
        }
        let first = self.loader.default_dirs.first();
        let dir = first.map_or_else(|| Path::new("/lib"), PathBuf::as_path);
        Some(ArchivePath::normalized(dir).join(name))
    }

    /// The directories of object `req`'s own path lists that the image will
    /// have: its DT_RPATH chain (unless it has DT_RUNPATH), then its DT_RUNPATH.
    fn own_dirs(&self, req: usize) -> Vec<SearchDir> {
        let facts = &self.objects[req].facts;
        let mut dirs = Vec::new();
        if facts.runpath.is_none() {
            dirs = self.rpath_chain(req);
        }
        if let Some(runpath) = &facts.runpath {
            dirs.extend(self.expand_list(runpath, req));
        }
        dirs.retain(|d| d.at.is_some());
        dirs
    }
}

/// `name` in each of `dirs`, found `via` them.
fn in_each(out: &mut Vec<Candidate>, name: &OsStr, via: Via, dirs: Vec<SearchDir>) {
    for dir in dirs {
        let file = dir.loc.join(name);
        out.push((via, Some(dir), file));
    }
}

fn trim_slash(p: &Path) -> PathBuf {
    let s = p.as_os_str().as_bytes();
    if s.len() > 1 && s.ends_with(b"/") {
        let end = s.iter().rposition(|&b| b != b'/').map_or(1, |i| i + 1);
        PathBuf::from(OsStr::from_bytes(&s[..end]))
    } else {
        p.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes() {
        assert_eq!(trim_slash(Path::new("/a/b//")), PathBuf::from("/a/b"));
        assert_eq!(trim_slash(Path::new("/")), PathBuf::from("/"));
    }
}
