//! Compresses one tar with each deflate engine extract-elf-so could use, on
//! every core, in memory, and prints time and size against `pigz` and GNU
//! `gzip` over the same file. Run by `bench/compressors`, which says what the
//! environment variables choose.
//!
//! Engines, each at the levels given:
//!
//! - `zlib-rs tuned`: the tool's compressor up to 0.7 (zlib-rs driven through
//!   its C interface, levels 4 to 9 tuned with gzip's parameters), 1 MiB
//!   chunks each primed with the previous 32 KiB, joined into one stream;
//! - `zlib-rs`: the same chunks at zlib-rs's own levels (what flate2 gives);
//! - `zlib-ng tuned`, `zlib-ng`: the same two on zlib-ng;
//! - `libdeflate`: each chunk compressed alone into its own gzip member, as
//!   the tool does from 0.8 (1 MiB chunks; level 6 also at other sizes).
//!
//! The zlib engines are driven through their C interfaces, as the tool once
//! did; this program is a measurement, not part of the tool.

use std::env;
use std::fs;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

/// deflate's window, the primer of a zlib chunk.
const WINDOW: usize = 32 * 1024;
/// The zlib engines' chunk, as the tool used.
const ZLIB_CHUNK: usize = 1 << 20;

/// gzip's `good_length, max_lazy, nice_length, max_chain` by level.
const GZIP_TUNING: [(i32, i32, i32, i32); 10] = [
    (0, 0, 0, 0),
    (0, 0, 0, 0),
    (0, 0, 0, 0),
    (0, 0, 0, 0),
    (4, 4, 16, 16),
    (8, 16, 32, 32),
    (8, 16, 128, 128),
    (8, 32, 128, 256),
    (32, 128, 258, 1024),
    (32, 258, 258, 4096),
];

/// A zlib-interface engine: a pigz-style chunk compressor.
macro_rules! zlib_engine {
    ($name:ident, $sys:ident) => {
        mod $name {
            use super::GZIP_TUNING;
            use std::mem::{MaybeUninit, size_of};
            use std::os::raw::c_int;
            use $sys::*;

            /// Raw deflate of `data` primed with `dict`, ended by a sync
            /// flush or, when `last`, the end of the stream. `tuned` asks
            /// for gzip's lazy matching and parameters at levels 4 to 9.
            pub fn chunk(data: &[u8], dict: &[u8], level: u32, tuned: bool, last: bool) -> Vec<u8> {
                let tune = tuned && level >= 4;
                let engine_level = if tune { 9 } else { level as c_int };
                let mut s: Box<MaybeUninit<z_stream>> = Box::new(MaybeUninit::zeroed());
                unsafe {
                    let rc = deflateInit2_(
                        s.as_mut_ptr(),
                        engine_level,
                        8,
                        -15,
                        8,
                        0,
                        zlibVersion(),
                        size_of::<z_stream>() as c_int,
                    );
                    assert_eq!(rc, Z_OK, "deflateInit2");
                    let mut s = s.assume_init();
                    if tune {
                        let (g, l, n, c) = GZIP_TUNING[level as usize];
                        assert_eq!(deflateTune(&mut *s, g, l, n, c), Z_OK);
                    }
                    if !dict.is_empty() {
                        let rc = deflateSetDictionary(&mut *s, dict.as_ptr(), dict.len() as _);
                        assert_eq!(rc, Z_OK, "deflateSetDictionary");
                    }
                    let room = deflateBound(&mut *s, data.len() as _) as usize + 64;
                    let mut out = vec![0u8; room];
                    s.next_in = data.as_ptr().cast_mut();
                    s.avail_in = data.len() as _;
                    s.next_out = out.as_mut_ptr();
                    s.avail_out = room as _;
                    let rc = deflate(&mut *s, if last { Z_FINISH } else { Z_SYNC_FLUSH });
                    assert!(rc == Z_OK || rc == Z_STREAM_END, "deflate {rc}");
                    assert!(s.avail_in == 0 && s.avail_out != 0, "room");
                    out.truncate(room - s.avail_out as usize);
                    deflateEnd(&mut *s);
                    out
                }
            }
        }
    };
}

