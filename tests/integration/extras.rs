//! Extra files through the real binary: `--nss-net`, `--cert`, `--add-file`,
//! directory inputs, fake `--root`s shaped like Fedora and Alpine, and end to
//! end runs of wrk (name lookup) and curl (TLS verification) chrooted into an
//! unpacked archive.
//!
//! Archives are read back with the `tar` crate (`util::Archive`) and
//! followed through their own symbolic links, as the image's loader and
//! programs would. Tests needing root, musl fixtures, wrk, curl, openssl or
//! python3 panic when one is missing and `CI` is set, and are skipped with a
//! message otherwise.
//!
//! The curl test trusts a throwaway CA in the host's store
//! (/usr/local/share/ca-certificates + update-ca-certificates) for its
//! duration; `util::ca_read` keeps every test that reads the host's
//! bundle out of that window.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{
    Archive, CaWrite, Item, Kind, assert_fails, basename, bytes, ca_read, ca_write, free_port, fx,
    interp, is_root, listing, musl_ok, require, tmp, tool, unpack, verbose_sources, which, write,
};

// ------------------------------------------------------------------ helpers

/// The well-known CA bundle paths the tool fills (archive paths).
const BUNDLES: [&str; 5] = [
    "etc/ssl/certs/ca-certificates.crt",
    "etc/pki/tls/certs/ca-bundle.crt",
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "etc/ssl/ca-bundle.pem",
    "etc/ssl/cert.pem",
];
const ALSO: [&str; 1] = ["usr/lib/ssl/cert.pem"];

const NSS_MODULES: [&str; 3] = ["libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"];

const HOST_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

const TOOL_LIMIT: Duration = Duration::from_secs(120);

fn os<I, S>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    args.into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect()
}

/// Runs the tool in `dir` under a time limit; returns its output whatever the code.
fn run(dir: &Path, args: &[OsString]) -> Output {
    let out = tool(dir)
        .env_remove("LD_LIBRARY_PATH")
        .args(args)
        .timeout(TOOL_LIMIT)
        .output()
        .expect("running extract-elf-so");
    assert!(
        out.status.code().is_some(),
        "extract-elf-so {args:?} did not finish within {TOOL_LIMIT:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the tool with `-v -o out.tar ARGS` in `dir`, asserts exit 0 and
/// returns the archive and the stderr (whose `-v` lines give each file's source).
fn pack(dir: &Path, args: &[OsString]) -> (Archive, String) {
    let out_tar = dir.join("out.tar");
    let _ = fs::remove_file(&out_tar);
    let mut all = os(["-v", "-o"]);
    all.push(out_tar.clone().into_os_string());
    all.extend(args.iter().cloned());
    let out = run(dir, &all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "extract-elf-so {all:?} failed:\n{stderr}"
    );
    (Archive::read(&out_tar), stderr)
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn archive_path(abs: &Path) -> String {
    abs.to_string_lossy().trim_start_matches('/').to_string()
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn ln(target: &str, link: &Path) {
    symlink(target, link).unwrap_or_else(|e| panic!("ln -s {target} {}: {e}", link.display()));
}

/// Copies a tree, keeping symbolic links as links and permission bits.
fn copy_tree(src: &Path, dst: &Path, depth: usize) {
    assert!(depth < 16, "copy_tree: too deep at {}", src.display());
    let meta = fs::symlink_metadata(src).unwrap();
    if meta.file_type().is_symlink() {
        let target = fs::read_link(src).unwrap();
        symlink(&target, dst).unwrap();
    } else if meta.is_dir() {
        fs::create_dir_all(dst).unwrap();
        let mut names: Vec<_> = fs::read_dir(src)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for name in names {
            copy_tree(&src.join(&name), &dst.join(&name), depth + 1);
        }
        chmod(dst, meta.permissions().mode() & 0o7777);
    } else {
        fs::copy(src, dst).unwrap();
        chmod(dst, meta.permissions().mode() & 0o7777);
    }
}

/// Every File entry whose bytes are `bytes`.
fn files_with<'a>(archive: &'a Archive, bytes: &[u8]) -> Vec<&'a str> {
    archive
        .of_kind(Kind::File)
        .filter(|i| i.data == bytes)
        .map(|i| i.path.as_str())
        .collect()
}

/// Checks the `nsswitch.conf` written by `--nss-net`: `hosts: files dns`,
/// and no service other than files and dns anywhere.
fn check_nsswitch(text: &str) {
    let mut hosts = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (db, services) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("nsswitch.conf line without ':': {line:?}\n{text}"));
        let services: Vec<&str> = services.split_whitespace().collect();
        for s in &services {
            if s.starts_with('[') {
                continue; // an action such as [NOTFOUND=return]
            }
            assert!(
                *s == "files" || *s == "dns",
                "nsswitch.conf names service {s:?} for {db}, which was not packed:\n{text}"
            );
        }
        if db.trim() == "hosts" {
            hosts = Some(services);
        }
    }
    assert_eq!(
        hosts,
        Some(vec!["files", "dns"]),
        "hosts line of nsswitch.conf:\n{text}"
    );
}

/// Whether an `/etc/hosts` text maps localhost to 127.0.0.1.
fn has_localhost_line(text: &str) -> bool {
    text.lines().any(|l| {
        let mut f = l.split('#').next().unwrap_or("").split_whitespace();
        f.next() == Some("127.0.0.1") && f.any(|n| n == "localhost")
    })
}

/// Asserts every well-known bundle path other than `stored` is a symbolic
/// link that leads, inside the archive, to the regular file `stored`.
fn check_bundle_links(archive: &Archive, stored: &str) {
    for path in BUNDLES.iter().chain(ALSO.iter()) {
        if *path == stored {
            continue;
        }
        let item = archive.entry(path);
        assert_eq!(
            item.kind,
            Kind::Symlink,
            "{path} should be a link to {stored}, is {:?}",
            item.kind
        );
        let end = archive.file(path);
        assert_eq!(
            end.path, stored,
            "{path} -> {:?} leads to {} instead of {stored}",
            item.link, end.path
        );
    }
}

// ------------------------------------------------------------------ 1. --nss-net

