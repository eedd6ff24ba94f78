//! What the archive holds: header fields, layout, links, content stored
//! once, reproducible bytes and long names (the gzip stream has its own
//! module, `gzip`). Every test runs the real binary and reads the archive
//! back with the `tar` crate.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::util::{
    Archive, Kind, file_id, fixtures, hello, hello_leaf, interp, is_gzip, listing, os, run_ok, tmp,
    tool, verbose_sources,
};

/// Runs with `-v` into `name` in `dir`; returns the archive and the listed sources.
fn packed(dir: &Path, name: &str, args: &[OsString]) -> (Archive, HashMap<String, PathBuf>) {
    let mut all = os(&[&"-v", &"-o", &name]);
    all.extend_from_slice(args);
    let (_, stderr) = run_ok(dir, &all);
    let archive = Archive::read(&dir.join(name));
    let sources = verbose_sources(&stderr);
    for file in archive.of_kind(Kind::File) {
        assert!(
            sources.contains_key(&file.path),
            "{}: no source in -v listing:\n{stderr}",
            file.path
        );
    }
    (archive, sources)
}

/// Every symbolic link of the archive leads to an entry of the archive.
fn assert_links_resolve(archive: &Archive) {
    for link in archive.of_kind(Kind::Symlink) {
        if let Err(e) = archive.resolve(&link.path) {
            panic!("dangling link {} -> {:?}: {e}", link.path, link.link);
        }
    }
}

// ---------------------------------------------------------------- header fields

#[test]
fn header_fields_owner_modes_order_and_content() {
    let dir = tmp();
    let (archive, sources) = packed(dir.path(), "a.tar", &os(&[&hello_leaf()]));
    let index: HashMap<&str, usize> = archive
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.path.as_str(), i))
        .collect();
    assert_eq!(
        index.len(),
        archive.items.len(),
        "duplicate paths: {:?}",
        archive.paths()
    );
    for (i, item) in archive.items.iter().enumerate() {
        let p = &item.path;
        assert_eq!((item.uid, item.gid), (0, 0), "{p}");
        assert_eq!(item.uname.as_deref(), Some("root"), "{p}");
        assert_eq!(item.gname.as_deref(), Some("root"), "{p}");
        assert!(
            !p.starts_with('/') && !p.split('/').any(|c| c == ".." || c == "."),
            "{p}"
        );
        assert!(
            matches!(item.kind, Kind::File | Kind::Dir | Kind::Symlink),
            "{p}: {:?}",
            item.kind
        );
        // Each parent is a directory entry that comes first.
        if let Some((parent, _)) = p.rsplit_once('/') {
            let at = *index
                .get(parent)
                .unwrap_or_else(|| panic!("{p}: parent {parent} not in the archive"));
            assert!(at < i, "{p} comes before its directory {parent}");
            assert_eq!(
                archive.items[at].kind,
                Kind::Dir,
                "{p}: parent {parent} is not a directory"
            );
        }
        match item.kind {
            Kind::Dir => assert_eq!(item.mode & 0o7777, 0o755, "{p}"),
            Kind::File => {
                let source = &sources[p];
                let meta = fs::metadata(source).unwrap();
                assert_eq!(
                    item.mode & 0o7777,
                    meta.mode() & 0o7777,
                    "{p} <- {}",
                    source.display()
                );
                assert_eq!(item.size, meta.len(), "{p}");
                assert_eq!(item.mtime as i64, meta.mtime(), "{p}: mtime of the source");
                assert!(
                    item.data == fs::read(source).unwrap(),
                    "{p}: content of {}",
                    source.display()
                );
            }
            _ => {}
        }
    }
    // The input and libc in particular.
    let input = archive
        .get("usr/local/bin/hello-leaf")
        .expect("input entry");
    assert_eq!(input.kind, Kind::File);
    assert!(input.data == fs::read(hello_leaf()).unwrap());
    assert_eq!(
        input.mode & 0o7777,
        fs::metadata(hello_leaf()).unwrap().mode() & 0o7777
    );
    let libc = sources
        .iter()
        .find(|(p, _)| p.ends_with("/libc.so.6"))
        .expect("libc.so.6 listed");
    let entry = archive.get(libc.0).unwrap();
    assert_eq!(
        entry.mode & 0o7777,
        fs::metadata(libc.1).unwrap().mode() & 0o7777
    );
}

