//! Raw deflate with gzip's own parameters, on the zlib-rs engine.
//!
//! zlib-rs (like zlib-ng) answers levels 3 to 6 with a faster "medium"
//! strategy and four-byte hashing; on binaries that costs about 2.6% of
//! size against GNU `gzip -6`. For levels 4 to 9 this module asks zlib-rs
//! for gzip's algorithm instead: lazy matching with the three-byte rolling
//! hash (what zlib-rs uses at level 9), tuned with the search parameters
//! gzip and zlib use at the requested level. The output is then about the
//! size of `gzip -N` (slightly smaller on binaries), at less CPU than gzip.
//! Levels 1 to 3 are zlib-rs's own fast strategies.
//!
//! zlib-rs picks its hash when a stream starts (rolling for level 9) and
//! keeps it when tuned, but a few later choices look at the chain length: its
//! window refill seeds the hash the non-rolling way when the chain is 1024 or
//! less, which can misplace a couple of hash entries after a refill. Matches
//! are always compared byte by byte, so the stream stays valid; only the
//! size moves, by nothing measurable. The bytes are those of the zlib-rs
//! version in `Cargo.lock`.
//!
//! zlib-rs's tuning call is reached through its zlib-compatible interface,
//! which takes raw pointers; this module is the only unsafe code of the
//! crate and keeps it behind a safe type.
#![allow(unsafe_code)]

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::raw::{c_int, c_ulong};

use libz_rs_sys::{
    Z_BUF_ERROR, Z_FINISH, Z_MEM_ERROR, Z_OK, Z_STREAM_END, Z_SYNC_FLUSH, deflate, deflateBound,
    deflateEnd, deflateInit2_, deflateSetDictionary, deflateTune, z_stream, zlibVersion,
};

/// gzip's and zlib's `good_length, max_lazy, nice_length, max_chain` for
/// levels 4 to 9 (zlib's `configuration_table`, the same values as GNU
/// gzip's), indexed by level.
const GZIP_TUNING: [(c_int, c_int, c_int, c_int); 10] = [
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

/// The zlib-rs level whose strategy and hashing gzip's levels 4 to 9 use.
const LAZY_LEVEL: c_int = 9;

/// One raw deflate stream (no zlib or gzip wrapper).
pub struct RawDeflate {
    // Boxed: zlib's state points back at its stream, so it must not move.
    stream: Box<z_stream>,
}

impl RawDeflate {
    /// A stream compressing at `level` (1 to 9).
    pub fn new(level: u32) -> io::Result<Self> {
        let level = level.clamp(1, 9) as usize;
        let mut stream: Box<MaybeUninit<z_stream>> = Box::new(MaybeUninit::zeroed());
        let engine_level = if level >= 4 {
            LAZY_LEVEL
        } else {
            level as c_int
        };
        // SAFETY: an all-zero z_stream is how zlib expects a stream before
        // init (null allocators select the default ones); the pointer is
        // valid for the call and the version and size are zlib-rs's own.
        let rc = unsafe {
            deflateInit2_(
                stream.as_mut_ptr(),
                engine_level,
                8,   // Z_DEFLATED
                -15, // raw deflate, 32 KiB window
                8,   // zlib's default memory level
                0,   // Z_DEFAULT_STRATEGY
                zlibVersion(),
                size_of::<z_stream>() as c_int,
            )
        };
        check(rc, "deflateInit2")?;
        // SAFETY: deflateInit2_ succeeded, so the stream is initialised.
        let mut stream = unsafe { stream.assume_init() };
        if level >= 4 {
            let (good, lazy, nice, chain) = GZIP_TUNING[level];
            // SAFETY: the stream was initialised above.
            let rc = unsafe { deflateTune(&mut *stream, good, lazy, nice, chain) };
            if rc != Z_OK {
                // SAFETY: initialised; it is released once, here.
                unsafe { deflateEnd(&mut *stream) };
                return Err(error(rc, "deflateTune"));
            }
        }
        Ok(RawDeflate { stream })
    }

    /// Primes the stream with what came before its input.
    pub fn set_dictionary(&mut self, dict: &[u8]) -> io::Result<()> {
        let len = u32::try_from(dict.len()).map_err(io::Error::other)?;
        // SAFETY: the stream is initialised; `dict` is valid for `len`
        // bytes and is only read (zlib copies it into its window).
        let rc = unsafe { deflateSetDictionary(&mut *self.stream, dict.as_ptr(), len) };
        check(rc, "deflateSetDictionary")
    }

    /// Compresses all of `data` into `out`, then ends with a sync flush (so
    /// another stream's output may follow) or, when `last`, ends the stream.
    ///
    /// zlib's output can depend on how much room it is given (a flush that
    /// runs out of room adds an empty block), so the room is this module's
    /// own choice, never a buffer's capacity: enough for the whole chunk at
    /// first, fixed steps after that.
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>, last: bool) -> io::Result<()> {
        let flush = if last { Z_FINISH } else { Z_SYNC_FLUSH };
        let avail_in = u32::try_from(data.len()).map_err(io::Error::other)?;
        // SAFETY: the stream is initialised; deflateBound only reads it.
        let bound = unsafe { deflateBound(&mut *self.stream, data.len() as c_ulong) };
        // The bound covers a finished stream; a sync flush adds an empty block.
        let mut room = usize::try_from(bound)
            .unwrap_or(usize::MAX)
            .saturating_add(FLUSH_MARGIN)
            .min(u32::MAX as usize);
        self.stream.next_in = data.as_ptr().cast_mut();
        self.stream.avail_in = avail_in;
        let result = loop {
            out.reserve(room);
            let len = out.len();
            self.stream.next_out = out.spare_capacity_mut().as_mut_ptr().cast();
            self.stream.avail_out = room as u32;
            // SAFETY: next_in/avail_in describe what is left of `data`, which
            // zlib only reads; next_out/avail_out describe `room` bytes of
            // the spare capacity of `out` reserved above, which zlib writes
            // from their start.
            let rc = unsafe { deflate(&mut *self.stream, flush) };
            let written = room - self.stream.avail_out as usize;
            // SAFETY: zlib initialised the first `written` spare bytes.
            unsafe { out.set_len(len + written) };
            let room_left = self.stream.avail_out != 0;
            match rc {
                Z_STREAM_END => break Ok(()),
                // A sync flush is complete once zlib stops filling the output.
                Z_OK if !last && room_left => break Ok(()),
                // Nothing left to flush (a second flush with no new input).
                Z_BUF_ERROR if !last && self.stream.avail_in == 0 => break Ok(()),
                Z_BUF_ERROR if written == 0 => break Err(error(rc, "deflate")),
                Z_OK | Z_BUF_ERROR => room = MORE_ROOM,
                rc => break Err(error(rc, "deflate")),
            }
        };
        // Leave no pointer into buffers the stream does not own.
        self.stream.next_in = std::ptr::null_mut();
        self.stream.next_out = std::ptr::null_mut();
        result
    }
}

