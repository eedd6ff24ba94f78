//! What the packed objects show: the symbols that are evidence of a need,
//! and what their read-only strings name. Each file is read once per run,
//! and its strings only when a rule needs them.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::elf::{RuntimeFacts, read_runtime, scan_strings};

/// Lookups of users and groups by name: evidence worth a hint.
pub const USERS_BY_NAME: &[&str] = &[
    "getpwnam",
    "getpwnam_r",
    "getgrnam",
    "getgrnam_r",
    "initgroups",
    "getgrouplist",
    "getpwent",
    "getpwent_r",
];
/// Lookups by id and enumerations: a need, but programs call them without
/// needing an answer (a uid with no name is printed as a number).
pub const USERS_OTHER: &[&str] = &[
    "getpwuid",
    "getpwuid_r",
    "getgrgid",
    "getgrgid_r",
    "getlogin",
    "getlogin_r",
    "getgrent",
    "getgrent_r",
];
/// Character set conversions, which load gconv modules.
pub const GCONV: &[&str] = &["iconv_open"];
/// Calls that run `/bin/sh -c`.
pub const SHELL: &[&str] = &["system", "popen"];
/// Calls that read the time zone.
pub const TIME_ZONES: &[&str] = &["tzset", "localtime", "localtime_r"];
/// Calls for which glibc loads `libgcc_s.so.1` (`misc/unwind-link.c`).
pub const LIBGCC_S: &[&str] = &["pthread_exit", "pthread_cancel", "backtrace"];
/// Calls that load code at run time (libdl's, and libltdl's).
pub const LOADERS: &[&str] = &[
    "dlopen",
    "dlmopen",
    "lt_dlopen",
    "lt_dlopenext",
    "lt_dlopenadvise",
];

/// Every symbol asked about.
const ASKED: &[&[&str]] = &[
    USERS_BY_NAME,
    USERS_OTHER,
    GCONV,
    SHELL,
    TIME_ZONES,
    LIBGCC_S,
    LOADERS,
];

/// Absolute paths kept from one file, at most.
const MAX_PATHS: usize = 20_000;

/// The names of `list` among `imports`.
pub fn among(imports: &[&'static str], list: &[&str]) -> Vec<&'static str> {
    imports
        .iter()
        .copied()
        .filter(|s| list.contains(s))
        .collect()
}

/// `(class, byte order, machine)` of an ELF file, read from its first
/// bytes; `None` for other files.
pub fn elf_kind(path: &Path) -> Option<(u8, u8, u16)> {
    let mut head = [0u8; 20];
    File::open(path).ok()?.read_exact(&mut head).ok()?;
    if head[..4] != *b"\x7fELF" {
        return None;
    }
    let bytes = [head[18], head[19]];
    let machine = match head[5] {
        2 => u16::from_be_bytes(bytes),
        _ => u16::from_le_bytes(bytes),
    };
    Some((head[4], head[5], machine))
}

/// What the read-only strings of one file name.
#[derive(Debug, Default)]
pub struct StringFacts {
    /// The first string naming the time zone variable or database: `TZ`
    /// alone, `TZ=...`, or one holding `TZDIR` or `zoneinfo`.
    pub tz: Option<String>,
    /// Absolute paths, alone or inside longer strings, as spelled, without
    /// repeats, sorted.
    pub paths: BTreeSet<String>,
    /// A string that names glibc's gconv cache (`.../gconv-modules.cache`).
    pub gconv_cache: Option<PathBuf>,
}

/// The packed objects' facts, read once each.
#[derive(Default)]
pub struct Objects {
    facts: RefCell<HashMap<PathBuf, Option<Rc<RuntimeFacts>>>>,
    strings: RefCell<HashMap<PathBuf, Rc<StringFacts>>>,
}

impl Objects {
    /// The run-time facts of the host file `source`; `None` when it cannot
    /// be read (it was read as ELF to be resolved, so it hardly happens, and
    /// then it shows no need).
    pub fn facts(&self, source: &Path) -> Option<Rc<RuntimeFacts>> {
        if let Some(known) = self.facts.borrow().get(source) {
            return known.clone();
        }
        let asked: Vec<&'static str> = ASKED.iter().flat_map(|l| l.iter().copied()).collect();
        let facts = read_runtime(source, &asked).ok().map(Rc::new);
        self.facts
            .borrow_mut()
            .insert(source.to_path_buf(), facts.clone());
        facts
    }

    /// The imports of `source` among the symbols asked about.
    pub fn imports(&self, source: &Path) -> Vec<&'static str> {
        self.facts(source)
            .map(|f| f.imports().to_vec())
            .unwrap_or_default()
    }

    /// What the read-only strings of the host file `source` name.
    pub fn strings(&self, source: &Path) -> Rc<StringFacts> {
        if let Some(known) = self.strings.borrow().get(source) {
            return Rc::clone(known);
        }
        let mut found = StringFacts::default();
        let _ = scan_strings(source, |s| found.take(s));
        let found = Rc::new(found);
        self.strings
            .borrow_mut()
            .insert(source.to_path_buf(), Rc::clone(&found));
        found
    }
}

impl StringFacts {
    /// Notes what one block of NUL-terminated strings names.
    fn take(&mut self, block: &[u8]) {
        if self.tz.is_none() {
            self.tz = time_zone_string(block)
                .map(|s| String::from_utf8_lossy(&s[..s.len().min(80)]).into_owned());
        }
        if self.gconv_cache.is_none() {
            self.gconv_cache = gconv_cache(block);
        }
        if self.paths.len() < MAX_PATHS {
            for path in absolute_paths(block) {
                self.paths.insert(path.to_string());
            }
        }
    }
}

/// The string of `block` that holds `at`.
fn string_at(block: &[u8], at: usize) -> &[u8] {
    let start = memchr::memrchr(0, &block[..at]).map_or(0, |nul| nul + 1);
    let end = memchr::memchr(0, &block[at..]).map_or(block.len(), |nul| at + nul);
    &block[start..end]
}

/// The first string naming the time zone variable or database: `TZ`
/// alone, one starting `TZ=`, or one holding `TZDIR` or `zoneinfo` (a bare
/// `TZ` inside a longer string is too often a byte pattern).
fn time_zone_string(block: &[u8]) -> Option<&[u8]> {
    static FINDERS: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
        [&b"\0TZ\0"[..], b"\0TZ=", b"TZDIR", b"zoneinfo"].map(|n| Finder::new(n).into_owned())
    });
    if block.starts_with(b"TZ=") || block.starts_with(b"TZ\0") || block == b"TZ" {
        return Some(string_at(block, 0));
    }
    let at = FINDERS.iter().filter_map(|f| f.find(block)).min()?;
    let at = if block[at] == 0 { at + 1 } else { at };
    Some(string_at(block, at))
}

