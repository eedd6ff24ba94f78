//! `--users[=NAME,...]`: `/etc/passwd` and `/etc/group`, written.
//!
//! glibc's `getpwnam`, `getpwuid`, `getgrnam`, `initgroups` and friends read
//! `/etc/passwd` and `/etc/group` through the NSS `files` backend, which is
//! built into libc since 2.34 and is the default for both databases when
//! there is no `/etc/nsswitch.conf` (`nss/nss_database.c`); musl reads the
//! same two files. Nothing else is needed: no shadow file, no module.
//!
//! The files hold the accounts distroless images have (`root` 0, `nobody`
//! 65534, `nonroot` 65532, and the groups `tty` and `staff`), then each named
//! account copied from the root's own files in their order, with its primary
//! group, password fields `x`, and group members only among the accounts
//! written. Nothing of the host's user database leaks in unless named.
//! `root`'s home `/root` is made (0700), as `ssh-keygen` and others write
//! there; no other home is, since every archive entry belongs to root and a
//! home would not be writable by its owner. Files given with `--add-file`
//! are kept instead of written.

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Result, Unavailable};
use crate::fsroot::{ArchivePath, Root};
use crate::plan::{Request, Role};

/// The password file's accounts every run writes, as distroless has them.
pub const PASSWD: &str = "\
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
";

/// The group file's groups every run writes, as distroless has them.
pub const GROUP: &str = "\
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
";

/// Where glibc and musl read them.
pub const PASSWD_PATH: &str = "/etc/passwd";
pub const GROUP_PATH: &str = "/etc/group";

/// The home directory made, and its mode.
pub const ROOT_HOME: (&str, u32) = ("/root", 0o700);

/// The requests for the user and group files with the default accounts and
/// the accounts `names` of `root`.
pub fn requests(root: &Root, names: &[String]) -> Result<Vec<Request>> {
    let mut passwd = PASSWD.to_string();
    let mut group = GROUP.to_string();
    let wanted: BTreeSet<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !has(PASSWD, n))
        .collect();
    if !wanted.is_empty() {
        let text = |path: &str| {
            let bytes = root.contents(Path::new(path)).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let (their_passwd, their_group) = (text(PASSWD_PATH), text(GROUP_PATH));
        let mut accounts: Vec<Vec<&str>> = Vec::new();
        for fields in lines(&their_passwd) {
            // The first entry of a name is the one glibc finds.
            let first = !accounts.iter().any(|a| a[0] == fields[0]);
            if fields.len() == 7 && wanted.contains(fields[0]) && first {
                accounts.push(fields);
            }
        }
        if let Some(name) = wanted
            .iter()
            .find(|n| !accounts.iter().any(|a| a[0] == **n))
        {
            return Err(Unavailable::Account {
                name: name.to_string(),
                file: root.to_host(Path::new(PASSWD_PATH)),
            }
            .into());
        }
        for account in &accounts {
            passwd.push_str(&line(account));
        }
        let members: BTreeSet<&str> = lines(PASSWD).map(|f| f[0]).chain(wanted).collect();
        for account in &accounts {
            let gid = account[3];
            if lines(&group).any(|g| g[2] == gid) {
                continue;
            }
            if let Some(found) = lines(&their_group).find(|g| g.len() == 4 && g[2] == gid) {
                let kept: Vec<&str> = found[3]
                    .split(',')
                    .filter(|m| members.contains(m))
                    .collect();
                let joined = kept.join(",");
                group.push_str(&line(&[found[0], "x", gid, &joined]));
            }
        }
    }
    let at = |p: &str| ArchivePath::normalized(Path::new(p));
    Ok(vec![
        Request::Generated {
            at: at(PASSWD_PATH),
            content: passwd.into_bytes(),
            role: Role::Users,
        },
        Request::Generated {
            at: at(GROUP_PATH),
            content: group.into_bytes(),
            role: Role::Users,
        },
        Request::MadeDir {
            at: at(ROOT_HOME.0),
            mode: ROOT_HOME.1,
        },
    ])
}

