//! gzip on every core: the stream is cut into fixed chunks that are deflated
//! at the same time, pigz's way.
//!
//! Each chunk is raw deflate primed with the last 32 KiB of the chunk before
//! it (so matches still reach back across the cut, and the size is within a
//! fraction of a percent of one-thread gzip), ended with a sync flush so the
//! pieces join into one deflate stream; the last one ends the stream. The CRC
//! of each chunk is computed with it and the CRCs are combined. The bytes
//! depend only on the input, the level and the chunk size, never on thread
//! timing: the same input gives the same archive on any machine.
//!
//! The header has no file name and mtime 0, like a reproducible `gzip -n`.
//!
//! Under a memory limit the writer does with less. The threads are started
//! when the stream begins, as many as there is memory for
//! ([`workers`](super::workers)); memory for the chunks is taken on the
//! writing thread, fallibly, and only while some is left over for what
//! cannot fail gracefully, and a thread makes its compressor before the next
//! chunk is read. When memory cannot be had, the chunks in flight are
//! finished first and from then on one chunk at a time is compressed, here
//! if need be. Only when even that fails is it an error, never an abort. The
//! bytes are the same either way.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::thread;

use flate2::Crc;

use super::deflate::RawDeflate;
use super::workers::{SLACK, Slot, Workers, room_for};

/// Bytes of input per chunk.
const CHUNK: usize = 1 << 20;
/// deflate's window: how far back a match may reach.
const WINDOW: usize = 32 * 1024;
/// What a compressor's state takes (about 370 KiB at gzip's levels).
const STATE: usize = 512 * 1024;
/// What compressing a chunk on a thread takes: the chunk, its output and a
/// compressor.
const CHUNK_WORK: usize = CHUNK + CHUNK / 8 + CHUNK / 64 + STATE;

/// A chunk's deflate stream and CRC.
type Deflated = io::Result<(Vec<u8>, Crc)>;

/// A chunk being compressed on a thread, or already compressed.
enum Job {
    Running(Arc<Slot<Deflated>>, Arc<Chunk>),
    Done(Deflated),
}

/// What a chunk's thread tells the writer: that its compressor is made,
/// then the chunk deflated. Told when dropped too, so a thread that panics
/// leaves no one waiting.
struct Reply {
    made: Arc<Slot<()>>,
    /// Taken when told.
    result: Option<Arc<Slot<Deflated>>>,
}

impl Reply {
    fn tell(&mut self, deflated: Deflated) {
        if let Some(result) = self.result.take() {
            result.put(deflated);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.made.put(());
        // Made only when untold (a panic): the error's text takes memory.
        if let Some(result) = self.result.take() {
            result.put(Err(io::Error::other("a compression thread failed")));
        }
    }
}

/// What a chunk's compression needs, shared with its thread.
struct Chunk {
    data: Vec<u8>,
    dict: Vec<u8>,
    level: u32,
    last: bool,
}

impl Chunk {
    /// Deflates the chunk with `z` into `out`: raw deflate primed with the
    /// dictionary, ended by a sync flush, or by the end of the stream when
    /// it is the last.
    fn deflate(&self, z: io::Result<RawDeflate>, mut out: Vec<u8>) -> Deflated {
        let mut crc = Crc::new();
        crc.update(&self.data);
        let mut z = z?;
        if !self.dict.is_empty() {
            z.set_dictionary(&self.dict)?;
        }
        z.compress(&self.data, &mut out, self.last)?;
        Ok((out, crc))
    }

    /// Deflates the chunk on this thread.
    fn deflate_here(&self) -> Deflated {
        let out = self.out_buffer()?;
        if !room_for(STATE + SLACK) {
            return Err(out_of_memory());
        }
        self.deflate(RawDeflate::new(self.level), out)
    }

