//! Run-time needs: what a packed program asks for after it starts, found
//! without running it. The fixtures of `needs/`, `note/`, `conv/`, `engine/`
//! and `origin-data/` each carry one kind of evidence; sysroots built here
//! hold plugin directories and programs outside the standard directories.
//! Hints go to standard error after the summary; `--json` and `--tree` show
//! every need; `--strict` refuses unmet hints.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{fx, have, hint_flags, mini_sysroot, run_tool, s, tmp, write};

/// Runs the tool with `args` and returns its hint lines, checking it
/// succeeded and printed the summary line before them.
fn hints_of(dir: &Path, args: &[&str]) -> Vec<String> {
    let run = run_tool(dir, args);
    run.expect_code(0);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let summary = lines
        .iter()
        .position(|l| l.starts_with("extract-elf-so: wrote "))
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stderr));
    let first_hint = lines.iter().position(|l| l.contains(": hint: "));
    assert!(
        first_hint.is_none_or(|h| h > summary),
        "hints come after the summary:\n{}",
        run.stderr
    );
    run.hints()
}

/// The `needs` array of `--json` with `args`.
fn needs_of(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let run = run_tool(dir, &all);
    run.expect_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("--json prints JSON");
    doc["needs"].as_array().expect("a needs array").clone()
}

/// The needs of `kind`.
fn of_kind<'a>(needs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    needs.iter().filter(|n| n["kind"] == kind).collect()
}

fn fxs(rel: &str) -> String {
    fx(rel).to_string_lossy().into_owned()
}

#[test]
fn each_kind_of_import_gets_its_hint_or_none() {
    let dir = tmp();
    let cases: &[(&str, Option<&str>)] = &[
        (
            "needs/bin/users",
            Some(
                "imports getpwnam (user and group lookups read /etc/passwd and /etc/group): --users",
            ),
        ),
        ("needs/bin/uid", None),
        (
            "needs/bin/shell",
            Some("imports system (they run /bin/sh): --shell"),
        ),
        (
            "needs/bin/tz",
            Some(
                "imports tzset and has the string \"TZ\" (time zones are read from /usr/share/zoneinfo): --tzdata",
            ),
        ),
        ("needs/bin/localtime", None),
        (
            "needs/bin/iconv",
            Some(
                "imports iconv_open (character set conversions load glibc's gconv modules): --gconv",
            ),
        ),
        ("needs/bin/threads", None),
        ("needs/bin/plugins", None),
        ("hello/bin/hello", None),
    ];
    for (program, want) in cases {
        let path = fxs(program);
        let got = hints_of(dir.path(), &[&path]);
        let want: Vec<String> = want.iter().map(|w| format!("{path}: {w}")).collect();
        assert_eq!(got, want, "{program}");
    }
}

#[test]
fn needs_without_hints_are_in_the_json() {
    let dir = tmp();
    let users = needs_of(dir.path(), &[&fxs("needs/bin/uid")]);
    let users = of_kind(&users, "users");
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["evidence"], "imports getpwuid");
    assert_eq!(users[0]["hint"], false);
    assert_eq!(users[0]["met"], false);
    assert_eq!(users[0]["flag"], "--users");
    assert_eq!(users[0]["object"], fxs("needs/bin/uid"));
    let tz = needs_of(dir.path(), &[&fxs("needs/bin/localtime")]);
    let tz = of_kind(&tz, "tz");
    assert_eq!(tz.len(), 1, "{tz:?}");
    assert_eq!(tz[0]["evidence"], "imports localtime");
    assert_eq!(tz[0]["hint"], false);
}

#[test]
fn a_library_that_converts_gets_a_need_and_its_program_no_hint() {
    let dir = tmp();
    let app = fxs("conv/bin/app");
    assert_eq!(hints_of(dir.path(), &[&app]), Vec::<String>::new());
    let needs = needs_of(dir.path(), &[&app]);
    let gconv = of_kind(&needs, "gconv");
    assert_eq!(gconv.len(), 1, "{needs:?}");
    assert!(
        gconv[0]["object"]
            .as_str()
            .unwrap()
            .ends_with("/conv/lib/libconv.so.1")
            && !gconv[0]["object"].as_str().unwrap().contains("/../"),
        "{gconv:?}"
    );
    assert_eq!(gconv[0]["hint"], false);
    assert_eq!(gconv[0]["evidence"], "imports iconv_open");
    // The gconv directory is the one the host's libc names.
    assert!(
        gconv[0]["path"].as_str().unwrap().ends_with("/gconv"),
        "{gconv:?}"
    );
}

