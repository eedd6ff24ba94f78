//! What programs need at run time that no ELF header names, packed by the
//! flags `--users`, `--gconv`, `--tzdata`, `--locale`, `--shell`, `--mkdir`
//! and `--dlopen`, on small roots built at test time; and links added with
//! `--add-file`, or by a directory input, that must not dangle in the image.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use crate::util::{
    Archive, Kind, assert_fails, bytes, fx, host_path, mini_sysroot, musl_ok, os, run, run_ok,
    run_tool, tmp, tool, write,
};

// ------------------------------------------------------------------ links

#[test]
fn add_file_of_a_link_needs_its_target_in_the_archive() {
    let dir = tmp();
    let base = fs::canonicalize(dir.path()).unwrap();
    write(&base.join("note.txt"), b"target\n");
    symlink("note.txt", base.join("current")).unwrap();
    let app = fx("static/bin/app");
    let line = assert_fails(
        &base,
        &os(&[&"--add-file", &"current:/etc/app/current", &app]),
        1,
        &[
            &format!(
                "{}/current -> note.txt: nothing at /etc/app/note.txt",
                base.display()
            ),
            &format!(
                "add it with --add-file {}/note.txt:/etc/app/note.txt",
                base.display()
            ),
        ],
    );
    assert!(line.contains("a link would lead to nothing"), "{line}");
    // With its target at that place, it packs.
    let archive = run_tool(
        &base,
        os(&[
            &"--add-file",
            &"current:/etc/app/current",
            &"--add-file",
            &"note.txt:/etc/app/note.txt",
            &app,
        ]),
    )
    .archive();
    assert_eq!(archive.entry("etc/app/current").kind, Kind::Symlink);
    assert_eq!(archive.file("etc/app/current").data, b"target\n");
}

