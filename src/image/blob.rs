//! Blobs by digest: a directory that holds each blob under the hex of its
//! SHA-256, written to a temporary file first and renamed into place only
//! when complete; and the writers that hash and compress a layer in one pass.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};
use tempfile::NamedTempFile;

use super::config::Compression;
use super::error::ImageError;
use super::oci::{hex, hex_digest, sha256};
use crate::write::{ChunkedGz, Writeback};

/// Temporary files and directories of the image being written, for an
/// interrupted run to remove.
static PARTIAL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Notes a temporary file or directory to remove if the run is interrupted.
pub fn track(path: &Path) {
    if let Ok(mut partial) = PARTIAL.lock() {
        partial.push(path.to_path_buf());
    }
}

/// Removes every temporary file and directory of an image being written.
/// For a signal handler: an interrupted run leaves nothing behind.
pub fn remove_partial() {
    let taken = PARTIAL
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    for path in taken {
        let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
    }
}

/// A stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:` and the hex of its bytes.
    pub digest: String,
    pub size: u64,
}

/// A directory of blobs named by their digests' hex.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    /// Where blobs are written before they are complete (same file system).
    temp_dir: PathBuf,
    /// Whether blobs must reach the disk before they are named: true for a
    /// layout, false for blobs staged on their way into an archive (which
    /// is synced itself) or a registry.
    durable: bool,
}

impl Store {
    /// A store in `dir` whose blobs are synced to disk, writing its
    /// temporary files in `temp_dir`. Both must exist.
    pub fn new(dir: impl Into<PathBuf>, temp_dir: impl Into<PathBuf>) -> Self {
        Store {
            dir: dir.into(),
            temp_dir: temp_dir.into(),
            durable: true,
        }
    }

    /// A store for blobs on their way elsewhere, in `dir`, not synced.
    pub fn staging(dir: &Path) -> Self {
        Store {
            durable: false,
            ..Store::new(dir, dir)
        }
    }

    /// Whether blobs are synced to disk.
    pub fn durable(&self) -> bool {
        self.durable
    }

    /// Where blobs are written before they are complete.
    pub fn temp_dir(&self) -> &Path {
        &self.temp_dir
    }

    /// Where the blob with `digest` is.
    pub fn path(&self, digest: &str) -> PathBuf {
        self.dir.join(hex(digest))
    }

    /// A new temporary file for a blob being written.
    pub fn temp(&self) -> Result<NamedTempFile, ImageError> {
        let temp = tempfile::Builder::new()
            .prefix(".blob-")
            .suffix(".partial")
            .tempfile_in(&self.temp_dir)
            .map_err(|e| ImageError::io(&self.temp_dir, e))?;
        track(temp.path());
        Ok(temp)
    }

    /// Syncs a finished temporary file and names it by `digest`. A blob
    /// already stored under that name has the same bytes and is kept.
    pub fn keep(&self, temp: NamedTempFile, digest: &str) -> Result<PathBuf, ImageError> {
        let path = self.path(digest);
        if path.is_file() {
            return Ok(path);
        }
        let io = |e| ImageError::io(&path, e);
        if self.durable {
            temp.as_file().sync_all().map_err(io)?;
        }
        fs::set_permissions(temp.path(), fs::Permissions::from_mode(0o644)).map_err(io)?;
        temp.persist(&path).map_err(|e| io(e.error))?;
        Ok(path)
    }

    /// Stores `bytes`.
    pub fn put(&self, bytes: &[u8]) -> Result<Blob, ImageError> {
        let digest = sha256(bytes);
        let mut temp = self.temp()?;
        temp.write_all(bytes)
            .map_err(|e| ImageError::io(temp.path(), e))?;
        self.keep(temp, &digest)?;
        Ok(Blob {
            digest,
            size: bytes.len() as u64,
        })
    }
}

