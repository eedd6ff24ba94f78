//! `--gconv[=CHARSET,...]`: glibc's character set converters.
//!
//! `iconv_open` (and the stdio and `mbrtowc` paths for charsets that are not
//! built in) reads `gconv-modules.cache`, or else `gconv-modules` and
//! `gconv-modules.d/*.conf`, in libc's gconv directory, then `dlopen`s the
//! module that converts between the charset and glibc's `INTERNAL` form by
//! its full path (`iconv/gconv_conf.c`, `iconv/gconv_cache.c`,
//! `iconv/gconv_dl.c`). Only UTF-8, UCS-2, UCS-4 and ASCII are built in
//! (`iconv/gconv_builtin.h`); without the module, `iconv_open` fails with
//! EINVAL and `iconv -t latin1` with "failed to start conversion processing".
//!
//! The directory is the one the program's own libc names: the string ending
//! in `/gconv-modules.cache` in `libc.so.6` (`/usr/lib/x86_64-linux-gnu/gconv`
//! on Debian amd64), read from the file, never from the host. Its
//! configuration files are packed as the root has them; its modules, all or
//! those the named charsets need, are loaded into the program's closure as
//! libc's `dlopen` would load them, each with what it needs (EUC-JP.so needs
//! libJIS.so through `RUNPATH $ORIGIN`), and checked in the planned image. A
//! charset is named as `iconv` takes it (`latin1`, `ISO-8859-1`, `UTF-16`):
//! upper-cased, an alias followed once, and every module line that converts
//! from or to it taken. Keeping the whole cache with some of the modules is
//! fine: a charset left out fails at its `dlopen`, as it would without the
//! cache. musl has no gconv: its `iconv` converts built-in charsets only.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use crate::elf::FileId;
use crate::error::{Result, Unavailable};
use crate::fsroot::Root;
use crate::loader::Libc;
use crate::plan::{Request, Role};
use crate::resolve::{Closure, Context};

/// The cache, the configuration file and the directory of more, in the
/// gconv directory.
pub const CACHE: &str = "gconv-modules.cache";
pub const CONFIG: &str = "gconv-modules";
pub const CONFIG_DIR: &str = "gconv-modules.d";

/// The names glibc converts without a module (`iconv/gconv_builtin.h`).
const BUILTIN: &[&str] = &[
    "INTERNAL",
    "WCHAR_T//",
    "ISO-10646/UCS4/",
    "UCS4//",
    "UCS-4//",
    "UCS-4BE//",
    "UCS-4LE//",
    "CSUCS4//",
    "ISO-10646//",
    "10646-1:1993//",
    "10646-1:1993/UCS4/",
    "OSF00010104//",
    "OSF00010105//",
    "OSF00010106//",
    "ISO-10646/UTF8/",
    "ISO-10646/UTF-8/",
    "UTF8//",
    "UTF-8//",
    "ISO-IR-193//",
    "OSF05010001//",
    "ISO-10646/UCS2/",
    "UCS2//",
    "UCS-2//",
    "UCS-2BE//",
    "UCS-2LE//",
    "UNICODEBIG//",
    "UNICODELITTLE//",
    "OSF00010100//",
    "OSF00010101//",
    "OSF00010102//",
    "ANSI_X3.4-1968//",
    "ANSI_X3.4//",
    "ISO-IR-6//",
    "ANSI_X3.4-1986//",
    "ISO_646.IRV:1991//",
    "ASCII//",
    "ISO646-US//",
    "US-ASCII//",
    "US//",
    "IBM367//",
    "CP367//",
    "CSASCII//",
    "OSF00010020//",
];

/// The requests for the gconv configuration and modules (all of them when
/// `charsets` is empty) of every glibc libc among `closures`: the modules
/// are loaded into the first closure that has that libc.
pub fn requests(
    ctx: &Context,
    closures: &mut [Closure],
    charsets: &[String],
) -> Result<Vec<Request>> {
    let mut requests = Vec::new();
    let mut libcs: Vec<FileId> = Vec::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for (index, closure) in closures.iter_mut().enumerate() {
        if closure.loader.libc != Libc::Glibc {
            continue;
        }
        let Some(libc) = closure
            .objects
            .iter()
            .position(|o| o.facts.soname.as_deref() == Some(OsStr::new("libc.so.6")))
        else {
            continue; // A static program: its gconv is not this libc's.
        };
        let object = &closure.objects[libc];
        if libcs.contains(&object.id) {
            continue;
        }
        libcs.push(object.id);
        let source = object.source.clone();
        let dir = fs::read(&source)
            .ok()
            .and_then(|bytes| gconv_dir(&bytes))
            .ok_or(Unavailable::GconvDir { libc: source })?;
        let config = Config::read(&ctx.root, &dir)?;
        let modules = config
            .modules(&dir, charsets)
            .map_err(|name| Unavailable::Charset {
                name,
                dir: ctx.root.to_host(&dir),
            })?;
        let from = closure.objects.len();
        for module in modules {
            let exists = ctx.root.follow(&module).is_ok_and(|f| f.file.is_some());
            // All of them: those the configuration names and the root has.
            // A named charset's module that is missing is reported as missing.
            if exists || !charsets.is_empty() {
                closure.dlopen(ctx, libc, module.as_os_str());
            }
        }
        requests.push(Request::Objects {
            index,
            from,
            role: Role::Gconv,
        });
        if !dirs.contains(&dir) {
            requests.extend(config.files.iter().map(|path| Request::Rooted {
                path: path.clone(),
                role: Role::Gconv,
            }));
            dirs.push(dir);
        }
    }
    if libcs.is_empty() {
        return Err(Unavailable::NoGlibc.into());
    }
    Ok(requests)
}

