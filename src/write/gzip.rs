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

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::{self, JoinHandle};

use flate2::Crc;

use super::deflate::RawDeflate;

/// Bytes of input per chunk.
const CHUNK: usize = 1 << 20;
/// deflate's window: how far back a match may reach.
const WINDOW: usize = 32 * 1024;

type Job = JoinHandle<io::Result<(Vec<u8>, Crc)>>;

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
}

impl<W: Write> ChunkedGz<W> {
    /// A writer at gzip `level` (1 to 9).
    pub fn new(out: W, level: u32) -> Self {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        ChunkedGz {
            out,
            level,
            buf: Vec::with_capacity(CHUNK),
            window: Vec::new(),
            crc: Crc::new(),
            jobs: VecDeque::new(),
            parallel: cores + 1,
            header_written: false,
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

    /// Starts compressing the buffered chunk.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        self.header()?;
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let dict = std::mem::take(&mut self.window);
        let start = data.len().saturating_sub(WINDOW);
        self.window = data[start..].to_vec();
        let level = self.level;
        self.jobs
            .push_back(thread::spawn(move || deflate(&data, &dict, level, last)));
        while self.jobs.len() >= self.parallel {
            self.collect_one()?;
        }
        Ok(())
    }

    /// Waits for the oldest chunk and writes it.
    fn collect_one(&mut self) -> io::Result<()> {
        let Some(job) = self.jobs.pop_front() else {
            return Ok(());
        };
        let (bytes, crc) = job
            .join()
            .map_err(|_| io::Error::other("a compression thread failed"))??;
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

/// Deflates one chunk: raw deflate primed with `dict`, ended by a sync flush,
/// or by the end of the stream when `last`.
fn deflate(data: &[u8], dict: &[u8], level: u32, last: bool) -> io::Result<(Vec<u8>, Crc)> {
    let mut crc = Crc::new();
    crc.update(data);
    let mut z = RawDeflate::new(level)?;
    if !dict.is_empty() {
        z.set_dictionary(dict)?;
    }
    let mut out = Vec::new();
    z.compress(data, &mut out, last)?;
    Ok((out, crc))
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
