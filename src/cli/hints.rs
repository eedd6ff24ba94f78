//! Run-time needs in words: the flag that meets each one, and the `hint:`
//! lines printed after the summary.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use extract_elf_so::{Evidence, Kind, Need, Priority, Remedy, WholeDir, escape, human};

/// The flag that meets a need, as a user types it; `None` when nothing is
/// to be asked for.
pub fn flag(remedy: &Remedy) -> Option<String> {
    Some(match remedy {
        Remedy::Automatic | Remedy::Unavailable => return None,
        Remedy::Users => "--users".to_string(),
        Remedy::Gconv => "--gconv".to_string(),
        Remedy::Shell => "--shell".to_string(),
        Remedy::TimeZones => "--tzdata".to_string(),
        Remedy::AddFile(dir) => format!("--add-file {}", add_file(dir)),
        Remedy::DlopenNotes(Priority::Suggested) => "--dlopen-notes suggested".to_string(),
        Remedy::DlopenNotes(_) => "--dlopen-notes recommended".to_string(),
        Remedy::Dest(dir) => format!("-d {}", word(dir)),
        Remedy::DestAndAdd { dest, add } => {
            format!("-d {} --add-file {}", word(dest), add_file(add))
        }
    })
}

/// The value of `--add-file` that packs a whole directory: `DIR`, or
/// `SRC:DIR` when its contents come from elsewhere.
fn add_file(dir: &WholeDir) -> String {
    if dir.src == dir.at {
        word(&dir.at)
    } else {
        let mut value = dir.src.as_os_str().to_owned();
        value.push(":");
        value.push(&dir.at);
        word(Path::new(&value))
    }
}

/// A path as one shell word: as it is when every byte is one a shell leaves
/// alone, in single quotes otherwise, and in ANSI-C quotes (`$'...'`, which
/// bash, zsh and ksh read) when it holds a control character or a byte that
/// is not UTF-8.
fn word(path: &Path) -> String {
    let bytes = path.as_os_str().as_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_./:=,@%+-".contains(b);
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', "'\\''"))
        }
        _ => format!("$'{}'", escape(bytes).replace('\'', "\\'")),
    }
}

/// Why the evidence means the need.
fn why(need: &Need) -> Option<String> {
    let count = |what: &str| {
        need.files
            .map(|(n, size)| {
                let s = if n == 1 { "" } else { "s" };
                format!("{n} {what}{s}, {}", human(size))
            })
            .unwrap_or_default()
    };
    let place = need
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Some(match need.kind {
        Kind::Users => "user and group lookups read /etc/passwd and /etc/group".into(),
        Kind::Gconv => "character set conversions load glibc's gconv modules".into(),
        Kind::Shell => "they run /bin/sh".into(),
        Kind::TimeZones => "time zones are read from /usr/share/zoneinfo".into(),
        Kind::LibgccS if need.met => "glibc loads libgcc_s.so.1 for them".into(),
        Kind::LibgccS => "glibc loads libgcc_s.so.1 for them, and the root has none".into(),
        Kind::PluginDir => format!(
            "it loads code at run time, and that directory holds {}",
            count("shared object")
        ),
        Kind::DlopenNote if need.remedy == Remedy::Unavailable => {
            "not found where dlopen from it would look".into()
        }
        Kind::DlopenNote => return None,
        Kind::ProgramRelative => match &need.evidence {
            Evidence::Origin(_) => format!(
                "{place} holds {}, that the image lacks where it will look",
                count("file")
            ),
            _ => format!("it looks for its files relative to its own directory {place}"),
        },
    })
}

/// The hint line of an unmet need, without the program's name.
pub fn hint(need: &Need) -> String {
    let mut line = format!("{}: {}", need.object.display(), need.evidence);
    if let Some(why) = why(need) {
        line.push_str(&format!(" ({why})"));
    }
    if let Some(flag) = flag(&need.remedy) {
        line.push_str(&format!(": {flag}"));
    }
    line
}

