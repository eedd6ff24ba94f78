//! `--cert`: the root CA bundle, where every TLS library will look for it.
//!
//! The bundle is taken from the first well-known location that exists in the
//! root, stored once (with the links that lead to it there), and every other
//! well-known path becomes a link to it, so OpenSSL, GnuTLS, Go, Python and
//! rustls' native roots find it whichever distribution built the program.

use std::path::Path;

use crate::error::{Error, Result};
use crate::plan::{Builder, Role};
use crate::root::Root;

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

/// Adds the bundle found in `root` and links at the other well-known paths.
pub fn add(builder: &mut Builder, root: &Root) -> Result<()> {
    let found = BUNDLES
        .iter()
        .map(Path::new)
        .find(|p| root.resolve(p).is_ok_and(|r| r.file.is_some()))
        .ok_or_else(|| {
            let root_dir = root.dir().map_or_else(String::new, |d| d.display().to_string());
            Error::Invalid(format!(
                "--cert: no CA bundle found in the root {root_dir}; looked for {} (Debian and Ubuntu: install ca-certificates)",
                BUNDLES.join(", ")
            ))
        })?;
    builder.add_rooted(found, Role::Cert)?;
    for other in BUNDLES.iter().chain(ALSO.iter()).map(Path::new) {
        if !builder.has(other) {
            builder.add_link_to(other, found, Role::Cert)?;
        }
    }
    Ok(())
}