#[test]
fn quiet_silences_hints_and_strict_refuses_them() {
    let dir = tmp();
    let users = fxs("needs/bin/users");
    let run = run_tool(dir.path(), ["-q", &users]);
    run.expect_code(0);
    assert_eq!(run.stderr, "", "-q prints nothing");
    fs::remove_file(&run.out).unwrap();
    let run = run_tool(dir.path(), ["--strict", &users]);
    run.expect_code(1);
    assert!(!run.out.exists(), "--strict wrote the archive");
    let want = format!(
        "extract-elf-so: error: 1 run-time need is not met (--strict):\n  {users}: imports getpwnam"
    );
    assert!(run.stderr.starts_with(&want), "{}", run.stderr);
    // Views print, then fail the same way.
    let run = run_tool(dir.path(), ["--strict", "--list", &users]);
    run.expect_code(1);
    assert!(run.stdout.contains("usr/local/bin/users"), "{}", run.stdout);
    // A need without a hint does not fail --strict.
    run_tool(dir.path(), ["--strict", &fxs("needs/bin/uid")]).expect_code(0);
}

/// What meets a need is what the plan holds, whichever flag put it there.
#[test]
fn needs_are_met_by_what_the_plan_holds() {
    let dir = tmp();
    let d = dir.path();
    write(&d.join("passwd"), "root:x:0:0:root:/root:/sbin/nologin\n");
    write(&d.join("group"), "root:x:0:\n");
    write(&d.join("sh"), "#!/bin/true\n");
    write(&d.join("zoneinfo/UTC"), "TZif");
    let gconv = gconv_dir();
    let cache = d.join("gconv-modules.cache");
    write(&cache, "cache");
    let add = |src: &Path, dest: &str| format!("--add-file={}:{dest}", src.display());
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "needs/bin/users",
            vec![
                add(&d.join("passwd"), "/etc/passwd"),
                add(&d.join("group"), "/etc/group"),
            ],
        ),
        ("needs/bin/shell", vec![add(&d.join("sh"), "/bin/sh")]),
        (
            "needs/bin/tz",
            vec![add(&d.join("zoneinfo"), "/usr/share/zoneinfo")],
        ),
        (
            "needs/bin/iconv",
            vec![add(&cache, &format!("{gconv}/gconv-modules.cache"))],
        ),
    ];
    for (program, flags) in cases {
        let path = fxs(program);
        let mut args: Vec<&str> = vec!["--strict", &path];
        args.extend(flags.iter().map(String::as_str));
        assert_eq!(hints_of(d, &args), Vec::<String>::new(), "{program}");
        let needs = needs_of(d, &args);
        let hinted: Vec<&Value> = needs.iter().filter(|n| n["hint"] == true).collect();
        assert!(!hinted.is_empty(), "{program}: {needs:?}");
        assert!(
            hinted.iter().all(|n| n["met"] == true),
            "{program}: {needs:?}"
        );
        // Half of what users need is not enough.
        if program.ends_with("users") {
            let half = [&path, flags[0].as_str()];
            assert_eq!(hints_of(d, &half).len(), 1, "{program} with passwd only");
        }
    }
}

/// The gconv directory of the host's libc, as glibc names it.
fn gconv_dir() -> String {
    let libc = fs::read("/lib/x86_64-linux-gnu/libc.so.6").expect("the host's libc");
    let end = b"/gconv-modules.cache";
    let at = libc
        .windows(end.len())
        .position(|w| w == end)
        .expect("libc names its gconv cache");
    let start = libc[..at].iter().rposition(|&b| b == 0).unwrap() + 1;
    String::from_utf8(libc[start..at].to_vec()).unwrap()
}

