//! `parse::read_runtime` and `parse::scan_strings` on arbitrary bytes
//! written to a file, and `parse::note_descriptor` on the bytes themselves:
//! never panic, every error names the file, the strings passed on are no
//! more than the file holds.

#![no_main]

#[path = "common.rs"]
mod common;

use extract_elf_so::parse::{note_descriptor, read_elf, read_runtime, scan_strings};
use libfuzzer_sys::fuzz_target;

const ASKED: &[&str] = &["getpwnam", "dlopen", "pthread_exit", "iconv_open", "system"];

fuzz_target!(|data: &[u8]| {
    let _ = note_descriptor(data);
    let path = common::temp_path("input.elf", |_| {});
    std::fs::write(path, data).expect("writing the input");
    let named = |e: &extract_elf_so::Error| common::assert_names(e, path);
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
