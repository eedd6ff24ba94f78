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
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::{self, JoinHandle};

/// Bytes written between two requests.
pub const STEP: u64 = 32 << 20;
/// The thread's stack: it only waits and calls `fsync`, and a smaller
/// stack leaves more of a memory limit to the compressor.
const STACK: usize = 128 << 10;

/// The thread that syncs the output as it grows.
pub struct Writeback {
    wake: Option<SyncSender<()>>,
    /// Returns how many syncs it ran, or the first error.
    thread: Option<JoinHandle<io::Result<u64>>>,
    next: u64,
}

impl Writeback {
    /// Starts syncing `file` (a handle on the output) in the background.
    /// When no thread can be started (under a memory limit), nothing is
    /// synced early and the final `fsync` does it all.
    pub fn start(file: File) -> Self {
        // One pending request is enough: a sync covers everything before it.
        let (wake, requests) = mpsc::sync_channel::<()>(1);
        let thread = thread::Builder::new()
            .name("writeback".into())
            .stack_size(STACK)
            .spawn(move || {
                let mut syncs = 0;
                for () in requests {
                    file.sync_data()?;
                    syncs += 1;
                }
                Ok(syncs)
            })
            .ok();
        Writeback {
            wake: thread.is_some().then_some(wake),
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
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                // Busy (a request is pending) or stopped after an error:
                // `finish` reports the error.
                Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
            }
        }
    }

    /// Stops the thread and returns how many syncs it ran, or the first
    /// error it met. The error of a
    /// failed sync is reported once per open file, so it must come from here:
    /// a later `fsync` of the same file might not see it again.
    pub fn finish(mut self) -> io::Result<u64> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<u64> {
        drop(self.wake.take());
        match self.thread.take() {
            // A thread that died rather than return can only have died as it
            // started (the runtime could not set it up under a memory
            // limit): it synced nothing, and the final `fsync` does it all.
            Some(thread) => thread.join().unwrap_or(Ok(0)),
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
