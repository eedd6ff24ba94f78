//! Running the real binary and reading what it prints.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::archive::{Archive, Kind};
use super::files::listing;

/// The tool, run in `dir` with a clean `SOURCE_DATE_EPOCH`.
pub fn tool(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("extract-elf-so").expect("binary extract-elf-so");
    cmd.current_dir(dir).env_remove("SOURCE_DATE_EPOCH");
    cmd
}

/// Runs the tool in `dir` with `args` and returns its output (whatever the exit code).
pub fn run<I, S>(dir: &Path, args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    tool(dir)
        .args(args)
        .output()
        .expect("running extract-elf-so")
}

/// Runs the tool and asserts it exits 0; returns (stdout, stderr).
pub fn run_ok<I, S>(dir: &Path, args: I) -> (Vec<u8>, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = run(dir, &args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "extract-elf-so {args:?} failed:\n{stderr}"
    );
    (out.stdout, stderr)
}

/// What running the tool gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The `-o` path (it may not exist).
    pub out: PathBuf,
}

impl Run {
    /// Panics with the tool's output unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "extract-elf-so exited with {:?}, expected {code}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.code,
            self.stderr,
            self.stdout
        );
        self
    }

    /// Expects exit 0 and reads the archive, which must be a plain tar.
    pub fn archive(&self) -> Archive {
        self.expect_code(0);
        Archive::read_tar(&self.out)
    }

    /// The `hint:` lines it printed, without their prefix.
    pub fn hints(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("extract-elf-so: hint: "))
            .map(str::to_string)
            .collect()
    }
}

/// The flag a `hint:` line ends with, as the arguments a user types
/// (`--add-file DIR` is two); empty when the line names none.
pub fn hint_flags(hint: &str) -> Vec<String> {
    match hint.rsplit_once(": ") {
        Some((_, flag)) if flag.starts_with('-') => flag.split(' ').map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Runs `extract-elf-so -o <tmp>/out.tar ARGS...` with `tmp` as the current
/// directory (so relative paths and a default output land there), under a
/// time limit so a resolver that loops fails instead of hanging.
pub fn run_tool<I, S>(tmp: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_tool_timeout(tmp, args, Duration::from_secs(120))
}

/// [`run_tool`] with another time limit.
pub fn run_tool_timeout<I, S>(tmp: &Path, args: I, limit: Duration) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = tmp.join("out.tar");
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = tool(tmp)
        .env_remove("LD_LIBRARY_PATH")
        .arg("-o")
        .arg(&out)
        .args(&args)
        .timeout(limit)
        .output()
        .expect("running extract-elf-so");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
    };
    assert!(
        run.code.is_some(),
        "extract-elf-so did not exit by itself within {limit:?} (killed: {:?}), args {args:?}\n--- stderr ---\n{}",
        output.status,
        run.stderr
    );
    run
}

/// The `-v` listing: archive path -> source path, for the file lines
/// (`  PATH  <- SOURCE (ROLE)`).
pub fn verbose_sources(stderr: &str) -> HashMap<String, PathBuf> {
    let mut out = HashMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        let Some((path, source)) = rest.split_once("  <- ") else {
            continue;
        };
        let source = match source.rfind(" (") {
            Some(at) => &source[..at],
            None => source,
        };
        out.insert(path.to_string(), PathBuf::from(source));
    }
    out
}

/// Bytes in decimal units, the way the summary line prints sizes.
pub fn human(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in ["kB", "MB", "GB", "TB"] {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// The summary line the tool should print for `archive` written to `name`.
pub fn expected_summary(name: &str, archive: &Archive, gzip_len: Option<u64>) -> String {
    let files = archive.of_kind(Kind::File).count();
    let links = archive.of_kind(Kind::Symlink).count();
    let size: u64 = archive.of_kind(Kind::File).map(|i| i.size).sum();
    let mut line = format!(
        "extract-elf-so: wrote {name}: {files} {}, {links} {}, {}",
        if files == 1 { "file" } else { "files" },
        if links == 1 { "link" } else { "links" },
        human(size)
    );
    if let Some(gz) = gzip_len {
        line.push_str(&format!(" ({} gzipped)", human(gz)));
    }
    line
}

/// Runs a command that must fail with `code`, print one `extract-elf-so:
/// error:` line naming every string of `names`, no panic, nothing on
/// stdout, and write nothing into `dir`. Returns the error line.
pub fn assert_fails(dir: &Path, args: &[OsString], code: i32, names: &[&str]) -> String {
    let before = listing(dir);
    let out = run(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code of {args:?}; stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout of {args:?}: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic for {args:?}:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "want one line for {args:?}, got:\n{stderr}");
    assert!(
        lines[0].starts_with("extract-elf-so: error: "),
        "{args:?}: {stderr}"
    );
    for name in names {
        assert!(
            lines[0].contains(name),
            "{args:?}: error should name {name:?}: {stderr}"
        );
    }
    assert_eq!(listing(dir), before, "{args:?} left files behind");
    lines[0].to_string()
}
