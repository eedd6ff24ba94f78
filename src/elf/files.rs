//! Reading ELF files, each once per run.
//!
//! Programs share their libraries: every input needs the loader and libc, many
//! need the same few others, and the check of the planned image meets them all
//! again. What reading a file gave (its header, facts and identity, or the
//! error) is kept by its host path for the rest of the run, which takes the
//! files not to change while it plans.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use object::ReadCache;

use super::facts::{self, ElfFacts};
use super::header::Header;
use super::window::Window;
use crate::error::{Error, Result};

/// Which file a path leads to: its device and inode, as the loader compares
/// them to find an object it already loaded under another path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    /// The identity of the file `meta` describes.
    pub fn of(meta: &Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// What one reading of an ELF file gave.
#[derive(Debug, Clone)]
pub struct ElfFile {
    pub header: Header,
    /// The facts, or why they cannot be read although the header can.
    pub facts: Result<Arc<ElfFacts>>,
    pub id: FileId,
}

/// Reads the header, the facts and the identity of the file at `path`, in
/// one opening. A file that is not a readable ELF file fails; one whose
/// header reads but whose program headers or dynamic section do not gives
/// its header with the facts' error.
pub fn read_elf(path: &Path) -> Result<ElfFile> {
    let (window, len, id) = Window::open(path)?;
    let cache = ReadCache::new(window);
    let header = Header::read(&cache, len, path)?;
    let facts = facts::read(&cache, len, header)
        .map(Arc::new)
        .map_err(|reason| Error::malformed(path, reason));
    Ok(ElfFile { header, facts, id })
}

/// Host files read so far; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    read: Arc<Mutex<HashMap<PathBuf, Result<ElfFile>>>>,
}

impl Files {
    /// What reading the file at host path `path` gives (see [`read_elf`]),
    /// read the first time it is asked for. Errors name `path`.
    pub fn get(&self, path: &Path) -> Result<ElfFile> {
        if let Some(known) = self.lock().get(path) {
            return known.clone();
        }
        let read = read_elf(path);
        self.lock().insert(path.to_path_buf(), read.clone());
        read
    }

    /// Keeps a reading of the file at host path `path` made through another
    /// path to it, for later requests.
    pub fn keep(&self, path: &Path, file: ElfFile) {
        self.lock().insert(path.to_path_buf(), Ok(file));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, Result<ElfFile>>> {
        self.read.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_file_is_read_once_and_its_failure_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let (sh, text) = (tmp.path().join("sh"), tmp.path().join("text"));
        fs::copy(
            crate::test_fixtures::fixtures().join("hello/bin/hello"),
            &sh,
        )
        .unwrap();
        fs::write(&text, b"#!/bin/sh\n").unwrap();
        let files = Files::default();
        let first = files.get(&sh).unwrap();
        let failed = files.get(&text).unwrap_err();
        assert!(failed.to_string().starts_with(&text.display().to_string()));

        // Swap the contents: the kept readings are given again, by every clone.
        fs::rename(&sh, tmp.path().join("tmp")).unwrap();
        fs::rename(&text, &sh).unwrap();
        fs::rename(tmp.path().join("tmp"), &text).unwrap();
        let clone = files.clone();
        let again = clone.get(&sh).unwrap();
        assert_eq!(again.header, first.header);
        assert_eq!(again.facts.unwrap(), first.facts.unwrap());
        assert_eq!(again.id, first.id);
        assert_eq!(
            clone.get(&text).unwrap_err().to_string(),
            failed.to_string()
        );
        assert!(Files::default().get(&text).is_ok());
    }
}
