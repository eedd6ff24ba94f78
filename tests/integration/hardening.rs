//! Hardening: damaged and hostile inputs get a correct result or a clear
//! error, quickly, and never a panic.
//!
//! The first half mutates real files (programs, a shared library,
//! `/etc/ld.so.cache`, ld.so.conf text and the fixtures) with a small
//! deterministic PRNG and feeds every copy to the parsers, each call under
//! `catch_unwind` and timed; a failure names the source, seed and case so it
//! can be replayed. The second half builds malicious layouts (include cycles,
//! climbing `$ORIGIN`, link chains, absurd DT_NEEDED lists, a 1 GB sparse
//! file, `..` in archive paths) and runs the real binary on them.
//!
//! The long-running fuzzers for the same parsers live in `fuzz/` (nightly).

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;
use std::os::unix::fs::symlink;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use extract_elf_so::Error;
use extract_elf_so::Root;
use extract_elf_so::parse::consts::EM_X86_64;
use extract_elf_so::parse::{Cache, Line, accepted_flags};

/// The ELF reader, as header only and as facts.
mod elf {
    use extract_elf_so::parse::{ElfFacts, Header, RuntimeFacts, read_elf};
    use std::path::Path;

    pub fn read_header(path: &Path) -> extract_elf_so::Result<Header> {
        read_elf(path).map(|f| f.header)
    }

    pub fn read_facts(path: &Path) -> extract_elf_so::Result<ElfFacts> {
        read_elf(path)?.facts.map(std::sync::Arc::unwrap_or_clone)
    }

    /// The symbols run-time needs ask about.
    pub const ASKED: &[&str] = &[
        "getpwnam",
        "iconv_open",
        "system",
        "tzset",
        "pthread_exit",
        "dlopen",
        "puts",
    ];

    /// The run-time facts, read as a run reads them.
    pub fn read_runtime(path: &Path) -> extract_elf_so::Result<RuntimeFacts> {
        extract_elf_so::parse::read_runtime(path, ASKED)
    }

    /// The strings of the read-only segments: how many, and their bytes.
    pub fn strings(path: &Path) -> extract_elf_so::Result<(usize, usize)> {
        let (mut n, mut bytes) = (0, 0);
        extract_elf_so::parse::scan_strings(path, |s| {
            n += 1;
            bytes += s.len();
        })?;
        Ok((n, bytes))
    }
}

/// The ld.so.conf reader.
mod ldconf {
    pub use extract_elf_so::parse::{conf_directories as read, parse_conf as parse};
}

use crate::util::{Archive, fx, have, ldcache_image, mini_sysroot, tmp, write};

/// No single parser call may take longer than this.
const PER_CALL_LIMIT: Duration = Duration::from_secs(1);

// ------------------------------------------------------------------ helpers

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The slowest call and the sum of all calls, and what went wrong.
#[derive(Default)]
struct Stats {
    cases: usize,
    total: Duration,
    max: Duration,
    max_case: String,
    failures: Vec<String>,
}

impl Stats {
    /// Runs `f` for `case` under `catch_unwind`, timing it. A panic or a
    /// call slower than [`PER_CALL_LIMIT`] is recorded as a failure.
    fn call<T>(&mut self, case: &str, what: &str, f: impl FnOnce() -> T) -> Option<T> {
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(f));
        let took = start.elapsed();
        self.total += took;
        if took > self.max {
            self.max = took;
            self.max_case = format!("{case} ({what})");
        }
        if took > PER_CALL_LIMIT {
            self.failures.push(format!(
                "{case}: {what} took {took:?} (limit {PER_CALL_LIMIT:?})"
            ));
        }
        match result {
            Ok(v) => Some(v),
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(non-string panic payload)");
                self.failures
                    .push(format!("{case}: {what} panicked: {msg}"));
                None
            }
        }
    }

    fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    /// Prints the numbers and fails the test on any recorded failure.
    fn finish(self, name: &str) {
        eprintln!(
            "{name}: {} cases, {:?} in parser calls, slowest {:?} for {}",
            self.cases, self.total, self.max, self.max_case
        );
        if !self.failures.is_empty() {
            let mut text = format!("{name}: {} failures:\n", self.failures.len());
            for f in self.failures.iter().take(20) {
                let _ = writeln!(text, "  {f}");
            }
            panic!("{text}");
        }
    }
}

/// Runs `f` on another thread and fails if it does not finish within `limit`
/// (a hang must fail the test, not stall the suite).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// The binary, with a kill-on-timeout: returns its output, or fails the
/// test if it runs longer than `limit`.
fn run_tool(dir: &Path, args: &[&OsStr], limit: Duration) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("extract-elf-so");
    let child = Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    wait_limited(child, limit, &format!("extract-elf-so {args:?}"))
}

fn wait_limited(mut child: std::process::Child, limit: Duration, what: &str) -> Output {
    // Drain the pipes on threads so a chatty child never blocks.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}, killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

fn s(p: &Path) -> &OsStr {
    p.as_os_str()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 0 or 1, no panic, no signal.
fn assert_clean_exit(out: &Output, what: &str) {
    let stderr = stderr_of(out);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: exit status {:?} (want 0 or 1)\n{stderr}",
        out.status
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what}: panic\n{stderr}"
    );
}

/// Every entry name of a tar archive (without a trailing `/`): relative, without `..`.
fn assert_safe_names(archive: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for name in Archive::read_tar(archive).paths() {
        assert!(
            !name.starts_with('/'),
            "{}: absolute entry {name:?}",
            archive.display()
        );
        assert!(
            !name.split('/').any(|c| c == ".."),
            "{}: entry with '..': {name:?}",
            archive.display()
        );
        names.push(name.to_string());
    }
    names
}

// ------------------------------------------------------------------ ELF mutation

/// A header field that can be overwritten: file offset and width in bytes.
#[derive(Debug, Clone, Copy)]
struct Field {
    name: &'static str,
    at: usize,
    width: usize,
}

/// Where the interesting fields of an ELF file are (either class, either byte order).
struct Layout {
    big: bool,
    fields: Vec<Field>,
}

fn read_uint(bytes: &[u8], at: usize, width: usize, big: bool) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(width)?)?;
    let mut v = 0u64;
    for i in 0..width {
        let byte = if big { b[i] } else { b[width - 1 - i] };
        v = (v << 8) | u64::from(byte);
    }
    Some(v)
}

fn write_uint(bytes: &mut [u8], at: usize, width: usize, big: bool, value: u64) {
    for i in 0..width {
        let shift = if big { (width - 1 - i) * 8 } else { i * 8 };
        if let Some(b) = bytes.get_mut(at + i) {
            *b = (value >> shift) as u8;
        }
    }
}

