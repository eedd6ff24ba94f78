//! The ELF files a run has read, each read once.
//!
//! Programs share their libraries: every input needs the loader and libc, many
//! need the same few others, and the check of the planned image meets them all
//! again. What reading a file gave (its header, facts and identity, or the
//! error) is kept by its host path for the rest of the run, which takes the
//! files not to change while it plans.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::elf::{self, ElfFile};
use crate::error::Result;

/// Host files read so far; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    read: Arc<Mutex<HashMap<PathBuf, Result<ElfFile>>>>,
}

impl Files {
    /// What reading the file at host path `path` gives (see [`elf::read`]),
    /// read the first time it is asked for. Errors name `path`.
    pub fn read(&self, path: &Path) -> Result<ElfFile> {
        if let Some(known) = self.lock().get(path) {
            return known.clone();
        }
        let read = elf::read(path);
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
        fs::copy("/bin/sh", &sh).unwrap();
        fs::write(&text, b"#!/bin/sh\n").unwrap();
        let files = Files::default();
        let first = files.read(&sh).unwrap();
        let failed = files.read(&text).unwrap_err();
        assert!(failed.to_string().starts_with(&text.display().to_string()));

        // Swap the contents: the kept readings are given again, by every clone.
        fs::rename(&sh, tmp.path().join("tmp")).unwrap();
        fs::rename(&text, &sh).unwrap();
        fs::rename(tmp.path().join("tmp"), &text).unwrap();
        let clone = files.clone();
        let again = clone.read(&sh).unwrap();
        assert_eq!(again.header, first.header);
        assert_eq!(again.facts.unwrap(), first.facts.unwrap());
        assert_eq!(again.id, first.id);
        assert_eq!(
            clone.read(&text).unwrap_err().to_string(),
            failed.to_string()
        );
        assert!(Files::default().read(&text).is_ok());
    }
}
