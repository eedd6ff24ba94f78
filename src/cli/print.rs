//! What the command line prints: the summary, warnings, and errors with the
//! flag that would help; and how it prints, never panicking.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use extract_elf_so::{
    DanglingLink, DroppedSetid, Error, ImageError, Missing, Output, Plan, Unavailable, Written,
    chain, human,
};

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

/// One warning per file whose setuid or setgid bits were dropped.
pub fn warn_setid(dropped: &[DroppedSetid]) {
    for dropped in dropped {
        say(&format!(
            "extract-elf-so: warning: {dropped}; --keep-setid keeps such bits\n"
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
    if let Some(image) = err.downcast_ref::<ImageError>() {
        return super::image::error(image);
    }
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
        Error::DanglingLinks(links) => dangling(links),
        Error::Unavailable(what) => unavailable(what, &text),
        Error::BadRoot { .. } => format!("--root {text}"),
        _ => text,
    }
}

/// What a flag that packs a run-time need could not find, with the flag.
fn unavailable(what: &Unavailable, text: &str) -> String {
    match what {
        Unavailable::Account { .. } => format!("--users: {text}"),
        Unavailable::NoGlibc
        | Unavailable::GconvDir { .. }
        | Unavailable::GconvConfig { .. }
        | Unavailable::Charset { .. } => format!("--gconv: {text}"),
        Unavailable::Zoneinfo { .. } => {
            format!("--tzdata: {text} (Debian and Ubuntu: install tzdata)")
        }
        Unavailable::Zone { .. } => format!("--tzdata: {text}"),
        Unavailable::Locale {
            dir,
            archive: Some(archive),
            ..
        } => {
            let host = dir.join(archive.file_name().unwrap_or_default());
            format!(
                "--locale: {text}; pack it whole with --add-file {}",
                add_file(&host, archive)
            )
        }
        Unavailable::Locale { .. } => format!("--locale: {text}"),
        Unavailable::Shell { .. } => format!("--shell: {text}"),
        Unavailable::Dlopen { .. } | Unavailable::NoCaller => format!("--dlopen: {text}"),
    }
}

/// Links that would dangle, each with the `--add-file` that brings its
/// target (or, for `/bin/sh`, `--shell`).
fn dangling(links: &[DanglingLink]) -> String {
    let mut text = format!(
        "{} would lead to nothing in the archive:",
        if links.len() == 1 { "a link" } else { "links" }
    );
    for link in links {
        // One link on the same line, several one to a line.
        text.push_str(if links.len() == 1 { " " } else { "\n  " });
        text.push_str(&link.to_string());
        if let Some(host) = &link.host {
            text.push_str(&format!(
                " (here it is {}): add it with --add-file {}",
                host.display(),
                add_file(host, &link.reaches)
            ));
        }
        if link.at == Path::new("/bin/sh") {
            text.push_str("; or pack the shell with --shell");
        }
    }
    text
}

/// `--add-file`'s value that puts host file `src` at archive path `at`.
fn add_file(src: &Path, at: &Path) -> String {
    if src == at {
        src.display().to_string()
    } else {
        format!("{}:{}", src.display(), at.display())
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
        let link = |at: &str, target: &str, reaches: &str, host: Option<&str>| DanglingLink {
            link: format!("/h{at}").into(),
            at: at.into(),
            target: target.into(),
            reaches: reaches.into(),
            host: host.map(Into::into),
        };
        let err = anyhow::Error::from(Error::DanglingLinks(vec![
            link("/bin/sh", "dash", "/bin/dash", Some("/usr/bin/dash")),
            link("/t/abs", "/etc/x", "/etc/x", Some("/etc/x")),
            link("/t/gone", "nowhere", "/t/nowhere", None),
        ]));
        assert_eq!(
            error(&err),
            "links would lead to nothing in the archive:\n  \
             /h/bin/sh -> dash: nothing at /bin/dash in the archive (here it is /usr/bin/dash): add it with --add-file /usr/bin/dash:/bin/dash; or pack the shell with --shell\n  \
             /h/t/abs -> /etc/x: nothing at /etc/x in the archive (here it is /etc/x): add it with --add-file /etc/x\n  \
             /h/t/gone -> nowhere: nothing at /t/nowhere in the archive, and the link leads nowhere here either"
        );
        let err = anyhow::Error::from(Error::from(Unavailable::Locale {
            name: "fr_FR.UTF-8".into(),
            dir: "/r/usr/lib/locale".into(),
            archive: Some("/usr/lib/locale/locale-archive".into()),
        }));
        assert_eq!(
            error(&err),
            "--locale: no compiled locale fr_FR.UTF-8 in /r/usr/lib/locale, only /r/usr/lib/locale/locale-archive may hold it; \
             pack it whole with --add-file /r/usr/lib/locale/locale-archive:/usr/lib/locale/locale-archive"
        );
        let err = anyhow::Error::from(Error::from(Unavailable::Account {
            name: "www-data".into(),
            file: "/r/etc/passwd".into(),
        }));
        assert_eq!(error(&err), "--users: no account www-data in /r/etc/passwd");
        let err = anyhow::Error::from(Error::from(Unavailable::NoGlibc));
        assert_eq!(
            error(&err),
            "--gconv: no dynamically linked glibc program among the inputs: gconv is glibc's"
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