#[test]
fn nss_net_glibc_adds_config_files_and_modules_next_to_libc() {
    let dir = tmp();
    let hello = fx("hello/bin/hello");

    // Without --nss-net none of it is there: the checks below can fail.
    let (plain, _) = pack(dir.path(), &os([&hello]));
    for path in [
        "etc/nsswitch.conf",
        "etc/hosts",
        "etc/services",
        "etc/protocols",
    ] {
        assert!(plain.get(path).is_none(), "{path} without --nss-net");
    }
    for m in NSS_MODULES {
        assert!(
            !plain.paths().iter().any(|p| basename(p) == m),
            "{m} without --nss-net:\n{}",
            plain.dump()
        );
    }

    let (archive, stderr) = pack(
        dir.path(),
        &os([OsStr::new("--nss-net"), hello.as_os_str()]),
    );
    let nss = String::from_utf8(archive.file("etc/nsswitch.conf").data.clone()).unwrap();
    check_nsswitch(&nss);
    for file in ["etc/services", "etc/protocols"] {
        let host = bytes(&Path::new("/").join(file));
        assert_eq!(
            archive.file(file).data,
            host,
            "{file} should hold the host's bytes"
        );
    }
    let hosts = String::from_utf8(archive.file("etc/hosts").data.clone()).unwrap();
    assert!(
        has_localhost_line(&hosts),
        "generated etc/hosts has no 127.0.0.1 localhost line:\n{hosts}"
    );

    // The modules sit in the archive directory libc.so.6 is in, with the
    // bytes of the host files next to the host's libc.
    let sources = verbose_sources(&stderr);
    let libc: Vec<&Item> = archive
        .of_kind(Kind::File)
        .filter(|i| basename(&i.path) == "libc.so.6")
        .collect();
    assert_eq!(libc.len(), 1, "one libc.so.6 file:\n{}", archive.dump());
    let libc_dir = parent(&libc[0].path).to_string();
    let host_libc = sources
        .get(&libc[0].path)
        .unwrap_or_else(|| panic!("no -v source for {}:\n{stderr}", libc[0].path));
    let host_dir = host_libc.parent().unwrap();
    let mut checked = 0;
    for m in NSS_MODULES {
        let host = host_dir.join(m);
        if !host.is_file() {
            eprintln!("{} does not exist; not checking {m}", host.display());
            continue;
        }
        let item = archive.file(&format!("{libc_dir}/{m}"));
        assert_eq!(
            item.data,
            bytes(&host),
            "{m} in the archive differs from {}",
            host.display()
        );
        // And the loader finds it where it finds libc: through /lib's link too.
        let by_loader = format!("lib/{}", basename(&libc_dir));
        if archive.resolve(&format!("{by_loader}/libc.so.6")).is_ok() {
            archive.file(&format!("{by_loader}/{m}"));
        }
        checked += 1;
    }
    eprintln!(
        "checked {checked} NSS modules next to {}",
        host_libc.display()
    );
}

/// Packs fixtures hello with `--nss-net` and a user's file given with
/// `--add-file` at `dest`.
fn pack_nss_with_user_file(dest: &str, content: &[u8]) -> Archive {
    let dir = tmp();
    write(&dir.path().join("mine"), content);
    let spec = format!("mine:{dest}");
    let (archive, _) = pack(
        dir.path(),
        &os([
            OsStr::new("--nss-net"),
            OsStr::new("--add-file"),
            OsStr::new(&spec),
            fx("hello/bin/hello").as_os_str(),
        ]),
    );
    archive
}

#[test]
fn nss_net_keeps_a_hosts_file_given_with_add_file() {
    let mine = b"10.1.2.3\tmyhost.example myhost\n127.0.0.1\tlocalhost\n";
    let archive = pack_nss_with_user_file("/etc/hosts", mine);
    let hosts = archive.entry("etc/hosts");
    assert_eq!(hosts.kind, Kind::File);
    assert_eq!(
        String::from_utf8_lossy(&hosts.data),
        String::from_utf8_lossy(mine),
        "the user's etc/hosts was replaced"
    );
    assert_eq!(
        archive
            .paths()
            .iter()
            .filter(|p| **p == "etc/hosts")
            .count(),
        1,
        "etc/hosts stored twice"
    );
    // The rest of --nss-net is still there.
    check_nsswitch(&String::from_utf8_lossy(
        &archive.file("etc/nsswitch.conf").data,
    ));
}

#[test]
fn nss_net_musl_gets_files_but_no_nsswitch_or_modules() {
    if !musl_ok("musl/bin/hello") {
        return;
    }
    let dir = tmp();
    let (archive, _) = pack(
        dir.path(),
        &os([OsStr::new("--nss-net"), fx("musl/bin/hello").as_os_str()]),
    );
    assert!(
        archive.get("etc/nsswitch.conf").is_none(),
        "musl has no NSS, yet nsswitch.conf was packed:\n{}",
        archive.dump()
    );
    for p in archive.paths() {
        assert!(
            !basename(p).starts_with("libnss_") && basename(p) != "libresolv.so.2",
            "glibc NSS module {p} packed for a musl program"
        );
    }
    for file in ["etc/services", "etc/protocols"] {
        assert_eq!(
            archive.file(file).data,
            bytes(&Path::new("/").join(file)),
            "{file}"
        );
    }
    let hosts = String::from_utf8_lossy(&archive.file("etc/hosts").data).into_owned();
    assert!(has_localhost_line(&hosts), "etc/hosts:\n{hosts}");
}

// ------------------------------------------------------------------ 2. --cert

#[test]
fn cert_stores_the_host_bundle_once_and_links_every_known_path() {
    let _ca = ca_read();
    let host = Path::new(HOST_BUNDLE);
    if !require(
        host.is_file(),
        "the host has no CA bundle (install ca-certificates)",
    ) {
        return;
    }
    let dir = tmp();
    let hello = fx("hello/bin/hello");

    let (plain, _) = pack(dir.path(), &os([&hello]));
    for path in BUNDLES.iter().chain(ALSO.iter()) {
        assert!(plain.get(path).is_none(), "{path} without --cert");
    }

    let (archive, _) = pack(dir.path(), &os([OsStr::new("--cert"), hello.as_os_str()]));
    let want = bytes(host);
    let stored = archive.entry(BUNDLES[0]);
    assert_eq!(
        stored.kind,
        Kind::File,
        "{} should be the regular file",
        BUNDLES[0]
    );
    assert!(
        stored.data == want,
        "{} differs from the host's",
        BUNDLES[0]
    );
    assert_eq!(
        files_with(&archive, &want),
        vec![BUNDLES[0]],
        "the bundle should be stored once"
    );
    check_bundle_links(&archive, BUNDLES[0]);
}

// ------------------------------------------------------------------ 3. fake roots

/// Debian's glibc `system_dirs` (with the `system_dirs_len` array of size_t
/// before it), which `ld.so --help` prints as its search path.
const DEBIAN_SYSTEM_DIRS: &[u8] =
    b"/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/\0/lib/\0/usr/lib/\0";

/// The host's loader with its compiled-in search path turned into Fedora's
/// (`/lib64/`, `/usr/lib64/`), as glibc built with slibdir=/lib64 has it.
/// `None` when the host's loader does not have Debian's table.
fn fedora_loader(host: &[u8]) -> Option<Vec<u8>> {
    let lens: Vec<u8> = [22u64, 26, 5, 9]
        .iter()
        .flat_map(|n| n.to_le_bytes())
        .collect();
    let mut from = 0;
    while let Some(pos) = host[from..]
        .windows(DEBIAN_SYSTEM_DIRS.len())
        .position(|w| w == DEBIAN_SYSTEM_DIRS)
        .map(|p| p + from)
    {
        from = pos + 1;
        if pos < 32 || pos % 8 != 0 || host[pos - 32..pos] != lens[..] {
            continue;
        }
        let mut out = host.to_vec();
        let mut dirs = b"/lib64/\0/usr/lib64/\0".to_vec();
        dirs.resize(DEBIAN_SYSTEM_DIRS.len(), 0);
        out[pos..pos + dirs.len()].copy_from_slice(&dirs);
        let new_lens: Vec<u8> = [0u64, 0, 7, 11]
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect();
        out[pos - 32..pos].copy_from_slice(&new_lens);
        return Some(out);
    }
    None
}

