//! Builds `/etc/ld.so.cache` images the way glibc's ldconfig lays them out:
//! the new format (`glibc-ld.so.cache1.1`, ldconfig's default since glibc
//! 2.32) in either byte order, and the old `ld.so-1.7.0` format with a new
//! part inside it (ldconfig's "compat" layout).
//!
//! Standalone: only `std`, and nothing of the crate or of the integration
//! test binary, so the crate's unit tests can include this file too
//! (`#[path = "..."] mod ldcache_image;`).
//!
//! New format, all numbers in the writer's byte order:
//!
//! | offset | field |
//! |---|---|
//! | 0 | magic `glibc-ld.so.cache1.1` (20 bytes) |
//! | 20, 24 | u32 nlibs, u32 len_strings |
//! | 28 | u8 flags: 2 little-endian, 3 big-endian; 3 bytes of padding |
//! | 32 | u32 extension_offset (0: none), 3 unused u32 |
//! | 48 | nlibs entries of 24 bytes: i32 flags, u32 key, u32 value, u32 unused, u64 hwcap |
//!
//! then the strings. Key and value are offsets of NUL-terminated strings,
//! counted from the start of the new-format header.

/// Magic of the new format.
pub const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
/// Magic of the old format; a NUL byte follows it in the file.
pub const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
/// Length of the new-format header: the entries start here.
pub const NEW_HEADER: usize = 48;
/// Length of one new-format entry.
pub const NEW_ENTRY: usize = 24;

/// One entry: flags (`0x0303` is an x86-64 libc6 library), key (the
/// SONAME), value (the library's path) and hwcap (bit 62 set marks a
/// `glibc-hwcaps` subdirectory).
pub type Entry<'a> = (i32, &'a str, &'a str, u64);

/// One entry with its key and value given as string offsets (from the start
/// of the new-format header): flags, key, value, hwcap.
pub type RawEntry = (i32, u32, u32, u64);

/// Where the strings of a new-format image of `n` entries start.
pub fn strings_at(n: usize) -> usize {
    NEW_HEADER + n * NEW_ENTRY
}

/// A new-format image holding `entries`, each key and value stored once
/// after the entries, big-endian if `big`.
pub fn new_format(entries: &[Entry], big: bool) -> Vec<u8> {
    let start = strings_at(entries.len());
    let mut strings = Vec::new();
    let mut raw = Vec::new();
    for &(flags, key, value, hwcap) in entries {
        let key_at = start + strings.len();
        strings.extend_from_slice(key.as_bytes());
        strings.push(0);
        let value_at = start + strings.len();
        strings.extend_from_slice(value.as_bytes());
        strings.push(0);
        raw.push((flags, offset(key_at), offset(value_at), hwcap));
    }
    new_format_raw(&raw, &strings, big)
}

/// A new-format image whose entries point wherever they say, followed by
/// `strings` (at [`strings_at`]`(entries.len())`, with len_strings their
/// length): for images no ldconfig writes, such as entries sharing strings.
pub fn new_format_raw(entries: &[RawEntry], strings: &[u8], big: bool) -> Vec<u8> {
    let mut out = NEW_MAGIC.to_vec();
    out.extend(u32_bytes(offset(entries.len()), big));
    out.extend(u32_bytes(offset(strings.len()), big));
    out.push(if big { 3 } else { 2 });
    out.extend([0; 3]);
    out.extend([0; 16]); // extension_offset and the unused words
    for &(flags, key, value, hwcap) in entries {
        out.extend(u32_bytes(flags.cast_unsigned(), big));
        out.extend(u32_bytes(key, big));
        out.extend(u32_bytes(value, big));
        out.extend(u32_bytes(0, big));
        out.extend(u64_bytes(hwcap, big));
    }
    debug_assert_eq!(out.len(), strings_at(entries.len()));
    out.extend_from_slice(strings);
    out
}

/// The compat layout: the old format's header and `old` entries (flags,
/// key, value; 12 bytes each), padded to a multiple of 8, then `new` (a
/// new-format image) where the old string table begins. Big-endian if `big`.
pub fn compat(old: &[(i32, u32, u32)], new: &[u8], big: bool) -> Vec<u8> {
    let mut out = OLD_MAGIC.to_vec();
    out.push(0);
    out.extend(u32_bytes(offset(old.len()), big));
    for &(flags, key, value) in old {
        out.extend(u32_bytes(flags.cast_unsigned(), big));
        out.extend(u32_bytes(key, big));
        out.extend(u32_bytes(value, big));
    }
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
    out.extend_from_slice(new);
    out
}

/// `v` in the writer's byte order: big-endian if `big`.
fn u32_bytes(v: u32, big: bool) -> [u8; 4] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// `v` in the writer's byte order: big-endian if `big`.
fn u64_bytes(v: u64, big: bool) -> [u8; 8] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

/// A length or an offset as the format's u32.
fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("an ld.so.cache image larger than 4 GiB")
}