/// A string of `block` that names glibc's gconv cache
/// (`/.../gconv/gconv-modules.cache`).
fn gconv_cache(block: &[u8]) -> Option<PathBuf> {
    static FINDER: LazyLock<Finder<'static>> =
        LazyLock::new(|| Finder::new(b"/gconv-modules.cache"));
    let string = string_at(block, FINDER.find(block)?);
    let whole = string.starts_with(b"/") && string.ends_with(b"/gconv-modules.cache");
    let path = std::str::from_utf8(string).ok().filter(|_| whole)?;
    Some(PathBuf::from(path))
}

/// Whether a byte may be part of a path as found in a string.
fn path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_.+@%~-/".contains(&b)
}

/// The absolute paths inside a string: a `/` that does not continue a word,
/// followed by a name, up to the first byte that cannot be in one (`:`,
/// `;`, `=`, `?`, quotes, spaces end a path). `//` inside a path is kept as
/// spelled.
pub fn absolute_paths(s: &[u8]) -> impl Iterator<Item = &str> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b"_.~-".contains(&b);
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(slash) = memchr::memchr(b'/', &s[at.min(s.len())..]) {
            let start = at + slash;
            at = start + 1;
            let begins = (start == 0 || !word(s[start - 1]))
                && s.get(start + 1).is_some_and(|&b| b != b'/' && path_byte(b));
            if !begins {
                continue;
            }
            while at < s.len() && path_byte(s[at]) {
                at += 1;
            }
            if let Ok(path) = std::str::from_utf8(&s[start..at]) {
                return Some(path);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_strings() {
        let cases: &[(&str, &[&str])] = &[
            ("/usr/lib/nginx/modules", &["/usr/lib/nginx/modules"]),
            (
                "--prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules",
                &["/usr/share/nginx", "/usr/lib/nginx/modules"],
            ),
            (
                "/etc/sasl2:/etc/sasl:/usr/lib/sasl2",
                &["/etc/sasl2", "/etc/sasl", "/usr/lib/sasl2"],
            ),
            (
                "/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11//modules-Q16/coders",
                &["/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11//modules-Q16/coders"],
            ),
            (
                "MODULESDIR: \"/usr/lib/ossl-modules\"",
                &["/usr/lib/ossl-modules"],
            ),
            ("a/b/c and x86_64/lib", &[]),
            ("// comment /", &[]),
            ("1/2", &[]),
        ];
        for (s, want) in cases {
            let got: Vec<&str> = absolute_paths(s.as_bytes()).collect();
            assert_eq!(got, *want, "{s}");
        }
    }

    #[test]
    fn time_zone_strings_are_whole_words() {
        let found = |block: &[u8]| time_zone_string(block).map(<[u8]>::to_vec);
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"TZ", Some(b"TZ")),
            (b"TZ\0x\0", Some(b"TZ")),
            (b"a\0TZ=UTC0\0b", Some(b"TZ=UTC0")),
            (b"abc\0TZ\0", Some(b"TZ")),
            (b"x\0use TZDIR now\0", Some(b"use TZDIR now")),
            (b"/usr/share/zoneinfo\0", Some(b"/usr/share/zoneinfo")),
            (b"TZX\0ATZ\0the TZ variable\0tz\0", None),
        ];
        for (block, want) in cases {
            assert_eq!(found(block), want.map(<[u8]>::to_vec), "{block:?}");
        }
    }

    #[test]
    fn what_a_block_of_strings_names() {
        let block = b"x\0/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\0y\0";
        assert_eq!(
            gconv_cache(block),
            Some(PathBuf::from(
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"
            ))
        );
        assert_eq!(gconv_cache(b"no /gconv-modules.cache.d\0"), None);
        let mut facts = StringFacts::default();
        facts.take(b"--prefix=/usr/share/nginx\0TZ\0");
        assert_eq!(facts.tz.as_deref(), Some("TZ"));
        assert!(
            facts.paths.contains("/usr/share/nginx"),
            "{:?}",
            facts.paths
        );
    }

    #[test]
    fn symbols_among_imports() {
        let imports = ["puts", "getpwnam", "system"];
        assert_eq!(among(&imports, USERS_BY_NAME), ["getpwnam"]);
        assert_eq!(among(&imports, SHELL), ["system"]);
        assert!(among(&imports, GCONV).is_empty());
    }
}
