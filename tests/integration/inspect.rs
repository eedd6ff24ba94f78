//! The views of a plan (`--list`, `--json`, `--tree`, `--report`) and the
//! hidden generators (`--generate-completions`, `--generate-man`), through
//! the real binary: what they print must agree with the archive a normal run
//! writes, and the views that only look must write nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};

use extract_elf_so::human;
use serde_json::Value;

use crate::util::{Archive, Kind, ca_read, fixtures, hello, listing, os, tmp, tool};

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

fn run<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Run {
    let out = tool(dir)
        .args(args)
        .output()
        .expect("running extract-elf-so");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "extract-elf-so {:?} panicked:\n{stderr}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>()
    );
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr,
    }
}

/// Runs the tool and asserts exit status 0.
fn run_ok<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Run {
    let r = run(dir, args);
    assert_eq!(
        r.code,
        Some(0),
        "extract-elf-so {:?} failed:\n{}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        r.stderr
    );
    r
}

/// Runs the view `flag` on `case` in an empty directory; asserts it exits 0
/// and writes nothing there.
fn view_ok(flag: &str, case: &[OsString]) -> Run {
    let dir = tmp();
    let mut a = os(&[&flag]);
    a.extend(case.iter().cloned());
    let r = run_ok(dir.path(), &a);
    assert!(
        listing(dir.path()).is_empty(),
        "{flag} {case:?} wrote files"
    );
    r
}

fn rpath_app() -> PathBuf {
    fixtures().join("rpath/bin/app")
}

fn missing_app() -> PathBuf {
    fixtures().join("missing/bin/app")
}

/// Whether the host has the CA bundle `--cert` packs (Debian: ca-certificates).
fn have_ca_bundle() -> bool {
    Path::new("/etc/ssl/certs/ca-certificates.crt").is_file()
}

// --- Reading archives back ---------------------------------------------------

/// The regular files of `archive` and their sizes.
fn file_sizes(archive: &Archive) -> BTreeMap<&str, u64> {
    archive
        .of_kind(Kind::File)
        .map(|i| (i.path.as_str(), i.size))
        .collect()
}

/// Writes the archive of `extra` + `inputs` in a fresh directory and reads it back.
fn written_archive(extra: &[OsString]) -> Archive {
    let dir = tmp();
    let mut a = os(&[&"-o", &"out.tar"]);
    a.extend(extra.iter().cloned());
    run_ok(dir.path(), &a);
    Archive::read(&dir.path().join("out.tar"))
}

/// The argument sets the views are compared on: private libraries found
/// through RPATH, a system-only program, and one with NSS files and the CA
/// bundle (generated and linked entries).
fn cases() -> Vec<Vec<OsString>> {
    let mut cases = vec![
        os(&[&rpath_app()]),
        os(&[&"-d", &"/opt/app/bin", &hello()]),
        os(&[&"--nss-net", &hello()]),
    ];
    if have_ca_bundle() {
        cases.push(os(&[&"--nss-net", &"--cert", &hello()]));
    }
    cases
}

// --- --list ----------------------------------------------------------------

