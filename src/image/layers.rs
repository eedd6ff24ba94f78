//! The image's layers: the plan split by what changes least, each part
//! written as its own tar stream (the archive writer's), compressed and
//! hashed in one pass into a blob.
//!
//! 1. `base`: the loader and the C library, with every link on the paths
//!    the loader reaches them by (`lib64 -> usr/lib64`, ...). Every dynamic
//!    program of one host has the same one.
//! 2. `libraries`: the other shared libraries, `--add` files, NSS modules
//!    and files, the loader's configuration.
//! 3. `files`: the inputs, `--add-file` files and directory inputs, and the
//!    CA bundle.
//!
//! Each layer carries the directories above its own entries, so it unpacks
//! on its own; their union is the archive's tree. Every entry's time is the
//! image's time, not the host file's, so a layer's digest depends only on
//! the files' bytes, modes and places: two hosts with the same libraries give
//! the same base layer.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use tempfile::NamedTempFile;

use super::blob::{Behind, Blob, Compressor, Hashing, Store};
use super::config::Compression;
use super::error::ImageError;
use crate::fsroot::{ArchivePath, Node};
use crate::plan::{Plan, Planned, Role};
use crate::resolve::Via;
use crate::write::ChunkedGz;

/// Bytes buffered before the compressed layer reaches its file.
const BUFFER: usize = 256 * 1024;

/// The parts of the image, in layer order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Base,
    Libraries,
    Files,
}

impl Part {
    /// A short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            Part::Base => "base",
            Part::Libraries => "libraries",
            Part::Files => "files",
        }
    }

    /// What the part holds, for the image's history and `--report`.
    pub fn what(self) -> &'static str {
        match self {
            Part::Base => "the loader and the C library",
            Part::Libraries => "other shared libraries, NSS and loader configuration",
            Part::Files => "the inputs and added files",
        }
    }
}

/// A written layer.
#[derive(Debug, Clone)]
pub struct Layer {
    pub part: Part,
    /// Entries of its own (not counting the directories above them).
    pub entries: usize,
    /// Bytes of file content of its own.
    pub content: u64,
    /// Uncompressed tar bytes.
    pub tar_bytes: u64,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    pub blob: Blob,
}

/// Splits the plan into the parts that have entries, each a plan of its own
/// entries and the directories above them, every time set to `epoch`.
pub fn split(planned: &Planned, epoch: u64) -> Vec<(Part, Plan, usize)> {
    let base = base_paths(planned);
    let part_of = |path: &ArchivePath, role: Role| {
        if base.contains(path) {
            return Part::Base;
        }
        match role {
            Role::Input | Role::Extra | Role::Cert => Part::Files,
            _ => Part::Libraries,
        }
    };
    let mut out = Vec::new();
    for part in [Part::Base, Part::Libraries, Part::Files] {
        let own: Vec<&ArchivePath> = planned
            .plan
            .entries
            .iter()
            .filter(|e| !(e.node == Node::Dir && e.role == Role::Parent))
            .filter(|e| part_of(&e.path, e.role) == part)
            .map(|e| &e.path)
            .collect();
        if own.is_empty() {
            continue;
        }
        let mut keep: HashSet<&Path> = HashSet::new();
        for path in &own {
            keep.extend(path.as_path().ancestors());
        }
        let entries = planned
            .plan
            .entries
            .iter()
            .filter(|e| keep.contains(e.path.as_path()))
            .map(|e| {
                let mut e = e.clone();
                e.mtime = epoch;
                e
            })
            .collect();
        out.push((part, Plan { entries }, own.len()));
    }
    out
}

/// Archive paths of the base part: the loader and the C library as the
/// loader reaches them, links included.
fn base_paths(planned: &Planned) -> HashSet<ArchivePath> {
    let root = crate::plan::image_root(&planned.plan);
    let mut paths = HashSet::new();
    for object in planned.closures.iter().flat_map(|c| &c.objects) {
        if !in_base(object.via, object.facts.soname.as_deref(), &object.at) {
            continue;
        }
        let places = std::iter::once(&object.at).chain(object.aliases.iter().map(|(_, at)| at));
        for at in places {
            let Ok(followed) = root.follow(at.as_path()) else {
                continue;
            };
            let links = followed.links.iter().map(|l| l.path.as_path());
            for path in links.chain(std::iter::once(followed.real.as_path())) {
                paths.insert(ArchivePath::normalized(path));
            }
        }
    }
    paths
}

