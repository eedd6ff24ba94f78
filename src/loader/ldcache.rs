//! `/etc/ld.so.cache`: the file glibc's loader reads to find libraries.
//!
//! Both layouts ldconfig writes are read (after glibc's
//! `sysdeps/generic/dl-cache.h`): the new `glibc-ld.so.cache1.1` format on its
//! own, and the old `ld.so-1.7.0` format, which in the "compat" layout carries
//! the new header after its entries. A lookup takes the first entry in file
//! order whose key matches, whose flags the target's loader accepts, and whose
//! hwcap is zero: the baseline library, never a `glibc-hwcaps` variant that
//! this host's CPU happened to select.

use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const OLD_ENTRY: usize = 12;
/// Longest path the loader can open, with its terminating NUL.
const PATH_MAX: usize = 4096;

/// One library of the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// Library type and architecture (`FLAG_ELF_LIBC6 | FLAG_X8664_LIB64`, ...).
    pub flags: i32,
    /// The SONAME (or file name).
    pub key: OsString,
    /// Path of the library, in-root.
    pub value: PathBuf,
    /// Zero for a baseline library; otherwise a hwcaps or legacy-hwcap variant.
    pub hwcap: u64,
}

/// A parsed ld.so.cache.
#[derive(Debug, Clone, Default)]
pub struct Cache {
    pub entries: Vec<CacheEntry>,
}

impl Cache {
    /// Parses a cache file. `big_endian` is the byte order of the target.
    /// Returns `None` when the bytes are not a cache the target's loader would use.
    pub fn parse(bytes: &[u8], big_endian: bool) -> Option<Cache> {
        let r = Reader { bytes, big_endian };
        if bytes.starts_with(NEW_MAGIC) {
            return parse_new(&r, 0);
        }
        if !bytes.starts_with(OLD_MAGIC) {
            return None;
        }
        let nlibs = r.u32(12)? as usize;
        let strings = 16usize.checked_add(nlibs.checked_mul(OLD_ENTRY)?)?;
        // The compat layout puts the new format, 8-aligned, after the old entries.
        let new_at = strings.checked_add(7)? & !7;
        if bytes.get(new_at..)?.starts_with(NEW_MAGIC) {
            return parse_new(&r, new_at);
        }
        let mut budget = r.budget();
        let mut entries = Vec::with_capacity(nlibs.min(bytes.len() / OLD_ENTRY));
        for i in 0..nlibs {
            let at = 16 + i * OLD_ENTRY;
            let flags = r.u32(at)? as i32;
            let key = r.cstr(strings.checked_add(r.u32(at + 4)? as usize)?)?;
            let value = r.cstr(strings.checked_add(r.u32(at + 8)? as usize)?)?;
            budget = budget.checked_sub(key.len() + value.len())?;
            entries.push(CacheEntry {
                flags,
                key: key.to_os_string(),
                value: PathBuf::from(value),
                hwcap: 0,
            });
        }
        Some(Cache { entries })
    }

    /// The path the loader would take for `name` from this cache.
    pub fn lookup(&self, name: &OsStr, accepted: &[i32]) -> Option<&CacheEntry> {
        self.entries.iter().find(|e| {
            e.hwcap == 0
                && accepted.contains(&e.flags)
                && libcmp(e.key.as_bytes(), name.as_bytes()) == Ordering::Equal
        })
    }
}

fn parse_new(r: &Reader<'_>, base: usize) -> Option<Cache> {
    // Byte 28 records the writer's byte order: 2 little, 3 big, 0 unknown (old writers).
    match r.bytes.get(base + 28)? {
        0 => {}
        2 if !r.big_endian => {}
        3 if r.big_endian => {}
        _ => return None,
    }
    let nlibs = r.u32(base + 20)? as usize;
    let mut budget = r.budget();
    let mut entries = Vec::with_capacity(nlibs.min(r.bytes.len() / NEW_ENTRY));
    for i in 0..nlibs {
        let at = base
            .checked_add(NEW_HEADER)?
            .checked_add(i.checked_mul(NEW_ENTRY)?)?;
        let flags = r.u32(at)? as i32;
        let key = r.cstr(base.checked_add(r.u32(at + 4)? as usize)?)?;
        let value = r.cstr(base.checked_add(r.u32(at + 8)? as usize)?)?;
        let hwcap = r.u64(at + 16)?;
        budget = budget.checked_sub(key.len() + value.len())?;
        entries.push(CacheEntry {
            flags,
            key: key.to_os_string(),
            value: PathBuf::from(value),
            hwcap,
        });
    }
    Some(Cache { entries })
}

struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> Reader<'a> {
    /// How many string bytes all entries may copy out: ldconfig shares a
    /// string between a few entries at most, so a cache whose entries all
    /// name one long string is not one the loader's writer made.
    fn budget(&self) -> usize {
        self.bytes.len().saturating_mul(4).saturating_add(1 << 16)
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(&self, at: usize) -> Option<u64> {
        let b: [u8; 8] = self.bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A NUL-terminated string of at most `PATH_MAX` bytes with its NUL:
    /// ldconfig writes no longer ones, and without a bound every entry could
    /// name one huge string and have it copied once each.
    fn cstr(&self, at: usize) -> Option<&'a OsStr> {
        let rest = self.bytes.get(at..)?;
        let end = rest.iter().take(PATH_MAX).position(|&b| b == 0)?;
        Some(OsStr::from_bytes(&rest[..end]))
    }
}

/// glibc's `_dl_cache_libcmp`: runs of digits compare as numbers, so
/// `libfoo.so.01` equals `libfoo.so.1`.
pub fn libcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let start_i = i;
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            let start_j = j;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let x = trim_zeros(&a[start_i..i]);
            let y = trim_zeros(&b[start_j..j]);
            let ord = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if ord != Ordering::Equal {
                return ord;
            }
        } else if a[i].is_ascii_digit() {
            return Ordering::Greater;
        } else if b[j].is_ascii_digit() {
            return Ordering::Less;
        } else {
            match a[i].cmp(&b[j]) {
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
                ord => return ord,
            }
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

/// The cache flags a glibc loader for this ELF machine and class accepts
/// (`_dl_cache_check_flags` in `sysdeps/unix/sysv/linux/*/dl-cache.h`).
pub fn accepted_flags(machine: u16, is_64: bool, e_flags: u32) -> Vec<i32> {
    use crate::elf::consts::*;
    const ELF_LIBC6: i32 = 0x0003;
    const ELF: i32 = 0x0001;
    match (machine, is_64) {
        (EM_X86_64, true) => vec![0x0303],
        (EM_X86_64, false) => vec![0x0803],
        (EM_AARCH64, true) => vec![0x0a03],
        (EM_PPC64, true) => vec![0x0503],
        (EM_S390, true) => vec![0x0403],
        (EM_RISCV, true) => match e_flags & EF_RISCV_FLOAT_ABI {
            EF_RISCV_FLOAT_ABI_SOFT => vec![0x0f03],
            _ => vec![0x1003],
        },
        (EM_ARM, false) => match e_flags & EF_ARM_ABI_FLOAT_HARD {
            0 => vec![0x0b03, ELF_LIBC6],
            _ => vec![0x0903, ELF_LIBC6],
        },
        _ => vec![ELF, ELF_LIBC6],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_ldcache::{compat, new_format as build};

    #[test]
    fn lookup_filters_flags_and_hwcaps() {
        let bytes = build(
            &[
                (
                    0x0303,
                    "libz.so.1",
                    "/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1",
                    1 << 62,
                ),
                (0x0003, "libz.so.1", "/lib32/libz.so.1", 0),
                (0x0303, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", 0),
                (0x0303, "liba.so.01", "/lib/liba.so.01", 0),
            ],
            false,
        );
        let cache = Cache::parse(&bytes, false).unwrap();
        let hit = cache.lookup(OsStr::new("libz.so.1"), &[0x0303]).unwrap();
        assert_eq!(hit.value, PathBuf::from("/lib/x86_64-linux-gnu/libz.so.1"));
        let hit = cache
            .lookup(OsStr::new("libz.so.1"), &[0x0001, 0x0003])
            .unwrap();
        assert_eq!(hit.value, PathBuf::from("/lib32/libz.so.1"));
        let hit = cache.lookup(OsStr::new("liba.so.1"), &[0x0303]).unwrap();
        assert_eq!(hit.value, PathBuf::from("/lib/liba.so.01"));
        assert!(cache.lookup(OsStr::new("libq.so"), &[0x0303]).is_none());
    }

    #[test]
    fn byte_order_must_match_the_target() {
        let big = build(&[(0x0a03, "libc.so.6", "/lib/libc.so.6", 0)], true);
        assert!(Cache::parse(&big, false).is_none());
        let cache = Cache::parse(&big, true).unwrap();
        assert_eq!(cache.entries[0].key, "libc.so.6");
    }

    #[test]
    fn compat_layout_is_read_through_its_new_part() {
        let new = build(&[(0x0303, "libm.so.6", "/lib/libm.so.6", 0)], false);
        // One old entry, unused here; offsets in the new part are relative to where it starts.
        let old = compat(&[(0, 0, 0)], &new, false);
        let cache = Cache::parse(&old, false).unwrap();
        assert_eq!(cache.entries.len(), 1);
        assert_eq!(cache.entries[0].value, PathBuf::from("/lib/libm.so.6"));
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..200 {
            let mut bytes = NEW_MAGIC.to_vec();
            bytes.resize(len.max(NEW_MAGIC.len()), 0xff);
            let _ = Cache::parse(&bytes, false);
        }
    }

    #[test]
    fn entries_that_all_name_one_long_string_are_refused() {
        // Many entries pointing at one 4000-byte string would be copied once each.
        let long = "l".repeat(4000);
        let entries: Vec<(i32, &str, &str, u64)> = (0..2000)
            .map(|_| (0x0303, long.as_str(), "/lib/x", 0))
            .collect();
        let mut bytes = build(&entries, false);
        // Point every entry at the first entry's strings, as a crafted file would.
        let first = bytes[NEW_HEADER + 4..NEW_HEADER + 12].to_vec();
        for i in 1..2000 {
            let at = NEW_HEADER + i * NEW_ENTRY + 4;
            bytes[at..at + 8].copy_from_slice(&first);
        }
        bytes.truncate(NEW_HEADER + 2000 * NEW_ENTRY + 4000 + 1 + 7);
        assert!(Cache::parse(&bytes, false).is_none());
        // The same file with only a few entries sharing the string is fine.
        let mut few = bytes.clone();
        few[20..24].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(Cache::parse(&few, false).map(|c| c.entries.len()), Some(3));
        // A real-sized cache whose strings are shared a little still parses.
        let small = build(&[(0x0303, "libz.so.1", "/lib/libz.so.1", 0)], false);
        assert!(Cache::parse(&small, false).is_some());
    }

    #[test]
    fn libcmp_compares_numbers() {
        assert_eq!(libcmp(b"libfoo.so.01", b"libfoo.so.1"), Ordering::Equal);
        assert_eq!(libcmp(b"libfoo.so.10", b"libfoo.so.9"), Ordering::Greater);
        assert_eq!(libcmp(b"liba.so", b"liba.so.1"), Ordering::Less);
    }

    #[test]
    fn reads_this_hosts_cache() {
        let Ok(bytes) = std::fs::read("/etc/ld.so.cache") else {
            eprintln!("no /etc/ld.so.cache on this host; nothing to read");
            return;
        };
        let cache = Cache::parse(&bytes, cfg!(target_endian = "big")).expect("host cache parses");
        let accepted = accepted_flags(crate::elf::consts::EM_X86_64, true, 0);
        if cfg!(target_arch = "x86_64") {
            let hit = cache
                .lookup(OsStr::new("libc.so.6"), &accepted)
                .expect("libc in cache");
            assert!(hit.value.ends_with("libc.so.6"));
        }
    }
}
