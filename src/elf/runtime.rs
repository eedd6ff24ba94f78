//! What an object asks for after it starts, as far as its file says: the
//! symbols it imports and the libraries its `.note.dlopen` notes name.
//!
//! Read apart from [`ElfFacts`](super::ElfFacts), and only for the objects a
//! run packs: resolving never needs them, and candidates the loader passes
//! over are never read for them.

use std::path::Path;

use object::ReadCache;

use super::header::Header;
use super::layout::Layout;
use super::notes::{self, NoteEntry};
use super::symbols::{self, Symbols};
use super::window::Window;
use crate::error::{Error, Result};

/// The run-time facts of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeFacts {
    pub header: Header,
    /// The dynamic symbol table, or why it cannot be read.
    pub symbols: std::result::Result<Symbols, String>,
    /// Every entry of its dlopen notes, or why one cannot be read.
    pub notes: Vec<NoteEntry>,
}

impl RuntimeFacts {
    /// Of the names asked about, those the object imports (none when its
    /// symbol table cannot be read).
    pub fn imports(&self) -> &[&'static str] {
        match &self.symbols {
            Ok(symbols) => &symbols.imports,
            Err(_) => &[],
        }
    }
}

/// Reads the run-time facts of the ELF file at `path`: which of `wanted`
/// it imports, and its dlopen notes. Fails when the file is not ELF or its
/// program headers cannot be read; a symbol table or a note that cannot be
/// read is reported inside.
pub fn read_runtime(path: &Path, wanted: &[&'static str]) -> Result<RuntimeFacts> {
    let (window, len, _) = Window::open(path)?;
    let cache = ReadCache::new(window);
    let header = Header::read(&cache, len, path)?;
    let layout = Layout::read(&cache, len, header).map_err(|e| Error::malformed(path, e))?;
    Ok(RuntimeFacts {
        header,
        symbols: symbols::imports(&cache, &layout, wanted),
        notes: notes::dlopen_notes(&cache, &layout),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::fixtures;

    #[test]
    fn a_program_imports_what_it_calls() {
        let path = fixtures().join("hello/bin/hello");
        let facts = read_runtime(&path, &["puts", "getpwnam", "__libc_start_main"]).unwrap();
        assert_eq!(facts.imports(), ["puts", "__libc_start_main"]);
        let count = facts.symbols.as_ref().unwrap().count;
        assert!((3..100).contains(&count), "{count}");
        assert!(facts.notes.is_empty(), "{:?}", facts.notes);
        // A library that imports nothing asked about.
        let lib = fixtures().join("hello/lib/libleaf.so.1.0.0");
        let facts = read_runtime(&lib, &["getpwnam"]).unwrap();
        assert!(facts.imports().is_empty());
        assert!(facts.symbols.is_ok());
    }

    #[test]
    fn a_static_program_has_no_dynamic_symbols() {
        let path = fixtures().join("static/bin/app");
        let facts = read_runtime(&path, &["puts"]).unwrap();
        assert_eq!(facts.imports(), [] as [&str; 0]);
    }
}
