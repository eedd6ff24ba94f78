//! gzip on every core: the stream is cut into fixed 1 MiB chunks, and each
//! chunk is compressed alone, by libdeflate, into a gzip member of its own
//! (header, deflate, CRC-32, length), as BGZF does. A gzip file may hold
//! any number of members, one after the other, and every gzip reader
//! (GNU gzip, pigz, bsdtar, Python, Go) reads them as one stream.
//!
//! The bytes depend only on the input, the level, the chunk size and the
//! libdeflate version in `Cargo.lock`: never on the number of cores, thread
//! timing or the CPU. libdeflate's compressor has no code chosen by CPU
//! features at run time (only its checksums do, and a checksum is a number),
//! its compile-time variants compute the same values, and its output does
//! not depend on the room it is given. Members are written in input order.
//!
//! Each member's header has no file name and mtime 0, like `gzip -n`.
//!
//! One writer can write several gzip streams one after the other, cut apart
//! without waiting for the chunks in flight ([`ChunkedGz::cut`]), as an
//! image's layers are: each stream's bytes are those of a writer of its own.
//!
//! Memory: every large buffer is allocated fallibly. Under a memory limit
//! the writer starts the workers it can (none: it compresses on its own
//! thread), keeps fewer chunks in flight when buffers cannot be had, and
//! fails with an out-of-memory error, never an abort, when not even one
//! chunk fits.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread;

use flate2::Crc;
use libdeflater::{CompressionLvl, Compressor};

use super::pool::{self, Pool};

/// Bytes of input per chunk (one gzip member each).
pub(crate) const CHUNK: usize = 1 << 20;
/// Room for one member: libdeflate's bound for a chunk (1,049,626 bytes for
/// libdeflate 1.26; a test holds it below this) and the framing.
const MEMBER_ROOM: usize = CHUNK + CHUNK / 64 + FRAMING;
/// Memory left to the rest of the program (buffers for reading files, small
/// allocations that cannot fail gracefully) when deciding how many chunks
/// to keep in flight: a run that cannot keep it fails at the start with an
/// error instead of aborting later.
const HEADROOM: usize = 512 << 10;
/// gzip header bytes before XFL (ID1 ID2 CM=deflate FLG=0 MTIME=0), and the
/// OS byte after it (unknown).
const HEADER_START: [u8; 8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0];
const OS_UNKNOWN: u8 = 255;
/// Header and trailer (CRC-32, length) of a member.
const FRAMING: usize = 10 + 8;

/// A writer that gzips what is written to it into `out`.
pub(crate) struct ChunkedGz<W: Write> {
    out: W,
    /// The XFL byte of every member's header.
    xfl: u8,
    /// The chunk being filled.
    buf: Vec<u8>,
    /// Compresses on this thread when no worker could be started.
    local: Option<Compressor>,
    pool: Pool,
    /// Buffers back from compressed chunks, for the next ones.
    spare_data: Vec<Vec<u8>>,
    spare_members: Vec<Vec<u8>>,
    /// Chunks' buffers (an input and a member buffer each) allocated.
    buffers: usize,
    /// Whether a member was written since the stream began (an empty input
    /// still gets one).
    wrote: bool,
    /// Members handed to be compressed, and members written to `out`.
    members: u64,
    written: u64,
    /// Where streams end ([`ChunkedGz::cut`]): after how many members, and
    /// what `out` is told then.
    cuts: VecDeque<(u64, Cut<W>)>,
}

/// What the writer is told when the members of one stream are all written.
pub(crate) type Cut<W> = fn(&mut W) -> io::Result<()>;

impl<W: Write> ChunkedGz<W> {
    /// A writer at `level` (1 fastest to 9 smallest), on every core.
    pub(crate) fn new(out: W, level: u32) -> Self {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_workers(out, level, cores, cores + 2)
    }

