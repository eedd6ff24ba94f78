//! `elf::read`, `elf::read_facts` and `elf::read_header` on arbitrary bytes
//! written to a file: never panic, every error names the file, and the three
//! agree.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use extract_elf_so::elf;
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

    let header = elf::read_header(path);
    if let Err(e) = &header {
        assert!(
            e.to_string().contains(&shown),
            "error without the path: {e}"
        );
    }
    let whole = elf::read(path);
    match &whole {
        Ok(file) => {
            assert_eq!(header.as_ref().ok(), Some(&file.header));
            if let Err(e) = &file.facts {
                assert!(e.to_string().contains(&shown), "error without the path: {e}");
            }
        }
        Err(e) => {
            assert!(header.is_err(), "read failed where read_header did not: {e}");
            assert!(e.to_string().contains(&shown), "error without the path: {e}");
        }
    }
    match elf::read_facts(path) {
        Ok(facts) => {
            // Whatever read_facts accepts, read_header and read accept the same way.
            assert_eq!(header.as_ref().ok(), Some(&facts.header));
            let read = whole.as_ref().ok().and_then(|f| f.facts.as_ref().ok());
            assert_eq!(read, Some(&facts));
            let _ = facts.effective_rpath();
            let _ = facts.is_static();
        }
        Err(e) => assert!(
            e.to_string().contains(&shown),
            "error without the path: {e}"
        ),
    }
});