#[test]
fn every_dangling_link_is_reported_in_one_run() {
    let dir = tmp();
    let base = fs::canonicalize(dir.path()).unwrap();
    let tree = base.join("tree");
    write(&tree.join("inside.txt"), b"in\n");
    write(&base.join("outside.txt"), b"out\n");
    symlink(base.join("outside.txt"), tree.join("out-link")).unwrap();
    symlink("../gone.txt", tree.join("gone-link")).unwrap();
    symlink("inside.txt", tree.join("fine-link")).unwrap();
    symlink("/nowhere/at/all", base.join("broken")).unwrap();
    let out = run(
        &base,
        os(&[
            &"--add-file",
            &"broken:/etc/broken",
            &fx("static/bin/app"),
            &tree,
        ]),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    let b = base.display();
    assert_eq!(
        lines,
        [
            "extract-elf-so: error: links would lead to nothing in the archive:".to_string(),
            format!(
                "  {b}/broken -> /nowhere/at/all: nothing at /nowhere/at/all in the archive, \
                 and the link leads nowhere here either"
            ),
            format!(
                "  {b}/tree/gone-link -> ../gone.txt: nothing at /usr/local/bin/gone.txt in the archive, \
                 and the link leads nowhere here either"
            ),
            format!(
                "  {b}/tree/out-link -> {b}/outside.txt: nothing at {b}/outside.txt in the archive \
                 (here it is {b}/outside.txt): add it with --add-file {b}/outside.txt"
            ),
        ],
        "{stderr}"
    );
    assert!(!base.join("rootfs.tar").exists(), "nothing is written");
}

#[test]
fn add_file_bin_sh_is_a_working_shell_or_a_clear_error() {
    let sh = std::path::Path::new("/bin/sh");
    let meta = fs::symlink_metadata(sh).expect("/bin/sh");
    let dir = tmp();
    let app = fx("static/bin/app");
    let args = |more: &[&dyn AsRef<OsStr>]| {
        let mut args = os(&[&"--add-file", &"/bin/sh", &app]);
        args.extend(os(more));
        args
    };
    if !meta.file_type().is_symlink() {
        // A shell that is a file packs as one, with its libraries.
        let archive = run_tool(dir.path(), args(&[])).archive();
        assert_eq!(archive.file("bin/sh").path, "bin/sh");
        return;
    }
    let target = fs::read_link(sh).unwrap();
    let real = fs::canonicalize(sh).unwrap();
    let wanted = if target.is_absolute() {
        target.clone()
    } else {
        sh.parent().unwrap().join(&target)
    };
    let line = assert_fails(
        dir.path(),
        &args(&[]),
        1,
        &[
            &format!("/bin/sh -> {}", target.display()),
            &format!(
                "add it with --add-file {}:{}",
                real.display(),
                wanted.display()
            ),
            "or pack the shell with --shell",
        ],
    );
    assert!(!line.contains('\n'));
    // The suggestion works: the link leads to the shell, an ELF program.
    let spec = format!("{}:{}", real.display(), wanted.display());
    let archive = run_tool(dir.path(), args(&[&"--add-file", &spec])).archive();
    let shell = archive.file("bin/sh");
    assert_eq!(&shell.data[..4], b"\x7fELF", "{}", shell.path);
}

// ------------------------------------------------------------------ helpers

/// Packs with `args` in `dir` and reads the archive back.
fn pack(dir: &Path, args: &[OsString]) -> Archive {
    run_tool(dir, args).archive()
}

/// The files and links under `prefix`, sorted.
fn non_dirs_under(archive: &Archive, prefix: &str) -> Vec<String> {
    let prefix = format!("{prefix}/");
    archive
        .non_dirs()
        .into_iter()
        .filter(|p| p.starts_with(&prefix))
        .collect()
}

/// The text of an archive file.
fn text(archive: &Archive, path: &str) -> String {
    String::from_utf8(archive.file(path).data.clone()).expect("UTF-8")
}

/// A root with user and group files of its own.
fn users_root(root: &Path) {
    write(
        &root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\n\
         daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
         postgres:x:105:111:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n",
    );
    write(
        &root.join("etc/group"),
        "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nssl-cert:x:110:postgres\npostgres:!:111:\n",
    );
    write(
        &root.join("etc/shadow"),
        "root:$6$secret:19000:0:99999:7:::\n",
    );
}

const PASSWD: &str = "\
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
";
const GROUP: &str = "\
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
";

// ------------------------------------------------------------------ --users, --mkdir

#[test]
fn users_writes_the_default_accounts_and_the_named_ones_from_the_root() {
    let dir = tmp();
    let root = dir.path().join("root");
    users_root(&root);
    let app = fx("static/bin/app");
    // `--users INPUT` keeps INPUT an input: the value takes `=`.
    let archive = pack(dir.path(), &os(&[&"--root", &root, &"--users", &app]));
    assert_eq!(text(&archive, "etc/passwd"), PASSWD);
    assert_eq!(text(&archive, "etc/group"), GROUP);
    assert!(archive.get("usr/local/bin/app").is_some());
    let home = archive.entry("root");
    assert_eq!((home.kind, home.mode & 0o7777), (Kind::Dir, 0o700));
    for absent in ["etc/shadow", "etc/nsswitch.conf", "home", "nonexistent"] {
        assert!(
            archive.get(absent).is_none(),
            "{absent}\n{}",
            archive.dump()
        );
    }
    // Named accounts come from the root, with their primary groups.
    let archive = pack(
        dir.path(),
        &os(&[&"--root", &root, &"--users=postgres,www-data", &app]),
    );
    assert_eq!(
        text(&archive, "etc/passwd"),
        format!(
            "{PASSWD}www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
             postgres:x:105:111:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n"
        )
    );
    assert_eq!(
        text(&archive, "etc/group"),
        format!("{GROUP}www-data:x:33:\npostgres:x:111:\n")
    );
    assert!(archive.get("var").is_none(), "no home but /root is made");
    // An account the root lacks.
    assert_fails(
        dir.path(),
        &os(&[&"--root", &root, &"--users=www-data,nginx", &app]),
        1,
        &[&format!(
            "--users: no account nginx in {}",
            root.join("etc/passwd").display()
        )],
    );
}

#[test]
fn users_keeps_a_passwd_file_given_with_add_file() {
    let dir = tmp();
    write(
        &dir.path().join("mine"),
        "app:x:1000:1000::/app:/bin/false\n",
    );
    let archive = pack(
        dir.path(),
        &os(&[
            &"--users",
            &"--add-file",
            &"mine:/etc/passwd",
            &fx("static/bin/app"),
        ]),
    );
    assert_eq!(
        text(&archive, "etc/passwd"),
        "app:x:1000:1000::/app:/bin/false\n"
    );
    assert_eq!(text(&archive, "etc/group"), GROUP);
}

#[test]
fn mkdir_makes_empty_directories_with_their_modes_and_the_archives_time() {
    let dir = tmp();
    let out = dir.path().join("out.tar");
    // Older than the fixtures (2000-01-01): every time is clamped to it.
    let epoch = "900000000";
    let args = os(&[
        &"-o",
        &out,
        &"--mkdir",
        &"/tmp:1777",
        &"--mkdir",
        &"run",
        &"--mkdir",
        &"/var/lib/nginx:700",
        &fx("static/bin/app"),
    ]);
    tool(dir.path())
        .env("SOURCE_DATE_EPOCH", epoch)
        .args(&args)
        .assert()
        .success();
    let archive = Archive::read_tar(&out);
    let newest = archive.entry("usr/local/bin/app").mtime;
    assert_eq!(newest, 900_000_000);
    for (path, mode) in [
        ("tmp", 0o1777),
        ("run", 0o755),
        ("var", 0o755),
        ("var/lib", 0o755),
        ("var/lib/nginx", 0o700),
    ] {
        let item = archive.entry(path);
        assert_eq!(item.kind, Kind::Dir, "{path}");
        assert_eq!(item.mode & 0o7777, mode, "{path}: {:o}", item.mode);
        assert_eq!(item.mtime, archive.entry("usr").mtime, "{path}");
    }
    assert!(archive.paths().iter().all(|p| !p.starts_with("tmp/")));
}

#[test]
fn the_same_flags_and_root_give_the_same_bytes() {
    let dir = tmp();
    let root = dir.path().join("root");
    users_root(&root);
    zoneinfo_root(&root);
    let app = fx("static/bin/app");
    let a = dir.path().join("a.tar");
    let b = dir.path().join("b.tar");
    tool(dir.path())
        .args(os(&[&"-o", &a, &"--root", &root]))
        .args([
            "--users=www-data,postgres",
            "--tzdata",
            "--mkdir",
            "/tmp:1777",
            "--mkdir",
            "/run",
        ])
        .arg(&app)
        .assert()
        .success();
    tool(dir.path())
        .args(os(&[&"-o", &b, &"--root", &root]))
        .args([
            "--mkdir",
            "/run",
            "--tzdata",
            "--mkdir",
            "/tmp:1777",
            "--users=postgres,www-data,postgres",
        ])
        .arg(&app)
        .assert()
        .success();
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "the archives differ"
    );
}