    /// A writer with up to `workers` threads (none: compress on the caller's)
    /// and up to `max_buffers` chunks' buffers (one filling, the rest in
    /// flight).
    ///
    /// Takes what compressing needs, as far as memory allows: one chunk's
    /// buffers at least; then for each worker, buffers of its own (the first
    /// uses those) and the worker, which takes its compressor and stack;
    /// then one more chunk's buffers, so that a chunk fills while every
    /// worker works; with no worker, a compressor for this thread. Then it
    /// gives back buffers until `HEADROOM` is left, and if that is not
    /// enough, the workers too, and compresses on this thread. Without the
    /// memory for even that, the first write fails.
    fn with_workers(out: W, level: u32, workers: usize, max_buffers: usize) -> Self {
        let level = engine_level(level);
        let mut gz = ChunkedGz {
            out,
            xfl: xfl(level),
            buf: Vec::new(),
            local: None,
            pool: Pool::new(),
            spare_data: Vec::new(),
            spare_members: Vec::new(),
            buffers: 0,
            wrote: false,
            members: 0,
            written: 0,
            cuts: VecDeque::new(),
        };
        let max_buffers = max_buffers.max(1);
        if !gz.add_buffers() {
            return gz;
        }
        for _ in 0..workers {
            if gz.pool.workers() > 0 && (gz.buffers == max_buffers || !gz.add_buffers()) {
                break;
            }
            let xfl = xfl(level);
            if !gz.pool.spawn(level, move |c, data, member| {
                compress_member(c, xfl, data, member)
            }) {
                break;
            }
        }
        if gz.pool.workers() == 0 {
            gz.local = pool::new_compressor(level);
        } else if gz.buffers < max_buffers {
            gz.add_buffers();
        }
        while gz.buffers > 1 && !pool::available(HEADROOM) {
            gz.drop_buffers();
        }
        if !pool::available(HEADROOM) && gz.pool.workers() > 0 {
            // The workers' memory is what is missing: compress here instead.
            gz.pool = Pool::new();
            gz.local = pool::new_compressor(level);
        }
        if !pool::available(HEADROOM) {
            gz.local = None;
        }
        gz
    }

    /// Gives back one chunk's buffers.
    fn drop_buffers(&mut self) {
        self.spare_data.pop();
        self.spare_members.pop();
        self.buffers -= 1;
    }

    /// Allocates one chunk's input and member buffers, and room for them in
    /// the workers' queues; `false` when the memory cannot be had.
    fn add_buffers(&mut self) -> bool {
        let mut data = Vec::new();
        let mut member = Vec::new();
        if data.try_reserve_exact(CHUNK).is_err()
            || member.try_reserve_exact(MEMBER_ROOM).is_err()
            || !self.pool.reserve(self.buffers + 1)
        {
            return false;
        }
        self.spare_data.push(data);
        self.spare_members.push(member);
        self.buffers += 1;
        true
    }

    /// An empty input buffer: a spare one, or the one the oldest chunk in
    /// flight gives back.
    fn data_buffer(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(mut buf) = self.spare_data.pop() {
                buf.clear();
                return Ok(buf);
            }
            if self.pool.in_flight() == 0 {
                return Err(out_of_memory());
            }
            self.collect_one()?;
        }
    }

    /// Compresses the chunk in `buf`, here or on a worker.
    fn dispatch(&mut self) -> io::Result<()> {
        let mut member = loop {
            if let Some(member) = self.spare_members.pop() {
                break member;
            }
            if self.pool.in_flight() == 0 {
                return Err(out_of_memory());
            }
            self.collect_one()?;
        };
        let data = std::mem::take(&mut self.buf);
        self.wrote = true;
        self.members += 1;
        if let Some(compressor) = &mut self.local {
            let result = compress_member(compressor, self.xfl, &data, &mut member);
            self.spare_data.push(data);
            result?;
            return self.put(member);
        }
        self.pool.submit(data, member);
        // One chunk waiting for each worker is enough to keep them busy.
        while self.pool.in_flight() > self.pool.workers() {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for the oldest chunk in flight and writes its member.
    fn collect_one(&mut self) -> io::Result<()> {
        let done = self.pool.collect()?;
        self.spare_data.push(done.data);
        self.put(done.member?)
    }

    /// Writes the next member, then tells `out` of every stream it ends.
    fn put(&mut self, member: Vec<u8>) -> io::Result<()> {
        self.out.write_all(&member)?;
        self.spare_members.push(member);
        self.written += 1;
        self.tell_cuts()
    }

    /// Calls what `out` is told at every cut whose members are all written.
    fn tell_cuts(&mut self) -> io::Result<()> {
        while let Some(&(after, end)) = self.cuts.front() {
            if after > self.written {
                break;
            }
            self.cuts.pop_front();
            end(&mut self.out)?;
        }
        Ok(())
    }

    /// Ends one gzip stream and begins the next, without waiting for the
    /// chunks in flight: what was written since the start or the last cut
    /// is compressed as [`finish`](Self::finish) would (its last chunk
    /// short, an empty one as one empty member), and once its last member
    /// is written to `out`, `end` is called on `out`; the members after it
    /// are the next stream's. Each stream's bytes are those a writer of its
    /// own would give, while the workers go on with the next one.
    pub(crate) fn cut(&mut self, end: Cut<W>) -> io::Result<()> {
        self.ready()?;
        if !self.buf.is_empty() || !self.wrote {
            if self.buf.capacity() == 0 {
                // An empty stream: its member's input is a buffer of the
                // writer's own, as every other one.
                self.buf = self.data_buffer()?;
            }
            self.dispatch()?;
        }
        self.wrote = false;
        self.cuts.push_back((self.members, end));
        self.tell_cuts()
    }

    /// Writes what is left (an empty input gets one empty member), waits
    /// for the workers and returns the writer.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.ready()?;
        if !self.buf.is_empty() || !self.wrote {
            self.dispatch()?;
        }
        while self.pool.in_flight() > 0 {
            self.collect_one()?;
        }
        self.tell_cuts()?;
        drop(self.pool);
        Ok(self.out)
    }

    /// Fails when there is nothing to compress with: no buffers, or no
    /// worker and no compressor for this thread.
    fn ready(&self) -> io::Result<()> {
        if self.buffers == 0 || (self.local.is_none() && self.pool.workers() == 0) {
            return Err(out_of_memory());
        }
        Ok(())
    }
}