const HOST_GLIBC_DIR: &str = "/lib/x86_64-linux-gnu";
const ROOT_MARK: &[u8] = b"\0extract-elf-so fake root copy\0";

const FEDORA_PEM: &str = "\
# fake Fedora CA bundle
-----BEGIN CERTIFICATE-----
RmVkb3JhLXNoYXBlZCByb290IGZvciBleHRyYWN0LWVsZi1zbyB0ZXN0cw==
-----END CERTIFICATE-----
";

/// A Fedora-shaped root: lib64 with copies of the host's loader, libc and
/// NSS modules (marked at the end so their bytes are the root's own), the
/// CA bundle at Fedora's path behind Fedora's absolute link, services and
/// protocols. `loader` is the loader's bytes.
fn fedora_root(root: &Path, loader: &[u8]) {
    write(&root.join("lib64/ld-linux-x86-64.so.2"), loader);
    chmod(&root.join("lib64/ld-linux-x86-64.so.2"), 0o755);
    for name in ["libc.so.6"].iter().chain(NSS_MODULES.iter()) {
        let mut copy = bytes(&Path::new(HOST_GLIBC_DIR).join(name));
        copy.extend_from_slice(ROOT_MARK);
        write(&root.join("lib64").join(name), &copy);
        chmod(&root.join("lib64").join(name), 0o755);
    }
    write(
        &root.join("etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),
        FEDORA_PEM.as_bytes(),
    );
    fs::create_dir_all(root.join("etc/pki/tls/certs")).unwrap();
    ln(
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        &root.join("etc/pki/tls/certs/ca-bundle.crt"),
    );
    write(&root.join("etc/services"), b"fedora-svc\t4242/tcp\n");
    write(&root.join("etc/protocols"), b"fedora-ip\t0\tIP\n");
}

fn host_glibc_ok() -> bool {
    let ok = ["ld-linux-x86-64.so.2", "libc.so.6"]
        .iter()
        .chain(NSS_MODULES.iter())
        .all(|n| Path::new(HOST_GLIBC_DIR).join(n).is_file());
    require(
        ok,
        &format!("the host has no x86-64 glibc with its NSS modules in {HOST_GLIBC_DIR}"),
    )
}

/// What the Fedora-shaped root tests check once the archive is written:
/// the modules are the root's files, in libc's archive directory, the
/// bundle is the root's and every known path links to it.
fn check_fedora_archive(root: &Path, archive: &Archive, stderr: &str, libc_dir_want: Option<&str>) {
    let sources = verbose_sources(stderr);
    let libc: Vec<&Item> = archive
        .of_kind(Kind::File)
        .filter(|i| basename(&i.path) == "libc.so.6")
        .collect();
    assert_eq!(libc.len(), 1, "one libc.so.6 file:\n{}", archive.dump());
    let libc_dir = parent(&libc[0].path);
    if let Some(want) = libc_dir_want {
        assert_eq!(libc_dir, want, "libc.so.6's directory:\n{}", archive.dump());
    }
    for m in NSS_MODULES {
        let want = bytes(&root.join("lib64").join(m));
        let item = archive.file(&format!("{libc_dir}/{m}"));
        assert!(
            item.data == want,
            "{} is not the root's lib64/{m}",
            item.path
        );
        let src = sources
            .get(&item.path)
            .unwrap_or_else(|| panic!("no -v source for {}:\n{stderr}", item.path));
        assert_eq!(
            fs::canonicalize(src).unwrap(),
            fs::canonicalize(root.join("lib64").join(m)).unwrap(),
            "{} comes from {}",
            item.path,
            src.display()
        );
    }
    // Nothing from the host: every file but the input comes from the root.
    let root_real = fs::canonicalize(root).unwrap();
    for (path, src) in &sources {
        if path == "usr/local/bin/hello" {
            continue;
        }
        let real = fs::canonicalize(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        assert!(
            real.starts_with(&root_real),
            "{path} comes from {} outside the root",
            real.display()
        );
    }
    assert!(
        sources.len() >= 2 + NSS_MODULES.len() + 3,
        "too few -v sources:\n{stderr}"
    );
    let stored = "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem";
    let bundle = archive.entry(stored);
    assert_eq!(bundle.kind, Kind::File, "{stored}");
    assert_eq!(String::from_utf8_lossy(&bundle.data), FEDORA_PEM);
    assert_eq!(
        files_with(archive, FEDORA_PEM.as_bytes()),
        vec![stored],
        "the bundle should be stored once"
    );
    if let Ok(host) = fs::read(HOST_BUNDLE) {
        assert!(
            files_with(archive, &host).is_empty(),
            "the host's bundle is in an archive made from a root"
        );
    }
    let debian = archive.entry("etc/ssl/certs/ca-certificates.crt");
    assert_eq!(debian.kind, Kind::Symlink, "Debian's path should be a link");
    check_bundle_links(archive, stored);
    assert_eq!(archive.file("etc/services").data, b"fedora-svc\t4242/tcp\n");
    assert_eq!(archive.file("etc/protocols").data, b"fedora-ip\t0\tIP\n");
    check_nsswitch(&String::from_utf8_lossy(
        &archive.file("etc/nsswitch.conf").data,
    ));
}

/// A Fedora-shaped root whose loader searches /lib64 (as Fedora's does).
#[test]
fn fedora_root_nss_modules_and_bundle_come_from_the_root() {
    let _ca = ca_read();
    if !host_glibc_ok() {
        return;
    }
    let host_loader = bytes(&Path::new(HOST_GLIBC_DIR).join("ld-linux-x86-64.so.2"));
    let Some(loader) = fedora_loader(&host_loader) else {
        require(
            false,
            "the host's ld.so has no Debian system_dirs table to turn into Fedora's",
        );
        return;
    };
    let dir = tmp();
    let root = dir.path().join("fedora");
    fedora_root(&root, &loader);
    let hello = fx("hello/bin/hello");
    let args = os([
        OsStr::new("--root"),
        root.as_os_str(),
        OsStr::new("--nss-net"),
        OsStr::new("--cert"),
        hello.as_os_str(),
    ]);
    let (archive, stderr) = pack(dir.path(), &args);
    check_fedora_archive(&root, &archive, &stderr, Some("lib64"));
    // The program's PT_INTERP leads to the root's (patched) loader.
    let interp = interp(&hello).expect("hello has PT_INTERP");
    assert_eq!(archive.file(&interp).data, loader, "{interp}");

    // The other side: the same root without a bundle fails --cert.
    fs::remove_file(root.join("etc/pki/tls/certs/ca-bundle.crt")).unwrap();
    fs::remove_file(root.join("etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")).unwrap();
    let out = run(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "--cert with no bundle in the root: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The same with the host's loader copied unchanged (its search path is
/// Debian's multiarch list) and `/lib64` listed in the root's ld.so.conf, as
/// ldconfig would have it in the root's cache. The image works at run time:
/// the interpreter is loaded before anything, so libc's need for
/// ld-linux-x86-64.so.2 never searches a directory.
#[test]
fn fedora_root_with_unchanged_host_loader_and_ld_so_conf() {
    let _ca = ca_read();
    if !host_glibc_ok() {
        return;
    }
    let dir = tmp();
    let root = dir.path().join("fedora");
    let loader = bytes(&Path::new(HOST_GLIBC_DIR).join("ld-linux-x86-64.so.2"));
    fedora_root(&root, &loader);
    write(&root.join("etc/ld.so.conf"), b"/lib64\n");
    let hello = fx("hello/bin/hello");
    // Without --nss-net the root packs fine.
    pack(
        dir.path(),
        &os([
            OsStr::new("--root"),
            root.as_os_str(),
            OsStr::new("--cert"),
            hello.as_os_str(),
        ]),
    );
    let (archive, stderr) = pack(
        dir.path(),
        &os([
            OsStr::new("--root"),
            root.as_os_str(),
            OsStr::new("--nss-net"),
            OsStr::new("--cert"),
            hello.as_os_str(),
        ]),
    );
    check_fedora_archive(&root, &archive, &stderr, None);
}

#[test]
fn alpine_root_cert_pem_is_the_bundle_and_no_nsswitch() {
    if !musl_ok("musl/bin/hello") {
        return;
    }
    let host_musl = fs::canonicalize("/lib/ld-musl-x86_64.so.1");
    let Ok(host_musl) = host_musl else {
        require(
            false,
            "the host has no /lib/ld-musl-x86_64.so.1 (install musl)",
        );
        return;
    };
    let dir = tmp();
    let root = dir.path().join("alpine");
    let mut musl = bytes(&host_musl);
    musl.extend_from_slice(ROOT_MARK);
    write(&root.join("lib/ld-musl-x86_64.so.1"), &musl);
    chmod(&root.join("lib/ld-musl-x86_64.so.1"), 0o755);
    let pem = "-----BEGIN CERTIFICATE-----\nQWxwaW5lIGZha2Ugcm9vdA==\n-----END CERTIFICATE-----\n";
    write(&root.join("etc/ssl/cert.pem"), pem.as_bytes());
    write(&root.join("etc/services"), b"alpine-svc\t4343/tcp\n");
    write(&root.join("etc/protocols"), b"alpine-ip\t0\tIP\n");
    let program = fx("musl/bin/hello");
    let (archive, _) = pack(
        dir.path(),
        &os([
            OsStr::new("--root"),
            root.as_os_str(),
            OsStr::new("--nss-net"),
            OsStr::new("--cert"),
            program.as_os_str(),
        ]),
    );
    let stored = "etc/ssl/cert.pem";
    let bundle = archive.entry(stored);
    assert_eq!(bundle.kind, Kind::File, "{stored} should be the file");
    assert_eq!(String::from_utf8_lossy(&bundle.data), pem);
    assert_eq!(files_with(&archive, pem.as_bytes()), vec![stored]);
    check_bundle_links(&archive, stored);
    assert!(
        archive.get("etc/nsswitch.conf").is_none(),
        "nsswitch.conf for musl:\n{}",
        archive.dump()
    );
    for p in archive.paths() {
        assert!(!basename(p).starts_with("libnss_"), "{p} for musl");
    }
    assert_eq!(archive.file("etc/services").data, b"alpine-svc\t4343/tcp\n");
    assert_eq!(archive.file("etc/protocols").data, b"alpine-ip\t0\tIP\n");
    let hosts = String::from_utf8_lossy(&archive.file("etc/hosts").data).into_owned();
    assert!(has_localhost_line(&hosts), "etc/hosts:\n{hosts}");
    let interp = interp(&program).expect("PT_INTERP");
    assert_eq!(
        archive.file(&interp).data,
        musl,
        "{interp} is not the root's"
    );
}

#[test]
fn cert_in_a_root_without_a_bundle_fails_naming_the_paths() {
    let dir = tmp();
    let root = dir.path().join("bare");
    fs::create_dir_all(root.join("etc/ssl/certs")).unwrap();
    let program = fx("static/bin/app");
    let base = os([OsStr::new("--root"), root.as_os_str(), program.as_os_str()]);
    // The root itself is fine for this program: only --cert makes it fail.
    let ok = run(dir.path(), &base);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "without --cert: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    fs::remove_file(dir.path().join("rootfs.tar")).unwrap();
    let mut args = base.clone();
    args.push("--cert".into());
    let mut names: Vec<String> = BUNDLES.iter().map(|b| format!("/{b}")).collect();
    names.push("--cert".into());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_fails(dir.path(), &args, 1, &names);
    assert!(!dir.path().join("rootfs.tar").exists());
}

// ------------------------------------------------------------------ 4. --add-file

#[test]
fn add_file_puts_a_plain_file_at_dest_with_its_mode() {
    let dir = tmp();
    let note = dir.path().join("note.txt");
    write(&note, b"configuration\n");
    chmod(&note, 0o640);
    let (archive, _) = pack(
        dir.path(),
        &os([
            OsStr::new("--add-file"),
            OsStr::new("note.txt:/etc/app/note.conf"),
            fx("static/bin/app").as_os_str(),
        ]),
    );
    let item = archive.entry("etc/app/note.conf");
    assert_eq!(item.kind, Kind::File);
    assert_eq!(item.data, b"configuration\n");
    assert_eq!(item.mode & 0o7777, 0o640, "mode {:o}", item.mode);
    assert_eq!(archive.entry("etc/app").kind, Kind::Dir);
    // Only at DEST, not also under its own name.
    assert!(
        !archive.paths().iter().any(|p| basename(p) == "note.txt"),
        "{}",
        archive.dump()
    );
}

#[test]
fn add_file_default_dest_is_the_sources_absolute_path() {
    let dir = tmp();
    let cwd = fs::canonicalize(dir.path()).unwrap();
    write(&cwd.join("rel.txt"), b"relative\n");
    write(&cwd.join("sub/abs.txt"), b"absolute\n");
    let abs = cwd.join("sub/abs.txt");
    let (archive, _) = pack(
        &cwd,
        &os([
            OsStr::new("--add-file"),
            OsStr::new("rel.txt"),
            OsStr::new("--add-file"),
            abs.as_os_str(),
            fx("static/bin/app").as_os_str(),
        ]),
    );
    let rel_at = archive_path(&cwd.join("rel.txt"));
    assert_eq!(archive.entry(&rel_at).kind, Kind::File);
    assert_eq!(archive.file(&rel_at).data, b"relative\n");
    let abs_at = archive_path(&abs);
    assert_eq!(archive.entry(&abs_at).kind, Kind::File);
    assert_eq!(archive.file(&abs_at).data, b"absolute\n");
}

#[test]
fn add_file_keeps_a_symlink_a_symlink() {
    let dir = tmp();
    write(&dir.path().join("note.txt"), b"target\n");
    ln("note.txt", &dir.path().join("current"));
    ln("/etc/app/note.txt", &dir.path().join("abs-link"));
    let (archive, _) = pack(
        dir.path(),
        &os([
            "--add-file",
            "note.txt:/etc/app/note.txt",
            "--add-file",
            "current:/etc/app/current",
            "--add-file",
            "abs-link:/etc/app/abs-link",
            fx("static/bin/app").to_str().unwrap(),
        ]),
    );
    for (path, target) in [
        ("etc/app/current", "note.txt"),
        ("etc/app/abs-link", "/etc/app/note.txt"),
    ] {
        let item = archive.entry(path);
        assert_eq!(item.kind, Kind::Symlink, "{path} should stay a link");
        assert_eq!(item.link.as_deref(), Some(target), "{path}");
        assert_eq!(archive.file(path).path, "etc/app/note.txt");
    }
}

#[test]
fn add_file_directory_tree_keeps_modes_and_links() {
    let dir = tmp();
    let tree = dir.path().join("tree");
    write(&tree.join("top.txt"), b"top\n");
    write(&tree.join("a/b/secret"), b"s3cret\n");
    fs::create_dir_all(tree.join("empty")).unwrap();
    ln("b/secret", &tree.join("a/to-secret"));
    ln("../top.txt", &tree.join("a/up"));
    chmod(&tree.join("a/b/secret"), 0o600);
    chmod(&tree.join("top.txt"), 0o644);
    chmod(&tree.join("a/b"), 0o700);
    chmod(&tree.join("a"), 0o750);
    chmod(&tree.join("empty"), 0o755);
    chmod(&tree, 0o755);
    let (archive, _) = pack(
        dir.path(),
        &os([
            "--add-file",
            "tree:/srv/data",
            fx("static/bin/app").to_str().unwrap(),
        ]),
    );
    let want = [
        ("srv/data", Kind::Dir, 0o755),
        ("srv/data/a", Kind::Dir, 0o750),
        ("srv/data/a/b", Kind::Dir, 0o700),
        ("srv/data/a/b/secret", Kind::File, 0o600),
        ("srv/data/top.txt", Kind::File, 0o644),
        ("srv/data/empty", Kind::Dir, 0o755),
    ];
    for (path, kind, mode) in want {
        let item = archive.entry(path);
        assert_eq!(item.kind, kind, "{path}");
        assert_eq!(item.mode & 0o7777, mode, "{path}: mode {:o}", item.mode);
    }
    assert_eq!(archive.entry("srv/data/a/b/secret").data, b"s3cret\n");
    for (path, target, end) in [
        ("srv/data/a/to-secret", "b/secret", "srv/data/a/b/secret"),
        ("srv/data/a/up", "../top.txt", "srv/data/top.txt"),
    ] {
        let item = archive.entry(path);
        assert_eq!(item.kind, Kind::Symlink, "{path}");
        assert_eq!(item.link.as_deref(), Some(target), "{path}");
        assert_eq!(archive.file(path).path, end);
    }
    // Everything under srv/data came from the tree, nothing more.
    let under: Vec<&str> = archive
        .paths()
        .into_iter()
        .filter(|p| p.starts_with("srv/data/"))
        .collect();
    assert_eq!(under.len(), 7, "{under:?}");
}

/// A tree holding hello-leaf and its private libleaf, beside a static input
/// that needs nothing: libc and the loader can only come from the tree's ELF
/// files.
#[test]
fn add_file_elf_in_a_tree_gets_its_libraries() {
    let dir = tmp();
    let tree = dir.path().join("tree");
    write(&tree.join("bin/readme"), b"not an ELF file\n");
    fs::create_dir_all(tree.join("lib")).unwrap();
    let args = os([
        "--add-file",
        "tree:/opt/leafy",
        fx("static/bin/app").to_str().unwrap(),
    ]);

    // With no ELF file in the tree, nothing asks for libc or a loader.
    let (before, _) = pack(dir.path(), &args);
    let interp = interp(&fx("hello/bin/hello-leaf")).expect("PT_INTERP");
    assert!(
        !before.paths().iter().any(|p| basename(p) == "libc.so.6")
            && before.resolve(&interp).is_err(),
        "libc.so.6 or a loader with no dynamic ELF file:\n{}",
        before.dump()
    );

    fs::copy(
        fx("hello/lib/libleaf.so.1.0.0"),
        tree.join("lib/libleaf.so.1.0.0"),
    )
    .unwrap();
    ln("libleaf.so.1.0.0", &tree.join("lib/libleaf.so.1"));
    fs::copy(fx("hello/bin/hello-leaf"), tree.join("bin/hello-leaf")).unwrap();
    let (archive, stderr) = pack(dir.path(), &args);
    assert_eq!(archive.entry("opt/leafy/bin/hello-leaf").kind, Kind::File);
    archive.file(&interp);
    let libc = archive
        .of_kind(Kind::File)
        .find(|i| basename(&i.path) == "libc.so.6")
        .unwrap_or_else(|| panic!("no libc.so.6 for hello-leaf:\n{}", archive.dump()));
    let sources = verbose_sources(&stderr);
    assert!(sources.contains_key(&libc.path), "{stderr}");
    // $ORIGIN/../lib from opt/leafy/bin is the tree's own lib, stored once.
    assert_eq!(
        archive.entry("opt/leafy/lib/libleaf.so.1").kind,
        Kind::Symlink
    );
    assert_eq!(
        archive.file("opt/leafy/bin/../lib/libleaf.so.1").path,
        "opt/leafy/lib/libleaf.so.1.0.0"
    );
    let leaves: Vec<&str> = archive
        .paths()
        .into_iter()
        .filter(|p| basename(p).starts_with("libleaf"))
        .collect();
    assert_eq!(
        leaves,
        vec![
            "opt/leafy/lib/libleaf.so.1",
            "opt/leafy/lib/libleaf.so.1.0.0"
        ],
        "libleaf stored elsewhere too"
    );
}

#[test]
fn add_file_dest_with_dotdot_is_a_usage_error() {
    let dir = tmp();
    write(&dir.path().join("a"), b"a\n");
    let args = os([
        "--add-file",
        "a:/../../etc/x",
        fx("static/bin/app").to_str().unwrap(),
    ]);
    assert_fails(dir.path(), &args, 2, &["/../../etc/x"]);
}

#[test]
fn add_file_missing_source_fails_naming_it() {
    let dir = tmp();
    let missing = dir.path().join("no-such-file.conf");
    let spec = format!("{}:/etc/x.conf", missing.display());
    let args = os([
        "--add-file",
        spec.as_str(),
        fx("static/bin/app").to_str().unwrap(),
    ]);
    assert_fails(dir.path(), &args, 1, &[&missing.to_string_lossy()]);
    // The other side: once it exists the same command works.
    write(&missing, b"x\n");
    let ok = run(dir.path(), &args);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

// ------------------------------------------------------------------ 5. directory inputs

/// A fixture scenario directory (bin/app + lib/) given as an input lands at
/// usr/local/bin/NAME with its libraries resolved inside the tree.
fn check_tree_input(name: &str) {
    check_tree_input_at(name, &fx(name));
}

/// [`check_tree_input`] for the scenario `name` given as `input`, named `name`.
fn check_tree_input_at(name: &str, input: &Path) {
    let dir = tmp();
    let (archive, _) = pack(dir.path(), &os([input]));
    let top = format!("usr/local/bin/{name}");
    for d in ["", "/bin", "/lib"] {
        assert_eq!(
            archive.entry(&format!("{top}{d}")).kind,
            Kind::Dir,
            "{top}{d}"
        );
    }
    let app = archive.entry(&format!("{top}/bin/app"));
    assert_eq!(app.kind, Kind::File);
    assert_eq!(app.data, bytes(&input.join("bin/app")));
    assert_eq!(app.mode & 0o111, 0o111, "app lost its x bits");
    let leaf = archive.entry(&format!("{top}/lib/libleaf.so.1"));
    assert_eq!(leaf.kind, Kind::Symlink);
    assert_eq!(leaf.link.as_deref(), Some("libleaf.so.1.0.0"));
    // $ORIGIN/../lib of usr/local/bin/NAME/bin is the tree's lib.
    for lib in ["libmid.so.1", "libleaf.so.1"] {
        let item = archive.file(&format!("{top}/bin/../lib/{lib}"));
        assert!(
            item.path.starts_with(&format!("{top}/lib/")),
            "{}",
            item.path
        );
    }
    // Each library once, inside the tree.
    for lib in ["libmid.so.1", "libleaf.so.1.0.0"] {
        let at: Vec<&str> = archive
            .of_kind(Kind::File)
            .filter(|i| basename(&i.path) == lib)
            .map(|i| i.path.as_str())
            .collect();
        assert_eq!(at, vec![format!("{top}/lib/{lib}")], "{lib}");
    }
    let interp = interp(&input.join("bin/app")).expect("PT_INTERP");
    archive.file(&interp);
    assert!(
        archive.paths().iter().any(|p| basename(p) == "libc.so.6"),
        "no libc.so.6:\n{}",
        archive.dump()
    );
}

/// rpath/: libmid.so.1 has no paths and finds libleaf.so.1 only through
/// app's inherited DT_RPATH, as it does when app runs.
#[test]
fn directory_input_rpath_tree_resolves_inside_the_tree() {
    check_tree_input("rpath");
}

/// runpath-ok/: libmid.so.1 has its own DT_RUNPATH $ORIGIN.
#[test]
fn directory_input_runpath_ok_tree_resolves_inside_the_tree() {
    check_tree_input("runpath-ok");
}

/// A symbolic link to a directory, given as an input, is the directory it
/// names, packed whole under the link's name as with a trailing `/`, not a
/// link that would dangle in the image.
#[test]
fn directory_input_given_by_a_link_is_the_directory_it_names() {
    let dir = tmp();
    let link = dir.path().join("links/rpath");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    ln(&fx("rpath").to_string_lossy(), &link);
    check_tree_input_at("rpath", &link);
    // A relative link, through a second one.
    let again = dir.path().join("again");
    ln("links/rpath", &again);
    let named = dir.path().join("links/named");
    ln("../again", &named);
    check_tree_input_at("named", &named);
}

#[test]
fn directory_input_link_out_of_the_tree_needs_its_target_added() {
    let dir = tmp();
    let base = fs::canonicalize(dir.path()).unwrap();
    let tree = base.join("tree");
    copy_tree(&fx("hello"), &tree, 0);
    let outside = base.join("outside.txt");
    write(&outside, b"outside the tree\n");
    ln(&outside.to_string_lossy(), &tree.join("link"));
    let link = tree.join("link");
    let link_s = link.to_string_lossy().into_owned();
    assert_fails(&base, &os([&tree]), 1, &[&link_s]);
    // Bringing the file somewhere else does not help.
    let elsewhere = format!("{}:/srv/outside.txt", outside.display());
    assert_fails(
        &base,
        &os([
            OsStr::new("--add-file"),
            OsStr::new(&elsewhere),
            tree.as_os_str(),
        ]),
        1,
        &[&link_s],
    );
    // Its own path (the default DEST) does.
    let (archive, _) = pack(
        &base,
        &os([
            OsStr::new("--add-file"),
            outside.as_os_str(),
            tree.as_os_str(),
        ]),
    );
    let at = "usr/local/bin/tree/link";
    let item = archive.entry(at);
    assert_eq!(item.kind, Kind::Symlink);
    assert_eq!(item.link.as_deref(), Some(outside.to_str().unwrap()));
    assert_eq!(archive.file(at).data, b"outside the tree\n");
    assert_eq!(
        archive.entry("usr/local/bin/tree/bin/hello-leaf").kind,
        Kind::File
    );
}

// ------------------------------------------------------------------ setuid and setgid

/// The `extract-elf-so: warning:` lines of a run.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("extract-elf-so: warning:"))
        .collect()
}

/// Owners are stored as root, so a setuid or setgid bit of a file owned by
/// another user or group would give it root's rights in the image: the bit
/// is dropped with a warning naming the file, unless `--keep-setid` keeps
/// it. Bits of files owned by root are kept as they are.
#[test]
fn setid_bits_of_files_not_owned_by_root_are_dropped_unless_kept() {
    if !require(is_root(), "root, to give files to another owner") {
        return;
    }
    let t = tmp();
    let base = fs::canonicalize(t.path()).unwrap();
    let files = base.join("files");
    let give = |name: &str, data: &[u8], owner: (u32, u32), mode: u32| {
        let path = files.join(name);
        write(&path, data);
        std::os::unix::fs::chown(&path, Some(owner.0), Some(owner.1)).unwrap();
        chmod(&path, mode);
        path
    };
    let prog = give("prog", &bytes(&fx("hello/bin/hello")), (1000, 0), 0o4755);
    let group = give("group", b"group\n", (0, 1000), 0o2755);
    let both = give("both", b"both\n", (1000, 1000), 0o6750);
    let kept = give("kept", b"root's\n", (0, 0), 0o6755);
    let add = |path: &Path| {
        let name = path.file_name().unwrap().to_string_lossy();
        format!("{}:/srv/{name}", path.display())
    };
    let mut args = os([prog.as_os_str()]);
    for path in [&group, &both, &kept] {
        args.extend(os(["--add-file".to_string(), add(path)]));
    }
    let mode = |archive: &Archive, at: &str| archive.entry(at).mode;

    let (archive, stderr) = pack(&base, &args);
    assert_eq!(mode(&archive, "usr/local/bin/prog"), 0o755);
    assert_eq!(mode(&archive, "srv/group"), 0o755);
    assert_eq!(mode(&archive, "srv/both"), 0o750);
    assert_eq!(mode(&archive, "srv/kept"), 0o6755);
    let warned = warnings(&stderr);
    assert_eq!(warned.len(), 3, "{stderr}");
    for (path, bits) in [(&prog, "setuid"), (&group, "setgid"), (&both, "setuid")] {
        let name = path.to_string_lossy();
        assert!(
            warned
                .iter()
                .any(|w| w.contains(name.as_ref()) && w.contains(bits)),
            "no {bits} warning for {name}:\n{stderr}"
        );
    }
    assert!(
        warned.iter().all(|w| w.contains("--keep-setid")),
        "{stderr}"
    );

    args.push("--keep-setid".into());
    let (archive, stderr) = pack(&base, &args);
    assert_eq!(mode(&archive, "usr/local/bin/prog"), 0o4755);
    assert_eq!(mode(&archive, "srv/group"), 0o2755);
    assert_eq!(mode(&archive, "srv/both"), 0o6750);
    assert_eq!(mode(&archive, "srv/kept"), 0o6755);
    assert!(warnings(&stderr).is_empty(), "{stderr}");
}

// ------------------------------------------------------------------ 6. end to end

/// Kills and reaps a child on every exit path.
struct ChildGuard {
    child: Child,
    what: String,
}

impl ChildGuard {
    fn spawn(cmd: &mut Command, what: &str) -> ChildGuard {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        ChildGuard {
            child,
            what: what.to_string(),
        }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn root_ok() -> bool {
    require(is_root(), "needs root (chroot)")
}

fn unpack_into_empty(tar_path: &Path, dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    assert!(listing(dir).is_empty(), "{} is not empty", dir.display());
    unpack(tar_path, dir);
}

/// Packs with `args` (`-o NAME` added) in `work` and unpacks into `work/NAME.d`.
fn image(work: &Path, name: &str, args: &[OsString]) -> PathBuf {
    let out = work.join(name);
    let mut all = os([OsStr::new("-q"), OsStr::new("-o"), out.as_os_str()]);
    all.extend(args.iter().cloned());
    let res = run(work, &all);
    assert_eq!(
        res.status.code(),
        Some(0),
        "extract-elf-so {all:?}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    let dir = work.join(format!("{name}.d"));
    unpack_into_empty(&out, &dir);
    dir
}

/// Runs `chroot DIR ARGS` with an empty environment under a time limit.
fn chroot(dir: &Path, args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let chroot = which("chroot").expect("chroot");
    let out = assert_cmd::Command::new(chroot)
        .arg(dir)
        .args(args)
        .env_clear()
        .timeout(limit)
        .output()
        .expect("running chroot");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until `ready()` or the child exits or `limit` passes.
fn wait_ready(
    server: &mut ChildGuard,
    log: &Path,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = server.exited() {
            panic!(
                "{} exited with {status}:\n{}",
                server.what,
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} not ready within {limit:?}:\n{}",
        server.what,
        fs::read_to_string(log).unwrap_or_default()
    );
}

fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

fn log_file(path: &Path) -> (Stdio, Stdio) {
    let f = fs::File::create(path).unwrap();
    (Stdio::from(f.try_clone().unwrap()), Stdio::from(f))
}

/// The real python interpreter (not a pyenv shim), so the child is the server.
fn python() -> Option<PathBuf> {
    let out = assert_cmd::Command::new(which("python3")?)
        .args(["-c", "import sys; print(sys.executable)"])
        .timeout(Duration::from_secs(30))
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && path.is_file()).then_some(path)
}

#[test]
fn e2e_wrk_resolves_localhost_only_with_nss_net() {
    if !root_ok() {
        return;
    }
    let wrk = Path::new("/usr/bin/wrk");
    if !require(wrk.is_file(), "wrk is not installed at /usr/bin/wrk") {
        return;
    }
    let Some(python) = python() else {
        require(false, "python3 is not installed");
        return;
    };
    let work = tmp();
    let work = work.path();
    let with = {
        let _ca = ca_read();
        image(
            work,
            "wrk.tar.gz",
            &os([
                OsStr::new("-z"),
                OsStr::new("--nss-net"),
                OsStr::new("--cert"),
                wrk.as_os_str(),
            ]),
        )
    };
    let without = image(work, "plain.tar.gz", &os(["-z", "/usr/bin/wrk"]));

    let docroot = work.join("www");
    write(
        &docroot.join("index.html"),
        b"<p>extract-elf-so wrk test</p>\n",
    );
    let port = free_port();
    let log = work.join("http.log");
    let (out, err) = log_file(&log);
    let mut server = ChildGuard::spawn(
        Command::new(&python)
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(&docroot)
            .stdout(out)
            .stderr(err),
        "python3 -m http.server",
    );
    wait_ready(&mut server, &log, Duration::from_secs(15), || answers(port));

    let url = format!("http://localhost:{port}/");
    let args = ["/usr/local/bin/wrk", "-t1", "-c1", "-d1", url.as_str()];
    let (code, stdout, stderr) = chroot(&with, &args, Duration::from_secs(60));
    let all = format!("{stdout}{stderr}");
    assert_eq!(code, Some(0), "wrk with --nss-net:\n{all}");
    assert!(all.contains("Requests/sec"), "wrk with --nss-net:\n{all}");
    for bad in ["unable to resolve", "Socket errors", "Non-2xx"] {
        assert!(
            !all.contains(bad),
            "wrk with --nss-net reports {bad:?}:\n{all}"
        );
    }
    let requests: u64 = all
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .map(|(n, _)| n.trim().to_string())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in:\n{all}"));
    assert!(requests > 0, "{all}");

    // The same program packed without --nss-net cannot resolve localhost.
    let (code, stdout, stderr) = chroot(&without, &args, Duration::from_secs(60));
    let all = format!("{stdout}{stderr}");
    assert_ne!(code, Some(0), "wrk without --nss-net succeeded:\n{all}");
    assert!(
        all.contains("unable to resolve"),
        "wrk without --nss-net should fail to resolve localhost:\n{all}"
    );
    drop(server);
}

/// The host trusts a CA while this lives: the certificate is in
/// /usr/local/share/ca-certificates and the bundle is rebuilt; on drop it is
/// removed, the bundle rebuilt with --fresh, and the old bytes put back if
/// the rebuild gave anything else. Hooks (Java keystore) are not run.
struct HostTrust {
    crt: PathBuf,
    hooks: tempfile::TempDir,
    backup: Vec<u8>,
}

const TEST_CRT: &str = "/usr/local/share/ca-certificates/extract-elf-so-test.crt";

fn update_ca_certificates(hooks: &Path, fresh: bool) -> Output {
    let mut cmd =
        assert_cmd::Command::new(which("update-ca-certificates").expect("update-ca-certificates"));
    if fresh {
        cmd.arg("--fresh");
    }
    cmd.arg("--hooksdir")
        .arg(hooks)
        .timeout(Duration::from_secs(180))
        .output()
        .expect("running update-ca-certificates")
}

impl HostTrust {
    fn new(ca: &Path) -> HostTrust {
        let hooks = tempfile::tempdir().unwrap();
        // A run killed before its cleanup left its CA behind.
        if Path::new(TEST_CRT).exists() {
            let _ = fs::remove_file(TEST_CRT);
            update_ca_certificates(hooks.path(), true);
        }
        let guard = HostTrust {
            crt: PathBuf::from(TEST_CRT),
            hooks,
            backup: bytes(Path::new(HOST_BUNDLE)),
        };
        fs::create_dir_all(guard.crt.parent().unwrap()).unwrap();
        fs::copy(ca, &guard.crt).unwrap();
        let out = update_ca_certificates(guard.hooks.path(), false);
        assert!(
            out.status.success(),
            "update-ca-certificates: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = String::from_utf8(bytes(ca)).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let bundle: String = String::from_utf8_lossy(&bytes(Path::new(HOST_BUNDLE)))
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(
            bundle.contains(&body),
            "the host bundle does not hold the test CA after update-ca-certificates"
        );
        guard
    }
}

impl Drop for HostTrust {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.crt);
        let out = update_ca_certificates(self.hooks.path(), true);
        if !out.status.success() {
            eprintln!(
                "update-ca-certificates --fresh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if fs::read(HOST_BUNDLE).ok().as_deref() != Some(self.backup.as_slice()) {
            eprintln!("restoring {HOST_BUNDLE} from its copy taken before the test");
            let tmp = format!("{HOST_BUNDLE}.extract-elf-so-restore");
            if fs::write(&tmp, &self.backup).is_ok() {
                let _ = fs::rename(&tmp, HOST_BUNDLE);
            }
        }
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = assert_cmd::Command::new(which("openssl").expect("openssl"))
        .args(args)
        .current_dir(dir)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("running openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA (ca.crt) and a server certificate for localhost signed by
/// it (srv.crt, srv.key), in `work/certs`, which it returns.
fn make_certs(work: &Path) -> PathBuf {
    let dir = &work.join("certs");
    fs::create_dir_all(dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=extract-elf-so test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &csr);
    write(
        &dir.join("ext.cnf"),
        b"subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    dir.clone()
}

fn tls_tools_ok() -> bool {
    root_ok()
        && require(
            Path::new("/usr/bin/curl").is_file(),
            "curl is not installed at /usr/bin/curl",
        )
        && require(which("openssl").is_some(), "openssl is not installed")
        && require(
            which("update-ca-certificates").is_some() && Path::new(HOST_BUNDLE).is_file(),
            "ca-certificates is not installed",
        )
}

/// What the curl tests share: the host's CA store held for writing (they
/// trust a CA there), and a work directory with the test CA and the
/// server's certificate.
struct TlsWork {
    dir: tempfile::TempDir,
    certs: PathBuf,
    _ca: CaWrite,
}

impl TlsWork {
    /// `None` when the tests are skipped.
    fn new() -> Option<TlsWork> {
        if !tls_tools_ok() {
            return None;
        }
        let ca = ca_write();
        let dir = tmp();
        let certs = make_certs(dir.path());
        Some(TlsWork {
            dir,
            certs,
            _ca: ca,
        })
    }

    /// The host trusts the test CA while the result lives.
    fn trust(&self) -> HostTrust {
        HostTrust::new(&self.certs.join("ca.crt"))
    }

    /// [`image`] in the work directory.
    fn image(&self, name: &str, args: &[OsString]) -> PathBuf {
        image(self.dir.path(), name, args)
    }
}

/// An HTTPS server for localhost on 127.0.0.1, ready once the host's curl
/// verifies it against the test CA.
fn tls_server(certs: &Path) -> (ChildGuard, u16) {
    let port = free_port();
    let log = certs.join("s_server.log");
    let (out, err) = log_file(&log);
    let accept = format!("127.0.0.1:{port}");
    let mut server = ChildGuard::spawn(
        Command::new(which("openssl").unwrap())
            .args(["s_server", "-accept", &accept])
            .args(["-cert", "srv.crt", "-key", "srv.key", "-www"])
            .current_dir(certs)
            .stdout(out)
            .stderr(err),
        "openssl s_server",
    );
    let url = format!("https://localhost:{port}/");
    let curl = which("curl").unwrap();
    wait_ready(&mut server, &log, Duration::from_secs(20), || {
        answers(port)
            && assert_cmd::Command::new(&curl)
                .args(["-sS", "--noproxy", "*", "--max-time", "5", "--cacert"])
                .arg(certs.join("ca.crt"))
                .arg(&url)
                .timeout(Duration::from_secs(10))
                .output()
                .is_ok_and(|o| o.status.success())
    });
    (server, port)
}

fn chroot_curl(dir: &Path, port: u16) -> (Option<i32>, String, String) {
    let url = format!("https://localhost:{port}/");
    chroot(
        dir,
        &[
            "/usr/local/bin/curl",
            "-sS",
            "--max-time",
            "20",
            url.as_str(),
        ],
        Duration::from_secs(60),
    )
}

/// With the test CA trusted on the host, curl packed with --cert verifies
/// the server; packed before the CA was trusted, it does not.
#[test]
fn e2e_curl_verifies_tls_with_cert() {
    let Some(tls) = TlsWork::new() else {
        return;
    };
    let args = os(["--nss-net", "--cert", "/usr/bin/curl"]);
    let untrusted = tls.image("before.tar", &args);
    let trust = tls.trust();
    let trusted = tls.image("curl.tar", &args);
    let (server, port) = tls_server(&tls.certs);

    let (code, stdout, stderr) = chroot_curl(&trusted, port);
    assert_eq!(
        code,
        Some(0),
        "curl packed with --cert:\n{stderr}\n{stdout}"
    );
    assert!(stdout.contains("<HTML>"), "s_server's page:\n{stdout}");

    let (code, stdout, stderr) = chroot_curl(&untrusted, port);
    assert_eq!(
        code,
        Some(60),
        "curl packed before the CA was trusted should fail verification:\n{stderr}\n{stdout}"
    );
    drop(server);
    drop(trust);
}

/// With the test CA trusted on the host, curl packed without --cert has no
/// bundle in the image and fails with a certificate error.
#[test]
fn e2e_curl_fails_tls_without_cert() {
    let Some(tls) = TlsWork::new() else {
        return;
    };
    let trust = tls.trust();
    let without = tls.image("curl.tar", &os(["--nss-net", "/usr/bin/curl"]));
    let (server, port) = tls_server(&tls.certs);
    let (code, stdout, stderr) = chroot_curl(&without, port);
    assert!(
        matches!(code, Some(60) | Some(77)),
        "curl packed without --cert should fail with a certificate error (60 or 77), got {code:?}:\n{stderr}\n{stdout}"
    );
    assert!(
        stderr.to_lowercase().contains("certificate"),
        "no certificate error:\n{stderr}"
    );
    drop(server);
    drop(trust);
}

#[test]
fn nss_net_keeps_an_nsswitch_conf_given_with_add_file() {
    let mine = b"hosts: files\n";
    let archive = pack_nss_with_user_file("/etc/nsswitch.conf", mine);
    let conf = archive.entry("etc/nsswitch.conf");
    assert_eq!(conf.data, mine, "the user's nsswitch.conf was replaced");
    // The rest of --nss-net is still there.
    assert_eq!(archive.entry("etc/services").kind, Kind::File);
}

#[test]
fn nss_net_in_a_cross_sysroot_takes_that_architectures_modules() {
    let root = Path::new("/usr/aarch64-linux-gnu");
    let hello = fx("aarch64/bin/hello");
    let ready = hello.exists() && root.join("lib/libnss_files.so.2").exists();
    if !require(
        ready,
        "the aarch64 fixture or sysroot is missing (gcc-aarch64-linux-gnu)",
    ) {
        return;
    }
    let dir = tmp();
    // A cross sysroot has no etc/services: without it --nss-net says how to add one.
    let out = run(
        dir.path(),
        &os([
            OsStr::new("--nss-net"),
            OsStr::new("--root"),
            root.as_os_str(),
            hello.as_os_str(),
        ]),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--add-file /etc/services"));
    let (archive, _) = pack(
        dir.path(),
        &os([
            OsStr::new("--nss-net"),
            OsStr::new("--add-file"),
            OsStr::new("/etc/services"),
            OsStr::new("--add-file"),
            OsStr::new("/etc/protocols"),
            OsStr::new("--root"),
            root.as_os_str(),
            hello.as_os_str(),
        ]),
    );
    for module in ["lib/libnss_files.so.2", "lib/libnss_dns.so.2"] {
        let data = &archive.entry(module).data;
        assert_eq!(data, &fs::read(root.join(module)).unwrap(), "{module}");
        // e_machine 183: AArch64.
        assert_eq!(u16::from_le_bytes([data[18], data[19]]), 183, "{module}");
    }
    assert_eq!(
        archive.entry("etc/services").data,
        fs::read("/etc/services").unwrap()
    );
}
