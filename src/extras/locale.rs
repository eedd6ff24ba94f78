//! `--locale NAME`: one compiled locale of the root.
//!
//! `setlocale(LC_ALL, "")` with `LANG=C.UTF-8` makes glibc try
//! `/usr/lib/locale/locale-archive`, then the directory
//! `/usr/lib/locale/C.UTF-8/`, then the one with the codeset normalised,
//! `/usr/lib/locale/C.utf8/` (`locale/findlocale.c`, `_nl_find_locale`;
//! `intl/l10nflist.c`, `_nl_normalize_codeset`: letters lower-cased, digits
//! kept, everything else dropped, `iso` before an all-digit codeset).
//! Without the files it silently stays in the C locale. glibc 2.35 and later
//! ship C.UTF-8 as such a directory (Debian: in libc-bin), not built in.
//!
//! The directory found under either name is packed whole at its own path.
//! A locale that only a `locale-archive` holds is not split out of it: the
//! error says so, and the archive can be packed whole.

use std::path::{Path, PathBuf};

use super::rooted;
use crate::error::{Result, Unavailable};
use crate::fsroot::Root;
use crate::plan::{Request, Role};

/// Where glibc looks for compiled locales (`complocaledir`).
pub const LOCALE_DIR: &str = "/usr/lib/locale";

/// The archive of locales `localedef` builds there.
pub const ARCHIVE: &str = "locale-archive";

/// The requests for the compiled locales `names` of `root`.
pub fn requests(root: &Root, names: &[String]) -> Result<Vec<Request>> {
    let dir = Path::new(LOCALE_DIR);
    let mut requests = Vec::new();
    for name in names {
        let found = candidates(name)
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| root.is_dir(p));
        let Some(found) = found else {
            let archive = dir.join(ARCHIVE);
            let has_archive = root.follow(&archive).is_ok_and(|f| f.file.is_some());
            return Err(Unavailable::Locale {
                name: name.clone(),
                dir: root.to_host(dir),
                archive: has_archive.then_some(archive),
            }
            .into());
        };
        requests.extend(rooted::whole_dir(root, &found, Role::Locale)?);
    }
    Ok(requests)
}

/// The directory names glibc tries for `name`, in order: as given, then with
/// its codeset normalised. None for a name that is not one plain file name.
fn candidates(name: &str) -> Vec<PathBuf> {
    let plain = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
    if !plain {
        return Vec::new();
    }
    let mut out = vec![PathBuf::from(name)];
    if let Some((lang, rest)) = name.split_once('.') {
        let (codeset, modifier) = match rest.split_once('@') {
            Some((c, m)) => (c, Some(m)),
            None => (rest, None),
        };
        let mut norm: String = codeset
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if norm.chars().all(|c| c.is_ascii_digit()) {
            norm.insert_str(0, "iso");
        }
        let mut other = format!("{lang}.{norm}");
        if let Some(m) = modifier {
            other = format!("{other}@{m}");
        }
        if other != name {
            out.push(PathBuf::from(other));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extras::rooted::tests::shown;
    use std::fs;

    #[test]
    fn names_are_tried_as_given_then_with_the_codeset_normalised() {
        let cases: &[(&str, &[&str])] = &[
            ("C.UTF-8", &["C.UTF-8", "C.utf8"]),
            ("C.utf8", &["C.utf8"]),
            (
                "de_DE.ISO-8859-1@euro",
                &["de_DE.ISO-8859-1@euro", "de_DE.iso88591@euro"],
            ),
            ("ja_JP.932", &["ja_JP.932", "ja_JP.iso932"]),
            ("POSIX", &["POSIX"]),
            ("../etc", &[]),
            ("", &[]),
        ];
        for (name, want) in cases {
            let want: Vec<PathBuf> = want.iter().map(PathBuf::from).collect();
            assert_eq!(candidates(name), want, "{name}");
        }
    }

    #[test]
    fn the_directory_found_is_packed_whole_at_its_own_name() {
        let tmp = tempfile::tempdir().unwrap();
        let c = tmp.path().join("usr/lib/locale/C.utf8");
        fs::create_dir_all(c.join("LC_MESSAGES")).unwrap();
        fs::write(c.join("LC_CTYPE"), b"ctype").unwrap();
        fs::write(c.join("LC_MESSAGES/SYS_LC_MESSAGES"), b"m").unwrap();
        fs::create_dir_all(tmp.path().join("usr/lib/locale/de_DE.utf8")).unwrap();
        let root = Root::new(tmp.path());
        let want = [
            "/usr/lib/locale/C.utf8 dir",
            "/usr/lib/locale/C.utf8/LC_CTYPE file",
            "/usr/lib/locale/C.utf8/LC_MESSAGES dir",
            "/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES file",
        ];
        for name in ["C.UTF-8", "C.utf8"] {
            assert_eq!(shown(&requests(&root, &[name.into()]).unwrap()), want);
        }
        assert!(
            requests(&root, &["C.utf8".into()])
                .unwrap()
                .iter()
                .all(|r| matches!(
                    r,
                    Request::File {
                        role: Role::Locale,
                        ..
                    } | Request::Dir {
                        role: Role::Locale,
                        ..
                    }
                ))
        );
    }

    #[test]
    fn a_missing_locale_says_whether_an_archive_may_hold_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("usr/lib/locale");
        fs::create_dir_all(&dir).unwrap();
        let root = Root::new(tmp.path());
        let err = requests(&root, &["fr_FR.UTF-8".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no compiled locale fr_FR.UTF-8 in {}", dir.display())
        );
        fs::write(dir.join("locale-archive"), b"archive").unwrap();
        // A root keeps what it has looked at: look again with a new one.
        let root = Root::new(tmp.path());
        let err = requests(&root, &["fr_FR.UTF-8".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no compiled locale fr_FR.UTF-8 in {}, only {} may hold it",
                dir.display(),
                dir.join("locale-archive").display()
            )
        );
    }
}
