//! `parse::read_elf` on arbitrary bytes written to a file: never panic,
//! every error names the file, and reading twice gives the same.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use extract_elf_so::chain;
use extract_elf_so::parse::read_elf;
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

fuzz_target!(|data: &[u8]| {
    let path = input_path();
    std::fs::write(path, data).expect("writing the input");
    let shown = path.display().to_string();
    let named = |e: &extract_elf_so::Error| {
        let text = chain(e);
        assert!(text.contains(&shown), "error without the path: {text}");
    };
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