impl<W: Write> Write for ChunkedGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() == 0 {
            self.ready()?;
            self.buf = self.data_buffer()?;
        }
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.dispatch()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are cut at fixed sizes only, so the bytes never depend on
        // when a flush came; flushing the output is all there is to do.
        self.out.flush()
    }
}

/// libdeflate's level for ours: the same number. Levels 10 to 12
/// (near-optimal parsing) are left out: about 8.6 MiB of tables per
/// thread, and several times the time of level 9 for a few percent.
fn engine_level(level: u32) -> CompressionLvl {
    CompressionLvl::new(level.clamp(1, 9) as i32).unwrap_or_default()
}

/// The header's XFL byte, as gzip writes it: 2 for the slowest levels, 4
/// for the fastest.
fn xfl(level: CompressionLvl) -> u8 {
    match i32::from(level) {
        8.. => 2,
        ..=1 => 4,
        _ => 0,
    }
}

/// Writes `data` into `member` as one gzip member. `member` has room for
/// `MEMBER_ROOM` bytes and is never grown: workers do not allocate.
fn compress_member(
    compressor: &mut Compressor,
    xfl: u8,
    data: &[u8],
    member: &mut Vec<u8>,
) -> io::Result<()> {
    member.clear();
    member.extend_from_slice(&HEADER_START);
    member.extend_from_slice(&[xfl, OS_UNKNOWN]);
    let start = member.len();
    // libdeflate's output does not depend on the room given, only fails
    // when it is short (never, below the bound).
    member.resize(member.capacity() - 8, 0);
    let len = compressor
        .deflate_compress(data, &mut member[start..])
        .map_err(io::Error::other)?;
    member.truncate(start + len);
    let mut crc = Crc::new();
    crc.update(data);
    member.extend_from_slice(&crc.sum().to_le_bytes());
    member.extend_from_slice(&crc.amount().to_le_bytes());
    Ok(())
}