fn layout(bytes: &[u8]) -> Option<Layout> {
    if bytes.len() < 52 || &bytes[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = bytes[4] == 2;
    let big = bytes[5] == 2;
    let u = |at, w| read_uint(bytes, at, w, big);
    let mut fields = Vec::new();
    let f = |name, at, width| Field { name, at, width };
    let (phoff, phentsize, phnum, word) = if is64 {
        fields.extend([
            f("e_phoff", 32, 8),
            f("e_shoff", 40, 8),
            f("e_phentsize", 54, 2),
            f("e_phnum", 56, 2),
            f("e_shentsize", 58, 2),
            f("e_shnum", 60, 2),
        ]);
        (u(32, 8)?, u(54, 2)?, u(56, 2)?, 8)
    } else {
        fields.extend([
            f("e_phoff", 28, 4),
            f("e_shoff", 32, 4),
            f("e_phentsize", 42, 2),
            f("e_phnum", 44, 2),
            f("e_shentsize", 46, 2),
            f("e_shnum", 48, 2),
        ]);
        (u(28, 4)?, u(42, 2)?, u(44, 2)?, 4)
    };
    fields.extend([
        f("e_ident[EI_CLASS]", 4, 1),
        f("e_ident[EI_DATA]", 5, 1),
        f("e_type", 16, 2),
    ]);
    // (p_type, p_offset, p_vaddr, p_filesz, p_align) offsets inside one program header.
    let (t, o, v, fs, al) = if is64 {
        (0, 8, 16, 32, 48)
    } else {
        (0, 4, 8, 16, 28)
    };
    // PT_LOAD (vaddr, offset, filesz), and DT_VERNEED and DT_VERDEF values.
    let mut loads = Vec::new();
    let (mut verneed, mut verdef) = (None, None);
    for i in 0..phnum {
        let base = usize::try_from(phoff + i * phentsize).ok()?;
        if base + phentsize as usize > bytes.len() {
            break;
        }
        fields.extend([
            f("p_type", base + t, 4),
            f("p_offset", base + o, word),
            f("p_vaddr", base + v, word),
            f("p_filesz", base + fs, word),
            f("p_align", base + al, word),
        ]);
        if u(base + t, 4)? == 1 {
            loads.push((u(base + v, word)?, u(base + o, word)?, u(base + fs, word)?));
        }
        // PT_DYNAMIC: every entry's tag and value.
        if u(base + t, 4)? == 2 {
            let off = u(base + o, word)? as usize;
            let size = u(base + fs, word)? as usize;
            let entry = 2 * word;
            let mut at = off;
            while at + entry <= (off + size).min(bytes.len()) {
                fields.push(f("d_tag", at, word));
                fields.push(f("d_val", at + word, word));
                match u(at, word)? {
                    0 => break,
                    DT_VERNEED => verneed = u(at + word, word),
                    DT_VERDEF => verdef = u(at + word, word),
                    _ => {}
                }
                at += entry;
            }
        }
    }
    // The symbol version records, through the loaded segments.
    let file_offset = |addr: u64| {
        let (vaddr, off, _) = loads
            .iter()
            .find(|(vaddr, _, size)| addr >= *vaddr && addr - vaddr < *size)?;
        usize::try_from(off + (addr - vaddr)).ok()
    };
    let mut at = verneed.and_then(file_offset);
    while let Some(ent) = at.filter(|at| at + 16 <= bytes.len() && fields.len() < 4096) {
        fields.extend([
            f("vn_version", ent, 2),
            f("vn_file", ent + 4, 4),
            f("vn_aux", ent + 8, 4),
            f("vn_next", ent + 12, 4),
        ]);
        let mut aux = ent + u(ent + 8, 4)? as usize;
        while aux + 16 <= bytes.len() && fields.len() < 4096 {
            fields.extend([
                f("vna_hash", aux, 4),
                f("vna_flags", aux + 4, 2),
                f("vna_name", aux + 8, 4),
                f("vna_next", aux + 12, 4),
            ]);
            match u(aux + 12, 4)? {
                0 => break,
                step => aux += step as usize,
            }
        }
        at = match u(ent + 12, 4)? {
            0 => None,
            step => Some(ent + step as usize),
        };
    }
    let mut at = verdef.and_then(file_offset);
    while let Some(def) = at.filter(|at| at + 20 <= bytes.len() && fields.len() < 4096) {
        fields.extend([
            f("vd_version", def, 2),
            f("vd_hash", def + 8, 4),
            f("vd_aux", def + 12, 4),
            f("vd_next", def + 16, 4),
        ]);
        let aux = def + u(def + 12, 4)? as usize;
        if aux + 8 <= bytes.len() {
            fields.push(f("vda_name", aux, 4));
        }
        at = match u(def + 16, 4)? {
            0 => None,
            step => Some(def + step as usize),
        };
    }
    Some(Layout { big, fields })
}

/// The dynamic tags of the symbol version tables.
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERDEF: u64 = 0x6fff_fffc;

/// Values that make offsets, sizes and counts interesting.
fn splice_values(field: &Field, len: u64) -> Vec<u64> {
    let max = if field.width == 8 {
        u64::MAX
    } else {
        (1u64 << (field.width * 8)) - 1
    };
    let mut v = vec![
        0,
        1,
        max,
        max - 1,
        max / 2 + 1,
        max.saturating_sub(0xfff),
        len.saturating_sub(1) & max,
        len & max,
        (len + 1) & max,
        (len.saturating_sub(8)) & max,
    ];
    match field.name {
        // PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR
        "p_type" => v.extend([1, 2, 3, 4, 6]),
        // DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH, DT_FLAGS_1;
        // DT_HASH, DT_SYMTAB, DT_RELA, DT_RELASZ, DT_SYMENT, DT_REL, DT_JMPREL,
        // DT_GNU_HASH, DT_MIPS_SYMTABNO; the symbol version tables
        "d_tag" => v.extend([
            1,
            5,
            10,
            14,
            15,
            29,
            0x6fff_fffb,
            4,
            6,
            7,
            8,
            11,
            17,
            23,
            0x6fff_fef5,
            0x7000_0011,
            DT_VERNEED,
            DT_VERDEF,
        ]),
        "p_align" => v.extend([4, 8, 3, 16]),
        // Versions other than 1, and chains that step a byte or a record
        // at a time, back onto themselves or out of the file.
        "vn_version" | "vd_version" => v.extend([2]),
        "vn_aux" | "vn_next" | "vna_next" | "vd_aux" | "vd_next" => v.extend([4, 8, 16, 20]),
        "vna_flags" => v.extend([2]),
        "e_phnum" => v.extend([0xffff, 0x7fff, 2]),
        "e_ident[EI_CLASS]" | "e_ident[EI_DATA]" => v.extend([2, 3]),
        _ => {}
    }
    v
}

/// One random mutation of `base`, and a description of it.
fn mutate_elf(rng: &mut Rng, base: &[u8], layout: Option<&Layout>) -> (Vec<u8>, String) {
    let mut bytes = base.to_vec();
    let mut what = Vec::new();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if bytes.is_empty() {
            break;
        }
        // Most mutations land in the first 4 KiB, where the headers are.
        let hot = bytes.len().min(4096);
        let pos = |rng: &mut Rng, len: usize| {
            if rng.below(4) == 0 {
                rng.below(len)
            } else {
                rng.below(hot.min(len))
            }
        };
        match rng.below(6) {
            0 => {
                let at = pos(rng, bytes.len());
                let bit = rng.below(8);
                bytes[at] ^= 1 << bit;
                what.push(format!("flip {at}.{bit}"));
            }
            1 => {
                let at = pos(rng, bytes.len());
                let n = 1 + rng.below(8);
                let fill = *rng.pick(&[0u8, 0xff, 0x7f, 0x80]);
                for b in bytes.iter_mut().skip(at).take(n) {
                    *b = if rng.below(3) == 0 {
                        rng.next() as u8
                    } else {
                        fill
                    };
                }
                what.push(format!("overwrite {at}+{n}"));
            }
            2 => {
                let len = if rng.below(2) == 0 {
                    rng.below(hot)
                } else {
                    rng.below(bytes.len())
                };
                bytes.truncate(len);
                what.push(format!("truncate {len}"));
            }
            _ => {
                let Some(layout) = layout.filter(|l| !l.fields.is_empty()) else {
                    continue;
                };
                let field = *rng.pick(&layout.fields);
                let values = splice_values(&field, base.len() as u64);
                let value = if rng.below(5) == 0 {
                    rng.next()
                } else {
                    *rng.pick(&values)
                };
                write_uint(&mut bytes, field.at, field.width, layout.big, value);
                what.push(format!("{}@{}={value:#x}", field.name, field.at));
            }
        }
    }
    (bytes, what.join(", "))
}

