//! `parse::read_runtime` and `parse::scan_strings` on arbitrary bytes
//! written to a file, and `parse::note_descriptor` on the bytes themselves:
//! never panic, every error names the file, the strings passed on are no
//! more than the file holds.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use extract_elf_so::chain;
use extract_elf_so::parse::{note_descriptor, read_elf, read_runtime, scan_strings};
use libfuzzer_sys::fuzz_target;

fn input_path() -> &'static PathBuf {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("input.elf");
        (dir, path)
    });
    path
}

const ASKED: &[&str] = &["getpwnam", "dlopen", "pthread_exit", "iconv_open", "system"];

fuzz_target!(|data: &[u8]| {
    let _ = note_descriptor(data);
    let path = input_path();
    std::fs::write(path, data).expect("writing the input");
    let shown = path.display().to_string();
    let named = |e: &extract_elf_so::Error| {
        let text = chain(e);
        assert!(text.contains(&shown), "error without the path: {text}");
    };
    match read_runtime(path, ASKED) {
        Ok(facts) => {
            if let Ok(file) = read_elf(path) {
                assert_eq!(facts.header, file.header);
            }
            if let Ok(symbols) = &facts.symbols {
                assert!(symbols.imports.iter().all(|i| ASKED.contains(i)));
            }
        }
        Err(e) => named(&e),
    }
    let mut bytes = 0usize;
    match scan_strings(path, |s| bytes += s.len()) {
        Ok(()) => assert!(bytes <= data.len(), "more string bytes than the file"),
        Err(e) => named(&e),
    }
});