// ------------------------------------------------------------------ --tzdata, --locale

/// A root with a small zoneinfo, its links as Debian has them.
fn zoneinfo_root(root: &Path) {
    let z = root.join("usr/share/zoneinfo");
    write(&z.join("Etc/UTC"), b"TZif utc");
    write(&z.join("Europe/Paris"), b"TZif paris");
    write(&z.join("America/New_York"), b"TZif new york");
    write(&z.join("zone1970.tab"), b"tab");
    fs::create_dir_all(z.join("US")).unwrap();
    symlink("Etc/UTC", z.join("UTC")).unwrap();
    symlink("../America/New_York", z.join("US/Eastern")).unwrap();
    symlink("/etc/localtime", z.join("localtime")).unwrap();
}

#[test]
fn tzdata_packs_every_zone_keeping_links_inside_and_leaving_out_the_others() {
    let dir = tmp();
    let root = dir.path().join("root");
    zoneinfo_root(&root);
    let archive = pack(
        dir.path(),
        &os(&[&"--root", &root, &"--tzdata", &fx("static/bin/app")]),
    );
    let z = "usr/share/zoneinfo";
    let under: Vec<&str> = archive
        .paths()
        .into_iter()
        .filter(|p| p.starts_with(z))
        .collect();
    let want: Vec<String> = [
        "",
        "/America",
        "/America/New_York",
        "/Etc",
        "/Etc/UTC",
        "/Europe",
        "/Europe/Paris",
        "/US",
        "/US/Eastern",
        "/UTC",
        "/zone1970.tab",
    ]
    .iter()
    .map(|p| format!("{z}{p}"))
    .collect();
    assert_eq!(under, want);
    assert_eq!(
        archive.entry(&format!("{z}/UTC")).link.as_deref(),
        Some("Etc/UTC")
    );
    assert_eq!(
        archive.file(&format!("{z}/US/Eastern")).data,
        b"TZif new york"
    );
    assert_eq!(archive.entry(&format!("{z}/Europe/Paris")).uid, 0);
}