zlib_engine!(zrs, libz_rs_sys);
zlib_engine!(zng, libz_ng_sys);

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    ZlibRsTuned,
    ZlibRs,
    ZlibNgTuned,
    ZlibNg,
    Libdeflate,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::ZlibRsTuned => "zlib-rs tuned",
            Engine::ZlibRs => "zlib-rs",
            Engine::ZlibNgTuned => "zlib-ng tuned",
            Engine::ZlibNg => "zlib-ng",
            Engine::Libdeflate => "libdeflate",
        }
    }

    fn parse(s: &str) -> Option<Engine> {
        [
            Engine::ZlibRsTuned,
            Engine::ZlibRs,
            Engine::ZlibNgTuned,
            Engine::ZlibNg,
            Engine::Libdeflate,
        ]
        .into_iter()
        .find(|e| e.name().replace(' ', "-") == s)
    }
}

/// A compressed chunk and the CRC-32 of its input.
type Part = Mutex<Option<(Vec<u8>, flate2::Crc)>>;

/// gzip header: no name, mtime 0, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// Compresses `data` on `threads` threads; returns the gzip bytes.
fn compress(data: &[u8], engine: Engine, level: u32, chunk: usize, threads: usize) -> Vec<u8> {
    let chunk = if engine == Engine::Libdeflate {
        chunk
    } else {
        ZLIB_CHUNK
    };
    let n = data.len().div_ceil(chunk).max(1);
    let next = AtomicUsize::new(0);
    let parts: Vec<Part> = (0..n).map(|_| Mutex::new(None)).collect();
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut ld = (engine == Engine::Libdeflate).then(|| {
                    libdeflater::Compressor::new(
                        libdeflater::CompressionLvl::new(level as i32).unwrap(),
                    )
                });
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let start = i * chunk;
                    let piece = &data[start..(start + chunk).min(data.len())];
                    let dict = &data[start.saturating_sub(WINDOW)..start];
                    let last = i + 1 == n;
                    let mut crc = flate2::Crc::new();
                    crc.update(piece);
                    let bytes = match engine {
                        Engine::Libdeflate => {
                            let c = ld.as_mut().unwrap();
                            let mut out = vec![0; c.deflate_compress_bound(piece.len())];
                            let len = c.deflate_compress(piece, &mut out).unwrap();
                            out.truncate(len);
                            out
                        }
                        Engine::ZlibRsTuned => zrs::chunk(piece, dict, level, true, last),
                        Engine::ZlibRs => zrs::chunk(piece, dict, level, false, last),
                        Engine::ZlibNgTuned => zng::chunk(piece, dict, level, true, last),
                        Engine::ZlibNg => zng::chunk(piece, dict, level, false, last),
                    };
                    *parts[i].lock().unwrap() = Some((bytes, crc));
                }
            });
        }
    });
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut whole = flate2::Crc::new();
    for part in parts {
        let (bytes, crc) = part.into_inner().unwrap().unwrap();
        if engine == Engine::Libdeflate {
            out.extend_from_slice(&HEADER);
            out.extend_from_slice(&bytes);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&crc.amount().to_le_bytes());
        } else {
            if out.is_empty() {
                out.extend_from_slice(&HEADER);
            }
            out.extend_from_slice(&bytes);
            whole.combine(&crc);
        }
    }
    if engine != Engine::Libdeflate {
        out.extend_from_slice(&whole.sum().to_le_bytes());
        out.extend_from_slice(&whole.amount().to_le_bytes());
    }
    out
}

/// Levels as `1-12` or `1,6,9`.
fn parse_levels(spec: &str) -> Vec<u32> {
    spec.split(',')
        .flat_map(|part| {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            lo.parse::<u32>().unwrap()..=hi.parse::<u32>().unwrap()
        })
        .collect()
}

/// One timed run: wall seconds, CPU seconds (user and system, of this
/// process or of the child it waited for) and bytes out.
#[derive(Clone, Copy)]
struct Measure {
    wall: f64,
    cpu: f64,
    bytes: usize,
}

/// CPU seconds used so far by this process, and by the children it waited
/// for (fields 14 to 17 of /proc/self/stat, in clock ticks).
fn cpu_times() -> (f64, f64) {
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name, which ends with the last ')'.
    let fields: Vec<f64> = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 to 17 are the 12th to 15th after the name; ticks of 1/100 s
    // (USER_HZ on Linux).
    let tick = 0.01;
    (
        (fields[11] + fields[12]) * tick,
        (fields[13] + fields[14]) * tick,
    )
}