#[test]
fn libgcc_s_is_packed_where_glibc_loads_it() {
    let dir = tmp();
    let threads = fxs("needs/bin/threads");
    let archive = run_tool(dir.path(), [&threads]).archive();
    let found = archive.named("libgcc_s.so.1");
    assert!(!found.is_empty(), "{}", archive.dump());
    assert!(archive.resolve(&found[0]).is_ok());
    // Not for a program that does not unwind.
    let archive = run_tool(dir.path(), [&fxs("needs/bin/users")]).archive();
    assert!(
        archive.named("libgcc_s.so.1").is_empty(),
        "{}",
        archive.dump()
    );
    // Its role, and the report's group for it.
    let run = run_tool(dir.path(), ["--json", &threads]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let roles: Vec<&Value> = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().ends_with("libgcc_s.so.1") && e["kind"] == "file")
        .map(|e| &e["role"])
        .collect();
    assert_eq!(roles, ["libc dlopen"], "{}", run.stdout);
    let needs = of_kind(doc["needs"].as_array().unwrap(), "libgcc_s");
    assert_eq!(needs.len(), 1);
    assert_eq!(needs[0]["evidence"], "imports pthread_exit");
    assert_eq!(needs[0]["met"], true);
    assert_eq!(needs[0]["flag"], Value::Null);
    let run = run_tool(dir.path(), ["--list", "--report", &threads]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("libc dlopens (1 file)")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_root_without_libgcc_s_gets_a_hint_and_fails_strict() {
    let dir = tmp();
    let root = dir.path().join("root");
    mini_sysroot(&root);
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    let program = root.join("usr/bin/threads");
    fs::copy(fx("needs/bin/threads"), &program).unwrap();
    let args = ["--root", s(&root), s(&program)];
    let hints = hints_of(dir.path(), &args);
    assert_eq!(
        hints,
        [format!(
            "{}: imports pthread_exit (glibc loads libgcc_s.so.1 for them, and the root has none)",
            "/usr/bin/threads"
        )]
    );
    let mut strict = args.to_vec();
    strict.push("--strict");
    run_tool(dir.path(), &strict).expect_code(1);
}

#[test]
fn dlopen_notes_required_are_packed_the_others_hinted() {
    let dir = tmp();
    let app = fxs("note/bin/app");
    let run = run_tool(dir.path(), [&app]);
    let archive = run.archive();
    assert!(
        archive.is_file("usr/local/lib/libplug.so.1"),
        "{}",
        archive.dump()
    );
    assert!(
        archive.named("libreco.so.1").is_empty(),
        "{}",
        archive.dump()
    );
    assert!(
        archive.named("libsugg.so.1").is_empty(),
        "{}",
        archive.dump()
    );
    assert_eq!(
        run.hints(),
        [format!(
            "{app}: .note.dlopen names libreco.so.1 (feature reco, recommended): --dlopen-notes recommended"
        )]
    );
    let needs = needs_of(dir.path(), &[&app]);
    let notes: Vec<(String, bool, bool, Value)> = of_kind(&needs, "dlopen-note")
        .iter()
        .map(|n| {
            let evidence = n["evidence"].as_str().unwrap().to_string();
            (
                evidence,
                n["met"] == true,
                n["hint"] == true,
                n["flag"].clone(),
            )
        })
        .collect();
    let mut notes = notes;
    notes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        notes,
        [
            (
                ".note.dlopen names libplug.so.1 (feature plug, required)".to_string(),
                true,
                false,
                Value::Null
            ),
            (
                ".note.dlopen names libreco.so.1 (feature reco, recommended)".into(),
                false,
                true,
                Value::from("--dlopen-notes recommended")
            ),
            (
                ".note.dlopen names libsugg.so.2 or libsugg.so.1 (feature sugg, suggested)".into(),
                false,
                false,
                Value::from("--dlopen-notes suggested")
            ),
        ]
    );
    // Each level packs its own and those above it; the first alternative found wins.
    let archive = run_tool(dir.path(), ["--dlopen-notes", "recommended", &app]).archive();
    assert!(
        archive.is_file("usr/local/lib/libreco.so.1"),
        "{}",
        archive.dump()
    );
    assert!(archive.named("libsugg.so.1").is_empty());
    let run = run_tool(dir.path(), ["--dlopen-notes", "suggested", &app]);
    assert_eq!(run.hints(), Vec::<String>::new());
    let archive = run.archive();
    for lib in ["libplug.so.1", "libreco.so.1", "libsugg.so.1"] {
        assert!(
            archive.is_file(&format!("usr/local/lib/{lib}")),
            "{}",
            archive.dump()
        );
    }
    let run = run_tool(
        dir.path(),
        ["--list", "--report", "--dlopen-notes=suggested", &app],
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("dlopen notes (3 files)")),
        "{}",
        run.stdout
    );
    // Only two levels can be asked for.
    run_tool(dir.path(), ["--dlopen-notes", "required", &app]).expect_code(2);
}

/// A note's library the root does not have gets no flag that would not
/// pack it: `--dlopen-notes` cannot meet it.
#[test]
fn a_note_library_that_cannot_be_found_gets_no_flag() {
    let dir = tmp();
    let (bin, lib) = (dir.path().join("bin"), dir.path().join("lib"));
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&lib).unwrap();
    fs::copy(fx("note/bin/app"), bin.join("app")).unwrap();
    fs::copy(fx("note/lib/libplug.so.1"), lib.join("libplug.so.1")).unwrap();
    let app = bin.join("app");
    let hint = format!(
        "{}: .note.dlopen names libreco.so.1 (feature reco, recommended) (not found where \
         dlopen from it would look)",
        app.display()
    );
    for level in [None, Some("--dlopen-notes=recommended")] {
        let mut args = vec![s(&app)];
        args.extend(level);
        assert_eq!(
            hints_of(dir.path(), &args),
            std::slice::from_ref(&hint),
            "{level:?}"
        );
        let needs = needs_of(dir.path(), &args);
        let notes = of_kind(&needs, "dlopen-note");
        let unmet: Vec<&&Value> = notes.iter().filter(|n| n["met"] == false).collect();
        assert_eq!(unmet.len(), 2, "{notes:?}");
        assert!(unmet.iter().all(|n| n["flag"].is_null()), "{notes:?}");
    }
    run_tool(dir.path(), ["--strict", s(&app)]).expect_code(1);
}