#[test]
fn tzdata_with_names_packs_those_zones_and_utc_through_their_links() {
    let dir = tmp();
    let root = dir.path().join("root");
    zoneinfo_root(&root);
    let app = fx("static/bin/app");
    let archive = pack(
        dir.path(),
        &os(&[&"--root", &root, &"--tzdata=US/Eastern", &app]),
    );
    let z = "usr/share/zoneinfo";
    let files = non_dirs_under(&archive, z);
    assert_eq!(
        files,
        [
            format!("{z}/America/New_York"),
            format!("{z}/Etc/UTC"),
            format!("{z}/US/Eastern"),
            format!("{z}/UTC"),
        ]
    );
    assert_eq!(
        archive.file(&format!("{z}/US/Eastern")).data,
        b"TZif new york"
    );
    assert_fails(
        dir.path(),
        &os(&[
            &"--root",
            &root,
            &"--tzdata=Europe/Paris,Mars/Olympus",
            &app,
        ]),
        1,
        &[&format!(
            "--tzdata: no time zone Mars/Olympus in {}",
            root.join("usr/share/zoneinfo").display()
        )],
    );
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_fails(
        dir.path(),
        &os(&[&"--root", &empty, &"--tzdata", &app]),
        1,
        &[
            "--tzdata: ",
            "usr/share/zoneinfo: no time zone data",
            "install tzdata",
        ],
    );
}

#[test]
fn locale_packs_the_compiled_locale_under_the_name_glibc_finds() {
    let dir = tmp();
    let root = dir.path().join("root");
    let c = root.join("usr/lib/locale/C.utf8");
    write(&c.join("LC_CTYPE"), b"ctype");
    write(&c.join("LC_MESSAGES/SYS_LC_MESSAGES"), b"messages");
    write(&root.join("usr/lib/locale/de_DE.utf8/LC_CTYPE"), b"de");
    let app = fx("static/bin/app");
    for name in ["C.UTF-8", "C.utf8"] {
        let archive = pack(
            dir.path(),
            &os(&[&"--root", &root, &"--locale", &name, &app]),
        );
        let files = non_dirs_under(&archive, "usr/lib/locale");
        assert_eq!(
            files,
            [
                "usr/lib/locale/C.utf8/LC_CTYPE",
                "usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES"
            ],
            "{name}"
        );
    }
    write(&root.join("usr/lib/locale/locale-archive"), b"archive");
    let line = assert_fails(
        dir.path(),
        &os(&[&"--root", &root, &"--locale", &"fr_FR.UTF-8", &app]),
        1,
        &[
            "--locale: no compiled locale fr_FR.UTF-8 in",
            &format!(
                "--add-file {}:/usr/lib/locale/locale-archive",
                root.join("usr/lib/locale/locale-archive").display()
            ),
        ],
    );
    assert!(line.contains("may hold it"), "{line}");
}

// ------------------------------------------------------------------ --gconv

/// Where Debian amd64's libc names its gconv modules, in the root and on the host.
const GCONV: &str = "/usr/lib/x86_64-linux-gnu/gconv";

/// A copy of the host's glibc in `root` with a small gconv directory: a
/// configuration of our own, and three of the host's modules, one of which
/// needs a helper library through `RUNPATH $ORIGIN`.
fn gconv_root(root: &Path) {
    mini_sysroot(root);
    let g = host_path(root, GCONV);
    write(
        &g.join("gconv-modules"),
        "# ours\n\
         alias\tLATIN1//\t\tISO-8859-1//\n\
         module\tISO-8859-1//\t\tINTERNAL\t\tISO8859-1\t1\n\
         module\tINTERNAL\t\tISO-8859-1//\t\tISO8859-1\t1\n",
    );
    write(
        &g.join("gconv-modules.d/extra.conf"),
        "alias\tEUCJP//\t\t\tEUC-JP//\n\
         module\tEUC-JP//\t\tINTERNAL\t\tEUC-JP\t\t1\n\
         module\tINTERNAL\t\tEUC-JP//\t\tEUC-JP\t\t1\n\
         module\tUTF-16//\t\tINTERNAL\t\tUTF-16\t\t1\n",
    );
    write(&g.join("gconv-modules.cache"), b"a cache");
    for module in ["ISO8859-1.so", "EUC-JP.so", "libJIS.so", "UTF-16.so"] {
        write(&g.join(module), bytes(&Path::new(GCONV).join(module)));
    }
}

