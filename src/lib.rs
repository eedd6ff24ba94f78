//! `extract-elf-so`: pack ELF programs and exactly the shared libraries their
//! dynamic loader would load into a reproducible tar archive, for `FROM scratch`
//! container images, without ever running them.
//!
//! The pipeline runs one way: inputs -> ELF facts ([`elf`], each file read
//! once per run through [`files`]) -> resolved closure ([`resolve`], using
//! [`target`], [`ldcache`], [`ldconf`], [`dst`], [`candidate`] and [`root`])
//! -> archive plan ([`plan`](mod@plan), with [`nss`], [`cert`] and
//! [`addfile`]) -> writer ([`writer`], with [`gzip`], [`deflate`] and
//! [`writeback`]). Only the writer touches the output. [`verify`] proves the
//! plan before it is written, [`listing`] and [`report`] show it, and
//! [`cli`] turns the command line into [`Options`].

#![deny(unsafe_code)]

pub mod addfile;
pub mod candidate;
pub mod cert;
pub mod cli;
pub mod deflate;
pub mod dst;
pub mod elf;
pub mod error;
pub mod files;
pub mod gzip;
pub mod image;
pub mod ldcache;
pub mod ldconf;
pub mod listing;
pub mod nss;
pub mod plan;
pub mod report;
pub mod resolve;
pub mod root;
pub mod target;
pub mod verify;
pub mod writeback;
pub mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{Error, Result};
use plan::{Builder, Plan, Role};
use resolve::{Closure, Context, Missing};
use root::Root;
use writer::{Output, Written};

/// Everything a run needs, free of command-line types.
#[derive(Debug, Clone)]
pub struct Options {
    /// ELF programs or libraries (host paths).
    pub inputs: Vec<PathBuf>,
    /// In-archive directory for inputs.
    pub dest: PathBuf,
    /// Extra shared libraries (host paths), stored in `sodir`.
    pub add: Vec<PathBuf>,
    /// In-archive directory for `add`.
    pub sodir: PathBuf,
    /// The target's root.
    pub root: Root,
    /// Searched where `LD_LIBRARY_PATH` would be.
    pub library_path: Vec<PathBuf>,
    /// Extra files, links and trees (`--add-file`).
    pub add_files: Vec<addfile::AddFile>,
    /// Add what host name lookup needs.
    pub nss_net: bool,
    /// Add the root CA bundle.
    pub cert: bool,
    /// Write the archive even when libraries are missing.
    pub allow_missing: bool,
    pub output: Output,
    /// gzip level, when compressing.
    pub gzip: Option<u32>,
    /// Upper bound for modification times (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<u64>,
}

/// What a planned run found.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    pub closures: Vec<Closure>,
    /// Libraries the loader would not find, over all inputs, without repeats.
    pub missing: Vec<Missing>,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub planned: Planned,
    pub written: Written,
}

/// Resolves every input and builds the archive plan. Writes nothing.
pub fn plan(opts: &Options) -> Result<Planned> {
    let dest = plan::archive_dir("--dest", &opts.dest)?;
    let sodir = plan::archive_dir("--sodir", &opts.sodir)?;
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let ctx = Context::new(opts.root.clone(), opts.library_path.clone(), cwd);
    let jobs = place_inputs(opts, &dest, &sodir)?;
    let mut builder = Builder::new(opts.root.clone(), opts.source_date_epoch);
    let mut closures = Vec::new();
    let mut outside = Vec::new();
    for (input, at, role) in jobs {
        // Errors (a missing file, a link that only resolves inside --root)
        // are left to the resolver, which reports them with their paths.
        let is_dir = std::fs::metadata(input).is_ok_and(|m| m.is_dir());
        if is_dir && role == Role::Input {
            let added = addfile::add(&mut builder, &ctx, input, &at, role, true)?;
            closures.extend(added.closures);
            outside.extend(added.outside);
            continue;
        }
        let closure = resolve::resolve(&ctx, input, at)?;
        builder.add_closure(&closure, role)?;
        closures.push(closure);
    }
    for extra in &opts.add_files {
        let added = addfile::add(
            &mut builder,
            &ctx,
            &extra.src,
            &extra.dest,
            Role::Extra,
            false,
        )?;
        closures.extend(added.closures);
    }
    if opts.nss_net {
        nss::add(&mut builder, &ctx, &mut closures)?;
    }
    if opts.cert {
        cert::add(&mut builder, &opts.root)?;
    }
    for link in &outside {
        if !builder.has(&link.at) {
            return Err(Error::Invalid(format!(
                "{}: the link leads out of the directory input to something the archive does not hold; add its target with --add-file",
                link.src.display()
            )));
        }
    }
    let mut missing: Vec<Missing> = Vec::new();
    for closure in &closures {
        for m in &closure.missing {
            if !missing.contains(m) {
                missing.push(m.clone());
            }
        }
    }
    let plan = builder.finish();
    let problems = verify::verify(&plan, &closures, &ctx)?;
    if !problems.is_empty() {
        return Err(Error::WouldNotLoad(problems));
    }
    Ok(Planned {
        plan,
        closures,
        missing,
    })
}

/// Where each input (in `dest`) and `--add` library (in `sodir`) goes, in a
/// stable order, so the same set gives the same archive whatever order it came
/// in. Two different files with one name in one directory are refused.
fn place_inputs<'a>(
    opts: &'a Options,
    dest: &Path,
    sodir: &Path,
) -> Result<Vec<(&'a PathBuf, PathBuf, Role)>> {
    let mut placed: BTreeMap<PathBuf, &Path> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (inputs, dir, role) in [
        (&opts.inputs, dest, Role::Input),
        (&opts.add, sodir, Role::Added),
    ] {
        for input in inputs {
            let name = input
                .file_name()
                .ok_or_else(|| Error::Invalid(format!("{}: not a file name", input.display())))?;
            let at = dir.join(name);
            if let Some(first) = placed.get(&at) {
                if *first == input.as_path() {
                    continue;
                }
                return Err(Error::Conflict {
                    path: at.strip_prefix("/").unwrap_or(&at).display().to_string(),
                    first: first.to_path_buf(),
                    second: input.clone(),
                });
            }
            placed.insert(at.clone(), input);
            jobs.push((input, at, role));
        }
    }
    jobs.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(jobs)
}

/// Plans, refuses on missing libraries unless allowed, and writes the archive.
pub fn run(opts: &Options) -> Result<Outcome> {
    let planned = plan(opts)?;
    if !planned.missing.is_empty() && !opts.allow_missing {
        return Err(Error::Missing(planned.missing));
    }
    let written = writer::write(&planned.plan, &opts.output, opts.gzip)?;
    Ok(Outcome { planned, written })
}