/// The loader itself, and glibc's or musl's C library.
fn in_base(via: Via, soname: Option<&OsStr>, at: &ArchivePath) -> bool {
    let is_libc = |name: &OsStr| {
        let name = name.as_bytes();
        name.starts_with(b"libc.so") || name.starts_with(b"libc.musl-")
    };
    match via {
        Via::Interpreter => true,
        Via::Input => false,
        _ => soname.is_some_and(is_libc) || at.file_name().is_some_and(is_libc),
    }
}

/// Writes the parts' layers into `store`, in order. gzip layers go through
/// one compressor, cut between layers ([`ChunkedGz::cut`]): each layer's
/// bytes are those it would have alone, and the workers compress the end of
/// one layer while the next is read instead of waiting for it. zstd layers
/// are written one after the other.
pub fn write_all(
    parts: Vec<(Part, Plan, usize)>,
    compression: Compression,
    level: u32,
    store: &Store,
) -> Result<Vec<Layer>, ImageError> {
    if compression == Compression::Zstd || parts.is_empty() {
        return parts
            .into_iter()
            .map(|(part, plan, own)| write(part, &plan, own, compression, level, store))
            .collect();
    }
    let dir = store.temp_dir();
    let io = |e| ImageError::io(dir, e);
    let temps = parts
        .iter()
        .map(|_| store.temp())
        .collect::<Result<_, _>>()?;
    let mut buf = crate::write::copy_buffer(dir)?;
    let files = LayerFiles::new(temps, store.durable()).map_err(io)?;
    let mut sink = Hashing::new(ChunkedGz::new(files, level));
    let mut tars = Vec::new();
    for (i, (_, plan, _)) in parts.iter().enumerate() {
        let (back, tar_bytes) = crate::write::tar_into(plan, sink, dir, &mut buf)?;
        sink = back;
        let diff_id = sink.take();
        tars.push((diff_id, tar_bytes));
        if i + 1 < parts.len() {
            sink.inner.cut(LayerFiles::end_layer).map_err(io)?;
        }
    }
    let (_, _, gz) = sink.finish();
    let mut files = gz.finish().map_err(io)?;
    files.end_layer().map_err(io)?;
    if files.done.len() != parts.len() {
        return Err(io(no_layer()));
    }
    let mut layers = Vec::new();
    for ((part, plan, own), (tar, (temp, digest, size))) in
        parts.into_iter().zip(tars.into_iter().zip(files.done))
    {
        let blob = Blob { digest, size };
        layers.push(keep(store, temp, (part, &plan, own), tar, blob)?);
    }
    Ok(layers)
}

/// The temporary files of gzip layers written one after the other by one
/// compressor: what is written goes to the current layer's file, hashed on
/// the way; [`end_layer`](Self::end_layer) finishes that file and moves on.
struct LayerFiles {
    durable: bool,
    current: Option<(NamedTempFile, Hashing<BufWriter<Behind<File>>>)>,
    next: VecDeque<NamedTempFile>,
    /// Finished layers: the file, its digest and size.
    done: Vec<(NamedTempFile, String, u64)>,
}

impl LayerFiles {
    fn new(temps: VecDeque<NamedTempFile>, durable: bool) -> io::Result<Self> {
        let mut files = LayerFiles {
            durable,
            current: None,
            next: temps,
            done: Vec::new(),
        };
        files.open_next()?;
        Ok(files)
    }

    /// Starts writing the next layer's file, synced as it grows when the
    /// store is durable.
    fn open_next(&mut self) -> io::Result<()> {
        let Some(temp) = self.next.pop_front() else {
            return Ok(());
        };
        let outer = open_blob(&temp, self.durable)?;
        self.current = Some((temp, outer));
        Ok(())
    }