#[test]
fn gconv_packs_the_configuration_and_what_the_charsets_need() {
    let dir = tmp();
    let root = dir.path().join("root");
    gconv_root(&root);
    let g = GCONV.trim_start_matches('/');
    let hello = fx("hello/bin/hello");
    let config = [
        format!("{g}/gconv-modules"),
        format!("{g}/gconv-modules.cache"),
        format!("{g}/gconv-modules.d/extra.conf"),
    ];
    let cases: &[(&str, &[&str])] = &[
        ("--gconv=latin1", &["ISO8859-1.so"]),
        ("--gconv=ISO-8859-1//TRANSLIT,utf-8", &["ISO8859-1.so"]),
        ("--gconv=eucjp", &["EUC-JP.so", "libJIS.so"]),
        ("--gconv=UTF-8", &[]),
        (
            "--gconv",
            &["EUC-JP.so", "ISO8859-1.so", "UTF-16.so", "libJIS.so"],
        ),
    ];
    for (flag, modules) in cases {
        let archive = pack(dir.path(), &os(&[&"--root", &root, flag, &hello]));
        let mut want: Vec<String> = config.to_vec();
        want.extend(modules.iter().map(|m| format!("{g}/{m}")));
        want.sort();
        assert_eq!(non_dirs_under(&archive, g), want, "{flag}");
        for m in *modules {
            let item = archive.file(&format!("{g}/{m}"));
            assert_eq!(&item.data[..4], b"\x7fELF", "{flag}: {m}");
        }
    }
    // Each module is an archive entry with the role gconv.
    let json = run_ok(
        dir.path(),
        os(&[&"--root", &root, &"--gconv=eucjp", &"--json", &hello]),
    )
    .0;
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let roles: Vec<(&str, &str)> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().starts_with(&format!("{g}/")))
        .filter(|e| e["kind"] != "dir")
        .map(|e| (e["path"].as_str().unwrap(), e["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles.len(), 5, "{roles:?}");
    assert!(roles.iter().all(|(_, r)| *r == "gconv"), "{roles:?}");
    // A charset the configuration does not have.
    assert_fails(
        dir.path(),
        &os(&[&"--root", &root, &"--gconv=latin1,klingon", &hello]),
        1,
        &[&format!(
            "--gconv: no charset klingon in {}, and it is not built into glibc",
            host_path(&root, GCONV).display()
        )],
    );
}

#[test]
fn gconv_does_not_apply_without_a_dynamic_glibc_program() {
    let dir = tmp();
    let mut inputs = vec![fx("static/bin/app")];
    if musl_ok("musl/bin/hello") {
        inputs.push(fx("musl/bin/hello"));
    }
    let mut args = os(&[&"--gconv"]);
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    assert_fails(
        dir.path(),
        &args,
        1,
        &["--gconv: no dynamically linked glibc program among the inputs: gconv is glibc's"],
    );
}

#[test]
fn gconv_without_a_configuration_says_where_it_looked() {
    let dir = tmp();
    let root = dir.path().join("root");
    mini_sysroot(&root);
    assert_fails(
        dir.path(),
        &os(&[&"--root", &root, &"--gconv", &fx("hello/bin/hello")]),
        1,
        &[&format!(
            "--gconv: {}: no gconv configuration",
            host_path(&root, GCONV).display()
        )],
    );
}

// ------------------------------------------------------------------ --shell

#[test]
fn shell_packs_bin_sh_through_the_roots_links_with_its_libraries() {
    let dir = tmp();
    let root = dir.path().join("root");
    mini_sysroot(&root);
    // A "shell" that needs libc and a private library through its RUNPATH.
    write(
        &root.join("usr/bin/dash"),
        bytes(&fx("hello/bin/hello-leaf")),
    );
    write(
        &root.join("usr/lib/libleaf.so.1"),
        bytes(&fx("hello/lib/libleaf.so.1.0.0")),
    );
    symlink("usr/bin", root.join("bin")).unwrap();
    symlink("dash", root.join("usr/bin/sh")).unwrap();
    let archive = pack(
        dir.path(),
        &os(&[&"--root", &root, &"--shell", &fx("static/bin/app")]),
    );
    assert_eq!(archive.entry("bin").link.as_deref(), Some("usr/bin"));
    assert_eq!(archive.entry("usr/bin/sh").link.as_deref(), Some("dash"));
    assert_eq!(archive.file("bin/sh").path, "usr/bin/dash");
    // Its loader and libc from the root; its private library where the image's loader finds it.
    assert!(
        archive
            .file("lib64/ld-linux-x86-64.so.2")
            .path
            .starts_with("usr/lib/")
    );
    assert!(archive.is_file("usr/lib/x86_64-linux-gnu/libc.so.6"));
    assert!(archive.is_file("usr/local/bin/app"));
    let json = run_ok(
        dir.path(),
        os(&[
            &"--root",
            &root,
            &"--shell",
            &"--json",
            &fx("static/bin/app"),
        ]),
    )
    .0;
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let dash = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "usr/bin/dash")
        .unwrap();
    assert_eq!(dash["role"], "shell");
    // Without a shell in the root.
    let bare = dir.path().join("bare");
    mini_sysroot(&bare);
    assert_fails(
        dir.path(),
        &os(&[&"--root", &bare, &"--shell", &fx("static/bin/app")]),
        1,
        &[&format!(
            "--shell: {}: no shell there",
            bare.join("bin/sh").display()
        )],
    );
}

// ------------------------------------------------------------------ --dlopen

#[test]
fn dlopen_loads_a_library_where_the_first_inputs_search_finds_it() {
    let dir = tmp();
    let base = dir.path();
    // hello-leaf (RUNPATH $ORIGIN/../lib) beside a lib/ that also holds
    // libmid, which nothing names: only a dlopen would load it.
    write(
        &base.join("app/bin/hello-leaf"),
        bytes(&fx("hello/bin/hello-leaf")),
    );
    fs::set_permissions(
        base.join("app/bin/hello-leaf"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    write(
        &base.join("app/lib/libleaf.so.1"),
        bytes(&fx("hello/lib/libleaf.so.1.0.0")),
    );
    write(
        &base.join("app/lib/libmid.so.1"),
        bytes(&fx("rpath/lib/libmid.so.1")),
    );
    let input = base.join("app/bin/hello-leaf");
    let args = |more: &[&dyn AsRef<OsStr>]| {
        let mut args = os(&[&"-d", &"/opt/app/bin", &input, &fx("static/bin/app")]);
        args.extend(os(more));
        args
    };
    let archive = pack(base, &args(&[&"--dlopen", &"libmid.so.1"]));
    // Found through the program's $ORIGIN, so placed relative to its new place.
    assert_eq!(
        archive.file("opt/app/lib/libmid.so.1").data,
        bytes(&fx("rpath/lib/libmid.so.1"))
    );
    assert!(archive.is_file("opt/app/lib/libleaf.so.1"));
    // `--add` would have put it in --sodir instead.
    assert!(archive.get("usr/lib/libmid.so.1").is_none());
    // The first input is the caller: from the static program it is not found.
    let mut reversed = os(&[&"-d", &"/opt/app/bin", &fx("static/bin/app"), &input]);
    reversed.extend(os(&[&"--dlopen", &"libmid.so.1"]));
    assert_fails(
        base,
        &reversed,
        1,
        &[&format!(
            "--dlopen: libmid.so.1: dlopen from {} would not find it",
            fx("static/bin/app").display()
        )],
    );
    let line = assert_fails(
        base,
        &args(&[&"--dlopen", &"libnothere.so.9"]),
        1,
        &["--dlopen: libnothere.so.9: dlopen from", "; searched "],
    );
    assert!(
        line.contains(&format!("{}", base.join("app/lib").display())),
        "{line}"
    );
}

// ------------------------------------------------------------------ --report

#[test]
fn report_counts_what_each_flag_added() {
    let dir = tmp();
    let root = dir.path().join("root");
    users_root(&root);
    zoneinfo_root(&root);
    write(&root.join("usr/lib/locale/C.utf8/LC_CTYPE"), b"ctype");
    let (stdout, _) = run_ok(
        dir.path(),
        os(&[
            &"--root",
            &root,
            &"--list",
            &"--report",
            &"--users",
            &"--tzdata=Europe/Paris",
            &"--locale",
            &"C.utf8",
            &fx("static/bin/app"),
        ]),
    );
    let text = String::from_utf8(stdout).unwrap();
    let groups: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    assert_eq!(
        groups,
        [
            "what",
            "inputs (1 file)",
            "users (2 files)",
            "time zones (2 files)",
            "locale (1 file)",
            "total (6 files)"
        ],
        "{text}"
    );
}