/// The entries of a colon-separated file, as fields; comments and blank lines skipped.
fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').collect())
}

/// Whether `text` has an entry named `name`.
fn has(text: &str, name: &str) -> bool {
    lines(text).any(|f| f[0] == name)
}

/// One entry, its password field `x`.
fn line(fields: &[&str]) -> String {
    let mut fields = fields.to_vec();
    fields[1] = "x";
    fields.join(":") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn generated(requests: &[Request], path: &str) -> String {
        requests
            .iter()
            .find_map(|r| match r {
                Request::Generated { at, content, .. } if at.as_path() == Path::new(path) => {
                    Some(String::from_utf8(content.clone()).unwrap())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {path} in {requests:?}"))
    }

    fn fake_root() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let etc = tmp.path().join("etc");
        fs::create_dir_all(&etc).unwrap();
        fs::write(
            etc.join("passwd"),
            "root:x:0:0:root:/root:/bin/bash\n\
             daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
             sync:x:4:65534:sync:/bin:/bin/sync\n\
             www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n\
             # a comment\n\
             postgres:x:105:111:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n\
             alice:x:1000:1000:Alice:/home/alice:/bin/bash\n",
        )
        .unwrap();
        fs::write(
            etc.join("group"),
            "root:x:0:\n\
             daemon:x:1:\n\
             www-data:secret:33:alice\n\
             nogroup:x:65534:\n\
             ssl-cert:x:110:postgres\n\
             postgres:x:111:alice,postgres\n\
             alice:x:1000:\n",
        )
        .unwrap();
        tmp
    }

    #[test]
    fn the_defaults_are_distroless_and_name_nothing_of_the_root() {
        let tmp = fake_root();
        let requests = requests(&Root::new(tmp.path()), &[]).unwrap();
        assert_eq!(generated(&requests, "/etc/passwd"), PASSWD);
        assert_eq!(generated(&requests, "/etc/group"), GROUP);
        assert!(requests.contains(&Request::MadeDir {
            at: ArchivePath::normalized(Path::new("/root")),
            mode: 0o700
        }));
        assert!(requests.iter().all(|r| match r {
            Request::Generated { role, .. } => *role == Role::Users,
            Request::MadeDir { .. } => true,
            _ => false,
        }));
        // A root without the files is fine when no account is named.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(requests.len(), 3);
        assert!(super::requests(&Root::new(empty.path()), &["root".into()]).is_ok());
    }

    #[test]
    fn named_accounts_come_from_the_root_in_its_order_with_their_groups() {
        let tmp = fake_root();
        let root = Root::new(tmp.path());
        let names = ["www-data", "postgres", "root", "sync", "www-data"].map(String::from);
        let requests = requests(&root, &names).unwrap();
        let passwd = generated(&requests, "/etc/passwd");
        assert_eq!(
            passwd,
            format!(
                "{PASSWD}sync:x:4:65534:sync:/bin:/bin/sync\n\
                 www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
                 postgres:x:105:111:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n"
            )
        );
        // sync's group 65534 is already there as nobody; members not written are dropped.
        let group = generated(&requests, "/etc/group");
        assert_eq!(
            group,
            format!("{GROUP}www-data:x:33:\npostgres:x:111:postgres\n")
        );
        // The order of the names does not matter.
        let mut reversed = names.clone();
        reversed.reverse();
        assert_eq!(super::requests(&root, &reversed).unwrap(), requests);
    }

    #[test]
    fn an_account_the_root_lacks_is_an_error_naming_the_file() {
        let tmp = fake_root();
        let root = Root::new(tmp.path());
        let err = requests(&root, &["www-data".into(), "nginx".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no account nginx in {}",
                tmp.path().join("etc/passwd").display()
            )
        );
    }
}