fn out_of_memory() -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        "not enough memory to compress (a 1 MiB chunk and its compressor)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz_with(data: &[u8], level: u32, workers: usize, buffers: usize) -> Vec<u8> {
        let mut w = ChunkedGz::with_workers(Vec::new(), level, workers, buffers);
        // Odd write sizes, so chunk cuts fall inside writes.
        for piece in data.chunks(77_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut w = ChunkedGz::new(Vec::new(), level);
        for piece in data.chunks(77_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
    }

    /// Streams told apart by cuts.
    #[derive(Default)]
    struct Streams {
        done: Vec<Vec<u8>>,
        current: Vec<u8>,
    }

    impl Write for Streams {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.current.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn end_stream(s: &mut Streams) -> io::Result<()> {
        s.done.push(std::mem::take(&mut s.current));
        Ok(())
    }

    #[test]
    fn streams_cut_apart_are_each_what_a_writer_of_their_own_gives() {
        // Short, empty, a chunk exactly, a chunk and a byte, several chunks.
        let parts = [
            sample(5_000),
            Vec::new(),
            sample(CHUNK),
            sample(CHUNK + 1),
            sample(3 * CHUNK + 12_345),
            sample(700),
        ];
        let want: Vec<Vec<u8>> = parts.iter().map(|p| gz_with(p, 6, 1, 3)).collect();
        for (workers, buffers) in [(0, 1), (0, 2), (1, 1), (1, 3), (2, 4), (3, 8)] {
            let mut w = ChunkedGz::with_workers(Streams::default(), 6, workers, buffers);
            for (i, part) in parts.iter().enumerate() {
                for piece in part.chunks(77_777) {
                    w.write_all(piece).unwrap();
                }
                if i + 1 < parts.len() {
                    w.cut(end_stream).unwrap();
                }
            }
            let mut streams = w.finish().unwrap();
            end_stream(&mut streams).unwrap();
            assert_eq!(streams.done.len(), parts.len());
            for (i, (got, want)) in streams.done.iter().zip(&want).enumerate() {
                assert!(
                    got == want,
                    "{workers} workers, {buffers} buffers: stream {i}"
                );
            }
        }
    }

    fn sample(len: usize) -> Vec<u8> {
        // Compressible but not trivial: repeated text with a counter.
        let mut out = Vec::with_capacity(len);
        let mut i = 0u64;
        while out.len() < len {
            out.extend_from_slice(format!("line {i} of the sample {}\n", i % 97).as_bytes());
            i += 1;
        }
        out.truncate(len);
        out
    }

    /// The members of a gzip file, each decompressed, checking each header.
    fn members(mut packed: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !packed.is_empty() {
            assert_eq!(
                &packed[..4],
                &[0x1f, 0x8b, 8, 0],
                "magic, deflate, no flags"
            );
            assert_eq!(&packed[4..8], &[0, 0, 0, 0], "mtime 0");
            assert_eq!(packed[9], 255, "OS unknown");
            let mut member = Vec::new();
            flate2::bufread::GzDecoder::new(&mut packed)
                .read_to_end(&mut member)
                .unwrap();
            out.push(member);
        }
        out
    }

    #[test]
    fn round_trips_at_every_level_one_member_a_chunk() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345] {
            let data = sample(len);
            for level in 1..=9 {
                let packed = gz(&data, level);
                let mut back = Vec::new();
                flate2::read::MultiGzDecoder::new(&packed[..])
                    .read_to_end(&mut back)
                    .unwrap();
                assert!(back == data, "length {len}, level {level}");
                let members = members(&packed);
                assert_eq!(members.len(), len.div_ceil(CHUNK).max(1), "length {len}");
                assert!(
                    members[..members.len() - 1]
                        .iter()
                        .all(|m| m.len() == CHUNK)
                );
            }
        }
    }

    #[test]
    fn incompressible_chunks_fit_their_member_buffers() {
        for level in 1..=9 {
            let mut c = Compressor::new(engine_level(level));
            assert!(
                c.deflate_compress_bound(CHUNK) + FRAMING <= MEMBER_ROOM,
                "level {level}"
            );
        }
        // Random bytes: stored blocks, the largest a member gets.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let data: Vec<u8> = (0..2 * CHUNK + 5)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for level in [1, 6, 9] {
            let packed = gz(&data, level);
            assert!(members(&packed).concat() == data, "level {level}");
        }
    }

    #[test]
    fn same_bytes_with_any_number_of_workers_and_buffers() {
        let data = sample(5 * CHUNK + 999);
        let want = gz(&data, 6);
        // No worker (compressed on the caller's thread), and buffers too few
        // to keep every worker busy, as under a memory limit.
        for (workers, buffers) in [(0, 1), (1, 1), (1, 3), (2, 2), (3, 1), (4, 6), (8, 10)] {
            let got = gz_with(&data, 6, workers, buffers);
            assert!(got == want, "{workers} workers, {buffers} buffers");
        }
    }

    #[test]
    fn levels_go_from_fastest_to_smallest() {
        // A program: what archives hold.
        let mut data = std::fs::read("/proc/self/exe").unwrap();
        data.truncate(4 * CHUNK);
        let sizes: Vec<usize> = [1, 6, 9].iter().map(|&l| gz(&data, l).len()).collect();
        assert!(
            sizes[0] > sizes[1] && sizes[1] > sizes[2],
            "levels 1, 6, 9: {sizes:?}"
        );
        // XFL says which end of the scale a member comes from, as gzip's does.
        assert_eq!(gz(b"x", 1)[8], 4);
        assert_eq!(gz(b"x", 6)[8], 0);
        assert_eq!(gz(b"x", 9)[8], 2);
    }

    #[test]
    fn bytes_are_those_of_the_locked_libdeflate() {
        // Archives (and image digests) must not change unnoticed: this
        // fingerprint changes only with libdeflate's version, the level
        // mapping, the chunk size or the framing. When it does, say in the
        // changelog that archives' bytes changed, then update it.
        let packed = gz(&sample(2 * CHUNK + 4321), 6);
        let mut crc = Crc::new();
        crc.update(&packed);
        assert_eq!(
            (packed.len(), crc.sum()),
            (246_644, 0xdfc3_1a65),
            "fingerprint"
        );
    }
}