/// Room beyond `deflateBound` for the empty stored block of a sync flush.
const FLUSH_MARGIN: usize = 64;
/// Room given for each further call, should the bound ever fall short.
const MORE_ROOM: usize = 64 * 1024;

impl Drop for RawDeflate {
    fn drop(&mut self) {
        // SAFETY: the stream was initialised in `new` and is released once.
        unsafe { deflateEnd(&mut *self.stream) };
    }
}

fn check(rc: c_int, call: &str) -> io::Result<()> {
    if rc == Z_OK {
        Ok(())
    } else {
        Err(error(rc, call))
    }
}

fn error(rc: c_int, call: &str) -> io::Error {
    if rc == Z_MEM_ERROR {
        // Said without allocating: memory is what ran out.
        return io::ErrorKind::OutOfMemory.into();
    }
    io::Error::other(format!("zlib {call} failed with code {rc}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut i = 0u64;
        while out.len() < len {
            out.extend_from_slice(format!("entry {} value {}\n", i, (i * 7919) % 1009).as_bytes());
            i += 1;
        }
        out.truncate(len);
        out
    }

    fn inflate(raw: &[u8]) -> Vec<u8> {
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(raw)
            .read_to_end(&mut back)
            .unwrap();
        back
    }

    #[test]
    fn every_level_round_trips() {
        let data = sample(100_000);
        for level in 1..=9 {
            let mut z = RawDeflate::new(level).unwrap();
            let mut out = Vec::new();
            z.compress(&data, &mut out, true).unwrap();
            assert_eq!(inflate(&out), data, "level {level}");
        }
    }

    #[test]
    fn sync_flushed_pieces_join_into_one_stream() {
        let data = sample(200_000);
        let (a, b) = data.split_at(77_777);
        let mut out = Vec::new();
        RawDeflate::new(6)
            .unwrap()
            .compress(a, &mut out, false)
            .unwrap();
        let mut second = RawDeflate::new(6).unwrap();
        second.set_dictionary(a).unwrap();
        second.compress(b, &mut out, true).unwrap();
        assert_eq!(inflate(&out), data);
    }

    #[test]
    fn a_flush_with_nothing_new_is_not_an_error() {
        let mut z = RawDeflate::new(6).unwrap();
        let mut out = Vec::new();
        z.compress(b"some text", &mut out, false).unwrap();
        z.compress(b"", &mut out, false).unwrap();
        z.compress(b"", &mut out, true).unwrap();
        assert_eq!(inflate(&out), b"some text");
    }

    #[test]
    fn bytes_do_not_depend_on_the_buffer_given() {
        let data = sample(150_000);
        let mut plain = Vec::new();
        RawDeflate::new(6)
            .unwrap()
            .compress(&data, &mut plain, false)
            .unwrap();
        for capacity in [0, 1, plain.len() - 3, plain.len(), plain.len() + 2, 1 << 20] {
            let mut out = Vec::with_capacity(capacity);
            RawDeflate::new(6)
                .unwrap()
                .compress(&data, &mut out, false)
                .unwrap();
            assert!(out == plain, "capacity {capacity}");
        }
    }

    #[test]
    fn level_six_uses_gzips_lazy_matching() {
        // zlib-rs's own level 6 (medium strategy) is larger on this data;
        // gzip's parameters must do at least as well as flate2's level 6.
        let mut data = std::fs::read("/proc/self/exe").unwrap();
        data.truncate(1 << 20);
        let mut ours = Vec::new();
        RawDeflate::new(6)
            .unwrap()
            .compress(&data, &mut ours, true)
            .unwrap();
        let mut theirs =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
        std::io::Write::write_all(&mut theirs, &data).unwrap();
        let theirs = theirs.finish().unwrap();
        assert!(
            ours.len() < theirs.len(),
            "{} vs {}",
            ours.len(),
            theirs.len()
        );
    }
}
