//! `parse::read_elf` on arbitrary bytes written to a file: never panic,
//! every error names the file, and reading twice gives the same.

#![no_main]

#[path = "common.rs"]
mod common;

use extract_elf_so::parse::read_elf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::temp_path("input.elf", |_| {});
    std::fs::write(path, data).expect("writing the input");
    let named = |e: &extract_elf_so::Error| common::assert_names(e, path);
    match read_elf(path) {
        Ok(file) => {
            match &file.facts {
                Ok(facts) => {
                    assert_eq!(facts.header, file.header);
                    let _ = facts.effective_rpath();
                }
                Err(e) => named(e),
            }
            // A second reading gives the same.
            let again = read_elf(path).expect("read once, read again");
            assert_eq!(again.header, file.header);
            assert_eq!(
                again.facts.as_ref().ok(),
                file.facts.as_ref().ok(),
                "facts differ between readings"
            );
        }
        Err(e) => named(&e),
    }
});
