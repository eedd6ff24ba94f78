//! The gzip stream of `-z`: its headers; that its bytes depend on the input
//! and the level only, not on the number of cores or the CPU's features;
//! its size against GNU gzip; that the readers people use read it whole
//! (GNU gzip and tar, pigz, bsdtar, Python's `tarfile`, Go's `archive/tar`);
//! and what it does under a memory limit. The stream is one gzip member per
//! 1 MiB of tar, so every archive here spans several.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use crate::util::{
    Archive, Kind, gunzip, have, hello_leaf, listing, os, require, run_ok, tmp, which,
};

/// Inputs whose tar spans several 1 MiB chunks: libc and the loader.
fn inputs() -> Vec<OsString> {
    vec![hello_leaf().into(), "/usr/bin/env".into()]
}

/// Packs [`inputs`] with `-z` and `extra` into `name` in `dir`; returns the bytes.
fn packed(dir: &Path, name: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = os(&[&"-q", &"-z", &"-o", &name]);
    args.extend(extra.iter().map(OsString::from));
    args.extend(inputs());
    run_ok(dir, &args);
    let bytes = fs::read(dir.join(name)).unwrap();
    assert!(
        gunzip(&bytes).len() > 2 << 20,
        "the tar should span several 1 MiB chunks"
    );
    bytes
}

/// The members of a gzip file: each one's 10 header bytes and content.
fn members(mut bytes: &[u8]) -> Vec<([u8; 10], Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let header: [u8; 10] = bytes[..10].try_into().unwrap();
        let mut content = Vec::new();
        flate2::bufread::GzDecoder::new(&mut bytes)
            .read_to_end(&mut content)
            .expect("a valid gzip member");
        out.push((header, content));
    }
    out
}

fn tool_path() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("extract-elf-so")
}