/// Small ELF files of several kinds to mutate.
fn elf_sources() -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = vec![PathBuf::from("/bin/true")];
    paths.extend(small_host_library());
    for rel in [
        "hello/bin/hello",
        "hello/bin/hello-leaf",
        "hello/lib/libleaf.so.1.0.0",
        "versions/bin/app",
        "versions/lib2/libver.so.1",
        "static/bin/app-pie",
        "note/bin/app-malformed",
        "wrongclass/lib32/libleaf.so.1",
        "musl/bin/hello",
        "aarch64/bin/hello",
    ] {
        let p = fx(rel);
        if p.is_file() {
            paths.push(p);
        }
    }
    paths
        .into_iter()
        .filter_map(|p| Some((p.display().to_string(), fs::read(&p).ok()?)))
        .collect()
}

/// A small shared library of the host (the smallest of a few common ones).
fn small_host_library() -> Option<PathBuf> {
    let dir = Path::new("/usr/lib/x86_64-linux-gnu");
    [
        "libz.so.1",
        "libattr.so.1",
        "libacl.so.1",
        "libmd.so.0",
        "libcap.so.2",
        "libpcre2-8.so.0",
        "libselinux.so.1",
    ]
    .iter()
    .map(|n| dir.join(n))
    .filter_map(|p| Some((fs::metadata(&p).ok()?.len(), p)))
    .filter(|(len, _)| *len <= 512 * 1024)
    .min()
    .map(|(_, p)| p)
}

/// Feeds one candidate to `read_header` and `read_facts`.
fn check_elf(stats: &mut Stats, path: &Path, bytes: &[u8], case: &str) {
    fs::write(path, bytes).unwrap();
    stats.cases += 1;
    let shown = path.display().to_string();
    let header = stats.call(case, "read_header", || elf::read_header(path));
    let facts = stats.call(case, "read_facts", || elf::read_facts(path));
    let runtime = stats.call(case, "read_runtime", || elf::read_runtime(path));
    let strings = stats.call(case, "scan_strings", || elf::strings(path));
    if let Some(Ok((_, bytes))) = &strings
        && *bytes as u64 > bytes_len(path)
    {
        stats.fail(format!(
            "{case}: scan_strings passed on more bytes than the file has"
        ));
    }
    if let (Some(Ok(h)), Some(Ok(r))) = (&header, &runtime)
        && *h != r.header
    {
        stats.fail(format!("{case}: read_header and read_runtime disagree"));
    }
    for (what, err) in [
        (
            "read_header",
            header.as_ref().and_then(|r| r.as_ref().err()),
        ),
        ("read_facts", facts.as_ref().and_then(|r| r.as_ref().err())),
        (
            "read_runtime",
            runtime.as_ref().and_then(|r| r.as_ref().err()),
        ),
        (
            "scan_strings",
            strings.as_ref().and_then(|r| r.as_ref().err()),
        ),
    ] {
        if let Some(err) = err {
            let text = err.to_string();
            if !text.contains(&shown) {
                stats.fail(format!(
                    "{case}: {what} error does not name the file: {text}"
                ));
            }
        }
    }
    if let (Some(Ok(h)), Some(Ok(f))) = (&header, &facts)
        && *h != f.header
    {
        stats.fail(format!("{case}: read_header and read_facts disagree"));
    }
}

