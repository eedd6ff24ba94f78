//! Write-behind: the archive goes to disk while it is still being written.
//!
//! The archive is `fsync`ed before it is renamed into place. Left to the
//! end, that one call waits for the whole archive to reach the disk; here a
//! thread asks for what has been written so far each time another
//! [`STEP`] bytes went out, so the disk works while the next files are
//! copied and the final `fsync` has little left to do. The bytes written and
//! the guarantees are the same; only the waiting overlaps.

use std::fs::File;
use std::io;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use super::workers::{SLACK, Slot, room_for};

/// Bytes written between two requests.
pub const STEP: u64 = 32 << 20;
/// The thread's stack size.
const STACK: usize = 128 * 1024;

/// What the writer tells the thread: a sync is wanted, or the end.
#[derive(Default)]
struct Asks {
    sync: bool,
    stop: bool,
}

/// The asks and their signal. A condition variable rather than a channel:
/// its first wait takes no memory, which may have run out by then.
#[derive(Default)]
struct Shared {
    asks: Mutex<Asks>,
    asked: Condvar,
}

impl Shared {
    fn ask(&self, ask: impl FnOnce(&mut Asks)) {
        ask(&mut self.asks.lock().unwrap_or_else(PoisonError::into_inner));
        self.asked.notify_one();
    }

    /// Waits for the next ask: `true` for a sync, `false` for the end.
    fn next(&self) -> bool {
        let mut asks = self.asks.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if asks.sync {
                asks.sync = false;
                return true;
            }
            if asks.stop {
                return false;
            }
            asks = self
                .asked
                .wait(asks)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The thread that syncs the output as it grows.
pub struct Writeback {
    shared: Arc<Shared>,
    /// Returns how many syncs it ran, or the first error.
    thread: Option<JoinHandle<io::Result<u64>>>,
    next: u64,
}

impl Writeback {
    /// Starts syncing `file` (a handle on the output) in the background.
    /// When no thread can be started (a memory limit), nothing is synced
    /// before the final `fsync`, which then does it all.
    pub fn start(file: File) -> Self {
        // One pending ask is enough: a sync covers everything before it.
        let shared = Arc::new(Shared::default());
        let asks = Arc::clone(&shared);
        // Started only with room to spare (see `workers`); it only waits and
        // syncs, so a small stack leaves the memory to the compressor.
        let room = room_for(STACK + (64 << 10) + SLACK);
        let up = Slot::new();
        let started = Arc::clone(&up);
        let spawned = room.then(|| {
            thread::Builder::new().stack_size(STACK).spawn(move || {
                started.put(());
                let mut syncs = 0;
                while asks.next() {
                    file.sync_data()?;
                    syncs += 1;
                }
                Ok(syncs)
            })
        });
        let thread = spawned.and_then(Result::ok);
        if thread.is_some() {
            // Its own memory is taken before the writer takes the rest.
            up.take();
        }
        Writeback {
            shared,
            thread,
            next: STEP,
        }
    }

    /// Notes that `written` bytes have gone out; asks for a sync every [`STEP`].
    pub fn progress(&mut self, written: u64) {
        if written < self.next {
            return;
        }
        self.next = written + STEP;
        // A thread stopped by an error does not see it: `finish` reports the error.
        self.shared.ask(|asks| asks.sync = true);
    }

    /// Stops the thread and returns how many syncs it ran, or the first
    /// error it met. The error of a
    /// failed sync is reported once per open file, so it must come from here:
    /// a later `fsync` of the same file might not see it again.
    pub fn finish(mut self) -> io::Result<u64> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<u64> {
        self.shared.ask(|asks| asks.stop = true);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the write-behind thread failed"))),
            None => Ok(0),
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        // On an error path the archive is thrown away; just stop the thread.
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn syncs_while_writing_and_finishes_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("out")).unwrap();
        let mut behind = Writeback::start(file.try_clone().unwrap());
        let block = vec![7u8; 1 << 20];
        let mut written = 0u64;
        for _ in 0..((2 * STEP) >> 20) + 1 {
            file.write_all(&block).unwrap();
            written += block.len() as u64;
            behind.progress(written);
        }
        assert!(behind.next > 2 * STEP, "requests were made as it grew");
        // A request that found one pending was dropped, but the first was kept.
        let syncs = behind.finish().unwrap();
        assert!(syncs >= 1, "no sync ran");
    }

    #[test]
    fn a_failed_sync_is_reported_by_finish() {
        // fsync of a pipe fails with EINVAL: the error must not be lost.
        let (reader, writer) = io::pipe().unwrap();
        drop(reader);
        let mut behind = Writeback::start(File::from(std::os::fd::OwnedFd::from(writer)));
        behind.progress(STEP);
        let err = behind.finish().unwrap_err();
        assert_eq!(err.raw_os_error(), Some(22), "{err}");
    }
}
