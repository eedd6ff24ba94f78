//! Opening one candidate file as the target's loader would, and its verdict.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::context::Context;
use super::model::Loc;
use crate::elf::{Check, ElfFacts, FileId, check};
use crate::error::{Error, chain};
use crate::loader::{Libc, Loader};

/// What probing one candidate path gave.
pub(super) enum Probe {
    /// Nothing there (or nothing the loader may open): try the next one.
    Absent,
    /// glibc passes over this file, for the reason given.
    Skip(String),
    /// The loader would stop the search here with this error.
    Fatal(String),
    Found(Box<Candidate>),
}

/// A file the loader would load.
pub(super) struct Candidate {
    pub source: PathBuf,
    pub facts: Arc<ElfFacts>,
    pub id: FileId,
}

/// Opens the candidate at `loc` as `loader` would and checks it fits.
pub(super) fn probe(ctx: &Context, loader: &Loader, loc: &Loc) -> Probe {
    let source = match loc {
        Loc::InRoot(p) => match ctx.root.follow(p) {
            Ok(r) => match r.file {
                Some(host) => host,
                None => return Probe::Absent,
            },
            Err(Error::SymlinkLoop { path }) => {
                return Probe::Skip(format!(
                    "{}: too many levels of symbolic links",
                    path.display()
                ));
            }
            Err(_) => return Probe::Absent,
        },
        // A planned image has nothing outside itself: a host path there
        // (an input's `$ORIGIN` outside the image) must not find a host file.
        Loc::Host(_) if ctx.root.dir().is_none() => return Probe::Absent,
        Loc::Host(p) => match ctx.host_file(p) {
            Some(real) => real,
            None => return Probe::Absent,
        },
    };
    let file = match ctx.files.get(&source) {
        Ok(file) => file,
        Err(e) if e.is_io(io::ErrorKind::NotFound) || e.is_io(io::ErrorKind::PermissionDenied) => {
            return Probe::Absent;
        }
        Err(Error::NotElf { .. }) => {
            return Probe::Fatal(format!("{loc}: invalid ELF header (not an ELF file)"));
        }
        Err(e) => return Probe::Fatal(format!("{loc}: {}", without_path(&e, &source))),
    };
    let verdict = check(&loader.header, &file.header);
    match (loader.libc, verdict) {
        (_, Check::Fatal(why)) => return Probe::Fatal(format!("{loc}: {why}")),
        (Libc::Glibc, Check::Skip(why)) => return Probe::Skip(format!("{loc}: {why}")),
        (Libc::Musl, Check::Skip(why)) => {
            return Probe::Fatal(format!("{loc}: {why}, and musl would load it anyway"));
        }
        (_, Check::Ok) => {}
    }
    let facts = match file.facts {
        Ok(f) => f,
        Err(e) => return Probe::Fatal(format!("{loc}: {}", without_path(&e, &source))),
    };
    Probe::Found(Box::new(Candidate {
        source,
        facts,
        id: file.id,
    }))
}

/// An error's text without the leading "path: " it carries.
fn without_path(err: &Error, path: &Path) -> String {
    let text = chain(err);
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix)
        .map(str::to_string)
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::Root;

    #[test]
    fn a_file_read_once_is_checked_for_each_requester() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("lib")).unwrap();
        let fixtures = crate::test_fixtures::fixtures();
        std::fs::copy(
            fixtures.join("leaf/lib/libleaf.so.1.0.0"),
            tmp.path().join("lib/libx.so.1"),
        )
        .unwrap();
        let program = crate::elf::read_elf(&fixtures.join("hello/bin/hello"))
            .unwrap()
            .facts
            .unwrap();
        let ctx = Context::new(Root::new(tmp.path()), Vec::new());
        let fits = Loader::for_program(&ctx.root, &program);
        let mut other_class = fits.clone();
        other_class.header.class ^= 3; // 32 <-> 64 bits
        let verdict =
            |loader: &Loader| match probe(&ctx, loader, &Loc::InRoot("/lib/libx.so.1".into())) {
                Probe::Found(found) => format!("found {}", found.source.display()),
                Probe::Skip(why) => format!("skip {why}"),
                Probe::Fatal(why) => format!("fatal {why}"),
                Probe::Absent => "absent".into(),
            };
        let skip = verdict(&other_class);
        assert!(
            skip.starts_with("skip /lib/libx.so.1: wrong ELF class"),
            "{skip}"
        );
        let host = tmp.path().join("lib/libx.so.1");
        assert_eq!(verdict(&fits), format!("found {}", host.display()));
        assert_eq!(verdict(&other_class), skip);
    }
}