    /// A buffer larger than deflate's bound for the chunk, so the compressor
    /// never has to grow it.
    fn out_buffer(&self) -> io::Result<Vec<u8>> {
        let n = self.data.len();
        let mut out = Vec::new();
        reserve(&mut out, n + n / 8 + n / 64 + 1024)?;
        Ok(out)
    }

    /// Starts deflating the chunk on a thread of `workers`, its output
    /// buffer taken here first, and waits until the thread has made its
    /// compressor, so that no later buffer counts on the same memory. `None`
    /// when memory or a thread cannot be had.
    fn start(self: &Arc<Self>, workers: &Workers) -> Option<Arc<Slot<Deflated>>> {
        let out = self.out_buffer().ok()?;
        let (made, result) = (Slot::new(), Slot::new());
        let mut reply = Reply {
            made: Arc::clone(&made),
            result: Some(Arc::clone(&result)),
        };
        let chunk = Arc::clone(self);
        let task = Box::new(move || {
            let z = RawDeflate::new(chunk.level);
            reply.made.put(());
            reply.tell(chunk.deflate(z, out));
        });
        if !workers.run(task) {
            return None;
        }
        made.take();
        Some(result)
    }
}

/// A writer that gzips what is written to it into `out`.
pub struct ChunkedGz<W: Write> {
    out: W,
    level: u32,
    buf: Vec<u8>,
    /// The end of the previous chunk, the next chunk's dictionary.
    window: Vec<u8>,
    crc: Crc,
    /// Chunks being compressed, oldest first.
    jobs: VecDeque<Job>,
    /// How many chunks may be in flight.
    parallel: usize,
    header_written: bool,
    /// Dropped last, once every chunk was collected.
    workers: Workers,
}

impl<W: Write> ChunkedGz<W> {
    /// A writer at gzip `level` (1 to 9).
    pub fn new(out: W, level: u32) -> Self {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let workers = Workers::start(cores + 1, CHUNK_WORK);
        ChunkedGz {
            out,
            level,
            // Reserved by the first write, where failing is an error.
            buf: Vec::new(),
            window: Vec::new(),
            crc: Crc::new(),
            jobs: VecDeque::new(),
            parallel: workers.len().max(1),
            header_written: false,
            workers,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if self.header_written {
            return Ok(());
        }
        self.header_written = true;
        // XFL tells readers about the level, as gzip writes it.
        let xfl = match self.level {
            9 => 2,
            1 => 4,
            _ => 0,
        };
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=unknown
        self.out
            .write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255])
    }