#[test]
fn interpreter_path_leads_to_a_regular_file() {
    let dir = tmp();
    for (n, program) in [hello(), PathBuf::from("/bin/true")].iter().enumerate() {
        let interp =
            interp(program).unwrap_or_else(|| panic!("{}: no PT_INTERP", program.display()));
        if cfg!(all(
            target_arch = "x86_64",
            target_os = "linux",
            target_env = "gnu"
        )) {
            assert_eq!(interp, "lib64/ld-linux-x86-64.so.2");
        }
        let name = format!("i{n}.tar");
        packed(dir.path(), &name, &os(&[program]));
        let archive = Archive::read(&dir.path().join(&name));
        let item = archive
            .resolve(&interp)
            .unwrap_or_else(|e| panic!("{e}; entries {:?}", archive.paths()));
        assert_eq!(item.kind, Kind::File, "{interp} -> {}", item.path);
        assert!(
            item.data == fs::read(Path::new("/").join(&interp)).unwrap(),
            "{interp}: content differs from the host's loader"
        );
        assert_eq!(item.mode & 0o111, 0o111, "the loader is executable");
        assert_links_resolve(&archive);
    }
}

#[test]
fn symlinks_of_the_root_are_stored_as_symlinks() {
    let dir = tmp();
    let (archive, _) = packed(dir.path(), "t.tar", &os(&[&"/bin/true"]));
    let links: Vec<_> = archive.of_kind(Kind::Symlink).collect();
    assert!(!links.is_empty(), "no links: {:?}", archive.paths());
    for link in &links {
        let host = Path::new("/").join(&link.path);
        let target = fs::read_link(&host)
            .unwrap_or_else(|e| panic!("{}: not a link on the host ({e})", host.display()));
        assert_eq!(
            link.link.as_deref(),
            Some(target.to_str().unwrap()),
            "{}",
            link.path
        );
        assert_eq!(link.size, 0);
        assert!(link.data.is_empty());
    }
    // Merged /usr: /lib and /lib64 are links on the host and stay links.
    for top in ["lib", "lib64"] {
        let host = Path::new("/").join(top);
        if fs::symlink_metadata(&host).is_ok_and(|m| m.file_type().is_symlink()) {
            let item = archive
                .get(top)
                .unwrap_or_else(|| panic!("{top} missing: {:?}", archive.paths()));
            assert_eq!(item.kind, Kind::Symlink, "{top}");
            assert_eq!(
                item.link.as_deref(),
                Some(fs::read_link(&host).unwrap().to_str().unwrap())
            );
        }
    }
    assert_links_resolve(&archive);
}

#[test]
fn private_library_follows_the_moved_program() {
    // hello-leaf has RUNPATH $ORIGIN/../lib; in the archive it is in
    // usr/local/bin, so its libleaf.so.1 must be reachable at usr/local/lib.
    let dir = tmp();
    let (archive, _) = packed(dir.path(), "h.tar", &os(&[&hello_leaf()]));
    let item = archive
        .resolve("usr/local/lib/libleaf.so.1")
        .unwrap_or_else(|e| panic!("{e}: {:?}", archive.paths()));
    assert_eq!(item.kind, Kind::File);
    assert!(item.data == fs::read(fixtures().join("hello/lib/libleaf.so.1.0.0")).unwrap());
    if let Some(link) = archive
        .get("usr/local/lib/libleaf.so.1")
        .filter(|i| i.kind == Kind::Symlink)
    {
        eprintln!("libleaf.so.1 is a link to {:?}", link.link);
    }
    assert!(
        !archive.paths().iter().any(|p| p.contains("hello/lib")),
        "host fixture path leaked into the archive: {:?}",
        archive.paths()
    );
    assert_links_resolve(&archive);
}

// ---------------------------------------------------------------- no content twice

/// Sizes of regular entries equal the sizes of the distinct source files, and
/// no two regular entries carry one source or the same bytes.
fn assert_content_once(archive: &Archive, sources: &HashMap<String, PathBuf>) {
    let mut ids: HashMap<(u64, u64), &str> = HashMap::new();
    let mut distinct_size = 0;
    let mut stored_size = 0;
    let mut contents: HashMap<&[u8], &str> = HashMap::new();
    for file in archive.of_kind(Kind::File) {
        stored_size += file.size;
        let source = &sources[&file.path];
        let id = file_id(source);
        if let Some(first) = ids.insert(id, &file.path) {
            panic!(
                "{} and {} both store {}",
                first,
                file.path,
                source.display()
            );
        }
        distinct_size += fs::metadata(source).unwrap().len();
        if let Some(first) = contents.insert(&file.data, &file.path) {
            panic!("{} and {} have identical content", first, file.path);
        }
    }
    assert_eq!(stored_size, distinct_size);
    assert_links_resolve(archive);
}