/// One `--list` line: path, kind, source or link target.
fn parse_list(text: &str) -> Vec<(String, String, String)> {
    assert!(text.ends_with('\n'), "--list output ends without a newline");
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "not 3 tab-separated fields: {line:?}");
            (
                fields[0].to_string(),
                fields[1].to_string(),
                fields[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn list_prints_one_sorted_tab_separated_line_per_entry_and_writes_nothing() {
    let dir = tmp();
    let r = run_ok(dir.path(), &os(&[&"--list", &rpath_app()]));
    assert!(
        listing(dir.path()).is_empty(),
        "--list wrote {:?}",
        listing(dir.path())
    );
    assert!(
        !r.stderr.contains("wrote"),
        "--list claims to have written something:\n{}",
        r.stderr
    );
    let lines = parse_list(&r.text());
    assert!(!lines.is_empty());
    for (path, kind, detail) in &lines {
        assert!(
            !path.starts_with('/') && !path.ends_with('/') && !path.is_empty(),
            "archive path {path:?}"
        );
        match kind.as_str() {
            "dir" => assert_eq!(detail, "", "{path}: a directory has no source"),
            "file" => assert!(
                detail == "(generated)" || Path::new(detail).is_absolute(),
                "{path}: source {detail:?} is not an absolute path"
            ),
            "symlink" => assert!(!detail.is_empty(), "{path}: symlink without a target"),
            other => panic!("{path}: unknown kind {other:?}"),
        }
    }
    for pair in lines.windows(2) {
        assert!(
            Path::new(&pair[0].0) < Path::new(&pair[1].0),
            "--list is not sorted by path: {:?} before {:?}",
            pair[0].0,
            pair[1].0
        );
    }
    let paths: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    for want in [
        "usr/local/bin/app",
        "usr/local/lib/libmid.so.1",
        "usr/local/lib/libleaf.so.1",
        "usr/local/lib/libleaf.so.1.0.0",
    ] {
        assert!(
            paths.contains(&want),
            "{want} missing from --list:\n{paths:?}"
        );
    }
    let app = lines.iter().find(|l| l.0 == "usr/local/bin/app").unwrap();
    assert_eq!(app.1, "file");
    assert_eq!(
        fs::canonicalize(&app.2).unwrap(),
        fs::canonicalize(rpath_app()).unwrap()
    );
}

#[test]
fn list_matches_the_archive_a_real_run_writes() {
    // Some cases pack the host's CA bundle.
    let _ca = ca_read();
    for case in cases() {
        let r = view_ok("--list", &case);
        let lines = parse_list(&r.text());
        let archive = written_archive(&case);
        let listed: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(listed, archive.paths(), "--list vs archive for {case:?}");
        for (path, kind, detail) in &lines {
            let item = archive.get(path).unwrap();
            match (kind.as_str(), item.kind) {
                ("dir", Kind::Dir) => {}
                ("symlink", Kind::Symlink) => assert_eq!(
                    Some(detail.as_str()),
                    item.link.as_deref(),
                    "{path}: link target ({case:?})"
                ),
                ("file", Kind::File) if detail == "(generated)" => {
                    assert!(item.size > 0, "{path}: empty generated file")
                }
                ("file", Kind::File) => {
                    let source = fs::metadata(detail)
                        .unwrap_or_else(|e| panic!("{path}: source {detail}: {e}"));
                    assert_eq!(source.len(), item.size, "{path}: size of {detail}");
                }
                _ => panic!(
                    "{path}: --list says {kind}, the archive has {:?} ({case:?})",
                    item.kind
                ),
            }
        }
    }
}

#[test]
fn list_with_a_missing_library_prints_the_plan_then_exits_1() {
    let dir = tmp();
    let r = run(dir.path(), &os(&[&"--list", &missing_app()]));
    assert_eq!(r.code, Some(1), "stderr:\n{}", r.stderr);
    let lines = parse_list(&r.text());
    let paths: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
    assert!(paths.contains(&"usr/local/bin/app"), "{paths:?}");
    assert!(
        paths.contains(&"usr/local/lib/libleaf.so.1.0.0"),
        "the libraries that were found are listed: {paths:?}"
    );
    assert!(!paths.iter().any(|p| p.contains("libgone")), "{paths:?}");
    assert!(
        r.stderr.contains("libgone.so.1") && r.stderr.contains("error"),
        "stderr does not name the missing library:\n{}",
        r.stderr
    );
    assert!(listing(dir.path()).is_empty(), "--list wrote files");

    // --allow-missing: the same plan, a warning, exit 0, still nothing written.
    let r2 = run_ok(
        dir.path(),
        &os(&[&"--list", &"--allow-missing", &missing_app()]),
    );
    assert_eq!(r2.stdout, r.stdout);
    assert!(r2.stderr.contains("warning") && r2.stderr.contains("libgone.so.1"));
    assert!(listing(dir.path()).is_empty(), "--list wrote files");
}

// --- --json ----------------------------------------------------------------

fn parse_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not valid JSON ({e}):\n{}", String::from_utf8_lossy(bytes)))
}

fn entries_of(doc: &Value) -> &Vec<Value> {
    doc["entries"].as_array().expect("\"entries\" is an array")
}

fn entry<'a>(doc: &'a Value, path: &str) -> &'a Value {
    entries_of(doc)
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no JSON entry {path}"))
}

fn needed_by(entry: &Value) -> Vec<&str> {
    entry["needed_by"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().expect("a path")).collect())
        .unwrap_or_default()
}

