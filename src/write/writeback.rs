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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Bytes written between two requests.
pub const STEP: u64 = 32 << 20;
/// The thread's stack: it only waits and calls `fsync`, and a smaller
/// stack leaves more of a memory limit to the compressor.
const STACK: usize = 128 << 10;
/// How often `start` looks whether a thread that has not said it started
/// died instead.
const START_POLL: Duration = Duration::from_millis(5);

/// The thread that syncs the output as it grows.
///
/// Under a memory limit a thread must take what it needs while it starts:
/// glibc ends the process when a thread cannot register a thread-local
/// destructor later on. So `start` waits until the thread runs, before the
/// writer takes more memory, and the thread waits on a mutex and condition
/// variable, which use no thread-local state (a channel's blocking receive
/// does, the first time it blocks).
pub struct Writeback {
    /// What it shares with the thread, and the thread, which returns how
    /// many syncs it ran or the first error; none when it could not start.
    thread: Option<(Arc<Shared>, JoinHandle<io::Result<u64>>)>,
    next: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The thread waits here for requests; `start` waits here for it.
    wake: Condvar,
}

#[derive(Default)]
struct State {
    started: bool,
    /// A sync is asked for (one covers everything before it).
    pending: bool,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs on the thread: syncs `file` each time one is asked for, until
    /// told to stop (after the sync pending then, if any).
    fn serve(&self, file: &File) -> io::Result<u64> {
        self.lock().started = true;
        self.wake.notify_all();
        let mut syncs = 0;
        loop {
            let mut state = self.lock();
            while !state.pending && !state.stop {
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if !state.pending {
                return Ok(syncs);
            }
            state.pending = false;
            drop(state);
            file.sync_data()?;
            syncs += 1;
        }
    }
}

impl Writeback {
    /// Starts syncing `file` (a handle on the output) in the background.
    /// When no thread can be started (under a memory limit), nothing is
    /// synced early and the final `fsync` does it all.
    pub fn start(file: File) -> Self {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("writeback".into())
            .stack_size(STACK)
            .spawn(move || theirs.serve(&file))
            .ok();
        if let Some(thread) = &thread {
            let mut state = shared.lock();
            while !state.started && !thread.is_finished() {
                state = match shared.wake.wait_timeout(state, START_POLL) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            }
        }
        Writeback {
            thread: thread.map(|thread| (shared, thread)),
            next: STEP,
        }
    }

    /// Notes that `written` bytes have gone out; asks for a sync every [`STEP`].
    pub fn progress(&mut self, written: u64) {
        if written < self.next {
            return;
        }
        self.next = written + STEP;
        if let Some((shared, _)) = &self.thread {
            // Already pending: the sync to come covers these bytes too. A
            // thread stopped after an error leaves it for `finish` to report.
            shared.lock().pending = true;
            shared.wake.notify_all();
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
        let Some((shared, thread)) = self.thread.take() else {
            return Ok(0);
        };
        shared.lock().stop = true;
        shared.wake.notify_all();
        // A thread that died rather than return can only have died as it
        // started (the runtime could not set it up under a memory limit): it
        // synced nothing, and the final `fsync` does it all.
        thread.join().unwrap_or(Ok(0))
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
