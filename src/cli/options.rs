//! The library's options from the flags, and the output they name.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use extract_elf_so::{
    ArchivePath, DEFAULT_MODE, EmptyDir, ExtraFile, Options, Output, Priority, Root, chain,
};

use super::Usage;
use super::args::{BARE, Cli, NoteLevel};

/// Turns parsed flags into library options.
pub fn options(cli: &Cli) -> anyhow::Result<Options> {
    let extra_files = cli
        .add_file
        .iter()
        .map(|spec| extra_file(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let mkdirs = cli
        .mkdir
        .iter()
        .map(|spec| empty_dir(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let source_date_epoch = source_date_epoch()?;
    Ok(Options {
        inputs: cli.inputs.clone(),
        dest: archive_path("--dest", &cli.dest)?,
        libraries: cli.add.clone(),
        sodir: archive_path("--sodir", &cli.sodir)?,
        root: cli.root.as_ref().map_or_else(Root::host, Root::new),
        library_path: cli.library_path.clone(),
        extra_files,
        nss_net: cli.nss_net,
        cert: cli.cert,
        users: cli.users.as_deref().map(names),
        gconv: cli.gconv.as_deref().map(names_or_all),
        tzdata: cli.tzdata.as_deref().map(names_or_all),
        locales: cli.locale.clone(),
        shell: cli.shell,
        mkdirs,
        dlopen: cli.dlopen.clone(),
        dlopen_notes: cli
            .dlopen_notes
            .map_or(Priority::Required, NoteLevel::priority),
        find_needs: shows_needs(cli),
        source_date_epoch,
        keep_setid: cli.keep_setid,
    })
}

/// The names of an optional list (`--users`, `--users=a,b`), empty ones dropped.
fn names(given: &[String]) -> Vec<String> {
    given
        .iter()
        .map(|n| n.trim_matches(|c: char| c.is_whitespace() || c == '\0'))
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

/// The names of a list where none means all (`--gconv`, `--tzdata`): the
/// flag given bare as well as with names still asks for all.
fn names_or_all(given: &[String]) -> Vec<String> {
    if given.iter().any(|n| n == BARE) {
        Vec::new()
    } else {
        names(given)
    }
}

/// Parses `--mkdir PATH[:MODE]`: MODE is octal, up to 7777, 0755 if left out.
fn empty_dir(spec: &OsStr) -> Result<EmptyDir, Usage> {
    let bytes = spec.as_bytes();
    let usage = |why: &str| Usage(format!("--mkdir {}: {why}", spec.to_string_lossy()));
    let (path, mode) = match bytes.iter().rposition(|&b| b == b':') {
        Some(at) => {
            let mode = std::str::from_utf8(&bytes[at + 1..])
                .ok()
                .filter(|m| !m.is_empty() && m.len() <= 4)
                .and_then(|m| u32::from_str_radix(m, 8).ok())
                .ok_or_else(|| usage("MODE must be octal, 0 to 7777"))?;
            (&bytes[..at], mode)
        }
        None => (bytes, DEFAULT_MODE),
    };
    let at = archive_path("--mkdir", Path::new(OsStr::from_bytes(path)))?;
    if at == ArchivePath::root() {
        return Err(usage("PATH cannot be the archive root"));
    }
    Ok(EmptyDir { at, mode })
}

/// Whether the run shows run-time needs (hints after a written archive's
/// summary, `--json`, `--tree`) or checks them (`--strict`).
fn shows_needs(cli: &Cli) -> bool {
    let inspect = cli.list || cli.tree || (cli.json && !cli.report);
    cli.strict || cli.json || cli.tree || (!inspect && !cli.quiet)
}

/// A user's archive path given with `flag`.
fn archive_path(flag: &str, path: &Path) -> Result<ArchivePath, Usage> {
    ArchivePath::parse(path).map_err(|e| Usage(format!("{flag} {}", chain(&e))))
}

/// `SOURCE_DATE_EPOCH`, when set and not empty.
fn source_date_epoch() -> Result<Option<u64>, Usage> {
    match std::env::var_os("SOURCE_DATE_EPOCH") {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .to_str()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| {
                Usage(format!(
                    "SOURCE_DATE_EPOCH={}: expected seconds since 1970",
                    v.to_string_lossy()
                ))
            }),
    }
}

/// Parses `--add-file SRC[:DEST]`; DEST defaults to SRC's own absolute path.
/// A DEST ending in `/` is a directory to put SRC in, as `cp` takes it.
fn extra_file(spec: &OsStr) -> anyhow::Result<ExtraFile> {
    let bytes = spec.as_bytes();
    let (src, dest) = match bytes.iter().position(|&b| b == b':') {
        Some(at) => (&bytes[..at], Some(&bytes[at + 1..])),
        None => (bytes, None),
    };
    let src = PathBuf::from(OsStr::from_bytes(src));
    if src.as_os_str().is_empty() {
        return Err(Usage(format!(
            "--add-file {}: give SRC or SRC:DEST",
            spec.to_string_lossy()
        ))
        .into());
    }
    let dest = match dest {
        Some(d) if !d.is_empty() => PathBuf::from(OsStr::from_bytes(d)),
        _ => std::path::absolute(&src).map_err(|e| extract_elf_so::Error::io(&src, e))?,
    };
    let into = dest.as_os_str().as_bytes().ends_with(b"/");
    let mut dest = archive_path("--add-file", &dest)?;
    if dest == ArchivePath::root() {
        return Err(Usage(format!(
            "--add-file {}: DEST cannot be the archive root",
            spec.to_string_lossy()
        ))
        .into());
    }
    if into {
        let Some(name) = src.file_name() else {
            return Err(Usage(format!(
                "--add-file {}: SRC has no name to put inside DEST",
                spec.to_string_lossy()
            ))
            .into());
        };
        dest = dest.join(name);
    }
    Ok(ExtraFile { src, dest })
}

/// The output and whether to compress: `-o` is taken as given (gzip with `-z`
/// or a `.gz`/`.tgz` name); `-n NAME` gets `.tar` or `.tar.gz`, and a name
/// that already ends in one is not doubled (`.tar.gz` turns gzip on).
pub fn output_of(cli: &Cli) -> (Output, bool) {
    if let Some(path) = &cli.output {
        if path.as_os_str() == "-" {
            return (Output::Stdout, cli.gzip);
        }
        let name = path.to_string_lossy();
        let gz = cli.gzip || name.ends_with(".gz") || name.ends_with(".tgz");
        return (Output::File(path.clone()), gz);
    }
    let name = cli.name.as_str();
    let (base, gz) = if let Some(base) = name.strip_suffix(".tar.gz") {
        (base, true)
    } else if let Some(base) = name.strip_suffix(".tgz") {
        (base, true)
    } else if let Some(base) = name.strip_suffix(".tar") {
        (base, cli.gzip)
    } else {
        (name, cli.gzip)
    };
    let gz = gz || cli.gzip;
    let mut file = OsString::from(base);
    file.push(if gz { ".tar.gz" } else { ".tar" });
    (Output::File(PathBuf::from(file)), gz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("extract-elf-so").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn output_names() {
        let cases: &[(&[&str], Output, bool)] = &[
            (&["a"], Output::File("rootfs.tar".into()), false),
            (&["-z", "a"], Output::File("rootfs.tar.gz".into()), true),
            (
                &["-n", "out/x", "a"],
                Output::File("out/x.tar".into()),
                false,
            ),
            (&["-n", "x.tar", "a"], Output::File("x.tar".into()), false),
            (
                &["-n", "x.tar", "-z", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (
                &["-n", "x.tar.gz", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (
                &["-n", "x.tar.gz", "-z", "a"],
                Output::File("x.tar.gz".into()),
                true,
            ),
            (&["-o", "-", "a"], Output::Stdout, false),
            (&["-o", "-", "-z", "a"], Output::Stdout, true),
            (
                &["-o", "img.tgz", "a"],
                Output::File("img.tgz".into()),
                true,
            ),
            (&["-o", "img", "a"], Output::File("img".into()), false),
        ];
        for (args, want, gz) in cases {
            assert_eq!(output_of(&parse(args)), (want.clone(), *gz), "{args:?}");
        }
    }

    #[test]
    fn extra_file_specs() {
        let spec = |s: &str| extra_file(OsStr::new(s));
        let a = spec("redis.conf:/etc/redis/redis.conf").unwrap();
        assert_eq!(a.src, PathBuf::from("redis.conf"));
        assert_eq!(a.dest.as_path(), Path::new("/etc/redis/redis.conf"));
        let b = spec("/usr/share/zoneinfo").unwrap();
        assert_eq!(b.dest.as_path(), Path::new("/usr/share/zoneinfo"));
        let c = spec("x:etc/x").unwrap();
        assert_eq!(c.dest.as_path(), Path::new("/etc/x"));
        let escape = spec("a:/../../etc/x").unwrap_err();
        assert_eq!(
            escape.to_string(),
            "--add-file /../../etc/x: '..' is not allowed in archive paths"
        );
        assert!(spec(":/x").is_err());
        assert!(spec("a:/").is_err());
        // A DEST ending in `/` is a directory to put SRC in.
        let d = spec("conf/f:/etc/x/").unwrap();
        assert_eq!(d.dest.as_path(), Path::new("/etc/x/f"));
        let e = spec("tree/:etc//").unwrap();
        assert_eq!(e.dest.as_path(), Path::new("/etc/tree"));
        assert!(spec("..:/etc/").is_err());
    }

    #[test]
    fn mkdir_specs() {
        let spec = |s: &str| empty_dir(OsStr::new(s)).map_err(|e| e.to_string());
        let dir = |p: &str, mode| {
            Ok(EmptyDir {
                at: ArchivePath::normalized(Path::new(p)),
                mode,
            })
        };
        assert_eq!(spec("/tmp:1777"), dir("/tmp", 0o1777));
        assert_eq!(spec("/run"), dir("/run", 0o755));
        assert_eq!(spec("var/lib/x:700"), dir("/var/lib/x", 0o700));
        assert_eq!(spec("/a:b:0"), dir("/a:b", 0));
        for bad in ["/tmp:", "/tmp:rw", "/tmp:8", "/tmp:17777", "/x:-1"] {
            assert_eq!(
                spec(bad),
                Err(format!("--mkdir {bad}: MODE must be octal, 0 to 7777")),
                "{bad}"
            );
        }
        assert_eq!(
            spec("/../x"),
            Err("--mkdir /../x: '..' is not allowed in archive paths".into())
        );
        assert_eq!(
            spec("/:1777"),
            Err("--mkdir /:1777: PATH cannot be the archive root".into())
        );
    }

    #[test]
    fn optional_values_take_an_equals_sign() {
        let cli = parse(&["--users", "/usr/sbin/nginx"]);
        assert_eq!(cli.users, Some(vec![BARE.to_string()]));
        assert_eq!(cli.inputs, vec![PathBuf::from("/usr/sbin/nginx")]);
        let opts = options(&cli).unwrap();
        assert_eq!(opts.users, Some(vec![]));
        assert_eq!(opts.gconv, None);
        let cli = parse(&[
            "--users=www-data,postgres",
            "--gconv=latin1,",
            "--tzdata",
            "a",
        ]);
        let opts = options(&cli).unwrap();
        assert_eq!(
            opts.users,
            Some(vec!["www-data".to_string(), "postgres".into()])
        );
        assert_eq!(opts.gconv, Some(vec!["latin1".to_string()]));
        assert_eq!(opts.tzdata, Some(vec![]));
        assert_eq!(cli.inputs, vec![PathBuf::from("a")]);
        let cli = parse(&[
            "--tzdata=Europe/Paris",
            "--dlopen",
            "libz.so.1",
            "--shell",
            "a",
        ]);
        let opts = options(&cli).unwrap();
        assert_eq!(opts.tzdata, Some(vec!["Europe/Paris".to_string()]));
        assert_eq!(opts.dlopen, vec![OsString::from("libz.so.1")]);
        assert!(opts.shell);
        assert!(opts.locales.is_empty() && opts.mkdirs.is_empty());
    }

    #[test]
    fn a_bare_list_flag_beside_named_ones_still_asks_for_all() {
        let cli = parse(&[
            "--tzdata",
            "--tzdata=Europe/Paris",
            "--gconv=latin1",
            "--gconv",
            "--users",
            "--users=www-data",
            "a",
        ]);
        let opts = options(&cli).unwrap();
        assert_eq!(opts.tzdata, Some(vec![]), "every zone");
        assert_eq!(opts.gconv, Some(vec![]), "every module");
        // The default accounts are always there: the names add to them.
        assert_eq!(opts.users, Some(vec!["www-data".to_string()]));
        let cli = parse(&["--gconv=latin1", "--gconv=UTF-16", "a"]);
        let opts = options(&cli).unwrap();
        assert_eq!(
            opts.gconv,
            Some(vec!["latin1".to_string(), "UTF-16".into()])
        );
    }
}
