//! The run, stage by stage: inputs -> closures -> plan (with the extras) ->
//! the check of the planned image. Writing is the caller's next step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::extras::{cert, files, nss};
use crate::fsroot::{ArchivePath, Root};
use crate::plan::{Planned, Planner, Role, verify};
use crate::resolve::{self, Closure, Context, Missing};

/// Everything planning a run needs, free of command-line types.
#[derive(Debug, Clone)]
pub struct Options {
    /// ELF programs or libraries, or directories (host paths).
    pub inputs: Vec<PathBuf>,
    /// Where inputs go in the archive.
    pub dest: ArchivePath,
    /// Extra shared libraries (host paths), stored in `sodir`.
    pub libraries: Vec<PathBuf>,
    /// Where `libraries` go in the archive.
    pub sodir: ArchivePath,
    /// The target's root.
    pub root: Root,
    /// Searched where `LD_LIBRARY_PATH` would be.
    pub library_path: Vec<PathBuf>,
    /// Extra files, links and trees.
    pub extra_files: Vec<ExtraFile>,
    /// Add what host name lookup needs.
    pub nss_net: bool,
    /// Add the root CA bundle.
    pub cert: bool,
    /// Upper bound for modification times (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<u64>,
}

/// A host file, link or directory to put at `dest` in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    pub src: PathBuf,
    pub dest: ArchivePath,
}

/// Resolves every input and builds the archive plan, checked in the planned
/// image. Writes nothing. Libraries the loader would not find are in
/// [`Planned::missing`]: whether that is fatal is the caller's choice.
pub fn plan(opts: &Options) -> Result<Planned> {
    if let Some(dir) = opts.root.dir() {
        check_root(dir)?;
    }
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let ctx = Context::new(opts.root.clone(), opts.library_path.clone(), cwd);
    let jobs = place_inputs(opts)?;
    let mut planner = Planner::new(opts.root.clone(), opts.source_date_epoch);
    let mut closures = Vec::new();
    let mut outside = Vec::new();
    let mut packed_dirs = Vec::new();
    for (input, at, role) in jobs {
        // Errors (a missing file, a link that only resolves inside --root)
        // are left to the resolver, which reports them with their paths.
        let is_dir = std::fs::metadata(input).is_ok_and(|m| m.is_dir());
        if is_dir && role == Role::Input {
            let added = files::add(&ctx, input, &at, role, true)?;
            outside.extend(added.outside.iter().cloned());
            packed_dirs.extend(added.walked.clone());
            take_in(&mut planner, added, role, &mut closures)?;
            continue;
        }
        let closure = resolve::input(&ctx, input, at)?;
        planner.add_closure(&closure, role)?;
        closures.push(closure);
    }
    for extra in &opts.extra_files {
        let added = files::add(&ctx, &extra.src, &extra.dest, Role::Extra, false)?;
        packed_dirs.extend(added.walked.clone());
        take_in(&mut planner, added, Role::Extra, &mut closures)?;
    }
    if opts.nss_net {
        for request in nss::requests(&ctx, &mut closures, planner.tree())? {
            planner.apply(request, &closures)?;
        }
    }
    if opts.cert {
        for request in cert::requests(&opts.root)? {
            planner.apply(request, &closures)?;
        }
    }
    for link in &outside {
        if !planner.tree().has(&link.at) {
            return Err(Error::LinkLeavesTree {
                link: link.src.clone(),
            });
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
    let plan = planner.finish();
    verify(&plan, &closures, &ctx)?;
    Ok(Planned {
        plan,
        closures,
        missing,
        packed_dirs,
    })
}

/// Refuses a root that is missing or not a directory, before anything is
/// looked up in it (where it would show as a missing interpreter).
fn check_root(dir: &Path) -> Result<()> {
    let cause = match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => std::io::Error::from(std::io::ErrorKind::NotADirectory),
        Err(e) => e,
    };
    Err(Error::BadRoot {
        path: dir.to_path_buf(),
        cause,
    })
}

/// Plans what a file or tree brought in: its entries, then its closures.
fn take_in(
    planner: &mut Planner,
    added: files::Added,
    role: Role,
    closures: &mut Vec<Closure>,
) -> Result<()> {
    for request in added.requests {
        planner.apply(request, closures)?;
    }
    for closure in added.closures {
        planner.add_closure(&closure, role)?;
        closures.push(closure);
    }
    Ok(())
}

/// Where each input (in `dest`) and library (in `sodir`) goes, in a stable
/// order, so the same set gives the same archive whatever order it came in.
/// Two different files with one name in one directory are refused.
fn place_inputs(opts: &Options) -> Result<Vec<(&PathBuf, ArchivePath, Role)>> {
    let mut placed: BTreeMap<ArchivePath, &Path> = BTreeMap::new();
    let mut jobs = Vec::new();
    for (inputs, dir, role) in [
        (&opts.inputs, &opts.dest, Role::Input),
        (&opts.libraries, &opts.sodir, Role::Added),
    ] {
        for input in inputs {
            let name = input.file_name().ok_or_else(|| Error::NotAFileName {
                path: input.clone(),
            })?;
            let at = dir.join(name);
            if let Some(first) = placed.get(&at) {
                if *first == input.as_path() {
                    continue;
                }
                return Err(Error::Conflict {
                    path: at.relative().display().to_string(),
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