#[test]
fn json_is_valid_and_matches_the_archive() {
    // Some cases pack the host's CA bundle.
    let _ca = ca_read();
    for case in cases() {
        let r = view_ok("--json", &case);
        let doc = parse_json(&r.stdout);
        assert_eq!(doc["missing"], Value::Array(vec![]), "{case:?}");
        let archive = written_archive(&case);
        let paths: Vec<&str> = entries_of(&doc)
            .iter()
            .map(|e| e["path"].as_str().expect("path is a string"))
            .collect();
        assert_eq!(paths, archive.paths(), "--json vs archive for {case:?}");

        for e in entries_of(&doc) {
            let path = e["path"].as_str().unwrap();
            let item = archive.get(path).unwrap();
            match (e["kind"].as_str().expect("kind"), item.kind) {
                ("dir", Kind::Dir) => {}
                ("symlink", Kind::Symlink) => {
                    assert_eq!(e["target"], item.link.as_deref().unwrap(), "{path}")
                }
                ("file", Kind::File) => {
                    let size = item.size;
                    assert_eq!(e["size"].as_u64(), Some(size), "{path}: size");
                    if e["generated"] != Value::Bool(true) {
                        let source = e["source"].as_str().expect("a file has a source");
                        assert_eq!(
                            fs::metadata(source).unwrap().len(),
                            size,
                            "{path}: size of its source {source}"
                        );
                    }
                }
                (kind, _) => panic!("{path}: JSON kind {kind}, archive {:?}", item.kind),
            }
            assert!(e["role"].is_string(), "{path}: no role");
            assert!(
                e["mode"].as_str().is_some_and(|m| m.len() == 4),
                "{path}: mode {}",
                e["mode"]
            );
            // Every object named in needed_by is an entry of the archive, named as entries are.
            for needer in needed_by(e) {
                assert!(
                    !needer.starts_with('/') && file_sizes(&archive).contains_key(needer),
                    "{path}: needed_by {needer}, which is not a file entry of the archive ({case:?})"
                );
            }
        }

        // libc is needed by the input, at the input's path in the image.
        let input = if case.iter().any(|a| a == "-d") {
            "opt/app/bin"
        } else {
            "usr/local/bin"
        };
        let program = Path::new(case.last().unwrap()).file_name().unwrap();
        let input = format!("{input}/{}", program.to_string_lossy());
        let libc = file_sizes(&archive)
            .into_keys()
            .find(|p| p.ends_with("/libc.so.6"))
            .expect("libc in the archive");
        let libc_needers = needed_by(entry(&doc, libc));
        assert!(
            libc_needers.contains(&input.as_str()),
            "needed_by of {libc} is {libc_needers:?}, without {input} ({case:?})"
        );
    }
}

#[test]
fn json_needed_by_follows_the_rpath_chain() {
    let dir = tmp();
    let doc = parse_json(&run_ok(dir.path(), &os(&[&"--json", &rpath_app()])).stdout);
    assert_eq!(
        needed_by(entry(&doc, "usr/local/lib/libmid.so.1")),
        ["usr/local/bin/app"]
    );
    assert_eq!(
        needed_by(entry(&doc, "usr/local/lib/libleaf.so.1.0.0")),
        ["usr/local/lib/libmid.so.1"]
    );
    assert!(
        needed_by(entry(&doc, "usr/local/bin/app")).is_empty(),
        "nothing needs the program"
    );
    assert_eq!(entry(&doc, "usr/local/bin/app")["role"], "input");
}

#[test]
fn json_with_a_missing_library_lists_it_and_exits_1() {
    let dir = tmp();
    let r = run(dir.path(), &os(&[&"--json", &missing_app()]));
    assert_eq!(r.code, Some(1), "stderr:\n{}", r.stderr);
    let doc = parse_json(&r.stdout);
    let missing = doc["missing"].as_array().expect("missing is an array");
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["name"], "libgone.so.1");
    let needer = missing[0]["needed_by"].as_str().unwrap();
    assert!(needer.ends_with("missing/bin/app"), "{needer}");
    assert!(
        missing[0]["searched"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "{missing:?}"
    );
    assert!(listing(dir.path()).is_empty(), "--json wrote files");
}