/// The gconv directory a glibc `libc.so.6` names: the directory of its
/// string that ends in `/gconv-modules.cache`.
pub fn gconv_dir(libc: &[u8]) -> Option<PathBuf> {
    let needle = format!("/{CACHE}\0");
    let needle = needle.as_bytes();
    let mut from = 0;
    while let Some(at) = find(&libc[from..], needle).map(|i| i + from) {
        let start = libc[..at]
            .iter()
            .rposition(|&b| b == 0)
            .map_or(0, |i| i + 1);
        let dir = &libc[start..at];
        if dir.starts_with(b"/") {
            return Some(PathBuf::from(String::from_utf8_lossy(dir).into_owned()));
        }
        from = at + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A gconv directory's configuration: its files, aliases and module lines.
#[derive(Debug, Default)]
struct Config {
    /// In-root paths of the configuration files the root has.
    files: Vec<PathBuf>,
    /// Alias to charset, both upper-cased with their `//`.
    aliases: BTreeMap<String, String>,
    /// `(from, to, module file)` of each module line.
    modules: Vec<(String, String, String)>,
}

impl Config {
    /// Reads the configuration of the in-root gconv directory `dir`.
    fn read(root: &Root, dir: &Path) -> Result<Config> {
        let mut config = Config::default();
        let is_file = |p: &Path| root.follow(p).is_ok_and(|f| f.file.is_some());
        let mut texts = vec![dir.join(CONFIG)];
        if let Ok(followed) = root.follow(&dir.join(CONFIG_DIR))
            && let Ok(entries) = fs::read_dir(root.to_host(&followed.real))
        {
            let mut confs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
                .map(|n| dir.join(CONFIG_DIR).join(n))
                .collect();
            confs.sort();
            texts.extend(confs);
        }
        texts.retain(|p| is_file(p));
        if texts.is_empty() {
            return Err(Unavailable::GconvConfig {
                dir: root.to_host(dir),
            }
            .into());
        }
        for path in &texts {
            let text = root.contents(path).unwrap_or_default();
            config.parse(&String::from_utf8_lossy(&text));
        }
        config.files = texts;
        if is_file(&dir.join(CACHE)) {
            config.files.push(dir.join(CACHE));
        }
        Ok(config)
    }

    /// Adds the lines of one configuration file.
    fn parse(&mut self, text: &str) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["alias", alias, to, ..] => {
                    self.aliases
                        .entry(alias.to_ascii_uppercase())
                        .or_insert_with(|| to.to_ascii_uppercase());
                }
                ["module", from, to, file, ..] => self.modules.push((
                    from.to_ascii_uppercase(),
                    to.to_ascii_uppercase(),
                    file.to_string(),
                )),
                _ => {}
            }
        }
    }

    /// The in-root module files for `charsets` (all when empty), the gconv
    /// directory being `dir`; the name of a charset it has no module for and
    /// glibc does not build in.
    fn modules(&self, dir: &Path, charsets: &[String]) -> Result<BTreeSet<PathBuf>, String> {
        let path = |file: &str| {
            let mut path = dir.join(file);
            if !file.ends_with(".so") {
                path.as_mut_os_string().push(".so");
            }
            path
        };
        if charsets.is_empty() {
            return Ok(self.modules.iter().map(|(_, _, f)| path(f)).collect());
        }
        let mut out = BTreeSet::new();
        for charset in charsets {
            let name = spec(charset);
            let canon = self.aliases.get(&name).unwrap_or(&name);
            let before = out.len();
            for (from, to, file) in &self.modules {
                if from == canon || to == canon {
                    out.insert(path(file));
                }
            }
            let builtin = [&name, canon].iter().any(|n| BUILTIN.contains(&n.as_str()));
            if out.len() == before && !builtin {
                return Err(charset.clone());
            }
        }
        Ok(out)
    }
}