#[test]
fn one_library_reached_twice_is_stored_once() {
    // libleaf is both hello-leaf's private library and an --add file; libc
    // is needed by hello-leaf, env and libleaf.
    let dir = tmp();
    let (archive, sources) = packed(
        dir.path(),
        "d.tar",
        &os(&[
            &"--add",
            &fixtures().join("hello/lib/libleaf.so.1"),
            &hello_leaf(),
            &"/usr/bin/env",
        ]),
    );
    assert_content_once(&archive, &sources);
    let leaf = fs::read(fixtures().join("hello/lib/libleaf.so.1.0.0")).unwrap();
    for path in ["usr/lib/libleaf.so.1", "usr/local/lib/libleaf.so.1"] {
        let item = archive
            .resolve(path)
            .unwrap_or_else(|e| panic!("{e}: {:?}", archive.paths()));
        assert!(item.data == leaf, "{path}");
    }
    let leaf_files = archive
        .of_kind(Kind::File)
        .filter(|f| f.data == leaf)
        .count();
    assert_eq!(leaf_files, 1);
}

#[test]
fn two_inputs_that_are_one_file_store_the_content_once() {
    // Two names of one inode (a hard link), as different basenames.
    let dir = tmp();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    let one = src.join("prog-one");
    let two = src.join("prog-two");
    fs::copy(hello(), &one).unwrap();
    fs::hard_link(&one, &two).unwrap();
    let (archive, sources) = packed(dir.path(), "x.tar", &os(&[&two, &one]));
    assert_content_once(&archive, &sources);
    // plan.rs `finish`: inputs hold content first, then by path, so prog-one
    // keeps the bytes and prog-two links to it.
    let holder = archive.get("usr/local/bin/prog-one").unwrap();
    assert_eq!(holder.kind, Kind::File);
    assert!(holder.data == fs::read(hello()).unwrap());
    let other = archive.get("usr/local/bin/prog-two").unwrap();
    assert_eq!(other.kind, Kind::Symlink, "{other:?}");
    assert_eq!(
        archive.resolve("usr/local/bin/prog-two").unwrap().path,
        "usr/local/bin/prog-one"
    );
}

#[test]
fn redis_server_and_check_rdb_store_the_content_once() {
    let server = Path::new("/usr/bin/redis-server");
    let rdb = Path::new("/usr/bin/redis-check-rdb");
    if !server.exists() || !rdb.exists() || file_id(server) != file_id(rdb) {
        eprintln!("skipped: /usr/bin/redis-server and redis-check-rdb are not one file here");
        return;
    }
    let dir = tmp();
    let (archive, sources) = packed(dir.path(), "r.tar", &os(&[&server, &rdb]));
    assert_content_once(&archive, &sources);
    let want = fs::read(rdb).unwrap();
    let a = archive.resolve("usr/local/bin/redis-server").unwrap();
    let b = archive.resolve("usr/local/bin/redis-check-rdb").unwrap();
    assert!(a.data == want && b.data == want);
    // The content stays at an input path: the first by path, redis-check-rdb.
    let holder = archive.get("usr/local/bin/redis-check-rdb").unwrap();
    assert_eq!(holder.kind, Kind::File);
    assert_eq!(
        archive.get("usr/local/bin/redis-server").unwrap().kind,
        Kind::Symlink
    );
}

// ---------------------------------------------------------------- determinism

#[test]
fn same_inputs_give_identical_bytes() {
    let dir = tmp();
    for flags in [vec![], vec!["-z"]] {
        let mut outs = Vec::new();
        for n in 0..2 {
            let name = format!(
                "run{n}{}",
                if flags.is_empty() { ".tar" } else { ".tar.gz" }
            );
            let mut args = os(&[&"-o", &name, &hello_leaf(), &"/usr/bin/env"]);
            args.extend(flags.iter().map(OsString::from));
            run_ok(dir.path(), &args);
            outs.push(fs::read(dir.path().join(&name)).unwrap());
        }
        Archive::from_bytes(&outs[0]);
        assert_eq!(is_gzip(&outs[0]), !flags.is_empty());
        assert!(outs[0] == outs[1], "two runs with {flags:?} differ");
    }
}

