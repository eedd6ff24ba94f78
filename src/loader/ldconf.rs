//! `ld.so.conf`: the directories ldconfig would put into the cache.
//!
//! glibc's loader never reads this file; only ldconfig does, to build
//! `/etc/ld.so.cache`. It is used when a root has no cache (a fresh sysroot),
//! to find what the cache would hold. Syntax, after `elf/ldconfig.c`:
//! one directory a line, `#` starts a comment anywhere, trailing `/` and a
//! legacy `=TYPE` suffix are dropped, `include PATTERN...` parses the files
//! matching each glob (relative to the including file's directory) in sorted
//! order, and `hwcap` lines are ignored. Globs are matched inside the root,
//! one component at a time, as `ldconfig -r` does (`chroot_canon`).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsroot::Root;

/// How deep `include` may nest before the rest is ignored as a cycle.
const MAX_DEPTH: usize = 16;

/// The directories of `path` (in-root) and its includes, in order, without
/// duplicates. A missing file gives an empty list.
pub fn directories(root: &Root, path: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    let mut seen = HashSet::new();
    parse_file(root, path, 0, &mut dirs, &mut seen)?;
    Ok(dirs)
}

fn parse_file(
    root: &Root,
    path: &Path,
    depth: usize,
    dirs: &mut Vec<PathBuf>,
    seen: &mut HashSet<PathBuf>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    if root.dir().is_none() {
        // A planned image has no ld.so.conf of its own.
        return Ok(());
    }
    // Links are followed inside the root and `..` stops at its top, as with
    // `ldconfig -r`. A file is read once whatever it is called: links and
    // `..` give one file endless names, and reading each name again
    // multiplied the work at every level.
    let followed = match root.follow(path) {
        Ok(followed) => followed,
        Err(e) if e.is_io(io::ErrorKind::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if !seen.insert(followed.real.clone()) {
        return Ok(());
    }
    // Directories, devices and FIFOs are never opened (a FIFO would block).
    let Some(host) = followed.file else {
        return Err(Error::NotRegularFile {
            path: root.to_host(&followed.real),
        });
    };
    let text = match fs::read(&host) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&host, e)),
    };
    let base = path.parent().unwrap_or(Path::new("/"));
    for line in parse(&text) {
        match line {
            Line::Dir(dir) => {
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
            Line::Include(pattern) => {
                for file in expand_include(root, base, &pattern)? {
                    parse_file(root, &file, depth + 1, dirs, seen)?;
                }
            }
        }
    }
    Ok(())
}

/// One meaningful line of an ld.so.conf file.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Dir(PathBuf),
    Include(String),
}

/// Parses the text of one ld.so.conf file.
pub fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = keyword(line, "include") {
            out.extend(
                rest.split_whitespace()
                    .map(|p| Line::Include(p.to_string())),
            );
            continue;
        }
        if keyword(line, "hwcap").is_some() {
            continue;
        }
        // A legacy "dir=TYPE" suffix names the library type; keep the directory.
        let dir = line.split('=').next().unwrap_or("").trim_end();
        let dir = dir.trim_end_matches('/');
        let dir = if dir.is_empty() { "/" } else { dir };
        out.push(Line::Dir(PathBuf::from(dir)));
    }
    out
}

/// `line` without `word` and the blank after it, if it starts with them.
fn keyword<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(word)?;
    rest.starts_with([' ', '\t']).then(|| rest.trim_start())
}

/// The in-root files an include pattern names, in glob(3)'s sorted order.
/// Each component with a wildcard is matched against the names of the
/// directories reached so far, listed through the root's own path
/// resolution ([`Root::read_dir`]): a link on the way (an absolute
/// `etc/ld.so.conf.d`, say) is followed inside the root, never on the host.
fn expand_include(root: &Root, base: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    let in_root = base.join(single_stars(pattern));
    let bad = |reason: String| Error::BadIncludePattern {
        path: in_root.clone(),
        reason,
    };
    // Like ldconfig's glob(3): `*` does not match a leading dot.
    let options = glob::MatchOptions {
        require_literal_leading_dot: true,
        ..glob::MatchOptions::new()
    };
    let parts: Vec<&OsStr> = in_root
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            Component::ParentDir => Some(OsStr::new("..")),
            _ => None,
        })
        .collect();
    let mut reached = vec![PathBuf::from("/")];
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let text = part.to_string_lossy();
        let mut next = Vec::new();
        if !text.contains(['*', '?', '[']) {
            next = reached.iter().map(|dir| dir.join(part)).collect();
        } else {
            let wanted = glob::Pattern::new(&text).map_err(|e| bad(e.to_string()))?;
            for dir in &reached {
                let Ok(mut names) = root.read_dir(dir) else {
                    continue;
                };
                names.sort();
                for name in names {
                    let name_text = name.to_string_lossy();
                    if wanted.matches_with(&name_text, options) {
                        next.push(dir.join(&name));
                    }
                }
            }
        }
        // glob(3) goes on only through directories.
        if !last {
            next.retain(|p| root.is_dir(p));
        }
        reached = next;
    }
    reached.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(reached)
}