/// Runs `cmd` with the tar on standard input.
fn external(cmd: &[&str], tar: &str) -> Measure {
    let input = fs::File::open(tar).unwrap();
    let (_, children) = cpu_times();
    let t = Instant::now();
    let mut child = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdin(input)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", cmd[0]));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    let wall = t.elapsed().as_secs_f64();
    Measure {
        wall,
        cpu: cpu_times().1 - children,
        bytes: out.len(),
    }
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let tar = args.get(1).expect("usage: compressors TAR");
    let list = |var: &str, default: &str| -> Vec<String> {
        env::var(var)
            .unwrap_or_else(|_| default.into())
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    let runs: usize = env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let verify = env::var_os("VERIFY").is_some();
    let data = fs::read(tar).unwrap();
    let mb = data.len() as f64 / 1e6;
    eprintln!("compressors: {tar}: {mb:.1} MB, {threads} threads, best of {runs}");

    // (label, seconds, bytes); the references come first.
    let mut rows: Vec<(String, Measure)> = Vec::new();
    let best = |f: &mut dyn FnMut() -> Measure| {
        let mut b = f();
        for _ in 1..runs {
            let m = f();
            if m.wall < b.wall {
                b = m;
            }
        }
        b
    };
    let pigz_p = threads.to_string();
    for level in list("PIGZ_LEVELS", "1 6 9") {
        let flag = format!("-{level}");
        let m = best(&mut || external(&["pigz", &flag, "-n", "-p", &pigz_p, "-c"], tar));
        eprintln!(
            "  pigz {flag}: {:.3} s, {:.3} s CPU, {} bytes",
            m.wall, m.cpu, m.bytes
        );
        rows.push((format!("pigz {flag}"), m));
    }
    let m = best(&mut || external(&["gzip", "-6", "-n", "-c"], tar));
    eprintln!(
        "  gzip -6: {:.3} s, {:.3} s CPU, {} bytes",
        m.wall, m.cpu, m.bytes
    );
    rows.push(("gzip -6".into(), m));

    for spec in list(
        "ENGINES",
        "zlib-rs-tuned:1,6,9 zlib-rs:1,6 zlib-ng-tuned:1,6,9 zlib-ng:1,6,9 libdeflate:1-12",
    ) {
        let (name, levels) = spec.split_once(':').expect("ENGINE:LEVELS");
        let engine = Engine::parse(name).unwrap_or_else(|| panic!("unknown engine {name}"));
        for level in parse_levels(levels) {
            let chunks = if engine == Engine::Libdeflate && level == 6 {
                list("CHUNKS", "256 1024 4096")
            } else {
                vec!["1024".into()]
            };
            for chunk_kib in &chunks {
                let chunk = chunk_kib.parse::<usize>().unwrap() << 10;
                let mut bytes = Vec::new();
                let m = best(&mut || {
                    let (cpu, _) = cpu_times();
                    let t = Instant::now();
                    bytes = compress(&data, engine, level, chunk, threads);
                    Measure {
                        wall: t.elapsed().as_secs_f64(),
                        cpu: cpu_times().0 - cpu,
                        bytes: bytes.len(),
                    }
                });
                if verify {
                    let mut back = Vec::with_capacity(data.len());
                    flate2::read::MultiGzDecoder::new(&bytes[..])
                        .read_to_end(&mut back)
                        .unwrap();
                    assert!(back == data, "{name} {level} does not round-trip");
                }
                let label = if engine == Engine::Libdeflate {
                    format!("{} {level} ({chunk_kib} KiB)", engine.name())
                } else {
                    format!("{} {level}", engine.name())
                };
                eprintln!(
                    "  {label}: {:.3} s, {:.3} s CPU, {} bytes",
                    m.wall, m.cpu, m.bytes
                );
                rows.push((label, m));
            }
        }
    }

    let find = |name: &str| rows.iter().find(|r| r.0 == name).map(|r| r.1);
    let pigz6 = find("pigz -6").unwrap_or(rows[0].1);
    let gzip6 = find("gzip -6").unwrap();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "| compressor | wall s | CPU s | MB/s per CPU s | size MB | wall / pigz -6 | CPU / pigz -6 | size / pigz -6 | CPU / gzip -6 | size / gzip -6 |"
    )
    .unwrap();
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    for (label, m) in &rows {
        writeln!(
            out,
            "| {label} | {:.2} | {:.2} | {:.1} | {:.2} | {:.3} | {:.3} | {:.4} | {:.3} | {:.4} |",
            m.wall,
            m.cpu,
            mb / m.cpu,
            m.bytes as f64 / 1e6,
            m.wall / pigz6.wall,
            m.cpu / pigz6.cpu,
            m.bytes as f64 / pigz6.bytes as f64,
            m.cpu / gzip6.cpu,
            m.bytes as f64 / gzip6.bytes as f64,
        )
        .unwrap();
    }
}