#[test]
fn input_order_does_not_matter() {
    let dir = tmp();
    run_ok(
        dir.path(),
        os(&[&"-o", &"a.tar", &hello_leaf(), &"/usr/bin/env"]),
    );
    run_ok(
        dir.path(),
        os(&[&"-o", &"b.tar", &"/usr/bin/env", &hello_leaf()]),
    );
    let a = fs::read(dir.path().join("a.tar")).unwrap();
    let b = fs::read(dir.path().join("b.tar")).unwrap();
    let archive = Archive::from_tar(&a);
    assert!(archive.get("usr/local/bin/env").is_some());
    assert!(archive.get("usr/local/bin/hello-leaf").is_some());
    assert!(a == b, "input order changed the archive");
}

#[test]
fn relative_and_absolute_inputs_give_identical_bytes() {
    let dir = tmp();
    let rel_out = dir.path().join("rel.tar");
    let abs_out = dir.path().join("abs.tar");
    // From the program's own directory, by a relative name.
    let out = tool(&fixtures().join("hello/bin"))
        .args(os(&[&"-o", &rel_out, &"hello-leaf"]))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // From elsewhere, by an absolute path.
    run_ok(dir.path(), os(&[&"-o", &abs_out, &hello_leaf()]));
    let rel = fs::read(&rel_out).unwrap();
    let abs = fs::read(&abs_out).unwrap();
    let archive = Archive::from_tar(&rel);
    assert!(
        archive.resolve("usr/local/lib/libleaf.so.1").is_ok(),
        "{:?}",
        archive.paths()
    );
    assert!(rel == abs, "current directory changed the archive");
    assert_eq!(
        listing(&fixtures().join("hello/bin")),
        ["hello", "hello-leaf"]
    );
}

#[test]
fn source_date_epoch_clamps_times() {
    const EPOCH: u64 = 1_000_000_000;
    let dir = tmp();
    let out = tool(dir.path())
        .env("SOURCE_DATE_EPOCH", EPOCH.to_string())
        .args(os(&[&"-v", &hello_leaf()]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let sources = verbose_sources(&stderr);
    let archive = Archive::read(&dir.path().join("rootfs.tar"));
    let (mut kept, mut clamped) = (0, 0);
    for item in &archive.items {
        assert!(item.mtime <= EPOCH, "{}: {}", item.path, item.mtime);
        if item.kind == Kind::File {
            let own = fs::metadata(&sources[&item.path]).unwrap().mtime() as u64;
            assert_eq!(item.mtime, own.min(EPOCH), "{}", item.path);
            if own < EPOCH {
                kept += 1;
            } else {
                clamped += 1;
            }
        }
    }
    // The fixtures date from 2000 and keep that time; the system's libc is newer.
    let input = archive.get("usr/local/bin/hello-leaf").unwrap();
    assert_eq!(
        input.mtime as i64,
        fs::metadata(hello_leaf()).unwrap().mtime()
    );
    assert!(input.mtime < EPOCH);
    assert!(kept >= 1 && clamped >= 1, "kept {kept}, clamped {clamped}");
}

#[test]
fn invalid_source_date_epoch_is_a_usage_error() {
    let dir = tmp();
    let out = tool(dir.path())
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .arg(hello())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("extract-elf-so: error: "), "{stderr}");
    assert!(stderr.contains("SOURCE_DATE_EPOCH"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

// ---------------------------------------------------------------- long names

#[test]
fn long_dest_paths_read_back_whole() {
    let dir = tmp();
    let parts: Vec<String> = (0..10).map(|i| format!("segment-{i:02}-abcdef")).collect();
    let mut long = parts.join("/");
    while long.len() < 150 {
        long.push('x');
    }
    long.truncate(150);
    assert_eq!(long.len(), 150);
    let (archive, _) = packed(dir.path(), "l.tar", &os(&[&"-d", &long, &hello()]));
    let want = format!("{long}/hello");
    let item = archive
        .get(&want)
        .unwrap_or_else(|| panic!("{want} not in {:?}", archive.paths()));
    assert_eq!(item.kind, Kind::File);
    assert!(item.data == fs::read(hello()).unwrap());
    // Every directory on the way is there too.
    let dirs: HashSet<&str> = archive
        .of_kind(Kind::Dir)
        .map(|i| i.path.as_str())
        .collect();
    let mut prefix = String::new();
    for part in long.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        assert!(dirs.contains(prefix.as_str()), "{prefix}");
    }
}