    /// The current layer's members are all written: flushes its file and
    /// waits for its write-behind, and starts the next layer's.
    fn end_layer(&mut self) -> io::Result<()> {
        let (temp, outer) = self.current.take().ok_or_else(no_layer)?;
        let (digest, size) = close_blob(outer)?;
        self.done.push((temp, digest, size));
        self.open_next()
    }
}

/// The writer of a layer's compressed bytes into `temp`: buffered, hashed,
/// and synced as it grows when `durable`.
fn open_blob(temp: &NamedTempFile, durable: bool) -> io::Result<Hashing<BufWriter<Behind<File>>>> {
    let file = temp.as_file().try_clone()?;
    let synced = match durable {
        true => Some(temp.as_file().try_clone()?),
        false => None,
    };
    Ok(Hashing::new(BufWriter::with_capacity(
        BUFFER,
        Behind::new(file, synced),
    )))
}

/// Flushes a layer's file and waits for its write-behind; returns the
/// digest and size of what was written.
fn close_blob(outer: Hashing<BufWriter<Behind<File>>>) -> io::Result<(String, u64)> {
    let (digest, size, buffered) = outer.finish();
    buffered
        .into_inner()
        .map_err(|e| e.into_error())?
        .finish()?;
    Ok((digest, size))
}

fn no_layer() -> io::Error {
    io::Error::other("the layers written are not the layers planned")
}

impl Write for LayerFiles {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.current.as_mut().ok_or_else(no_layer)?.1.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.current {
            Some((_, outer)) => outer.flush(),
            None => Ok(()),
        }
    }
}

/// Writes one part as a compressed blob: the tar stream is hashed (the
/// layer's diff ID), compressed, and hashed again (its digest) as it goes
/// to the store, each source file read once; a durable store's blob is
/// synced to disk while it grows.
pub fn write(
    part: Part,
    plan: &Plan,
    own: usize,
    compression: Compression,
    level: u32,
    store: &Store,
) -> Result<Layer, ImageError> {
    let temp = store.temp()?;
    let path = temp.path().to_path_buf();
    let io = |e| ImageError::io(&path, e);
    let mut buf = crate::write::copy_buffer(&path)?;
    let outer = open_blob(&temp, store.durable()).map_err(io)?;
    let inner = Hashing::new(Compressor::new(outer, compression, level).map_err(io)?);
    let (inner, tar_bytes) = crate::write::tar_into(plan, inner, &path, &mut buf)?;
    let (diff_id, _, compressor) = inner.finish();
    let (digest, size) = close_blob(compressor.finish().map_err(io)?).map_err(io)?;
    let blob = Blob { digest, size };
    keep(store, temp, (part, plan, own), (diff_id, tar_bytes), blob)
}

