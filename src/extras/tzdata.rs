//! `--tzdata[=ZONE,...]`: the root's time zone files.
//!
//! With `TZ=Area/City`, glibc reads `$TZDIR/Area/City`, `TZDIR` defaulting
//! to `/usr/share/zoneinfo` (`time/tzfile.c`); musl looks in
//! `/usr/share/zoneinfo/` first too. A zone that is not there is silently
//! taken as a POSIX name with offset 0: `TZ=Europe/Paris date` prints UTC
//! time labelled `Europe`.
//!
//! Without names the whole `/usr/share/zoneinfo` is packed, links inside it
//! kept as links and links out of it (Debian's `localtime ->
//! /etc/localtime`) left out. With names, each zone file and `UTC` are
//! packed with the links on the way to them (`US/Eastern ->
//! ../America/New_York`), so each name the user gave works.

use std::path::{Component, Path};

use super::rooted;
use crate::error::{Result, Unavailable};
use crate::fsroot::Root;
use crate::plan::{Request, Role};

/// Where glibc and musl read zones (`TZDIR`'s default).
pub const ZONEINFO: &str = "/usr/share/zoneinfo";

/// The zone packed with any named ones.
pub const ALWAYS: &str = "UTC";

/// The requests for the zones `zones` of `root`, or every zone when `zones`
/// is empty.
pub fn requests(root: &Root, zones: &[String]) -> Result<Vec<Request>> {
    let dir = Path::new(ZONEINFO);
    let Some(real) = root
        .follow(dir)
        .ok()
        .filter(|f| root.is_dir(&f.real))
        .map(|f| f.real)
    else {
        return Err(Unavailable::Zoneinfo {
            dir: root.to_host(dir),
        }
        .into());
    };
    if zones.is_empty() {
        return rooted::whole_dir(root, dir, Role::Tzdata);
    }
    let mut requests = Vec::new();
    for zone in zones.iter().map(String::as_str).chain([ALWAYS]) {
        let path = dir.join(zone);
        let plain = !zone.is_empty()
            && Path::new(zone)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        let file = plain
            && root
                .follow(&path)
                .is_ok_and(|f| f.file.is_some() && f.real.starts_with(&real));
        if !file {
            return Err(Unavailable::Zone {
                name: zone.to_string(),
                dir: root.to_host(dir),
            }
            .into());
        }
        requests.push(Request::Rooted {
            path,
            role: Role::Tzdata,
        });
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extras::rooted::tests::shown;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn fake_root() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let z = tmp.path().join("usr/share/zoneinfo");
        for dir in ["Etc", "Europe", "America", "US", "right/Europe"] {
            fs::create_dir_all(z.join(dir)).unwrap();
        }
        fs::write(z.join("Etc/UTC"), b"TZif utc").unwrap();
        fs::write(z.join("Europe/Paris"), b"TZif paris").unwrap();
        fs::write(z.join("right/Europe/Paris"), b"TZif right").unwrap();
        fs::write(z.join("America/New_York"), b"TZif ny").unwrap();
        fs::write(z.join("zone.tab"), b"tab").unwrap();
        symlink("Etc/UTC", z.join("UTC")).unwrap();
        symlink("../America/New_York", z.join("US/Eastern")).unwrap();
        symlink("/etc/localtime", z.join("localtime")).unwrap();
        symlink("/usr/share/zoneinfo/Europe/Paris", z.join("Paris")).unwrap();
        fs::create_dir_all(tmp.path().join("etc")).unwrap();
        fs::write(tmp.path().join("etc/passwd"), b"not a zone").unwrap();
        tmp
    }

    #[test]
    fn every_zone_with_its_inner_links_and_nothing_from_outside() {
        let tmp = fake_root();
        let got = shown(&requests(&Root::new(tmp.path()), &[]).unwrap());
        let z = "/usr/share/zoneinfo";
        let want: Vec<String> = [
            " dir",
            "/America dir",
            "/America/New_York file",
            "/Etc dir",
            "/Etc/UTC file",
            "/Europe dir",
            "/Europe/Paris file",
            "/Paris -> /usr/share/zoneinfo/Europe/Paris",
            "/US dir",
            "/US/Eastern -> ../America/New_York",
            "/UTC -> Etc/UTC",
            "/right dir",
            "/right/Europe dir",
            "/right/Europe/Paris file",
            "/zone.tab file",
        ]
        .iter()
        .map(|s| format!("{z}{s}"))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn named_zones_and_utc_through_their_links() {
        let tmp = fake_root();
        let root = Root::new(tmp.path());
        let got = shown(&requests(&root, &["US/Eastern".into(), "Europe/Paris".into()]).unwrap());
        let want = [
            "/usr/share/zoneinfo/Europe/Paris rooted",
            "/usr/share/zoneinfo/US/Eastern rooted",
            "/usr/share/zoneinfo/UTC rooted",
        ];
        assert_eq!(got, want);
        for bad in [
            "Mars/Olympus",
            "../../../etc/passwd",
            "localtime",
            "Europe",
            "",
        ] {
            let err = requests(&root, &[bad.into()]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "no time zone {bad} in {}",
                    tmp.path().join("usr/share/zoneinfo").display()
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_root_without_zoneinfo_says_where_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        for zones in [vec![], vec!["UTC".to_string()]] {
            let err = requests(&Root::new(tmp.path()), &zones).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "{}: no time zone data",
                    tmp.path().join("usr/share/zoneinfo").display()
                )
            );
        }
    }
}
