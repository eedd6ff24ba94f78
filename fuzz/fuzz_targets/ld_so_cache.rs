//! `parse::Cache::parse` (ld.so.cache) in both byte orders, then lookups: never panic.

#![no_main]

use std::ffi::OsStr;

use extract_elf_so::parse::consts::{EM_AARCH64, EM_ARM, EM_X86_64};
use extract_elf_so::parse::{Cache, accepted_flags, libcmp};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "libc.so.6",
    "libz.so.1",
    "libm.so.06",
    "",
    "lib",
    "libfoo.so.1.2.3",
];

fuzz_target!(|data: &[u8]| {
    let flag_sets = [
        accepted_flags(EM_X86_64, true, 0),
        accepted_flags(EM_AARCH64, true, 0),
        accepted_flags(EM_ARM, false, 0x400),
        vec![0x0001, 0x0003],
    ];
    for big_endian in [false, true] {
        let Some(cache) = Cache::parse(data, big_endian) else {
            continue;
        };
        for flags in &flag_sets {
            for name in NAMES {
                if let Some(hit) = cache.lookup(OsStr::new(name), flags) {
                    assert!(flags.contains(&hit.flags));
                    assert_eq!(hit.hwcap, 0);
                }
            }
            // Every key looks itself up (or an earlier entry that compares equal).
            for entry in cache.entries.iter().take(8) {
                if entry.hwcap == 0
                    && flags.contains(&entry.flags)
                    && cache.lookup(&entry.key, flags).is_none()
                {
                    panic!("{:?} is in the cache but lookup misses it", entry.key);
                }
            }
        }
    }
    // libcmp is a total order on arbitrary bytes: antisymmetric, reflexive.
    let (a, b) = data.split_at(data.len() / 2);
    assert_eq!(libcmp(a, b), libcmp(b, a).reverse());
    assert_eq!(libcmp(a, a), std::cmp::Ordering::Equal);
});