/// Stores a finished layer's file under its digest: the layer of `part`
/// (its plan and how many entries are its own), with its tar's digest and
/// size.
fn keep(
    store: &Store,
    temp: NamedTempFile,
    (part, plan, own): (Part, &Plan, usize),
    (diff_id, tar_bytes): (String, u64),
    blob: Blob,
) -> Result<Layer, ImageError> {
    store.keep(temp, &blob.digest)?;
    Ok(Layer {
        part,
        entries: own,
        content: plan.content_size(),
        tar_bytes,
        diff_id,
        blob,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsroot::Root;
    use crate::plan::Planner;
    use crate::resolve::{self, Context};
    use crate::test_fixtures::fixtures;
    use std::collections::BTreeSet;
    use std::fs;

    fn planned(program: &Path) -> Planned {
        let ctx = Context::new(Root::host(), Vec::new());
        let at = ArchivePath::normalized(Path::new("/app/prog"));
        let closure = resolve::input(&ctx, program, at).unwrap();
        let mut planner = Planner::new(Root::host(), None);
        planner.add_closure(&closure, Role::Input).unwrap();
        Planned {
            plan: planner.finish(),
            closures: vec![closure],
            missing: Vec::new(),
            dropped_setid: Vec::new(),
            needs: Vec::new(),
            packed_dirs: Vec::new(),
        }
    }

    #[test]
    fn layers_through_one_compressor_are_those_written_one_by_one() {
        let planned = planned(&fixtures().join("hello/bin/hello-leaf"));
        let tmp = tempfile::tempdir().unwrap();
        let (one_dir, alone_dir) = (tmp.path().join("one"), tmp.path().join("alone"));
        fs::create_dir(&one_dir).unwrap();
        fs::create_dir(&alone_dir).unwrap();
        let (one, alone) = (
            Store::new(&one_dir, &one_dir),
            Store::new(&alone_dir, &alone_dir),
        );
        let shared = write_all(split(&planned, 7), Compression::Gzip, 6, &one).unwrap();
        let by_one: Vec<Layer> = split(&planned, 7)
            .into_iter()
            .map(|(part, plan, own)| write(part, &plan, own, Compression::Gzip, 6, &alone).unwrap())
            .collect();
        assert_eq!(shared.len(), 3);
        // The base layer holds libc: several chunks, the last one short.
        assert!(shared[0].tar_bytes > 2 << 20);
        for (a, b) in shared.iter().zip(&by_one) {
            assert_eq!(
                (a.part, &a.diff_id, &a.blob, a.tar_bytes, a.entries),
                (b.part, &b.diff_id, &b.blob, b.tar_bytes, b.entries)
            );
            assert_eq!(
                fs::read(one.path(&a.blob.digest)).unwrap(),
                fs::read(alone.path(&b.blob.digest)).unwrap()
            );
        }
        let names = fs::read_dir(&one_dir).unwrap().count();
        assert_eq!(names, 3, "one blob a layer, no temporary file left");
    }

    #[test]
    fn the_layers_share_out_the_plan_and_together_make_its_tree() {
        let planned = planned(&fixtures().join("hello/bin/hello-leaf"));
        let parts = split(&planned, 7);
        let names: Vec<Part> = parts.iter().map(|(p, _, _)| *p).collect();
        assert_eq!(names, [Part::Base, Part::Libraries, Part::Files]);
        let owned = planned
            .plan
            .entries
            .iter()
            .filter(|e| !(e.node == Node::Dir && e.role == Role::Parent))
            .count();
        assert_eq!(parts.iter().map(|(_, _, own)| own).sum::<usize>(), owned);
        let all: BTreeSet<&ArchivePath> = planned.plan.entries.iter().map(|e| &e.path).collect();
        let union: BTreeSet<&ArchivePath> = parts
            .iter()
            .flat_map(|(_, plan, _)| plan.entries.iter().map(|e| &e.path))
            .collect();
        assert_eq!(union, all);
        for (part, plan, _) in &parts {
            assert!(plan.entries.iter().all(|e| e.mtime == 7), "{part:?}");
            // Each layer holds the directories above its own entries.
            let paths: BTreeSet<&Path> = plan.entries.iter().map(|e| e.path.as_path()).collect();
            for path in &paths {
                let parent = path.parent().unwrap();
                assert!(
                    parent == Path::new("/") || paths.contains(parent),
                    "{part:?}: {path:?}"
                );
            }
        }
        let names_in = |part: Part| -> Vec<String> {
            let (_, plan, _) = parts.iter().find(|(p, _, _)| *p == part).unwrap();
            plan.entries
                .iter()
                .filter(|e| e.node != Node::Dir)
                .map(|e| e.path.display().to_string())
                .collect()
        };
        let base = names_in(Part::Base);
        assert!(base.iter().any(|p| p.ends_with("/libc.so.6")), "{base:?}");
        assert!(base.iter().any(|p| p.contains("ld-linux")), "{base:?}");
        let libraries = names_in(Part::Libraries);
        assert!(
            libraries.iter().all(|p| p.contains("libleaf")),
            "{libraries:?}"
        );
        assert_eq!(names_in(Part::Files), ["/app/prog"]);
    }
}