fn bytes_len(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

#[test]
fn mutated_elf_files_never_panic_and_fail_fast() {
    let dir = tmp();
    let path = dir.path().join("mutant");
    let mut stats = Stats::default();
    let sources = elf_sources();
    assert!(
        sources.len() >= 3,
        "too few ELF files to mutate: {sources:?}"
    );
    for (si, (name, base)) in sources.iter().enumerate() {
        let layout = layout(base);
        // Every interesting value in every header field, one at a time.
        if let Some(layout) = &layout {
            for field in &layout.fields {
                for value in splice_values(field, base.len() as u64) {
                    let mut bytes = base.clone();
                    write_uint(&mut bytes, field.at, field.width, layout.big, value);
                    let case = format!("{name}: {}@{}={value:#x}", field.name, field.at);
                    check_elf(&mut stats, &path, &bytes, &case);
                }
            }
        }
        // Random mutations, replayable from the seed and case number.
        let seed = 0x9e37_79b9_7f4a_7c15 ^ (si as u64 + 1);
        let mut rng = Rng::new(seed);
        for i in 0..400 {
            let (bytes, what) = mutate_elf(&mut rng, base, layout.as_ref());
            let case = format!("{name}: seed {seed:#x} case {i}: {what}");
            check_elf(&mut stats, &path, &bytes, &case);
        }
    }
    assert!(stats.cases >= 2000, "only {} cases", stats.cases);
    stats.finish("ELF mutations");
}

/// The classic breakers, spelled out: each must give a clear error naming the file.
#[test]
fn huge_offsets_and_counts_give_clear_errors() {
    let base = fs::read(fx("hello/bin/hello-leaf")).unwrap();
    let layout = layout(&base).unwrap();
    let field = |name: &str| {
        layout
            .fields
            .iter()
            .filter(|f| f.name == name)
            .copied()
            .collect::<Vec<_>>()
    };
    let dir = tmp();
    let path = dir.path().join("hello-leaf");
    let mut stats = Stats::default();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for name in [
        "e_phoff", "e_phnum", "p_offset", "p_filesz", "p_vaddr", "d_val",
    ] {
        for f in field(name) {
            for value in [u64::MAX, u64::MAX - 0xfff, 1 << 63, 0xffff_ffff] {
                let mut bytes = base.clone();
                write_uint(&mut bytes, f.at, f.width, layout.big, value);
                cases.push((format!("{name}@{}={value:#x}", f.at), bytes));
            }
        }
    }
    // PT_LOAD p_offset far out while DT_STRTAB still points into that segment.
    let ph = field("p_type");
    let offs = field("p_offset");
    for (t, o) in ph.iter().zip(&offs) {
        if read_uint(&base, t.at, 4, layout.big) == Some(1) {
            let mut bytes = base.clone();
            write_uint(&mut bytes, o.at, o.width, layout.big, u64::MAX - 0x10);
            cases.push((format!("PT_LOAD p_offset@{}=max-0x10", o.at), bytes));
        }
    }
    for (case, bytes) in &cases {
        check_elf(&mut stats, &path, bytes, case);
    }
    stats.finish("huge fields");
}

/// Symbol version records with a version glibc does not know, or offsets
/// that lead out of the file or into other data: a clear error naming the
/// file (or, where the bytes still read as records, facts), never a panic
/// and never a long walk.
#[test]
fn hostile_symbol_version_records_give_clear_errors() {
    let dir = tmp();
    let mut stats = Stats::default();
    for rel in ["versions/bin/app", "versions/lib2/libver.so.1"] {
        let base = fs::read(fx(rel)).unwrap();
        let layout = layout(&base).unwrap();
        let path = dir.path().join(basename(rel));
        let mut seen = 0;
        for field in layout.fields.iter().filter(|f| f.name.starts_with('v')) {
            seen += 1;
            for value in [0xffff_ffff, 0xffff_fff0, 0x8000_0000, 1, 2] {
                let mut bytes = base.clone();
                let value = value & ((1u64 << (field.width * 8)) - 1);
                write_uint(&mut bytes, field.at, field.width, layout.big, value);
                let case = format!("{rel}: {}@{}={value:#x}", field.name, field.at);
                check_elf(&mut stats, &path, &bytes, &case);
                if matches!(field.name, "vn_version" | "vd_version") && value != 1 {
                    let err = elf::read_facts(&path).unwrap_err().to_string();
                    let record = if field.name == "vn_version" {
                        "Verneed"
                    } else {
                        "Verdef"
                    };
                    assert!(
                        err.contains(&format!("unsupported version {value} of {record} record")),
                        "{case}: {err}"
                    );
                }
            }
        }
        assert!(seen >= 8, "{rel}: only {seen} version fields found");
    }
    stats.finish("symbol version records");
}

fn basename(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// Hostile `.note.dlopen` notes: sizes that overrun the segment or wrap,
/// broken JSON. Each is reported inside the facts, never fatal, quickly;
/// the notes beside it still read.
#[test]
fn hostile_dlopen_notes_are_reported_not_fatal() {
    let base = fs::read(fx("note/bin/app")).unwrap();
    // A note's header sits 12 bytes before its "FDO\0" name.
    let notes: Vec<usize> = (12..base.len().saturating_sub(4))
        .filter(|&i| &base[i..i + 4] == b"FDO\0")
        .filter(|&i| read_uint(&base, i - 4, 4, false) == Some(0x407c_0c0a))
        .map(|i| i - 12)
        .collect();
    assert_eq!(notes.len(), 2, "the fixture has two notes");
    let dir = tmp();
    let path = dir.path().join("app");
    let mut stats = Stats::default();
    let mut reported = 0;
    for &at in &notes {
        for (field, off) in [("n_namesz", 0), ("n_descsz", 4)] {
            for value in [0u64, 3, 5, 0x1000, 0x8000_0000, 0xffff_fffc, 0xffff_ffff] {
                let mut bytes = base.clone();
                write_uint(&mut bytes, at + off, 4, false, value);
                let case = format!("note@{at} {field}={value:#x}");
                check_elf(&mut stats, &path, &bytes, &case);
                let facts = elf::read_runtime(&path).expect("a bad note is no reason to fail");
                reported += facts.notes.iter().filter(|n| n.is_err()).count();
            }
        }
        // Text that is not JSON, and text without its NUL.
        let desc = at + 16;
        let size = read_uint(&base, at + 4, 4, false).unwrap() as usize;
        for (what, edit) in [("not JSON", desc), ("no NUL", desc + size - 1)] {
            let mut bytes = base.clone();
            bytes[edit] = b'x';
            fs::write(&path, &bytes).unwrap();
            let facts = elf::read_runtime(&path).unwrap();
            let errors: Vec<&String> = facts
                .notes
                .iter()
                .filter_map(|n| n.as_ref().err())
                .collect();
            assert_eq!(errors.len(), 1, "{what}: {:?}", facts.notes);
            assert!(
                facts.notes.iter().any(|n| n.is_ok()),
                "{what}: the other note still reads: {:?}",
                facts.notes
            );
        }
    }
    assert!(reported > 0, "no overrun was reported");
    stats.finish("hostile notes");
}

// ------------------------------------------------------------------ ld.so.cache mutation

fn cache_sources() -> Vec<(String, Vec<u8>)> {
    let small = ldcache_image::new_format(
        &[
            (
                0x0303,
                "libz.so.1",
                "/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1",
                1 << 62,
            ),
            (0x0303, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", 0),
            (0x0003, "libc.so.6", "/lib32/libc.so.6", 0),
            (0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0),
            (0x0a03, "libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6", 0),
        ],
        false,
    );
    // ldconfig's compat layout: two old entries, then the new part.
    let compat = ldcache_image::compat(&[(0x0303, 0, 10), (0x0003, 20, 30)], &small, false);
    let mut out = vec![
        ("built cache".to_string(), small),
        ("built compat cache".to_string(), compat),
    ];
    if let Ok(host) = fs::read("/etc/ld.so.cache") {
        out.push(("/etc/ld.so.cache".to_string(), host));
    }
    out
}

/// Offsets of the new-format fields of a cache whose new part starts at `base`.
fn cache_fields(bytes: &[u8]) -> Vec<Field> {
    let base = if bytes.starts_with(ldcache_image::NEW_MAGIC) {
        0
    } else {
        match (12..bytes.len().saturating_sub(ldcache_image::NEW_MAGIC.len()))
            .step_by(4)
            .find(|&at| bytes[at..].starts_with(ldcache_image::NEW_MAGIC))
        {
            Some(at) => at,
            None => return Vec::new(),
        }
    };
    let f = |name, at, width| Field { name, at, width };
    let mut fields = vec![
        f("nlibs", base + 20, 4),
        f("len_strings", base + 24, 4),
        f("flags", base + 28, 1),
    ];
    if base > 0 {
        fields.push(f("old nlibs", 12, 4));
    }
    let nlibs = read_uint(bytes, base + 20, 4, false).unwrap_or(0) as usize;
    for i in 0..nlibs.min(64) {
        let at = base + ldcache_image::NEW_HEADER + i * ldcache_image::NEW_ENTRY;
        fields.extend([
            f("e.flags", at, 4),
            f("e.key", at + 4, 4),
            f("e.value", at + 8, 4),
            f("e.hwcap", at + 16, 8),
        ]);
    }
    fields
}

fn check_cache(stats: &mut Stats, bytes: &[u8], case: &str) {
    stats.cases += 1;
    let flags = [
        accepted_flags(EM_X86_64, true, 0),
        accepted_flags(EM_X86_64, false, 0),
        vec![0x0001, 0x0003],
    ];
    for big in [false, true] {
        let Some(Some(cache)) = stats.call(case, "Cache::parse", || Cache::parse(bytes, big))
        else {
            continue;
        };
        let mut names: Vec<std::ffi::OsString> = ["libc.so.6", "libz.so.1", "libm.so.06", ""]
            .iter()
            .map(Into::into)
            .collect();
        names.extend(cache.entries.iter().take(4).map(|e| e.key.clone()));
        stats.call(case, "lookup", || {
            for name in &names {
                for f in &flags {
                    if let Some(hit) = cache.lookup(name, f) {
                        assert!(f.contains(&hit.flags) && hit.hwcap == 0);
                    }
                }
            }
        });
    }
}

#[test]
fn mutated_ld_so_cache_never_panics() {
    let mut stats = Stats::default();
    for (si, (name, base)) in cache_sources().iter().enumerate() {
        let fields = cache_fields(base);
        for field in &fields {
            for value in splice_values(field, base.len() as u64) {
                let mut bytes = base.clone();
                write_uint(&mut bytes, field.at, field.width, false, value);
                let case = format!("{name}: {}@{}={value:#x}", field.name, field.at);
                check_cache(&mut stats, &bytes, &case);
            }
        }
        let seed = 0xcafe_f00d_d15e_a5e5 ^ (si as u64 + 1);
        let mut rng = Rng::new(seed);
        for i in 0..600 {
            let mut bytes = base.clone();
            let mut what = Vec::new();
            for _ in 0..1 + rng.below(3) {
                if bytes.is_empty() {
                    break;
                }
                let hot = bytes
                    .len()
                    .min(ldcache_image::NEW_HEADER + 64 * ldcache_image::NEW_ENTRY);
                match rng.below(4) {
                    0 => {
                        let at = rng.below(hot);
                        bytes[at] ^= 1 << rng.below(8);
                        what.push(format!("flip {at}"));
                    }
                    1 => {
                        let at = rng.below(bytes.len());
                        let random = rng.next() as u8;
                        let fill = *rng.pick(&[0u8, 0xff, random]);
                        for b in bytes.iter_mut().skip(at).take(1 + rng.below(8)) {
                            *b = fill;
                        }
                        what.push(format!("overwrite {at}={fill:#x}"));
                    }
                    2 => {
                        let len = rng.below(bytes.len());
                        bytes.truncate(len);
                        what.push(format!("truncate {len}"));
                    }
                    _ if !fields.is_empty() => {
                        let field = *rng.pick(&fields);
                        let values = splice_values(&field, base.len() as u64);
                        let value = *rng.pick(&values);
                        write_uint(&mut bytes, field.at, field.width, false, value);
                        what.push(format!("{}@{}={value:#x}", field.name, field.at));
                    }
                    _ => {}
                }
            }
            let case = format!("{name}: seed {seed:#x} case {i}: {}", what.join(", "));
            check_cache(&mut stats, &bytes, &case);
        }
    }
    assert!(stats.cases >= 1500, "only {} cases", stats.cases);
    stats.finish("ld.so.cache mutations");
}

/// A new-format cache of `n` entries whose keys and values all name one
/// string of `long` bytes.
fn shared_string_cache(n: usize, long: usize) -> Vec<u8> {
    let at = ldcache_image::strings_at(n) as u32;
    let mut string = vec![b'a'; long];
    string.push(0);
    ldcache_image::new_format_raw(&vec![(0x0303, at, at, 0); n], &string, false)
}

/// Thousands of entries that all name one long string: the string must not
/// be copied for every entry (a 150 kB file once became 400 MB of strings).
#[test]
fn ld_so_cache_with_one_shared_long_string_stays_small() {
    for (n, long) in [(2000, 100_000), (2000, 4095), (20, 1 << 20)] {
        let bytes = shared_string_cache(n, long);
        let start = Instant::now();
        let cache = Cache::parse(&bytes, false);
        let took = start.elapsed();
        let copied: usize = cache
            .iter()
            .flat_map(|c| &c.entries)
            .map(|e| e.key.len() + e.value.as_os_str().len())
            .sum();
        eprintln!(
            "{n} entries x {long} byte string: {} byte file, {copied} bytes copied, {took:?}",
            bytes.len()
        );
        assert!(
            copied <= 64 * 1024 * 1024,
            "a {} byte cache became {copied} bytes of strings",
            bytes.len()
        );
        assert!(took < PER_CALL_LIMIT, "parsing took {took:?}");
    }
    // Strings as long as a path can be still work.
    let long_path = format!("/{}/libc.so.6", "d".repeat(4000));
    let ok = ldcache_image::new_format(&[(0x0303, "libc.so.6", &long_path, 0)], false);
    let cache = Cache::parse(&ok, false).unwrap();
    let hit = cache.lookup(OsStr::new("libc.so.6"), &[0x0303]).unwrap();
    assert_eq!(hit.value, Path::new(&long_path));
}

// ------------------------------------------------------------------ ld.so.conf mutation

fn conf_sources() -> Vec<(String, String)> {
    let mut out = vec![(
        "syntax sample".to_string(),
        "# c\n/usr/local/lib/ # trailing\n\ninclude /etc/a/*.conf  b.conf\nhwcap 1 x\n/opt/x=libc6\n   \t/spaced \ninclude\tx\n=\n#\n/\n".to_string(),
    )];
    let mut host = String::new();
    for p in ["/etc/ld.so.conf"].into_iter().map(PathBuf::from).chain(
        fs::read_dir("/etc/ld.so.conf.d")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    ) {
        if let Ok(text) = fs::read_to_string(&p) {
            host.push_str(&text);
        }
    }
    if !host.is_empty() {
        out.push(("host ld.so.conf and includes".to_string(), host));
    }
    out
}

#[test]
fn mutated_ld_so_conf_text_never_panics() {
    let mut stats = Stats::default();
    let tokens: &[&[u8]] = &[
        b"include ",
        b"include\t",
        b"hwcap ",
        b"#",
        b"=",
        b"/",
        b"\n",
        b"\r\n",
        b" ",
        b"\t",
        b"*",
        b"[",
        b"..",
        b"\0",
        b"\xff\xfe",
        b"\xc3\xa9",
        b"\xe2\x80\xa8",
    ];
    for (si, (name, base)) in conf_sources().iter().enumerate() {
        let seed = 0x5eed_c0ff_ee00_0000 ^ (si as u64 + 1);
        let mut rng = Rng::new(seed);
        for i in 0..800 {
            let mut bytes = base.as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(4) {
                    0 => {
                        let t = rng.pick(tokens);
                        bytes.splice(at..at, t.iter().copied());
                    }
                    1 if at < bytes.len() => bytes[at] = rng.next() as u8,
                    2 => bytes.truncate(at),
                    _ => {
                        let end = (at + rng.below(16)).min(bytes.len());
                        bytes.drain(at..end);
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let case = format!("{name}: seed {seed:#x} case {i}");
            stats.cases += 1;
            if let Some(lines) = stats.call(&case, "ldconf::parse", || ldconf::parse(&text)) {
                for line in lines {
                    let ok = match &line {
                        Line::Dir(d) => {
                            let d = d.to_string_lossy();
                            !d.is_empty() && !d.contains('#') && !d.contains('\n')
                        }
                        Line::Include(p) => {
                            !p.is_empty() && !p.contains(char::is_whitespace) && !p.contains('#')
                        }
                    };
                    if !ok {
                        stats.fail(format!("{case}: odd line {line:?}"));
                    }
                }
            }
        }
    }
    assert!(stats.cases >= 800, "only {} cases", stats.cases);
    stats.finish("ld.so.conf mutations");
}

// ------------------------------------------------------------------ the binary on mutants

#[test]
fn binary_on_mutated_elf_files_exits_0_or_1() {
    let dir = tmp();
    let bases = [
        fx("hello/bin/hello"),
        fx("hello/bin/hello-leaf"),
        PathBuf::from("/bin/true"),
    ];
    let mut rng = Rng::new(0x0b1a_c0de_0000_0051);
    let mut ran = 0;
    let mut succeeded = 0;
    let start = Instant::now();
    for i in 0..54 {
        let base_path = &bases[i % bases.len()];
        let base = fs::read(base_path).unwrap();
        let layout = layout(&base);
        let (bytes, what) = mutate_elf(&mut rng, &base, layout.as_ref());
        let case_dir = dir.path().join(format!("case{i}"));
        let input = case_dir.join("bin/prog");
        write(&input, &bytes);
        // hello-leaf's $ORIGIN/../lib finds the fixture library next to it.
        if base_path.ends_with("hello-leaf") {
            fs::create_dir_all(case_dir.join("lib")).unwrap();
            fs::copy(
                fx("hello/lib/libleaf.so.1.0.0"),
                case_dir.join("lib/libleaf.so.1"),
            )
            .unwrap();
        }
        let archive = case_dir.join("out.tar");
        let mut args: Vec<&OsStr> = vec![s(&input), "-o".as_ref(), s(&archive)];
        if i % 3 == 0 {
            args.push("--allow-missing".as_ref());
        }
        if i % 5 == 0 {
            args.push("--list".as_ref());
        }
        let what = format!("case {i} ({}: {what})", base_path.display());
        let out = run_tool(&case_dir, &args, Duration::from_secs(20));
        assert_clean_exit(&out, &what);
        ran += 1;
        if out.status.success() && archive.exists() {
            succeeded += 1;
            assert_safe_names(&archive);
        } else if !out.status.success() {
            let stderr = stderr_of(&out);
            assert!(
                stderr.starts_with("extract-elf-so: error: "),
                "{what}: {stderr}"
            );
        }
    }
    eprintln!(
        "binary on mutants: {ran} runs ({succeeded} wrote an archive) in {:?}",
        start.elapsed()
    );
}

// ------------------------------------------------------------------ ld.so.conf layouts

fn read_conf(root: &Path) -> Result<Vec<PathBuf>, Error> {
    ldconf::read(&Root::new(root), Path::new("/etc/ld.so.conf"))
}

#[test]
fn ld_so_conf_include_cycle_under_root() {
    let t = tmp();
    let root = t.path().join("root");
    mini_sysroot(&root);
    write(&root.join("etc/ld.so.conf"), "include a.conf\n/opt/top\n");
    write(&root.join("etc/a.conf"), "/opt/a\ninclude b.conf\n");
    write(
        &root.join("etc/b.conf"),
        "/opt/b\ninclude a.conf\ninclude /etc/ld.so.conf\ninclude b.conf\n",
    );
    let leaf = fs::read(fx("hello/lib/libleaf.so.1.0.0")).unwrap();
    write(&root.join("opt/b/libleaf.so.1"), &leaf);

    let r = root.clone();
    let dirs = within(
        Duration::from_secs(5),
        "ldconf::read on a cycle",
        move || read_conf(&r).unwrap(),
    );
    assert_eq!(
        dirs,
        vec![PathBuf::from("/opt/a"), "/opt/b".into(), "/opt/top".into()]
    );

    // Through the binary: hello-leaf alone (its $ORIGIN/../lib does not
    // exist), so libleaf.so.1 can only come from /opt/b of the root.
    let app = t.path().join("x/bin/hello-leaf");
    write(&app, fs::read(fx("hello/bin/hello-leaf")).unwrap());
    let out = run_tool(
        t.path(),
        &[s(&app), "--root".as_ref(), s(&root), "--list".as_ref()],
        Duration::from_secs(10),
    );
    assert_clean_exit(&out, "--root with an include cycle");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout.contains(&format!("{}/opt/b/libleaf.so.1", root.display())),
        "{stdout}"
    );
}

/// Links `a`, `b` and `c` to `.` and `include */ld.so.conf`: every level
/// finds the same file under three new names. Reading it once per name took
/// minutes (3^16 spellings); each file must be read once.
#[test]
fn ld_so_conf_aliases_of_one_file_are_read_once() {
    let t = tmp();
    let root = t.path().to_path_buf();
    write(
        &root.join("etc/ld.so.conf"),
        "include */ld.so.conf ../etc/ld.so.conf\n/x\n",
    );
    for l in ["a", "b", "c"] {
        symlink(".", root.join("etc").join(l)).unwrap();
    }
    let dirs = within(Duration::from_secs(5), "aliased includes", move || {
        read_conf(&root)
    });
    assert_eq!(dirs.unwrap(), vec![PathBuf::from("/x")]);
}

/// `**` is two `*` for ldconfig's glob(3), not a recursive walk: with links
/// back to `.` and `..` a recursive walk never ends.
#[test]
fn ld_so_conf_double_star_is_not_a_recursive_walk() {
    let t = tmp();
    let root = t.path().to_path_buf();
    write(&root.join("etc/ld.so.conf"), "include /**/x.conf\n/top\n");
    write(&root.join("etc/x.conf"), "/deep\n");
    write(&root.join("x.conf"), "/shallow\n");
    symlink(".", root.join("etc/loop")).unwrap();
    symlink("..", root.join("etc/up")).unwrap();
    let dirs = within(Duration::from_secs(5), "include /**/x.conf", move || {
        read_conf(&root)
    });
    // glibc: "/**/x.conf" matches exactly one directory level.
    assert_eq!(dirs.unwrap(), vec![PathBuf::from("/deep"), "/top".into()]);
}

/// Includes are read inside the root: `..` stops at its top, links are
/// followed inside it, and devices and FIFOs are never opened.
#[test]
fn ld_so_conf_includes_stay_inside_the_root() {
    let t = tmp();
    let root = t.path().join("root");
    let outside = t.path().join("outside.conf");
    write(&outside, "/escaped\n");
    let climb = "../".repeat(40);
    write(
        &root.join("etc/ld.so.conf"),
        format!(
            "include {climb}{}\ninclude ld.so.conf.d/*.conf\n/inside\n",
            outside.display()
        ),
    );
    let d = root.join("etc/ld.so.conf.d");
    fs::create_dir_all(&d).unwrap();
    symlink(&outside, d.join("1-absolute-link.conf")).unwrap();
    // A link to a host FIFO: followed on the host it would block (a link to
    // /dev/zero would eat memory instead, which is no way for a test to fail).
    let host_fifo = t.path().join("outside.fifo");
    if have("mkfifo") {
        assert!(
            Command::new("mkfifo")
                .arg(&host_fifo)
                .status()
                .unwrap()
                .success()
        );
    }
    symlink(&host_fifo, d.join("2-host-fifo.conf")).unwrap();
    write(&d.join("3-real.conf"), "/real\n");
    let r = root.clone();
    let dirs = within(
        Duration::from_secs(5),
        "includes leaving the root",
        move || read_conf(&r),
    );
    let dirs = dirs.unwrap();
    assert!(
        !dirs.contains(&PathBuf::from("/escaped")),
        "read a file outside the root: {dirs:?}"
    );
    assert_eq!(dirs, vec![PathBuf::from("/real"), "/inside".into()]);

    // A FIFO among the includes is refused, not opened (which would block).
    if have("mkfifo") {
        let fifo = d.join("4-fifo.conf");
        let ok = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(ok.success());
        let r = root.clone();
        let result = within(Duration::from_secs(5), "a FIFO include", move || {
            read_conf(&r).map_err(|e| e.to_string())
        });
        let err = result.unwrap_err();
        assert!(err.contains("4-fifo.conf"), "{err}");
    }
}

// ------------------------------------------------------------------ ELF layouts

/// Compiles a C program from stdin with gcc; extra arguments follow the source.
fn gcc(out: &Path, source: &str, extra: &[&OsStr]) {
    let mut child = Command::new("gcc")
        .current_dir(out.parent().unwrap())
        .args(["-x", "c", "-", "-x", "none", "-o"])
        .arg(out)
        .args(extra)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running gcc");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), source.as_bytes()).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const LEAF_MAIN: &str = "#include <stdio.h>\nint leaf_value(void);\nint main(void){printf(\"%d\\n\", leaf_value());return 0;}\n";

#[test]
fn origin_that_climbs_with_many_dotdots() {
    let t = tmp();
    let leaf_dir = fx("hello/lib");
    // Deep enough that nine `..` land exactly on t/lib.
    let deep = t.path().join("a/b/c/d/e/f/g/h/bin");
    fs::create_dir_all(&deep).unwrap();
    write(
        &t.path().join("lib/libleaf.so.1"),
        fs::read(leaf_dir.join("libleaf.so.1.0.0")).unwrap(),
    );
    let app = deep.join("app");
    gcc(
        &app,
        LEAF_MAIN,
        &[
            format!("-L{}", leaf_dir.display()).as_ref(),
            "-l:libleaf.so.1".as_ref(),
            "-Wl,--enable-new-dtags".as_ref(),
            "-Wl,-rpath,$ORIGIN/../../../../../../../../../lib".as_ref(),
        ],
    );
    let archive = t.path().join("out.tar");
    let out = run_tool(
        t.path(),
        &[s(&app), "-o".as_ref(), s(&archive)],
        Duration::from_secs(10),
    );
    assert_clean_exit(&out, "climbing $ORIGIN");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let names = assert_safe_names(&archive);
    // In the image $ORIGIN is /usr/local/bin; nine `..` stop at / and reach /lib.
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("lib/libleaf.so.1") && !n.contains("local")),
        "{names:?}"
    );

    // Far more `..` than the path is deep: the search stops at /, where there
    // is no libleaf.so.1, and the library is reported missing.
    let app2 = deep.join("app2");
    let climb = format!("-Wl,-rpath,$ORIGIN{}", "/..".repeat(300));
    gcc(
        &app2,
        LEAF_MAIN,
        &[
            format!("-L{}", leaf_dir.display()).as_ref(),
            "-l:libleaf.so.1".as_ref(),
            "-Wl,--enable-new-dtags".as_ref(),
            climb.as_ref(),
        ],
    );
    let out = run_tool(
        t.path(),
        &[s(&app2), "-o".as_ref(), s(&archive)],
        Duration::from_secs(10),
    );
    assert_clean_exit(&out, "over-climbing $ORIGIN");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(stderr.contains("libleaf.so.1"), "{stderr}");
    assert!(stderr.lines().count() < 10, "{stderr}");
}

#[test]
fn symlink_chains_as_inputs() {
    let t = tmp();
    let hello = t.path().join("hello");
    write(&hello, fs::read(fx("hello/bin/hello")).unwrap());
    let mut prev = PathBuf::from("hello");
    for i in 1..=100 {
        let link = t.path().join(format!("l{i}"));
        symlink(&prev, &link).unwrap();
        prev = PathBuf::from(format!("l{i}"));
    }
    let archive = t.path().join("out.tar");
    let out = run_tool(
        t.path(),
        &[s(&t.path().join("l100")), "-o".as_ref(), s(&archive)],
        Duration::from_secs(10),
    );
    assert_clean_exit(&out, "a chain of 100 links");
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("too many levels of symbolic links") && stderr.contains("l100"),
        "{stderr}"
    );
    assert!(!archive.exists());

    let out = run_tool(
        t.path(),
        &[s(&t.path().join("l30")), "-o".as_ref(), s(&archive)],
        Duration::from_secs(10),
    );
    assert!(
        out.status.success(),
        "a chain of 30 links: {}",
        stderr_of(&out)
    );
    let names = assert_safe_names(&archive);
    assert!(names.iter().any(|n| n == "usr/local/bin/l30"), "{names:?}");
}

#[test]
fn needed_names_with_a_slash_are_opened_as_paths() {
    let t = tmp();
    // A library without DT_SONAME: the linker records the path it was given.
    let lib = t.path().join("dir/libpath.so");
    fs::create_dir_all(lib.parent().unwrap()).unwrap();
    let status = Command::new("gcc")
        .args(["-shared", "-fPIC", "-x", "c", "-", "-o"])
        .arg(&lib)
        .stdin(Stdio::piped())
        .current_dir(t.path())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(
                c.stdin.as_mut().unwrap(),
                b"int leaf_value(void){return 5;}\n",
            )?;
            drop(c.stdin.take());
            c.wait()
        })
        .unwrap();
    assert!(status.success());
    let abs = t.path().join("abs");
    gcc(&abs, LEAF_MAIN, &[s(&lib)]);
    let rel = t.path().join("rel");
    gcc(&rel, LEAF_MAIN, &["./dir/libpath.so".as_ref()]);
    for (app, needed) in [
        (&abs, lib.display().to_string()),
        (&rel, "./dir/libpath.so".to_string()),
    ] {
        let facts = elf::read_facts(app).unwrap();
        assert!(
            facts.needed.iter().any(|n| n.to_string_lossy() == needed),
            "{:?}",
            facts.needed
        );
        let archive = t.path().join("out.tar");
        let _ = fs::remove_file(&archive);
        let out = run_tool(
            t.path(),
            &[s(app), "-o".as_ref(), s(&archive)],
            Duration::from_secs(10),
        );
        assert_clean_exit(&out, &needed);
        if app == &abs {
            // An absolute name is a path in the root: packed where it is.
            assert!(out.status.success(), "{needed}: {}", stderr_of(&out));
            let names = assert_safe_names(&archive);
            let want = lib.strip_prefix("/").unwrap().display().to_string();
            assert!(names.contains(&want), "{needed}: {names:?}");
        } else {
            // A relative one is opened from the working directory the program
            // will have, which the image does not fix: packed, or refused by
            // name, never a panic or a path outside the archive.
            if out.status.success() {
                assert_safe_names(&archive);
            } else {
                let stderr = stderr_of(&out);
                assert!(stderr.contains(needed.as_str()), "{stderr}");
                assert!(!archive.exists());
            }
        }
    }
}