// --- --tree ----------------------------------------------------------------

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[test]
fn tree_shows_libleaf_under_libmid_found_through_rpath() {
    let dir = tmp();
    let r = run_ok(dir.path(), &os(&[&"--tree", &rpath_app()]));
    assert!(listing(dir.path()).is_empty(), "--tree wrote files");
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&*rpath_app().to_string_lossy())
            && lines[0].ends_with("=> /usr/local/bin/app"),
        "first line names the input and where it goes:\n{text}"
    );
    let mid = lines
        .iter()
        .position(|l| l.trim_start().starts_with("libmid.so.1 =>"))
        .unwrap_or_else(|| panic!("no libmid.so.1 line:\n{text}"));
    assert_eq!(indent(lines[mid]), 4, "libmid is a direct need:\n{text}");
    assert!(
        lines[mid].contains("(rpath)") && lines[mid].ends_with("-> /usr/local/lib/libmid.so.1"),
        "{}",
        lines[mid]
    );
    // libmid's children: the lines after it, indented deeper.
    let children: Vec<&str> = lines[mid + 1..]
        .iter()
        .take_while(|l| indent(l) > 4)
        .copied()
        .collect();
    let leaf = children
        .iter()
        .find(|l| indent(l) == 8 && l.trim_start().starts_with("libleaf.so.1 =>"))
        .unwrap_or_else(|| panic!("libleaf.so.1 is not shown under libmid.so.1:\n{text}"));
    assert!(
        leaf.contains("/rpath/bin/../lib/libleaf.so.1 (rpath)")
            && leaf.ends_with("-> /usr/local/lib/libleaf.so.1"),
        "libleaf comes through the program's inherited RPATH: {leaf}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| indent(l) == 4 && l.trim_start().starts_with("libleaf.so.1")),
        "libleaf is not a direct need of the program:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("interpreter => ")),
        "{text}"
    );
}

#[test]
fn tree_with_a_missing_library_shows_not_found_and_exits_1() {
    let dir = tmp();
    let r = run(dir.path(), &os(&[&"--tree", &missing_app()]));
    assert_eq!(r.code, Some(1), "stderr:\n{}", r.stderr);
    assert!(
        r.text()
            .lines()
            .any(|l| l.trim() == "libgone.so.1 => not found"),
        "{}",
        r.text()
    );
    assert!(listing(dir.path()).is_empty(), "--tree wrote files");
}

// --- --report --------------------------------------------------------------

/// The JSON report's groups: name -> (size, files).
fn report_groups(doc: &Value) -> BTreeMap<String, (u64, Vec<(String, u64)>)> {
    doc["groups"]
        .as_array()
        .expect("groups is an array")
        .iter()
        .map(|g| {
            let files = g["files"]
                .as_array()
                .expect("files is an array")
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap().to_string(),
                        f["size"].as_u64().unwrap(),
                    )
                })
                .collect();
            (
                g["name"].as_str().unwrap().to_string(),
                (g["size"].as_u64().unwrap(), files),
            )
        })
        .collect()
}

/// Checks a JSON report against the archive it describes.
fn check_report_json(doc: &Value, archive: &Archive) {
    let groups = report_groups(doc);
    let total = doc["total"].as_u64().expect("total");
    assert_eq!(
        groups.values().map(|g| g.0).sum::<u64>(),
        total,
        "group sizes do not add up to the total: {doc}"
    );
    let mut seen = BTreeMap::new();
    for (name, (size, files)) in &groups {
        assert_eq!(
            files.iter().map(|f| f.1).sum::<u64>(),
            *size,
            "group {name}: file sizes do not add up"
        );
        for (path, size) in files {
            assert!(
                seen.insert(path.clone(), *size).is_none(),
                "{path} is in two groups"
            );
        }
    }
    let archive_files: BTreeMap<String, u64> = file_sizes(archive)
        .into_iter()
        .map(|(p, s)| (p.to_string(), s))
        .collect();
    assert_eq!(
        seen, archive_files,
        "the report's files are not the archive's regular files"
    );
}

/// A text report line's size column, e.g. "2.2 MB" in
/// "libraries (4 files)   2.2 MB   99.3%".
fn size_column(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let end = if words.last().is_some_and(|w| w.ends_with('%')) {
        words.len() - 1
    } else {
        words.len()
    };
    words[end - 2..end].join(" ")
}