/// `cmd` with `args`, run in `dir`; panics unless it exits 0.
fn checked(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ---------------------------------------------------------------- the bytes

#[test]
fn gzip_headers_have_no_time_and_no_name() {
    let dir = tmp();
    let bytes = packed(dir.path(), "a.tar.gz", &[]);
    let each = members(&bytes);
    let tar: Vec<u8> = each.iter().flat_map(|(_, c)| c.clone()).collect();
    assert_eq!(each.len(), tar.len().div_ceil(1 << 20), "one member a MiB");
    for (header, _) in &each {
        assert_eq!(&header[..3], &[0x1f, 0x8b, 8], "gzip magic and deflate");
        assert_eq!(
            header[3], 0,
            "no flags: no name, no comment, no extra field"
        );
        assert_eq!(&header[4..8], &[0, 0, 0, 0], "MTIME");
        assert_eq!(header[9], 255, "OS unknown");
    }
    Archive::from_tar(&tar);
}

#[test]
fn gzip_bytes_do_not_depend_on_the_number_of_cores() {
    if !have("taskset") {
        assert!(std::env::var_os("CI").is_none(), "taskset is missing");
        eprintln!("taskset is missing; not testing one-core compression");
        return;
    }
    let dir = tmp();
    checked(
        Command::new("taskset")
            .current_dir(dir.path())
            .args(["-c", "0"])
            .arg(tool_path())
            .args(["-q", "-z", "-o", "one.tar.gz"])
            .args(inputs()),
        "extract-elf-so on one core",
    );
    let all = packed(dir.path(), "all.tar.gz", &[]);
    let one = fs::read(dir.path().join("one.tar.gz")).unwrap();
    assert!(one == all, "one core and all cores give different bytes");
    Archive::from_bytes(&all);
}

#[test]
fn gzip_bytes_do_not_depend_on_cpu_features() {
    // qemu's `qemu64` CPU is a baseline x86-64 (SSE2, no SSSE3, SSE4,
    // PCLMULQDQ, AVX or AVX-512), so every routine chosen by CPU feature,
    // in libdeflate and in the CRC-32, takes its generic path there, where
    // a current host takes its fastest one.
    if !cfg!(target_arch = "x86_64") {
        eprintln!("not an x86_64 host; not comparing CPU models");
        return;
    }
    let qemu = which("qemu-x86_64-static").or_else(|| which("qemu-x86_64"));
    if !require(
        qemu.is_some(),
        "qemu-x86_64-static is missing (apt-get install qemu-user-static)",
    ) {
        return;
    }
    let dir = tmp();
    // One level for each of libdeflate's parsers: fastest (1), greedy (2 to
    // 4), lazy (5 to 7) and lazy2 (8, 9).
    for level in ["1", "3", "6", "9"] {
        let native = packed(dir.path(), "native.tar.gz", &["--level", level]);
        checked(
            Command::new(qemu.as_ref().unwrap())
                .current_dir(dir.path())
                .args(["-cpu", "qemu64"])
                .arg(tool_path())
                .args(["-q", "-z", "--level", level, "-o", "baseline.tar.gz"])
                .args(inputs()),
            "extract-elf-so on a baseline x86-64 CPU",
        );
        let baseline = fs::read(dir.path().join("baseline.tar.gz")).unwrap();
        assert!(
            baseline == native,
            "level {level}: a baseline CPU and this one give different bytes"
        );
    }
}

#[test]
fn gzip_level_six_is_no_larger_than_gnu_gzip_makes() {
    if !require(have("gzip"), "gzip is missing") {
        return;
    }
    let dir = tmp();
    let ours = packed(dir.path(), "ours.tar.gz", &[]);
    // GNU gzip -6 (what `tar -z` runs) over exactly the same tar stream.
    fs::write(dir.path().join("same.tar"), gunzip(&ours)).unwrap();
    checked(
        Command::new("gzip")
            .args(["-6", "-n", "-k"])
            .arg(dir.path().join("same.tar")),
        "gzip -6",
    );
    let theirs = fs::metadata(dir.path().join("same.tar.gz")).unwrap().len();
    let ratio = ours.len() as f64 / theirs as f64;
    assert!(
        ratio <= 1.0,
        "ours {} bytes, gzip -6 {theirs} bytes: ratio {ratio:.4}",
        ours.len()
    );
}

#[test]
fn gzip_levels_go_from_fastest_to_smallest() {
    let dir = tmp();
    let tar = gunzip(&packed(dir.path(), "6.tar.gz", &[]));
    let sizes: Vec<usize> = ["1", "6", "9"]
        .iter()
        .map(|level| {
            let bytes = packed(dir.path(), &format!("{level}.tar.gz"), &["--level", level]);
            assert!(gunzip(&bytes) == tar, "level {level} holds another tar");
            bytes.len()
        })
        .collect();
    assert!(
        sizes[0] > sizes[1] && sizes[1] > sizes[2],
        "sizes at levels 1, 6, 9: {sizes:?}"
    );
}

// ---------------------------------------------------------------- readers

/// What a tar reader should list: kind, path, mode, size, CRC-32 of the
/// content and link target of each entry, one a line, in archive order.
fn expected_listing(archive: &Archive) -> String {
    let mut out = String::new();
    for item in &archive.items {
        let kind = match item.kind {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
        };
        let mut crc = flate2::Crc::new();
        crc.update(&item.data);
        out.push_str(&format!(
            "{kind}\t{}\t{:o}\t{}\t{:08x}\t{}\n",
            item.path,
            item.mode & 0o7777,
            item.data.len(),
            crc.sum(),
            item.link.as_deref().unwrap_or("")
        ));
    }
    out
}

/// Checks that `dir` holds what `archive` holds: contents and link targets.
fn assert_unpacked(dir: &Path, archive: &Archive, reader: &str) {
    for item in &archive.items {
        let path = dir.join(&item.path);
        let meta =
            fs::symlink_metadata(&path).unwrap_or_else(|e| panic!("{reader}: {}: {e}", item.path));
        match item.kind {
            Kind::Dir => assert!(meta.is_dir(), "{reader}: {} is not a directory", item.path),
            Kind::File => assert!(
                meta.is_file() && fs::read(&path).unwrap() == item.data,
                "{reader}: {} differs",
                item.path
            ),
            Kind::Symlink => assert_eq!(
                fs::read_link(&path).unwrap().to_str(),
                item.link.as_deref(),
                "{reader}: {}",
                item.path
            ),
        }
    }
}

#[test]
fn gnu_gzip_and_pigz_read_the_whole_stream() {
    let dir = tmp();
    let bytes = packed(dir.path(), "a.tar.gz", &[]);
    let tar = gunzip(&bytes);
    for tool in ["gzip", "pigz"] {
        if !require(
            have(tool),
            &format!("{tool} is missing (apt-get install {tool})"),
        ) {
            continue;
        }
        checked(
            Command::new(tool)
                .arg("-t")
                .arg(dir.path().join("a.tar.gz")),
            &format!("{tool} -t"),
        );
        let out = checked(
            Command::new(tool)
                .arg("-dc")
                .arg(dir.path().join("a.tar.gz")),
            &format!("{tool} -dc"),
        );
        assert!(out.stdout == tar, "{tool} -dc gives another tar");
    }
}

#[test]
fn gnu_tar_and_bsdtar_unpack_the_archive() {
    let dir = tmp();
    let bytes = packed(dir.path(), "a.tar.gz", &[]);
    let archive = Archive::from_bytes(&bytes);
    let readers: [(&str, &[&str], &str); 2] = [
        ("tar", &["-xzf"], "tar"),
        ("bsdtar", &["-xf"], "libarchive-tools"),
    ];
    for (reader, flags, package) in readers {
        if !require(
            have(reader),
            &format!("{reader} is missing (apt-get install {package})"),
        ) {
            continue;
        }
        let into = dir.path().join(reader);
        fs::create_dir(&into).unwrap();
        checked(
            Command::new(reader)
                .args(flags)
                .arg(dir.path().join("a.tar.gz"))
                .arg("-C")
                .arg(&into),
            reader,
        );
        assert_unpacked(&into, &archive, reader);
    }
}

#[test]
fn python_tarfile_reads_the_archive() {
    if !require(have("python3"), "python3 is missing") {
        return;
    }
    let dir = tmp();
    let bytes = packed(dir.path(), "a.tar.gz", &[]);
    let script = r#"
import gzip, sys, tarfile, zlib
with gzip.open(sys.argv[1]) as whole:
    whole.read()  # every member, every CRC
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t:
        kind = "dir" if m.isdir() else "symlink" if m.issym() else "file" if m.isfile() else "other"
        data = t.extractfile(m).read() if m.isfile() else b""
        link = m.linkname if m.issym() else ""
        print(f"{kind}\t{m.name}\t{m.mode & 0o7777:o}\t{len(data)}\t{zlib.crc32(data):08x}\t{link}")
"#;
    let out = checked(
        Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(dir.path().join("a.tar.gz")),
        "python3 tarfile",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected_listing(&Archive::from_bytes(&bytes))
    );
}

#[test]
fn go_archive_tar_reads_the_archive() {
    // What `docker import` and image tools written in Go read with.
    if !require(have("go"), "go is missing (apt-get install golang-go)") {
        return;
    }
    let dir = tmp();
    let bytes = packed(dir.path(), "a.tar.gz", &[]);
    let program = r#"package main

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
)

func main() {
	f, err := os.Open(os.Args[1])
	check(err)
	z, err := gzip.NewReader(f)
	check(err)
	t := tar.NewReader(z)
	for {
		h, err := t.Next()
		if err == io.EOF {
			break
		}
		check(err)
		data, err := io.ReadAll(t)
		check(err)
		kind, link := "other", ""
		switch h.Typeflag {
		case tar.TypeDir:
			kind = "dir"
		case tar.TypeReg:
			kind = "file"
		case tar.TypeSymlink:
			kind, link = "symlink", h.Linkname
		}
		fmt.Printf("%s\t%s\t%o\t%d\t%08x\t%s\n", kind, strings.TrimSuffix(h.Name, "/"),
			h.Mode&07777, len(data), crc32.ChecksumIEEE(data), link)
	}
	// The rest of the stream: every member, every CRC.
	_, err = io.Copy(io.Discard, z)
	check(err)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"#;
    fs::write(dir.path().join("read.go"), program).unwrap();
    let out = checked(
        Command::new("go")
            .current_dir(dir.path())
            .env("GOCACHE", dir.path().join("gocache"))
            .env("GOPATH", dir.path().join("gopath"))
            .env("GOFLAGS", "-mod=mod")
            .args(["run", "read.go", "a.tar.gz"]),
        "go run read.go",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected_listing(&Archive::from_bytes(&bytes))
    );
}

// ---------------------------------------------------------------- memory

/// Runs the tool in `dir` with `args` under `ulimit -v limit_kb`.
fn limited(dir: &Path, limit_kb: u64, args: &[OsString]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .arg("-c")
        .arg(r#"ulimit -v "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg(limit_kb.to_string())
        .arg(tool_path())
        .args(args)
        .output()
        .expect("running sh")
}

/// Runs the tool with `args` (writing `output` in a directory of its own)
/// at limits from 4 MB up: wherever the tool can write a plain tar, the run
/// must write what `want` holds (read from `output` by `read`), or exit 1
/// saying memory is short for compressing and leave nothing behind. Never
/// abort. Stops after three successes in a row; the limits tried must
/// include some of each.
fn sweep_memory_limits(
    what: &str,
    args: &[&dyn AsRef<std::ffi::OsStr>],
    output: &str,
    read: impl Fn(&Path) -> Vec<u8>,
    want: &[u8],
) {
    let dir = tmp();
    let plain_dir = dir.path().join("plain");
    let out_dir = dir.path().join("out");
    fs::create_dir(&plain_dir).unwrap();
    fs::create_dir(&out_dir).unwrap();
    // Not quiet: the run's other work (run-time needs, printing) is under
    // the limit too.
    let mut plain_args = os(&[&"-o", &"a.tar"]);
    plain_args.extend(inputs());
    let mut out_args = os(args);
    out_args.extend(inputs());
    let (mut wrote, mut refused, mut in_a_row) = (0, 0, 0);
    for limit in (4_000..=100_000).step_by(1_000) {
        if limited(&plain_dir, limit, &plain_args).status.code() != Some(0) {
            // Too little for the tool itself: nothing to say about compressing.
            in_a_row = 0;
            continue;
        }
        let out = limited(&out_dir, limit, &out_args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "limit {limit} KB:\n{stderr}");
        match out.status.code() {
            Some(0) => {
                let written = out_dir.join(output);
                assert!(read(&written) == want, "limit {limit} KB: other bytes");
                fs::remove_dir_all(&written)
                    .or_else(|_| fs::remove_file(&written))
                    .unwrap();
                wrote += 1;
                in_a_row += 1;
            }
            Some(1) => {
                assert!(
                    stderr.contains("not enough memory to compress"),
                    "limit {limit} KB:\n{stderr}"
                );
                refused += 1;
                in_a_row = 0;
            }
            code => panic!("limit {limit} KB: exit {code:?}\n{stderr}"),
        }
        assert_eq!(listing(&out_dir), Vec::<String>::new(), "limit {limit} KB");
        if in_a_row == 3 {
            eprintln!("{what} wrote its output from {} KB on", limit - 2_000);
            break;
        }
    }
    assert!(
        refused > 0 && wrote > 0,
        "the limits tried should include some too low for {what} ({refused}) and some enough ({wrote})"
    );
}

#[test]
fn under_a_memory_limit_gzip_uses_fewer_threads_or_fails_cleanly() {
    // -z writes the same archive as without a limit (on fewer threads, if
    // it must), or fails cleanly.
    let dir = tmp();
    let want = packed(dir.path(), "want.tar.gz", &[]);
    let read = |path: &Path| fs::read(path).unwrap();
    sweep_memory_limits("-z", &[&"-z", &"-o", &"a.tar.gz"], "a.tar.gz", read, &want);
}

#[test]
fn under_a_memory_limit_an_image_is_written_whole_or_not_at_all() {
    // An image's layers (one compressor for all, a write-behind thread per
    // layer) are written as without a limit, or the run fails cleanly and
    // leaves no layout behind.
    let dir = tmp();
    let mut args = os(&[&"-q", &"--image", &"oci:want"]);
    args.extend(inputs());
    run_ok(dir.path(), &args);
    let want = fs::read(dir.path().join("want/index.json")).unwrap();
    let read = |path: &Path| fs::read(path.join("index.json")).unwrap();
    sweep_memory_limits("--image", &[&"--image", &"oci:img"], "img", read, &want);
}