#[test]
fn absurd_number_of_needed_entries() {
    const N: usize = 2000;
    let t = tmp();
    let dir = t.path().join("libs");
    fs::create_dir_all(&dir).unwrap();
    // A library without DT_SONAME under N names: the linker records each
    // name as found through -L, so the program gets N bare DT_NEEDED entries.
    let base = dir.join("base.so");
    gcc(
        &base,
        "int absurd(void){return 1;}\n",
        &["-shared".as_ref(), "-fPIC".as_ref()],
    );
    let lib = fs::read(&base).unwrap();
    let mut args: Vec<std::ffi::OsString> = vec![
        format!("-L{}", dir.display()).into(),
        "-Wl,--no-as-needed".into(),
    ];
    for i in 0..N {
        // Copies, not links: N distinct files, N objects to pack.
        fs::write(dir.join(format!("libabsurd{i}.so")), &lib).unwrap();
        args.push(format!("-l:libabsurd{i}.so").into());
    }
    let app = t.path().join("app");
    let argv: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    gcc(&app, "int main(void){return 0;}\n", &argv);
    let facts = elf::read_facts(&app).unwrap();
    assert_eq!(facts.needed.len(), N + 1, "libc.so.6 and {N} others");

    // All found: every one packed.
    let archive = t.path().join("out.tar");
    let start = Instant::now();
    let out = run_tool(
        t.path(),
        &[
            s(&app),
            "--library-path".as_ref(),
            s(&dir),
            "-o".as_ref(),
            s(&archive),
        ],
        Duration::from_secs(30),
    );
    let found_took = start.elapsed();
    assert_clean_exit(&out, "N needed, all found");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let names = assert_safe_names(&archive);
    let packed = names.iter().filter(|n| n.contains("libabsurd")).count();
    assert_eq!(packed, N, "{:?}", &names[..names.len().min(20)]);

    // None found: one clear error listing them all.
    let start = Instant::now();
    let out = run_tool(
        t.path(),
        &[s(&app), "-o".as_ref(), s(&archive)],
        Duration::from_secs(30),
    );
    let missing_took = start.elapsed();
    assert_clean_exit(&out, "N needed, none found");
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("{N} libraries the loader would not find")),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    eprintln!("{N} DT_NEEDED: found in {found_took:?}, missing in {missing_took:?}");
    assert!(found_took < Duration::from_secs(15) && missing_took < Duration::from_secs(15));
}