/// One `hint:` line per unmet need worth one, and one warning per
/// `.note.dlopen` that cannot be read.
pub fn print(needs: &[Need]) {
    for need in needs {
        if matches!(need.evidence, Evidence::MalformedNote(_)) {
            super::print::say(&format!(
                "extract-elf-so: warning: {}: {}\n",
                need.object.display(),
                need.evidence
            ));
        } else if need.unmet_hint() {
            super::print::say(&format!("extract-elf-so: hint: {}\n", hint(need)));
        }
    }
}

/// The refusal of `--strict` when needs worth a hint are not met.
pub fn unmet_list(needs: &[Need]) -> String {
    let unmet: Vec<&Need> = needs.iter().filter(|n| n.unmet_hint()).collect();
    let n = unmet.len();
    let mut text = format!(
        "{n} run-time {} not met (--strict):",
        if n == 1 { "need is" } else { "needs are" }
    );
    for need in unmet {
        text.push_str(&format!("\n  {}", hint(need)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn whole(src: &str, at: &str) -> WholeDir {
        WholeDir {
            src: src.into(),
            at: at.into(),
        }
    }

    #[test]
    fn flags_as_a_user_types_them() {
        let cases = [
            (Remedy::Automatic, None),
            (Remedy::Unavailable, None),
            (Remedy::Users, Some("--users")),
            (Remedy::Gconv, Some("--gconv")),
            (Remedy::Shell, Some("--shell")),
            (Remedy::TimeZones, Some("--tzdata")),
            (
                Remedy::AddFile(whole("/usr/lib/nginx/modules", "/usr/lib/nginx/modules")),
                Some("--add-file /usr/lib/nginx/modules"),
            ),
            (
                Remedy::AddFile(whole("/sys/root/usr/lib/m", "/usr/lib/m")),
                Some("--add-file /sys/root/usr/lib/m:/usr/lib/m"),
            ),
            (
                Remedy::DlopenNotes(Priority::Recommended),
                Some("--dlopen-notes recommended"),
            ),
            (
                Remedy::DlopenNotes(Priority::Suggested),
                Some("--dlopen-notes suggested"),
            ),
            (Remedy::Dest("/opt/x/bin".into()), Some("-d /opt/x/bin")),
            (
                Remedy::DestAndAdd {
                    dest: "/j/bin".into(),
                    add: whole("/j/lib", "/j/lib"),
                },
                Some("-d /j/bin --add-file /j/lib"),
            ),
        ];
        for (remedy, want) in cases {
            assert_eq!(flag(&remedy).as_deref(), want, "{remedy:?}");
        }
    }

    #[test]
    fn a_path_in_a_flag_is_one_shell_word_that_bash_reads_back_exactly() {
        use std::ffi::OsStr;
        use std::process::Command;
        let paths: [&[u8]; 6] = [
            b"/usr/lib/nginx/modules",
            b"/opt/my app/plugins",
            b"/opt/it's/lib",
            b"/opt/$HOME/`x`/\\n*",
            b"/opt/tab\there/new\nline",
            b"/opt/latin1-\xe9/'q'",
        ];
        for path in paths {
            let path = Path::new(OsStr::from_bytes(path));
            let quoted = word(path);
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {quoted}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{quoted}");
            assert_eq!(out.stdout, path.as_os_str().as_bytes(), "{quoted}");
        }
        assert_eq!(word(Path::new("/usr/lib/x")), "/usr/lib/x");
        assert_eq!(word(Path::new("/a b")), "'/a b'");
    }

    #[test]
    fn a_hint_names_object_evidence_and_flag() {
        let need = Need {
            kind: Kind::Users,
            object: PathBuf::from("/usr/bin/id"),
            id: extract_elf_so::parse::FileId { dev: 1, ino: 2 },
            evidence: Evidence::Imports(vec!["getgrnam", "getpwnam"]),
            remedy: Remedy::Users,
            met: false,
            hint: true,
            path: Some("/etc/passwd".into()),
            files: None,
        };
        assert_eq!(
            hint(&need),
            "/usr/bin/id: imports getgrnam, getpwnam (user and group lookups read \
             /etc/passwd and /etc/group): --users"
        );
        let list = unmet_list(&[need.clone(), Need { met: true, ..need }]);
        assert!(list.starts_with("1 run-time need is not met (--strict):\n  /usr/bin/id: "));
    }
}