#[test]
fn a_malformed_note_is_a_warning_and_a_missing_required_library_an_error() {
    let dir = tmp();
    let app = fxs("note/bin/app-malformed");
    let run = run_tool(dir.path(), [&app]);
    let archive = run.archive();
    fs::remove_file(&run.out).unwrap();
    assert!(archive.is_file("usr/local/lib/libplug.so.1"));
    let warning = format!(
        "extract-elf-so: warning: {app}: malformed .note.dlopen: the note is not a JSON array"
    );
    assert!(run.stderr.lines().any(|l| l == warning), "{}", run.stderr);
    let absent = fxs("note/bin/app-absent");
    let run = run_tool(dir.path(), [&absent]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains(&format!("libabsent.so.1 (needed by {absent})")),
        "{}",
        run.stderr
    );
    assert!(!run.out.exists());
    let run = run_tool(dir.path(), ["--allow-missing", &absent]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("warning: not found: libabsent.so.1"),
        "{}",
        run.stderr
    );
}

/// A sysroot with a program that loads plugins, the directories it names,
/// a library named like OpenSSL's that names its own, and an ld.so.conf
/// directory.
fn plugin_root(root: &Path) {
    mini_sysroot(root);
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::copy(fx("needs/bin/plugins"), root.join("usr/bin/plugins")).unwrap();
    let multi = root.join("usr/lib/x86_64-linux-gnu");
    let leaf = fx("leaf/lib/libleaf.so.1.0.0");
    let modules = multi.join("needs/modules");
    fs::create_dir_all(modules.join("deep/er")).unwrap();
    fs::copy(&leaf, modules.join("one.so")).unwrap();
    fs::copy(&leaf, modules.join("deep/er/two.so.1")).unwrap();
    symlink("one.so", modules.join("alias.so")).unwrap();
    write(&modules.join("one.la"), "libtool\n");
    // libleaf with e_machine AArch64: not the program's machine.
    fs::copy(
        fx("wrongmachine/libother/libleaf.so.1"),
        modules.join("arm.so"),
    )
    .unwrap();
    fs::create_dir_all(multi.join("needs-engines")).unwrap();
    fs::copy(&leaf, multi.join("needs-engines/padlock.so")).unwrap();
    fs::create_dir_all(root.join("opt/engine/bin")).unwrap();
    fs::create_dir_all(root.join("opt/engine/lib")).unwrap();
    fs::copy(fx("engine/bin/app"), root.join("opt/engine/bin/app")).unwrap();
    fs::copy(
        fx("engine/lib/libcrypto.so.99"),
        root.join("opt/engine/lib/libcrypto.so.99"),
    )
    .unwrap();
    fs::create_dir_all(root.join("opt/conflib")).unwrap();
    fs::copy(&leaf, root.join("opt/conflib/libconf.so.1")).unwrap();
    write(&root.join("etc/ld.so.conf"), "/opt/conflib\n");
}

#[test]
fn plugin_directories_named_by_a_loading_object_get_a_hint() {
    let dir = tmp();
    let root = dir.path().join("root");
    plugin_root(&root);
    let program = root.join("usr/bin/plugins");
    let args = ["--root", s(&root), s(&program)];
    let modules = "/usr/lib/x86_64-linux-gnu/needs/modules";
    // Two shared objects of the program's machine (a link counted once,
    // one four levels down); the parent, the loader's (where it searches
    // and where it is) and ld.so.conf's directories are not plugin
    // directories.
    let size = 2 * fs::metadata(fx("leaf/lib/libleaf.so.1.0.0")).unwrap().len();
    // The flag takes the directory from the root: --add-file reads the host.
    let host = root.join(&modules[1..]);
    let hints = hints_of(dir.path(), &args);
    assert_eq!(
        hints,
        [format!(
            "/usr/bin/plugins: has the string \"{modules}\" (it loads code at run time, and \
             that directory holds 2 shared objects, {}): --add-file {}:{modules}",
            extract_elf_so::human(size),
            host.display()
        )]
    );
    let needs = needs_of(dir.path(), &args);
    let dirs = of_kind(&needs, "plugin-dir");
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert_eq!(dirs[0]["path"], modules);
    assert_eq!(dirs[0]["files"], 2);
    assert_eq!(dirs[0]["met"], false);
    // Packed whole with the hinted flag (with its .la file), the directory
    // is met. (The library of another machine there needs a libc the root
    // does not have.)
    let flag = hint_flags(&hints[0]);
    let mut with: Vec<&str> = args.to_vec();
    with.extend(flag.iter().map(String::as_str));
    with.push("--allow-missing");
    assert_eq!(hints_of(dir.path(), &with), Vec::<String>::new());
    let needs = needs_of(dir.path(), &with);
    assert_eq!(of_kind(&needs, "plugin-dir")[0]["met"], true);
    run_tool(dir.path(), ["--strict"].iter().chain(&with)).expect_code(0);
}