/// A charset as gconv compares it: upper-cased, with `//` (anything after
/// a `//`, such as `//TRANSLIT`, dropped).
fn spec(charset: &str) -> String {
    let upper = charset.trim().to_ascii_uppercase();
    match upper.find("//") {
        Some(at) => upper[..at + 2].to_string(),
        None if upper.ends_with('/') => upper,
        None => upper + "//",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULES: &str = "\
# comment
alias\tISO-IR-100//\t\tISO-8859-1//
alias\tLATIN1//\t\tISO-8859-1//
module\tISO-8859-1//\t\tINTERNAL\t\tISO8859-1\t1
module\tINTERNAL\t\tISO-8859-1//\t\tISO8859-1\t1
alias\tUTF16//\t\t\tUTF-16//   # trailing comment
module\tUTF-16//\t\tINTERNAL\t\tUTF-16\t\t1
module\tINTERNAL\t\tUTF-16//\t\tUTF-16\t\t1
";
    const EXTRA: &str = "\
alias\tEUCJP//\t\t\tEUC-JP//
module\tEUC-JP//\t\tINTERNAL\t\tEUC-JP\t\t1
module\tINTERNAL\t\tEUC-JP//\t\tEUC-JP\t\t1
module\tX-ABS//\t\t\tINTERNAL\t\t/opt/gconv/X.so
";

    fn config() -> Config {
        let mut config = Config::default();
        config.parse(MODULES);
        config.parse(EXTRA);
        config
    }

    fn names(set: &BTreeSet<PathBuf>) -> Vec<String> {
        set.iter().map(|p| p.display().to_string()).collect()
    }

    #[test]
    fn charsets_name_their_modules_through_aliases() {
        let c = config();
        let dir = Path::new("/g");
        let of = |sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            c.modules(dir, &sets).map(|s| names(&s))
        };
        assert_eq!(of(&["latin1"]), Ok(vec!["/g/ISO8859-1.so".to_string()]));
        assert_eq!(
            of(&["ISO-8859-1//TRANSLIT"]),
            Ok(vec!["/g/ISO8859-1.so".into()])
        );
        assert_eq!(
            of(&["eucjp", "utf16", "UTF-8", "ascii"]),
            Ok(vec!["/g/EUC-JP.so".into(), "/g/UTF-16.so".into()])
        );
        assert_eq!(of(&["x-abs"]), Ok(vec!["/opt/gconv/X.so".into()]));
        // Built in: nothing to pack, and no error.
        assert_eq!(
            of(&["utf-8", "UCS-4LE", "wchar_t", "ISO-10646/UCS2/"]),
            Ok(vec![])
        );
        assert_eq!(of(&["latin1", "klingon"]), Err("klingon".into()));
        // All of them.
        assert_eq!(
            of(&[]).unwrap(),
            [
                "/g/EUC-JP.so",
                "/g/ISO8859-1.so",
                "/g/UTF-16.so",
                "/opt/gconv/X.so"
            ]
        );
    }

    #[test]
    fn charset_specs() {
        for (given, want) in [
            ("latin1", "LATIN1//"),
            (" utf-8 ", "UTF-8//"),
            ("ISO-8859-1//TRANSLIT", "ISO-8859-1//"),
            ("ISO-10646/UCS4/", "ISO-10646/UCS4/"),
        ] {
            assert_eq!(spec(given), want, "{given}");
        }
    }

    #[test]
    fn the_directory_is_read_from_libcs_strings() {
        let libc = b"\x7fELF junk\0gconv-modules\0/usr/lib/x86_64-linux-gnu/gconv\0\
            /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\0/bin/sh\0";
        assert_eq!(
            gconv_dir(libc),
            Some(PathBuf::from("/usr/lib/x86_64-linux-gnu/gconv"))
        );
        // A relative match is skipped for a later absolute one.
        let libc = b"x/gconv-modules.cache\0\0/usr/lib32/gconv/gconv-modules.cache\0";
        assert_eq!(gconv_dir(libc), Some(PathBuf::from("/usr/lib32/gconv")));
        assert_eq!(gconv_dir(b"/usr/lib/gconv/gconv-modules.cachex\0"), None);
        assert_eq!(gconv_dir(b""), None);
    }

    #[test]
    fn the_configuration_files_the_root_has_are_packed() {
        let tmp = tempfile::tempdir().unwrap();
        let g = tmp.path().join("usr/lib/gconv");
        fs::create_dir_all(g.join("gconv-modules.d")).unwrap();
        fs::write(g.join("gconv-modules"), MODULES).unwrap();
        fs::write(g.join("gconv-modules.d/extra.conf"), EXTRA).unwrap();
        fs::write(g.join("gconv-modules.d/.hidden.conf"), EXTRA).unwrap();
        fs::write(g.join("gconv-modules.d/README"), "x").unwrap();
        let root = Root::new(tmp.path());
        let dir = Path::new("/usr/lib/gconv");
        let config = Config::read(&root, dir).unwrap();
        let files: Vec<String> = config
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "/usr/lib/gconv/gconv-modules",
                "/usr/lib/gconv/gconv-modules.d/extra.conf"
            ]
        );
        assert_eq!(config.modules.len(), 7);
        fs::write(g.join("gconv-modules.cache"), "cache").unwrap();
        fs::remove_file(g.join("gconv-modules")).unwrap();
        // A root keeps what it has looked at: look again with a new one.
        let files = Config::read(&Root::new(tmp.path()), dir).unwrap().files;
        assert_eq!(
            files,
            [
                dir.join("gconv-modules.d/extra.conf"),
                dir.join("gconv-modules.cache")
            ]
        );
        let err = Config::read(&root, Path::new("/usr/lib/none")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no gconv configuration (gconv-modules)",
                tmp.path().join("usr/lib/none").display()
            )
        );
    }
}