    /// Starts compressing the buffered chunk, on a thread when one can be
    /// started, else here.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        self.header()?;
        let data = std::mem::take(&mut self.buf);
        let start = data.len().saturating_sub(WINDOW);
        let mut window = Vec::new();
        reserve(&mut window, data.len() - start)?;
        window.extend_from_slice(&data[start..]);
        let dict = std::mem::replace(&mut self.window, window);
        let chunk = Arc::new(Chunk {
            data,
            dict,
            level: self.level,
            last,
        });
        let job = match chunk.start(&self.workers) {
            Some(result) => Job::Running(result, chunk),
            None => {
                // No thread to be had: finish the others, then this one here.
                self.one_at_a_time()?;
                Job::Done(chunk.deflate_here())
            }
        };
        self.jobs.push_back(job);
        while self.jobs.len() >= self.parallel {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Writes every chunk in flight, which frees their memory, and keeps
    /// one chunk at a time in flight from now on.
    fn one_at_a_time(&mut self) -> io::Result<()> {
        self.parallel = 1;
        while !self.jobs.is_empty() {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for the oldest chunk and writes it. A chunk that ran out of
    /// memory on its thread is compressed again here once the other threads
    /// are done.
    fn collect_one(&mut self) -> io::Result<()> {
        let deflated = match self.jobs.pop_front() {
            None => return Ok(()),
            Some(Job::Done(deflated)) => deflated,
            Some(Job::Running(result, chunk)) => match outcome(result) {
                Err(e) if e.kind() == io::ErrorKind::OutOfMemory => {
                    self.parallel = 1;
                    let later = std::mem::take(&mut self.jobs);
                    self.jobs = later
                        .into_iter()
                        .map(|job| match job {
                            Job::Running(result, _) => Job::Done(outcome(result)),
                            done => done,
                        })
                        .collect();
                    chunk.deflate_here()
                }
                deflated => deflated,
            },
        };
        let (bytes, crc) = deflated?;
        self.crc.combine(&crc);
        self.out.write_all(&bytes)
    }

    /// Ends the stream (last chunk, CRC and length) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.dispatch(true)?;
        while !self.jobs.is_empty() {
            self.collect_one()?;
        }
        self.out.write_all(&self.crc.sum().to_le_bytes())?;
        self.out.write_all(&self.crc.amount().to_le_bytes())?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ChunkedGz<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.capacity() < CHUNK && reserve(&mut self.buf, CHUNK).is_err() {
            self.one_at_a_time()?;
            reserve(&mut self.buf, CHUNK)?;
        }
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.dispatch(false)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Chunks are cut at fixed sizes only, so the bytes never depend on
        // when a flush came; flushing the output is all there is to do.
        self.out.flush()
    }
}

/// What a chunk's thread gave, once it is done.
fn outcome(result: Arc<Slot<Deflated>>) -> Deflated {
    result.take()
}

/// Makes room for `total` bytes in `buf`, leaving [`SLACK`] free, or says
/// there is no memory for it.
fn reserve(buf: &mut Vec<u8>, total: usize) -> io::Result<()> {
    let more = total.saturating_sub(buf.len());
    if room_for(more + SLACK) && buf.try_reserve_exact(more).is_ok() {
        return Ok(());
    }
    Err(out_of_memory())
}

/// Running out of memory, said without allocating.
fn out_of_memory() -> io::Error {
    io::ErrorKind::OutOfMemory.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut w = ChunkedGz::new(Vec::new(), level);
        // Odd write sizes, so chunk cuts fall inside writes.
        for piece in data.chunks(77_777) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap()
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

    #[test]
    fn round_trips_through_a_standard_reader() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345] {
            let data = sample(len);
            let packed = gz(&data, 6);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&packed[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "length {len}");
            assert_eq!(&packed[..4], &[0x1f, 0x8b, 8, 0], "no name flag");
            assert_eq!(&packed[4..8], &[0, 0, 0, 0], "mtime 0");
        }
    }

    #[test]
    fn a_chunk_deflates_to_the_same_bytes_here_or_on_a_thread() {
        let data = sample(CHUNK);
        let chunk = Arc::new(Chunk {
            dict: data[CHUNK - WINDOW..].to_vec(),
            data,
            level: 6,
            last: false,
        });
        let here = chunk.deflate_here().unwrap();
        let workers = Workers::start(1, 0);
        let there = outcome(chunk.start(&workers).expect("a thread")).unwrap();
        assert_eq!(here.0, there.0);
        assert_eq!(here.1.sum(), there.1.sum());
        // Without room for a thread, the whole stream is still the same.
        let mut one = ChunkedGz::new(Vec::new(), 6);
        one.one_at_a_time().unwrap();
        let input = sample(3 * CHUNK + 5);
        one.write_all(&input).unwrap();
        assert_eq!(one.finish().unwrap(), gz(&input, 6));
    }

    #[test]
    fn same_input_same_bytes_and_close_to_one_thread_size() {
        let data = sample(4 * CHUNK + 999);
        let a = gz(&data, 6);
        assert_eq!(a, gz(&data, 6));
        let mut single = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        single.write_all(&data).unwrap();
        let single = single.finish().unwrap();
        // Priming each chunk with the previous window keeps the loss tiny.
        assert!(
            (a.len() as f64) < single.len() as f64 * 1.01,
            "{} vs {}",
            a.len(),
            single.len()
        );
    }
}
