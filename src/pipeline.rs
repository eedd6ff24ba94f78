//! The run, stage by stage: inputs -> closures -> plan (with the extras and
//! what the closures will load at run time) -> the check of the planned
//! image -> the run-time needs it meets or not. Writing is the caller's next
//! step.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::extras::mkdir::EmptyDir;
use crate::extras::{cert, dlopen, files, gconv, locale, mkdir, nss, shell, tzdata, users};
use crate::fsroot::{ArchivePath, Root};
use crate::needs::{Cause, Finder, Priority};
use crate::plan::{Planned, Planner, Request, Role, image_root, verify};
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
    /// Write `/etc/passwd` and `/etc/group` with the default accounts and
    /// these of the root's (`None`: do not).
    pub users: Option<Vec<String>>,
    /// Add the gconv configuration and the modules these charsets need, or
    /// all of them when empty (`None`: do not).
    pub gconv: Option<Vec<String>>,
    /// Add these time zones and UTC, or all of them when empty (`None`: do not).
    pub tzdata: Option<Vec<String>>,
    /// Add these compiled locales.
    pub locales: Vec<String>,
    /// Add `/bin/sh` with its libraries.
    pub shell: bool,
    /// Empty directories to make.
    pub mkdirs: Vec<EmptyDir>,
    /// Libraries to load as `dlopen` from the first input would, by name.
    pub dlopen: Vec<OsString>,
    /// Pack the libraries of `.note.dlopen` notes down to this priority
    /// (required ones always).
    pub dlopen_notes: Priority,
    /// Find the run-time needs the plan meets or not (for hints and the
    /// views). What will certainly be loaded is packed either way.
    pub find_needs: bool,
    /// Upper bound for modification times (`SOURCE_DATE_EPOCH`).
    pub source_date_epoch: Option<u64>,
    /// Keep setuid and setgid bits of files root does not own (stored as
    /// root's, they would gain root's rights); otherwise they are dropped.
    pub keep_setid: bool,
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
    let ctx = Context::new(opts.root.clone(), opts.library_path.clone());
    let jobs = place_inputs(opts)?;
    let mut planner = Planner::new(opts.root.clone(), opts.source_date_epoch);
    planner.keep_setid(opts.keep_setid);
    let mut closures = Vec::new();
    let mut outside = Vec::new();
    let is_dir = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.is_dir());
    let first_elf = opts.inputs.iter().find(|p| !is_dir(p));
    let mut first = None;
    let mut packed_dirs = Vec::new();
    for (input, at, role) in jobs {
        // Errors (a missing file, a link that only resolves inside --root)
        // are left to the resolver, which reports them with their paths.
        if is_dir(input) && role == Role::Input {
            let added = files::add(&ctx, input, &at, role, true)?;
            outside.extend(added.outside.iter().cloned());
            packed_dirs.extend(added.walked.clone());
            take_in(&mut planner, added, role, &mut closures)?;
            continue;
        }
        let closure = resolve::input(&ctx, input, at)?;
        planner.add_closure(&closure, role)?;
        if Some(input) == first_elf && role == Role::Input {
            first = Some(closures.len());
        }
        closures.push(closure);
    }
    let inputs = closures.len();
    // What the inputs load at run time, into their closures; then the shell,
    // a program of its own. Before the extra files, which may hold the same
    // paths through the root's links (`--add-file /bin/sh`).
    if !opts.dlopen.is_empty() {
        let requests = dlopen::requests(&ctx, &mut closures, first, &opts.dlopen)?;
        apply(&mut planner, requests, &closures)?;
    }
    if let Some(charsets) = &opts.gconv {
        let requests = gconv::requests(&ctx, &mut closures, charsets)?;
        apply(&mut planner, requests, &closures)?;
    }
    if opts.shell {
        take_in(&mut planner, shell::add(&ctx)?, Role::Shell, &mut closures)?;
    }
    for extra in &opts.extra_files {
        let added = files::add(&ctx, &extra.src, &extra.dest, Role::Extra, false)?;
        outside.extend(added.outside.iter().cloned());
        packed_dirs.extend(added.walked.clone());
        take_in(&mut planner, added, Role::Extra, &mut closures)?;
    }
    // Files and directories, after the extra files, which win.
    if let Some(names) = &opts.users {
        apply(&mut planner, users::requests(&opts.root, names)?, &closures)?;
    }
    if let Some(zones) = &opts.tzdata {
        apply(
            &mut planner,
            tzdata::requests(&opts.root, zones)?,
            &closures,
        )?;
    }
    if !opts.locales.is_empty() {
        let requests = locale::requests(&opts.root, &opts.locales)?;
        apply(&mut planner, requests, &closures)?;
    }
    apply(&mut planner, mkdir::requests(&opts.mkdirs), &closures)?;
    if opts.nss_net {
        let requests = nss::requests(&ctx, &mut closures, planner.tree())?;
        apply(&mut planner, requests, &closures)?;
    }
    if opts.cert {
        apply(&mut planner, cert::requests(&opts.root)?, &closures)?;
    }
    // What will certainly be loaded at run time, planned and checked like
    // any library.
    let finder = Finder::new(&ctx);
    for loaded in finder.load(&mut closures, opts.dlopen_notes) {
        let role = match loaded.cause {
            Cause::Libc => Role::LibcDlopen,
            Cause::Note => Role::Note,
        };
        let (index, from, to) = (loaded.closure, loaded.from, loaded.to);
        let request = Request::ObjectRange {
            index,
            from,
            to,
            role,
        };
        planner.apply(request, &closures)?;
    }
    files::dangling(&outside, planner.tree())?;
    let mut missing: Vec<Missing> = Vec::new();
    for closure in &closures {
        for m in &closure.missing {
            if !missing.contains(m) {
                missing.push(m.clone());
            }
        }
    }
    let dropped_setid = planner.tree().dropped_setid().to_vec();
    let plan = planner.finish();
    verify(&plan, &closures, &ctx)?;
    let needs = match opts.find_needs {
        true => finder.find(&closures, inputs, &image_root(&plan)),
        false => Vec::new(),
    };
    Ok(Planned {
        plan,
        closures,
        missing,
        dropped_setid,
        needs,
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

/// Plans the requests of an extra, in order.
fn apply(
    planner: &mut Planner,
    requests: Vec<crate::plan::Request>,
    closures: &[Closure],
) -> Result<()> {
    for request in requests {
        planner.apply(request, closures)?;
    }
    Ok(())
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
