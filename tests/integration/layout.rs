//! The layout CONTRIBUTING.md promises: imports go one way down the pipeline,
//! the command line uses only the library's face, and no module grows past
//! its size limit. Read from the source files, so a change that breaks a
//! rule fails here with the file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may import only from lower layers (or
/// from itself). Modules on one line are siblings and may not import each other.
const LAYERS: &[&[&str]] = &[
    &["error"],
    &["elf"],
    &["fsroot"],
    &["loader"],
    &["resolve"],
    &["needs"],
    &["plan"],
    &["extras", "view", "write"],
    &["image"],
    &["pipeline"],
    &["lib"],
];

/// Lines of code a module may have above its unit tests.
const MAX_MODULE_LINES: usize = 400;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top-level module a file of `src/` belongs to (`lib` for lib.rs).
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The lines of a file above its unit tests, numbered from 1.
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(file)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// The crate modules a line names as `crate::NAME`.
fn crate_refs(line: &str) -> Vec<String> {
    line.match_indices("crate::")
        .map(|(at, m)| {
            line[at + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn imports_go_one_way_down_the_pipeline() {
    let mut wrong = Vec::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        if module == "main" || module == "cli" {
            continue;
        }
        let Some(mine) = layer(&module) else {
            wrong.push(format!("{}: module {module} has no layer", file.display()));
            continue;
        };
        for (n, line) in code_lines(&file) {
            for target in crate_refs(&line) {
                let allowed = target == module || layer(&target).is_some_and(|t| t < mine);
                if !allowed {
                    wrong.push(format!(
                        "{}:{n}: {module} imports {target}: {}",
                        file.display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_library_keeps_its_modules_private() {
    // The binary can reach only what lib.rs exports (the compiler sees to
    // that); here, lib.rs must export no module but the parsers' face and,
    // for unit tests only, the shared test builders.
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut cfg_test = false;
    let mut public = Vec::new();
    for line in lib.lines() {
        if let Some(name) = line.strip_prefix("pub mod ") {
            let name = name.trim_end_matches([';', ' ', '{']);
            if !cfg_test && name != "parse" {
                public.push(name.to_string());
            }
        }
        if line.starts_with("#[cfg(test)]") {
            cfg_test = true;
        } else if !line.starts_with("#[") {
            cfg_test = false;
        }
    }
    assert!(public.is_empty(), "public modules in lib.rs: {public:?}");
}

#[test]
fn modules_stay_small() {
    let mut big = Vec::new();
    for file in rust_files(&src()) {
        let n = code_lines(&file).len();
        if n > MAX_MODULE_LINES {
            big.push(format!("{}: {n} lines above its tests", file.display()));
        }
    }
    assert!(
        big.is_empty(),
        "modules over {MAX_MODULE_LINES} lines:\n{}",
        big.join("\n")
    );
}

#[test]
fn the_rules_read_what_they_should() {
    assert_eq!(crate_refs("use crate::plan::{Plan, Role};"), ["plan"]);
    assert!(layer("view") > layer("plan"));
    assert!(layer("plan") < layer("extras"));
    assert!(layer("resolve") < layer("needs") && layer("needs") < layer("plan"));
    assert_eq!(module_of(&src().join("resolve/walk.rs")), "resolve");
    assert_eq!(module_of(&src().join("pipeline.rs")), "pipeline");
}
