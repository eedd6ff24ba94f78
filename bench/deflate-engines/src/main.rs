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

/// Runs `cmd` with the tar on standard input; returns seconds and bytes out.
fn external(cmd: &[&str], tar: &str) -> (f64, usize) {
    let input = fs::File::open(tar).unwrap();
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
    (t.elapsed().as_secs_f64(), out.len())
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
    let mut rows: Vec<(String, f64, usize)> = Vec::new();
    let best = |f: &mut dyn FnMut() -> (f64, usize)| {
        let mut b = (f64::MAX, 0);
        for _ in 0..runs {
            let (s, n) = f();
            if s < b.0 {
                b = (s, n);
            }
        }
        b
    };
    let pigz_p = threads.to_string();
    for level in list("PIGZ_LEVELS", "1 6 9") {
        let flag = format!("-{level}");
        let (s, n) = best(&mut || external(&["pigz", &flag, "-n", "-p", &pigz_p, "-c"], tar));
        eprintln!("  pigz {flag}: {s:.3} s, {n} bytes");
        rows.push((format!("pigz {flag}"), s, n));
    }
    let (s, n) = best(&mut || external(&["gzip", "-6", "-n", "-c"], tar));
    eprintln!("  gzip -6: {s:.3} s, {n} bytes");
    rows.push(("gzip -6".into(), s, n));

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
                let (s, n) = best(&mut || {
                    let t = Instant::now();
                    bytes = compress(&data, engine, level, chunk, threads);
                    (t.elapsed().as_secs_f64(), bytes.len())
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
                eprintln!("  {label}: {s:.3} s, {n} bytes");
                rows.push((label, s, n));
            }
        }
    }

    let pigz6 = rows
        .iter()
        .find(|r| r.0 == "pigz -6")
        .map_or(rows[0].clone(), |r| r.clone());
    let gzip6 = rows.iter().find(|r| r.0 == "gzip -6").unwrap().clone();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "| compressor | seconds | MB/s per core | size MB | time / pigz -6 | size / pigz -6 | time / gzip -6 | size / gzip -6 |"
    )
    .unwrap();
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|").unwrap();
    for (label, s, n) in &rows {
        let per_core = if label.starts_with("gzip") {
            1.0
        } else {
            threads as f64
        };
        writeln!(
            out,
            "| {label} | {s:.2} | {:.1} | {:.2} | {:.3} | {:.4} | {:.3} | {:.4} |",
            mb / s / per_core,
            *n as f64 / 1e6,
            s / pigz6.1,
            *n as f64 / pigz6.2 as f64,
            s / gzip6.1,
            *n as f64 / gzip6.2 as f64,
        )
        .unwrap();
    }
}