#[test]
fn a_fifo_as_input_fails_instead_of_blocking() {
    if !have("mkfifo") {
        eprintln!("mkfifo not found; skipping");
        return;
    }
    let t = tmp();
    let fifo = t.path().join("prog");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let direct = fifo.clone();
    let err = within(Duration::from_secs(5), "read_facts on a FIFO", move || {
        elf::read_facts(&direct)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .unwrap_err();
    assert!(err.contains(&fifo.display().to_string()), "{err}");
    let out = run_tool(
        t.path(),
        &[s(&fifo), "-o".as_ref(), s(&t.path().join("out.tar"))],
        Duration::from_secs(10),
    );
    assert_clean_exit(&out, "a FIFO input");
    assert_eq!(out.status.code(), Some(1));
}

// ------------------------------------------------------------------ big files and archive paths

/// `VmHWM` (peak resident set, kB) of a running process.
fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_sparse_1gb_add_file_streams_in_flat_memory() {
    let t = tmp();
    let big = t.path().join("big.img");
    let file = fs::File::create(&big).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    let hello = fx("hello/bin/hello");
    let spec = format!("{}:/data/big.img", big.display());
    let bin = assert_cmd::cargo::cargo_bin("extract-elf-so");
    let mut child = Command::new(&bin)
        .arg(&hello)
        .args(["--add-file", &spec, "-o", "/dev/null"])
        .current_dir(t.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child's own peak, sampled from /proc while it runs: it only grows,
    // so the last sample before exit is within a few ms of the true peak.
    let start = Instant::now();
    let mut peak_kb = 0;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("1 GB --add-file: still running after 60 s, killed");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = start.elapsed();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(" GB"), "{stderr}");
    eprintln!("1 GB sparse --add-file to /dev/null: {took:?}, peak RSS {peak_kb} kB");
    assert!(peak_kb > 0, "no memory sample of the child");
    assert!(peak_kb < 64 * 1024, "peak RSS {peak_kb} kB for a 1 GB file");
}

#[test]
fn archive_paths_never_leave_the_archive() {
    let t = tmp();
    let hello = fx("hello/bin/hello");
    let conf = t.path().join("a");
    write(&conf, "x\n");
    let out_tar = t.path().join("out.tar");
    let leaf = fx("hello/lib/libleaf.so.1.0.0");
    // hello packed with `flags`; with `-s` (where added libraries go), one is added.
    let pack = |flags: &[&str]| {
        let mut args: Vec<&OsStr> = vec![s(&hello), "-o".as_ref(), s(&out_tar)];
        args.extend(flags.iter().map(OsStr::new));
        if flags[0] == "-s" {
            args.extend(["--add".as_ref(), s(&leaf)]);
        }
        run_tool(t.path(), &args, Duration::from_secs(10))
    };
    let refused: &[&[&str]] = &[
        &["-d", "../../x"],
        &["-d", "/../x"],
        &["-d", "bin/../../x"],
        &["-s", "/../x"],
        &["-s", "lib/.."],
        &["--add-file", "a:/../../etc/x"],
        &["--add-file", "a:../x"],
        &["--add-file", "a:/etc/../../x"],
    ];
    for flags in refused {
        let out = pack(flags);
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{flags:?} accepted: {stderr}");
        assert!(stderr.contains(".."), "{flags:?}: {stderr}");
        assert!(!out_tar.exists(), "{flags:?} wrote an archive");
    }
    // Accepted spellings all land inside.
    let accepted: &[&[&str]] = &[
        &["-d", "/"],
        &["-d", "./bin/./"],
        &["-d", "//opt//app//"],
        &["-s", "."],
        &["--add-file", "a:/etc/./x"],
        &["--add-file", "a:etc//x"],
    ];
    for flags in accepted {
        let out = pack(flags);
        assert!(out.status.success(), "{flags:?}: {}", stderr_of(&out));
        let names = assert_safe_names(&out_tar);
        assert!(
            !names.iter().any(|n| n.is_empty() || n == "."),
            "{flags:?}: {names:?}"
        );
        fs::remove_file(&out_tar).unwrap();
    }
}
