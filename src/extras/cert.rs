//! `--cert`: the root CA bundle, where every TLS library will look for it.
//!
//! The bundle is taken from the first well-known location that exists in the
//! root, stored once (with the links that lead to it there), and every other
//! well-known path becomes a link to it, so OpenSSL, GnuTLS, Go, Python and
//! rustls' native roots find it whichever distribution built the program.

use std::path::Path;

use crate::error::{Error, Result};
use crate::fsroot::{ArchivePath, Root};
use crate::plan::{Request, Role};

/// Where distributions keep the bundle, in the order they are tried.
pub const BUNDLES: [&str; 5] = [
    // Debian, Ubuntu, Gentoo, Arch
    "/etc/ssl/certs/ca-certificates.crt",
    // Fedora, RHEL, CentOS
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    // openSUSE
    "/etc/ssl/ca-bundle.pem",
    // Alpine
    "/etc/ssl/cert.pem",
];

/// Other paths TLS libraries read by default: Debian's OpenSSL directory.
pub const ALSO: [&str; 1] = ["/usr/lib/ssl/cert.pem"];

/// The bundle found in `root`, and links to it at the other well-known paths
/// where nothing is planned yet.
pub fn requests(root: &Root) -> Result<Vec<Request>> {
    let found = BUNDLES
        .iter()
        .map(Path::new)
        .find(|p| root.follow(p).is_ok_and(|r| r.file.is_some()))
        .ok_or_else(|| Error::NoCaBundle {
            root: root.dir().map(Path::to_path_buf),
            looked: BUNDLES.to_vec(),
        })?;
    let mut requests = vec![Request::Rooted {
        path: found.to_path_buf(),
        role: Role::Cert,
    }];
    let to = ArchivePath::normalized(found);
    for other in BUNDLES.iter().chain(ALSO.iter()).map(Path::new) {
        requests.push(Request::LinkTo {
            at: ArchivePath::normalized(other),
            to: to.clone(),
            role: Role::Cert,
        });
    }
    Ok(requests)
}