/// A plugin directory named through a link (as libbluray names
/// `/usr/lib/jvm/default-java`): `--add-file` of the link would pack only
/// the link, so the hint takes the contents from the real directory.
#[test]
fn a_plugin_directory_named_through_a_link_is_packed_from_its_target() {
    let dir = tmp();
    let root = dir.path().join("root");
    plugin_root(&root);
    let modules = "/usr/lib/x86_64-linux-gnu/needs/modules";
    let real = root.join("usr/lib/x86_64-linux-gnu/needs/modules-1.0");
    fs::rename(root.join(&modules[1..]), &real).unwrap();
    symlink("modules-1.0", root.join(&modules[1..])).unwrap();
    let program = root.join("usr/bin/plugins");
    let args = ["--root", s(&root), s(&program)];
    let hints = hints_of(dir.path(), &args);
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_eq!(
        hint_flags(&hints[0]),
        [
            "--add-file".to_string(),
            format!("{}:{modules}", real.display())
        ]
    );
    let mut with: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    with.extend(hint_flags(&hints[0]));
    with.push("--allow-missing".into());
    let with: Vec<&str> = with.iter().map(String::as_str).collect();
    assert_eq!(hints_of(dir.path(), &with), Vec::<String>::new());
    assert_eq!(
        of_kind(&needs_of(dir.path(), &with), "plugin-dir")[0]["met"],
        true
    );
}

#[test]
fn plugin_directories_of_the_exception_list_get_no_hint() {
    let dir = tmp();
    let root = dir.path().join("root");
    plugin_root(&root);
    let program = root.join("opt/engine/bin/app");
    let args = ["--root", s(&root), s(&program), "-d", "/opt/engine/bin"];
    assert_eq!(hints_of(dir.path(), &args), Vec::<String>::new());
    let needs = needs_of(dir.path(), &args);
    let dirs = of_kind(&needs, "plugin-dir");
    assert_eq!(dirs.len(), 1, "{needs:?}");
    assert_eq!(dirs[0]["object"], "/opt/engine/lib/libcrypto.so.99");
    assert_eq!(dirs[0]["path"], "/usr/lib/x86_64-linux-gnu/needs-engines");
    assert_eq!(dirs[0]["hint"], false);
}

/// The exceptions go by the `SONAME` of the library naming the directory:
/// the same library renamed libbluray (which names the JDK's directories)
/// gets no hint, renamed anything else it gets one.
#[test]
fn the_exception_list_goes_by_soname() {
    if !crate::util::require(have("patchelf"), "patchelf is not installed") {
        return;
    }
    for (soname, hinted) in [("libbluray.so.2", false), ("libplugins.so.1", true)] {
        let dir = tmp();
        let root = dir.path().join("root");
        plugin_root(&root);
        let lib = root.join("opt/engine/lib/libcrypto.so.99");
        let set = std::process::Command::new("patchelf")
            .args(["--set-soname", soname])
            .arg(&lib)
            .status()
            .unwrap();
        assert!(set.success());
        let program = root.join("opt/engine/bin/app");
        let args = ["--root", s(&root), s(&program), "-d", "/opt/engine/bin"];
        let needs = needs_of(dir.path(), &args);
        let dirs = of_kind(&needs, "plugin-dir");
        assert_eq!(dirs.len(), 1, "{soname}: {needs:?}");
        assert_eq!(dirs[0]["hint"], hinted, "{soname}");
        assert_eq!(
            hints_of(dir.path(), &args).len(),
            usize::from(hinted),
            "{soname}"
        );
    }
}

#[test]
fn a_program_that_names_its_own_directory_should_stay_there() {
    let dir = tmp();
    let root = dir.path().join("root");
    mini_sysroot(&root);
    let program = root.join("opt/own/bin/own");
    fs::create_dir_all(program.parent().unwrap()).unwrap();
    fs::copy(fx("needs/bin/own"), &program).unwrap();
    let args = ["--root", s(&root), s(&program)];
    assert_eq!(
        hints_of(dir.path(), &args),
        [
            "/opt/own/bin/own: has the string \"/opt/own/bin/../share/data\" \
          (it looks for its files relative to its own directory /opt/own/bin): -d /opt/own/bin"
        ]
    );
    let mut kept = args.to_vec();
    kept.extend(["-d", "/opt/own/bin"]);
    assert_eq!(hints_of(dir.path(), &kept), Vec::<String>::new());
    let needs = needs_of(dir.path(), &kept);
    let own = of_kind(&needs, "program-relative");
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["met"], true);
    // In a standard program directory the same string means nothing.
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    fs::copy(fx("needs/bin/own"), root.join("usr/bin/own")).unwrap();
    let in_std = root.join("usr/bin/own");
    let std_args = ["--root", s(&root), s(&in_std)];
    assert!(of_kind(&needs_of(dir.path(), &std_args), "program-relative").is_empty());
}