#[test]
fn report_after_writing_groups_sizes_that_add_up() {
    // A long --dest so that the input's path has to be shortened to fit.
    let dest = "/opt/a-rather-long-directory-name/for-the-program/that-goes-on/bin";
    let mut base = os(&[&"-d", &dest, &"--nss-net"]);
    base.push(rpath_app().into_os_string());

    let dir = tmp();
    let mut a = os(&[&"-z", &"--report"]);
    a.extend(base.iter().cloned());
    let r = run_ok(dir.path(), &a);
    let gz = dir.path().join("rootfs.tar.gz");
    assert!(gz.is_file(), "--report did not write rootfs.tar.gz");
    let gz_len = fs::metadata(&gz).unwrap().len();
    let archive = Archive::read(&gz);
    assert!(
        r.stderr.contains("extract-elf-so: wrote rootfs.tar.gz"),
        "the summary line still goes to stderr:\n{}",
        r.stderr
    );

    // The same run as JSON gives the exact numbers.
    let dir2 = tmp();
    let mut a = os(&[&"-z", &"--report", &"--json"]);
    a.extend(base.iter().cloned());
    let rj = run_ok(dir2.path(), &a);
    let doc = parse_json(&rj.stdout);
    check_report_json(&doc, &archive);
    assert_eq!(
        fs::read(dir2.path().join("rootfs.tar.gz")).unwrap(),
        fs::read(&gz).unwrap(),
        "--json changed the archive"
    );
    assert_eq!(doc["compressed"].as_u64(), Some(gz_len));
    let groups = report_groups(&doc);

    let text = r.text();
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "line wider than 80 columns ({}): {line:?}",
            line.chars().count()
        );
    }
    let mut shown_groups = BTreeSet::new();
    let mut shares = 0.0;
    let mut file_lines = 0;
    for line in text.lines().skip(1) {
        if line.starts_with("  ") {
            file_lines += 1;
            continue;
        }
        if let Some(rest) = line.strip_prefix("total (") {
            let files: usize = groups.values().map(|g| g.1.len()).sum();
            assert!(rest.starts_with(&format!("{files} files)")), "{line}");
            assert_eq!(size_column(line), human(doc["total"].as_u64().unwrap()));
            continue;
        }
        if line.starts_with("gzipped archive") {
            assert_eq!(
                size_column(line),
                human(gz_len),
                "the gzipped size is not the archive's size"
            );
            continue;
        }
        let name = line.split(" (").next().unwrap();
        let (size, files) = groups
            .get(name)
            .unwrap_or_else(|| panic!("group {name:?} is not in the JSON report:\n{text}"));
        assert!(
            line.contains(&format!("({} files)", files.len()))
                || line.contains(&format!("({} file)", files.len())),
            "{line}"
        );
        assert_eq!(size_column(line), human(*size), "{line}");
        let share = line.split_whitespace().last().unwrap();
        shares += share.trim_end_matches('%').parse::<f64>().unwrap();
        shown_groups.insert(name.to_string());
    }
    assert!(
        text.lines().any(|l| l.starts_with("gzipped archive")),
        "no gzipped line with -z:\n{text}"
    );
    assert_eq!(
        shown_groups,
        groups.keys().cloned().collect::<BTreeSet<_>>(),
        "{text}"
    );
    for want in ["inputs", "libraries", "nss"] {
        assert!(shown_groups.contains(want), "no group {want}:\n{text}");
    }
    assert_eq!(
        file_lines,
        file_sizes(&archive).len(),
        "one line per file:\n{text}"
    );
    assert!(
        (shares - 100.0).abs() <= 0.1 * shown_groups.len() as f64,
        "shares add up to {shares}%:\n{text}"
    );
    assert!(
        text.contains('…') && text.contains("app"),
        "the long input path is shortened, keeping its end:\n{text}"
    );
}

#[test]
fn report_json_without_gzip_has_no_compressed_size() {
    let dir = tmp();
    let r = run_ok(
        dir.path(),
        &os(&[&"--report", &"--json", &"-o", &"out.tar", &rpath_app()]),
    );
    let doc = parse_json(&r.stdout);
    assert_eq!(doc["compressed"], Value::Null);
    check_report_json(&doc, &Archive::read(&dir.path().join("out.tar")));
}

#[test]
fn report_with_list_writes_nothing() {
    let dir = tmp();
    let r = run_ok(
        dir.path(),
        &os(&[&"--report", &"--list", &"--json", &rpath_app()]),
    );
    assert!(
        listing(dir.path()).is_empty(),
        "--report --list wrote files"
    );
    let doc = parse_json(&r.stdout);
    check_report_json(&doc, &written_archive(&os(&[&rpath_app()])));
}

