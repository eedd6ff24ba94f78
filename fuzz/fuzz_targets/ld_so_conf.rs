//! `parse::parse_conf` on the input as text, and `parse::conf_directories` on a temporary
//! root whose `etc/ld.so.conf` is the input: never panic, never hang.
//!
//! The input up to its first NUL byte is `etc/ld.so.conf`; what follows it
//! (if anything) is `etc/ld.so.conf.d/fuzz.conf`. The root also holds two
//! fixed include files, `a.conf` and `b.conf`, which include each other and
//! `../ld.so.conf`, so cycles are always within reach.

#![no_main]

#[path = "common.rs"]
mod common;

use std::fs;
use std::path::Path;

use extract_elf_so::Root;
use extract_elf_so::parse::{Line, conf_directories, parse_conf};
use libfuzzer_sys::fuzz_target;

/// The root, with its fixed include files.
fn make_root(root: &Path) {
    let d = root.join("etc/ld.so.conf.d");
    fs::create_dir_all(&d).unwrap();
    fs::create_dir_all(root.join("usr/lib/x86_64-linux-gnu")).unwrap();
    fs::write(d.join("a.conf"), "/usr/local/lib\ninclude b.conf\n").unwrap();
    fs::write(
        d.join("b.conf"),
        "/usr/lib/x86_64-linux-gnu/ # multiarch\ninclude ../ld.so.conf a.conf\n",
    )
    .unwrap();
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in parse_conf(&text) {
        match line {
            Line::Dir(dir) => assert!(!dir.as_os_str().is_empty()),
            Line::Include(pattern) => assert!(!pattern.is_empty()),
        }
    }

    let root = common::temp_path("root", make_root);
    let (main, extra) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    fs::write(root.join("etc/ld.so.conf"), main).unwrap();
    let fuzz_conf = root.join("etc/ld.so.conf.d/fuzz.conf");
    match extra {
        Some(extra) => fs::write(&fuzz_conf, extra).unwrap(),
        None => {
            let _ = fs::remove_file(&fuzz_conf);
        }
    }
    if let Ok(dirs) = conf_directories(&Root::new(root), Path::new("/etc/ld.so.conf")) {
        for (i, dir) in dirs.iter().enumerate() {
            assert!(!dirs[..i].contains(dir), "{} listed twice", dir.display());
        }
    }
});