#[test]
fn files_beside_an_origin_directory_are_not_left_behind_silently() {
    let dir = tmp();
    let app = fx("origin-data/bin/app");
    let (bin, lib) = (app.parent().unwrap(), fx("origin-data/lib"));
    let (bin, lib) = (bin.display().to_string(), lib.display().to_string());
    let hint = |flags: &str| {
        format!(
            "{}: searches $ORIGIN/../lib ({lib} holds 1 file, 12 B, that the image lacks where it \
             will look): {flags}",
            app.display()
        )
    };
    let app = s(&app);
    assert_eq!(
        hints_of(dir.path(), &[app]),
        [hint(&format!("-d {bin} --add-file {lib}"))]
    );
    assert_eq!(
        hints_of(dir.path(), &[app, "-d", &bin]),
        [hint(&format!("--add-file {lib}"))]
    );
    let add = format!("--add-file={lib}");
    assert_eq!(
        hints_of(dir.path(), &[app, &add]),
        [hint(&format!("-d {bin}"))]
    );
    assert_eq!(
        hints_of(dir.path(), &[app, "-d", &bin, &add]),
        Vec::<String>::new()
    );
    // The tree shows it under the program, with what is lacking.
    let run = run_tool(dir.path(), ["--tree", app]);
    let want = format!(
        "    need program-relative {lib}: searches $ORIGIN/../lib (1 file, 12 B; not met: -d {bin} \
         --add-file {lib})"
    );
    assert!(run.stdout.lines().any(|l| l == want), "{}", run.stdout);
    // Met, the need is still there to see, with nothing lacking.
    let needs = needs_of(dir.path(), &[app, "-d", &bin, &add]);
    let origin = of_kind(&needs, "program-relative");
    assert_eq!(origin.len(), 1, "{needs:?}");
    assert_eq!(
        (&origin[0]["met"], &origin[0]["files"], &origin[0]["path"]),
        (
            &Value::from(true),
            &Value::from(0),
            &Value::from(lib.as_str())
        )
    );
    // Libraries found there are packed beside the program: nothing to say.
    let leaf = fxs("hello/bin/hello-leaf");
    assert_eq!(hints_of(dir.path(), &[&leaf]), Vec::<String>::new());
    assert!(of_kind(&needs_of(dir.path(), &[&leaf]), "program-relative").is_empty());
}

/// A sysroot with `origin-data`'s program in `/opt/od/bin` and its
/// `$ORIGIN/../lib` (its library and a file) in `/opt/od/lib`; returns the
/// two directories' host paths.
fn origin_root(root: &Path) -> (PathBuf, PathBuf) {
    mini_sysroot(root);
    let (bin, lib) = (root.join("opt/od/bin"), root.join("opt/od/lib"));
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&lib).unwrap();
    fs::copy(fx("origin-data/bin/app"), bin.join("app")).unwrap();
    for name in ["app.conf", "libleaf.so.1.0.0"] {
        fs::copy(fx(&format!("origin-data/lib/{name}")), lib.join(name)).unwrap();
    }
    symlink("libleaf.so.1.0.0", lib.join("libleaf.so.1")).unwrap();
    (bin, lib)
}

/// Inside a sysroot, the `$ORIGIN` directory comes from the root, where
/// `--add-file` would read the host.
#[test]
fn an_origin_directory_inside_a_root_is_added_from_the_root() {
    let dir = tmp();
    let root = dir.path().join("root");
    let (bin, lib) = origin_root(&root);
    let app = bin.join("app");
    let args = ["--root", s(&root), s(&app)];
    let hints = hints_of(dir.path(), &args);
    assert_eq!(
        hints,
        [format!(
            "/opt/od/bin/app: searches $ORIGIN/../lib (/opt/od/lib holds 1 file, 12 B, that \
             the image lacks where it will look): -d /opt/od/bin --add-file {}:/opt/od/lib",
            lib.display()
        )]
    );
    let mut with: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    with.extend(hint_flags(&hints[0]));
    let with: Vec<&str> = with.iter().map(String::as_str).collect();
    assert_eq!(hints_of(dir.path(), &with), Vec::<String>::new());
    let needs = needs_of(dir.path(), &with);
    assert_eq!(of_kind(&needs, "program-relative")[0]["met"], true);
}