#[test]
fn report_with_stdout_archive_goes_to_stderr() {
    let dir = tmp();
    let plain = {
        let d = tmp();
        run_ok(d.path(), &os(&[&"-o", &"ref.tar", &rpath_app()]));
        fs::read(d.path().join("ref.tar")).unwrap()
    };
    let reference = Archive::from_bytes(&plain);

    let r = run_ok(dir.path(), &os(&[&"--report", &"-o", &"-", &rpath_app()]));
    assert_eq!(
        r.stdout, plain,
        "stdout is not exactly the archive a file run writes"
    );
    assert_eq!(Archive::from_bytes(&r.stdout).paths(), reference.paths());
    assert!(
        r.stderr.contains("total (") && r.stderr.contains("libraries ("),
        "the report is not on stderr:\n{}",
        r.stderr
    );
    assert!(listing(dir.path()).is_empty(), "-o - wrote files");

    // Compressed: the gzipped line is the size of what went to stdout.
    let r = run_ok(
        dir.path(),
        &os(&[&"--report", &"-z", &"-o", &"-", &rpath_app()]),
    );
    assert!(r.stdout.starts_with(&[0x1f, 0x8b]), "stdout is not gzip");
    assert_eq!(Archive::from_bytes(&r.stdout).paths(), reference.paths());
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("gzipped archive"))
        .unwrap_or_else(|| panic!("no gzipped line:\n{}", r.stderr));
    assert_eq!(size_column(line), human(r.stdout.len() as u64));

    // As JSON, on stderr too.
    let r = run_ok(
        dir.path(),
        &os(&[&"--report", &"--json", &"-z", &"-o", &"-", &rpath_app()]),
    );
    let json_end = r.stderr.rfind('}').expect("JSON on stderr") + 1;
    let doc = parse_json(&r.stderr.as_bytes()[..json_end]);
    assert_eq!(doc["compressed"].as_u64(), Some(r.stdout.len() as u64));
    check_report_json(&doc, &reference);
}

// --- Hidden generators -------------------------------------------------------

#[test]
fn completions_for_bash_zsh_and_fish() {
    let dir = tmp();
    for shell in ["bash", "zsh", "fish"] {
        let r = run_ok(dir.path(), &["--generate-completions", shell]);
        let script = r.text();
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        let mentions = match shell {
            // fish spells long options as `-l name`.
            "fish" => script.contains("-l nss-net"),
            _ => script.contains("--nss-net"),
        };
        assert!(mentions, "{shell} completions lack --nss-net:\n{script}");
        assert!(
            script.contains("extract-elf-so"),
            "{shell}: the command is not named"
        );
        assert!(r.stderr.is_empty(), "{shell}: stderr {}", r.stderr);
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn completions_for_an_unknown_shell_are_a_usage_error() {
    let dir = tmp();
    let r = run(dir.path(), &["--generate-completions", "cmd.exe"]);
    assert_eq!(r.code, Some(2), "stderr:\n{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn man_page_is_roff() {
    let dir = tmp();
    let r = run_ok(dir.path(), &["--generate-man"]);
    let man = r.text();
    assert!(
        man.starts_with(".ie") || man.contains("\n.TH "),
        "not a roff man page:\n{man}"
    );
    assert!(man.contains("extract-elf-so"), "{man}");
    assert!(man.contains("nss\\-net"), "the man page lacks --nss-net");
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn generators_take_no_inputs() {
    let dir = tmp();
    for a in [
        os(&[&"--generate-man", &hello()]),
        os(&[&"--generate-completions", &"bash", &hello()]),
    ] {
        let r = run(dir.path(), &a);
        assert_eq!(r.code, Some(2), "{a:?}: stderr:\n{}", r.stderr);
        assert!(r.stdout.is_empty(), "{a:?}");
    }
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn tree_with_another_view_is_a_usage_error() {
    // --tree is text for people; mixing it with --list, --json or --report
    // would give output that is neither.
    let dir = tmp();
    for other in ["--list", "--json", "--report"] {
        let r = run(dir.path(), &os(&[&"--tree", &other, &rpath_app()]));
        assert_eq!(r.code, Some(2), "--tree {other}: stderr:\n{}", r.stderr);
        assert!(r.stdout.is_empty(), "--tree {other} printed to stdout");
    }
}
