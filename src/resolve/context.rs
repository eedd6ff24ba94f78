//! What resolving needs besides the input, shared by every input of a run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::elf::{ElfFacts, Files};
use crate::fsroot::Root;
use crate::loader::Loader;

/// The root to resolve in, the user's search directories, and what the run
/// has read so far.
#[derive(Debug, Clone)]
pub struct Context {
    pub root: Root,
    /// `--library-path` directories (host paths), searched where `LD_LIBRARY_PATH` would be.
    pub library_path: Vec<PathBuf>,
    /// Loaders already described, shared by the programs that use them, so
    /// the loader file and the cache are read once, not once per input.
    loaders: RefCell<Vec<Arc<Loader>>>,
    /// ELF files already read, so that a library many programs need is read
    /// once, not once per input.
    pub(super) files: Files,
    /// Host candidates already looked at (what `$ORIGIN` reaches from the
    /// inputs): the real path of a regular file, or `None`.
    host_files: RefCell<HashMap<PathBuf, Option<PathBuf>>>,
}

impl Context {
    pub fn new(root: Root, library_path: Vec<PathBuf>) -> Self {
        Context {
            root,
            library_path,
            loaders: RefCell::new(Vec::new()),
            files: Files::default(),
            host_files: RefCell::new(HashMap::new()),
        }
    }

    /// This context, sharing the host files `other` has read and will read.
    pub fn sharing_files(mut self, other: &Context) -> Self {
        self.files = other.files.clone();
        self
    }

    /// The ELF files this run has read.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The real path of the host file `path` when it is a regular file,
    /// looked at once.
    pub(super) fn host_file(&self, path: &Path) -> Option<PathBuf> {
        if let Some(known) = self.host_files.borrow().get(path) {
            return known.clone();
        }
        let file = match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
            }
            _ => None,
        };
        self.host_files
            .borrow_mut()
            .insert(path.to_path_buf(), file.clone());
        file
    }

    /// The loader that would run `program`, described once per kind.
    pub(super) fn loader_for(&self, program: &ElfFacts) -> Arc<Loader> {
        let libc = Loader::libc_of(program);
        let interp = program.interp.as_ref().map(PathBuf::from);
        let mut known = self.loaders.borrow_mut();
        let same =
            |t: &&Arc<Loader>| t.libc == libc && t.header == program.header && t.interp == interp;
        if let Some(t) = known.iter().find(same) {
            return Arc::clone(t);
        }
        let fresh = Arc::new(Loader::for_program(&self.root, program));
        known.push(Arc::clone(&fresh));
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_candidates_are_looked_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let t = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir(t.join("lib")).unwrap();
        std::fs::write(t.join("lib/libx.so.1.0"), b"x").unwrap();
        std::os::unix::fs::symlink("libx.so.1.0", t.join("lib/libx.so.1")).unwrap();
        let host = || Context::new(Root::host(), Vec::new());
        let ctx = host();
        let real = Some(t.join("lib/libx.so.1.0"));
        assert_eq!(ctx.host_file(&t.join("lib/libx.so.1")), real);
        assert_eq!(ctx.host_file(&t.join("lib")), None, "a directory");
        assert_eq!(ctx.host_file(&t.join("lib/liby.so.1")), None);
        std::fs::remove_file(t.join("lib/libx.so.1")).unwrap();
        std::fs::write(t.join("lib/liby.so.1"), b"y").unwrap();
        assert_eq!(ctx.host_file(&t.join("lib/libx.so.1")), real);
        assert_eq!(ctx.host_file(&t.join("lib/liby.so.1")), None);
        assert!(host().host_file(&t.join("lib/liby.so.1")).is_some());
    }
}