/// A program that keeps its own loader in its `$ORIGIN` directory is still
/// told of the files there: the loader does not search the directory it is
/// in, which is no plugin directory either.
#[test]
fn an_origin_directory_holding_the_loader_is_still_a_need() {
    let dir = tmp();
    let root = dir.path().join("root");
    let (bin, lib) = origin_root(&root);
    // The loader the program names, /lib64/ld-linux-x86-64.so.2, is there.
    fs::copy(
        root.join("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
        lib.join("ld-linux-x86-64.so.2"),
    )
    .unwrap();
    fs::remove_file(root.join("lib64")).unwrap();
    symlink("opt/od/lib", root.join("lib64")).unwrap();
    let needs = needs_of(dir.path(), &["--root", s(&root), s(&bin.join("app"))]);
    let origin = of_kind(&needs, "program-relative");
    assert_eq!(origin.len(), 1, "{needs:?}");
    assert_eq!(
        (&origin[0]["path"], &origin[0]["met"]),
        (&Value::from("/opt/od/lib"), &Value::from(false))
    );
    assert!(of_kind(&needs, "plugin-dir").is_empty(), "{needs:?}");
}

#[test]
fn the_tree_shows_needs_and_each_subtree_once() {
    let dir = tmp();
    let app = fxs("rpath/bin/app");
    let users = fxs("needs/bin/users");
    let run = run_tool(dir.path(), ["--tree", &app, &users]);
    run.expect_code(0);
    let text = &run.stdout;
    // libc.so.6 is shown once per input; its other appearances refer back.
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("libc.so.6 =>"))
            .count(),
        2,
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.trim() == "(see above: libc.so.6)"),
        "{text}"
    );
    let need = text
        .lines()
        .find(|l| l.trim_start().starts_with("need users: "))
        .unwrap_or_else(|| panic!("no users need:\n{text}"));
    assert_eq!(
        need, "    need users: imports getpwnam (not met: --users)",
        "{text}"
    );
    // A note's library is shown as loaded with dlopen.
    let run = run_tool(dir.path(), ["--tree", &fxs("note/bin/app")]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("libplug.so.1 => ") && l.ends_with("[dlopen]")),
        "{}",
        run.stdout
    );
}

#[test]
fn the_tree_refers_back_to_a_subtree_shown_under_an_earlier_input() {
    let dir = tmp();
    // Two programs with the same private library: the second refers back.
    let bin = dir.path().join("two/bin");
    fs::create_dir_all(&bin).unwrap();
    let lib = dir.path().join("two/lib");
    fs::create_dir_all(&lib).unwrap();
    for name in ["libmid.so.1", "libleaf.so.1.0.0"] {
        fs::copy(fx(&format!("rpath/lib/{name}")), lib.join(name)).unwrap();
    }
    symlink("libleaf.so.1.0.0", lib.join("libleaf.so.1")).unwrap();
    for name in ["a", "b"] {
        fs::copy(fx("rpath/bin/app"), bin.join(name)).unwrap();
    }
    let run = run_tool(dir.path(), ["--tree", s(&bin.join("a")), s(&bin.join("b"))]);
    run.expect_code(0);
    let text = &run.stdout;
    let back = format!("(its libraries as under {})", bin.join("a").display());
    let mids: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("libmid.so.1 =>"))
        .collect();
    assert_eq!(mids.len(), 2, "{text}");
    assert!(
        !mids[0].ends_with(&back) && mids[1].ends_with(&back),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("libleaf.so.1 =>"))
            .count(),
        1,
        "{text}"
    );
}

/// Real Debian programs get the hints their imports and strings call for,
/// and no others (the programs are installed by `.ci/run`).
#[test]
fn real_programs_get_the_hints_they_need() {
    let dir = tmp();
    let net = ["--nss-net", "--cert"];
    let quiet: &[&str] = &["/usr/bin/redis-server", "/usr/bin/wrk", "/usr/bin/curl"];
    let _ca = crate::util::ca_read();
    for program in quiet {
        if !crate::util::require(have(program), &format!("{program} is not installed")) {
            continue;
        }
        let args = [net[0], net[1], program];
        assert_eq!(
            hints_of(dir.path(), &args),
            Vec::<String>::new(),
            "{program}"
        );
    }
    // Plugin directories as this machine has them.
    let plugins = |dir: &Path| -> Option<String> {
        let has = fs::read_dir(dir).ok()?.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.ends_with(".so")
        });
        has.then(|| format!("--add-file {}", dir.display()))
    };
    let nginx_modules = plugins(Path::new("/usr/lib/nginx/modules"));
    let magick: Vec<String> = fs::read_dir("/usr/lib/x86_64-linux-gnu")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("ImageMagick-6"))
        .flat_map(|e| ["coders", "filters"].map(|d| plugins(&e.path().join("modules-Q16").join(d))))
        .flatten()
        .collect();
    let mut nginx = vec!["--users".to_string(), "--tzdata".to_string()];
    nginx.extend(nginx_modules);
    let owned = |flags: &[&str]| flags.iter().map(|f| f.to_string()).collect::<Vec<_>>();
    let expected: Vec<(&str, Vec<String>)> = vec![
        ("/usr/bin/sqlite3", owned(&["--shell"])),
        ("/usr/bin/ssh-keygen", owned(&["--users"])),
        ("/usr/bin/id", owned(&["--users"])),
        ("/usr/bin/iconv", owned(&["--gconv"])),
        ("/usr/bin/date", owned(&["--tzdata"])),
        (
            "/usr/bin/python3",
            owned(&["--users", "--shell", "--tzdata"]),
        ),
        ("/usr/sbin/nginx", nginx),
        ("/usr/bin/convert", magick),
    ];
    for (program, flags) in expected {
        if !crate::util::require(have(program), &format!("{program} is not installed")) {
            continue;
        }
        let mut args: Vec<&str> = if program.ends_with("sqlite3") {
            net.to_vec()
        } else {
            Vec::new()
        };
        args.push(program);
        let got: Vec<String> = hints_of(dir.path(), &args)
            .iter()
            .map(|h| hint_flags(h).join(" "))
            .collect();
        assert_eq!(got, flags, "{program}");
    }
}