/// Hashes and counts what passes through to `inner`.
pub struct Hashing<W> {
    pub inner: W,
    hash: Sha256,
    pub count: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
            count: 0,
        }
    }

    /// The digest of everything written, and the writer.
    pub fn finish(self) -> (String, u64, W) {
        (hex_digest(&self.hash.finalize()), self.count, self.inner)
    }

    /// The digest of everything written since the start or the last call,
    /// starting again from nothing.
    pub fn take(&mut self) -> String {
        self.count = 0;
        hex_digest(&std::mem::take(&mut self.hash).finalize())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts what passes through to `inner` and has it synced to disk as it
/// grows ([`Writeback`]), so the final sync has little left to wait for.
pub struct Behind<W> {
    pub inner: W,
    count: u64,
    writeback: Option<Writeback>,
}

impl<W: Write> Behind<W> {
    /// `file` is a handle on the file `inner` writes, or `None` to sync nothing.
    pub fn new(inner: W, file: Option<File>) -> Self {
        Behind {
            inner,
            count: 0,
            writeback: file.map(Writeback::start),
        }
    }

    /// Stops syncing, with the first error a sync met, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some(writeback) = self.writeback.take() {
            writeback.finish()?;
        }
        Ok(self.inner)
    }
}

impl<W: Write> Write for Behind<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        if let Some(writeback) = &mut self.writeback {
            writeback.progress(self.count);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A layer's compressor, writing into `W`.
pub enum Compressor<W: Write> {
    Gzip(ChunkedGz<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

/// zstd's own default level.
const ZSTD_LEVEL: i32 = 3;

impl<W: Write> Compressor<W> {
    /// `level` is the gzip level (`--level`); zstd uses its default.
    pub fn new(out: W, compression: Compression, level: u32) -> io::Result<Self> {
        match compression {
            Compression::Gzip => Ok(Compressor::Gzip(ChunkedGz::new(out, level))),
            Compression::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
                // zstd cuts the stream into jobs of a size fixed by the
                // level, whatever the number of workers (one or more), so
                // the bytes do not depend on the machine's cores.
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                z.multithread(u32::try_from(cores).unwrap_or(1).max(1))?;
                z.include_checksum(true)?;
                Ok(Compressor::Zstd(z))
            }
        }
    }

    /// Ends the compressed stream and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::Gzip(gz) => gz.finish(),
            Compressor::Zstd(z) => z.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::Gzip(gz) => gz.write(buf),
            Compressor::Zstd(z) => z.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::Gzip(gz) => gz.flush(),
            Compressor::Zstd(z) => z.flush(),
        }
    }
}

/// Opens a stored blob for reading.
pub fn open(path: &Path) -> Result<File, ImageError> {
    File::open(path).map_err(|e| ImageError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_blob_is_stored_under_its_digest_once() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::new(tmp.path(), tmp.path());
        let blob = store.put(b"hello").unwrap();
        assert_eq!(blob.digest, sha256(b"hello"));
        assert_eq!(fs::read(store.path(&blob.digest)).unwrap(), b"hello");
        assert_eq!(store.put(b"hello").unwrap(), blob);
        let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        let mode = fs::metadata(store.path(&blob.digest))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    #[test]
    fn one_pass_gives_both_digests_and_both_compressions_read_back() {
        let data: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 1000).to_le_bytes())
            .collect();
        for compression in [Compression::Gzip, Compression::Zstd] {
            let outer = Hashing::new(Vec::new());
            let mut inner = Hashing::new(Compressor::new(outer, compression, 6).unwrap());
            inner.write_all(&data).unwrap();
            let (diff_id, count, comp) = inner.finish();
            let (digest, size, packed) = comp.finish().unwrap().finish();
            assert_eq!(diff_id, sha256(&data));
            assert_eq!(count, data.len() as u64);
            assert_eq!(digest, sha256(&packed));
            assert_eq!(size, packed.len() as u64);
            let mut back = Vec::new();
            match compression {
                Compression::Gzip => {
                    flate2::read::MultiGzDecoder::new(&packed[..])
                        .read_to_end(&mut back)
                        .unwrap();
                }
                Compression::Zstd => {
                    back = zstd::decode_all(&packed[..]).unwrap();
                }
            }
            assert_eq!(back, data, "{compression:?}");
        }
    }
}