/// glob(3) as ldconfig calls it has no `**`: a run of `*` is one `*`. The
/// glob crate would instead walk whole trees, forever through a link to `.`.
fn single_stars(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if !(c == '*' && out.ends_with('*')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let text = "# c\n/usr/local/lib/ # trailing\n\ninclude /etc/a/*.conf  b.conf\nhwcap 1 x\n/opt/x=libc6\n   \t/spaced \n";
        assert_eq!(
            parse(text),
            vec![
                Line::Dir("/usr/local/lib".into()),
                Line::Include("/etc/a/*.conf".into()),
                Line::Include("b.conf".into()),
                Line::Dir("/opt/x".into()),
                Line::Dir("/spaced".into()),
            ]
        );
    }

    #[test]
    fn includes_are_rooted_once_sorted_and_cycles_end() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("etc/ld.so.conf.d")).unwrap();
        fs::write(
            t.join("etc/ld.so.conf"),
            "include /etc/ld.so.conf.d/*.conf\n/last\n",
        )
        .unwrap();
        fs::write(
            t.join("etc/ld.so.conf.d/b.conf"),
            "/b\ninclude ../ld.so.conf\n",
        )
        .unwrap();
        fs::write(t.join("etc/ld.so.conf.d/a.conf"), "/a\n/b/\n").unwrap();
        fs::write(t.join("etc/ld.so.conf.d/skip.txt"), "/no\n").unwrap();
        // ldconfig's glob does not let `*` match a leading dot.
        fs::write(t.join("etc/ld.so.conf.d/.hidden.conf"), "/hidden\n").unwrap();
        let dirs = directories(&Root::new(t), Path::new("/etc/ld.so.conf")).unwrap();
        assert_eq!(dirs, vec![PathBuf::from("/a"), "/b".into(), "/last".into()]);
    }

    /// An `etc/ld.so.conf.d` that is an absolute link is followed inside
    /// the root: its names are listed there, never in the host directory
    /// the link names on the host.
    #[test]
    fn include_globs_list_directories_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let (t, host) = (tmp.path().join("root"), tmp.path().join("host.d"));
        fs::create_dir_all(t.join("etc")).unwrap();
        fs::create_dir_all(&host).unwrap();
        fs::write(host.join("host.conf"), "/escaped\n").unwrap();
        let in_root = t.join(host.strip_prefix("/").unwrap());
        fs::create_dir_all(&in_root).unwrap();
        fs::write(in_root.join("root.conf"), "/inside\n").unwrap();
        std::os::unix::fs::symlink(&host, t.join("etc/ld.so.conf.d")).unwrap();
        fs::write(
            t.join("etc/ld.so.conf"),
            "include ld.so.conf.d/*.conf\ninclude /etc/ld.so.conf.d/host.*\n",
        )
        .unwrap();
        let dirs = directories(&Root::new(&t), Path::new("/etc/ld.so.conf")).unwrap();
        assert_eq!(dirs, vec![PathBuf::from("/inside")]);
    }

    #[test]
    fn include_globs_match_each_component_and_sort_as_glob_does() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        for (file, dir) in [
            ("etc/a.d/x.conf", "/a.d"),
            ("etc/a/x.conf", "/a"),
            ("etc/b/x.conf", "/b"),
            ("etc/b/y.conf", "/b-y"),
            ("etc/c1/x.conf", "/c1"),
        ] {
            fs::create_dir_all(t.join(file).parent().unwrap()).unwrap();
            fs::write(t.join(file), format!("{dir}\n")).unwrap();
        }
        fs::write(t.join("etc/plain"), "").unwrap();
        fs::write(
            t.join("etc/ld.so.conf"),
            "include /etc/[ab]*/x.conf /etc/?/y.conf /etc/plain/x.conf /etc/c1/x.conf\n",
        )
        .unwrap();
        let dirs = directories(&Root::new(t), Path::new("/etc/ld.so.conf")).unwrap();
        // Sorted as strings, as glob(3) sorts: "a.d/" before "a/".
        let want = ["/a.d", "/a", "/b", "/b-y", "/c1"];
        assert_eq!(dirs, want.map(PathBuf::from));
    }

    #[test]
    fn a_missing_file_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(
            directories(&Root::new(tmp.path()), Path::new("/etc/ld.so.conf"))
                .unwrap()
                .is_empty()
        );
    }
}