/// Real programs packed with the flags their hints name print no hint and
/// pass `--strict`: each flag packs what meets its need. perl names its
/// module directory through a link (`perl/5.36 -> 5.36.0` on Debian 12).
#[test]
fn real_programs_packed_with_their_hinted_flags_get_no_hint() {
    let dir = tmp();
    let programs = [
        "/usr/bin/perl",
        "/usr/bin/sqlite3",
        "/usr/bin/ssh-keygen",
        "/usr/bin/id",
        "/usr/bin/iconv",
        "/usr/bin/date",
        "/usr/bin/python3",
        "/usr/sbin/nginx",
        "/usr/bin/convert",
    ];
    for program in programs {
        if !crate::util::require(have(program), &format!("{program} is not installed")) {
            continue;
        }
        let hints = hints_of(dir.path(), &[program]);
        let flags: Vec<String> = hints.iter().flat_map(|h| hint_flags(h)).collect();
        assert!(!flags.is_empty(), "{program}: no hint");
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.push(program);
        assert_eq!(
            hints_of(dir.path(), &args),
            Vec::<String>::new(),
            "{args:?}"
        );
        args.insert(0, "--strict");
        run_tool(dir.path(), &args).expect_code(0);
    }
}

/// The run-time facts of the host's libraries agree with what their section
/// headers say (which the tool never reads): the number of dynamic symbols,
/// and the undefined ones asked about.
#[test]
fn symbol_counts_agree_with_the_section_headers() {
    let libs = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/bin/python3",
        "/usr/bin/curl",
        "/usr/sbin/nginx",
    ];
    let mut checked = 0;
    for lib in libs {
        let path = PathBuf::from(lib);
        if !path.exists() {
            continue;
        }
        let (count, undefined) = readelf_dynsym(&path);
        let asked: Vec<&'static str> = [
            "getpwnam",
            "dlopen",
            "system",
            "pthread_exit",
            "iconv_open",
            "tzset",
            "localtime_r",
            "__cxa_finalize",
        ]
        .to_vec();
        let facts = extract_elf_so::parse::read_runtime(&path, &asked).unwrap();
        let symbols = facts.symbols.unwrap();
        assert_eq!(symbols.count, count, "{lib}");
        let want: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|a| undefined.iter().any(|u| u == a))
            .collect();
        assert_eq!(symbols.imports, want, "{lib}");
        checked += 1;
    }
    assert!(checked >= 2, "too few host files to compare");
}

/// `.dynsym`'s entry count, and its undefined names (versions dropped), as
/// readelf reads them from the section headers.
fn readelf_dynsym(path: &Path) -> (u64, Vec<String>) {
    let out = std::process::Command::new("readelf")
        .args(["-W", "--dyn-syms"])
        .arg(path)
        .output()
        .expect("running readelf");
    let text = String::from_utf8_lossy(&out.stdout);
    let count = text
        .lines()
        .find_map(|l| {
            let rest = l.split("contains ").nth(1)?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .expect("readelf gives the count");
    let undefined = text
        .lines()
        .filter(|l| l.split_whitespace().nth(6) == Some("UND"))
        .filter_map(|l| l.split_whitespace().nth(7))
        .map(|n| n.split('@').next().unwrap().to_string())
        .collect();
    (count, undefined)
}

/// A file that exports nothing has a GNU hash table whose buckets are all
/// empty, and its imports lie below `symoffset`: they must still be found.
#[test]
fn imports_of_a_file_that_exports_nothing_are_found() {
    if !crate::util::require(have("gcc"), "needs gcc") {
        return;
    }
    let dir = tmp();
    let d = dir.path();
    write(&d.join("foo.c"), "int foo(void) { return 1; }\n");
    write(
        &d.join("empty.c"),
        "int foo(void); void _start(void) { foo(); for (;;); }\n",
    );
    let gcc = |args: &[&str]| {
        let ok = std::process::Command::new("gcc")
            .current_dir(d)
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "gcc {args:?}");
    };
    gcc(&["-shared", "-fPIC", "-o", "libfoo.so", "foo.c"]);
    gcc(&[
        "-nostartfiles",
        "-nostdlib",
        "-fPIE",
        "-pie",
        "-Wl,--hash-style=gnu",
        "-o",
        "empty",
        "empty.c",
        "-L.",
        "-lfoo",
    ]);
    let facts = extract_elf_so::parse::read_runtime(&d.join("empty"), &["foo"]).unwrap();
    let symbols = facts.symbols.unwrap();
    assert_eq!(symbols.imports, ["foo"]);
    assert_eq!(symbols.count, readelf_dynsym(&d.join("empty")).0);
}
