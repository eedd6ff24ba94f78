//! What the command line prints: the summary, warnings, and errors with the
//! flag that would help; and how it prints, never panicking.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use extract_elf_so::{Error, Missing, Output, Plan, Written, chain, human};

/// Writes `text` to standard error. When that fails (`2>/dev/full`, a
/// closed pipe) nothing is left to tell, so the failure is let be: the exit
/// status still says how the run went.
pub fn say(text: &str) {
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

/// Writes `bytes` to standard output. A reader that went away (`| head`)
/// has read all it wanted: that ends the output quietly, not as an error.
pub fn emit(bytes: &[u8]) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Error::io(Path::new("standard output"), e)),
    }
}

/// The one line printed on success.
pub fn summary(output: &Output, plan: &Plan, written: &Written) -> String {
    let files = plan.file_count();
    let links = plan.link_count();
    let mut line = format!(
        "extract-elf-so: wrote {}: {files} {}, {links} {}, {}",
        output.display(),
        if files == 1 { "file" } else { "files" },
        if links == 1 { "link" } else { "links" },
        human(plan.content_size()),
    );
    if let Some(gz) = written.gzip_bytes {
        line.push_str(&format!(" ({} gzipped)", human(gz)));
    }
    line
}

/// One warning per library the loader would not find (with `--allow-missing`).
pub fn warn_missing(missing: &[Missing]) {
    for missing in missing {
        say(&format!("extract-elf-so: warning: not found: {missing}\n"));
    }
}

/// One warning per file that changed while it was read, worded as GNU tar's.
pub fn warn_changed(changed: &[PathBuf]) {
    for path in changed {
        say(&format!(
            "extract-elf-so: warning: {}: file changed as we read it\n",
            path.display()
        ));
    }
}

/// The refusal when libraries are missing.
pub fn missing_list(missing: &[Missing]) -> String {
    let n = missing.len();
    let mut text = format!(
        "{n} {} the loader would not find (use --allow-missing to pack anyway):",
        if n == 1 { "library" } else { "libraries" }
    );
    for missing in missing {
        text.push_str(&format!("\n  {missing}"));
    }
    text
}

/// An error as one message: the library's with its causes and, where a flag
/// would help, the flag.
pub fn error(err: &anyhow::Error) -> String {
    let Some(lib) = err.downcast_ref::<Error>() else {
        return format!("{err:#}");
    };
    let text = chain(lib);
    match lib {
        Error::NssModulesMissing { .. } => format!("--nss-net: {text}"),
        Error::NetFileMissing { file, .. } => format!(
            "--nss-net: {text} (install netbase in the root, or give one with --add-file {})",
            file.display()
        ),
        Error::NoCaBundle { .. } => {
            format!("--cert: {text} (Debian and Ubuntu: install ca-certificates)")
        }
        Error::LinkLeavesTree { .. } => format!("{text}; add its target with --add-file"),
        Error::BadRoot { .. } => format!("--root {text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(7_730_000), "7.7 MB");
        assert_eq!(human(1_500), "1.5 kB");
    }

    #[test]
    fn errors_that_a_flag_would_help_name_it() {
        let err = anyhow::Error::from(Error::LinkLeavesTree {
            link: "/t/link".into(),
        });
        assert_eq!(
            error(&err),
            "/t/link: the link leads out of the directory input to something the archive does not hold; add its target with --add-file"
        );
        let err = anyhow::Error::from(Error::NoCaBundle {
            root: Some("/r".into()),
            looked: vec!["/a", "/b"],
        });
        assert_eq!(
            error(&err),
            "--cert: no CA bundle found in the root /r; looked for /a, /b (Debian and Ubuntu: install ca-certificates)"
        );
    }
}
