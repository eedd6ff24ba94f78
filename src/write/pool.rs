//! The threads that compress gzip chunks, and the queue between them and the
//! writer.
//!
//! Under a memory limit a thread that has no memory left for itself cannot
//! fail gracefully: glibc ends the process when a new thread cannot
//! allocate its thread-local bookkeeping, and a thread's allocations do not
//! come from the memory the main thread's allocator keeps in reserve. So
//! each worker takes everything it will ever need while it starts (its
//! compressor, and whatever the thread library allocates), and the writer
//! waits for it to say it is ready before taking more memory for itself.
//! After that a worker never allocates: the queues are a mutex and condition
//! variables over deques whose room the writer reserves in advance.

use std::collections::VecDeque;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

use libdeflater::{CompressionLvl, Compressor};

/// The memory libdeflate asks for one compressor at levels 1 to 9 (656 KiB
/// at most), with room to spare: tried before it is asked for.
pub(super) const COMPRESSOR_BYTES: usize = 768 << 10;
/// A worker's stack: libdeflate keeps its tables on the heap and uses a few
/// kilobytes of stack.
const WORKER_STACK: usize = 256 << 10;

/// A chunk to compress: its number, its data and the buffer for its member.
struct Job {
    seq: u64,
    data: Vec<u8>,
    member: Vec<u8>,
}

/// A compressed chunk: its number, the data buffer back, and the member.
pub(super) struct Done {
    seq: u64,
    pub data: Vec<u8>,
    pub member: io::Result<Vec<u8>>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    results: VecDeque<Done>,
    /// Workers that started, and that could not.
    ready: usize,
    failed: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Workers wait here for jobs.
    work: Condvar,
    /// The writer waits here for results and for workers to start.
    done: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The workers and their queues; dropping it ends the workers.
pub(super) struct Pool {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// The number of the next chunk submitted, and of the next collected.
    next: u64,
    oldest: u64,
}

impl Pool {
    pub fn new() -> Self {
        Pool {
            shared: Arc::default(),
            threads: Vec::new(),
            next: 0,
            oldest: 0,
        }
    }

    /// How many workers run.
    pub fn workers(&self) -> usize {
        self.threads.len()
    }

    /// Chunks submitted and not yet collected.
    pub fn in_flight(&self) -> usize {
        (self.next - self.oldest) as usize
    }

    /// Makes room in the queues for `chunks` chunks in flight.
    pub fn reserve(&mut self, chunks: usize) -> bool {
        let mut state = self.shared.lock();
        let jobs = chunks.saturating_sub(state.jobs.len());
        let results = chunks.saturating_sub(state.results.len());
        state.jobs.try_reserve(jobs).is_ok() && state.results.try_reserve(results).is_ok()
    }

    /// Starts one more worker at `level`, compressing each chunk into its
    /// member with `compress`, and waits until it is ready; `false` when the
    /// thread or its memory could not be had.
    pub fn spawn<F>(&mut self, level: CompressionLvl, compress: F) -> bool
    where
        F: Fn(&mut Compressor, &[u8], &mut Vec<u8>) -> io::Result<()> + Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        let spawned = thread::Builder::new()
            .name("gzip".into())
            .stack_size(WORKER_STACK)
            .spawn(move || work(&shared, level, compress));
        let Ok(thread) = spawned else {
            return false;
        };
        let before = self.threads.len();
        self.threads.push(thread);
        let mut state = self.shared.lock();
        while state.ready + state.failed <= before {
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let ok = state.ready > before;
        drop(state);
        if !ok {
            // It has returned, or is about to: nothing is lost by waiting.
            if let Some(thread) = self.threads.pop() {
                let _ = thread.join();
            }
        }
        ok
    }

    /// Queues a chunk; the room was reserved with [`reserve`](Self::reserve).
    pub fn submit(&mut self, data: Vec<u8>, member: Vec<u8>) {
        let seq = self.next;
        self.next += 1;
        self.shared.lock().jobs.push_back(Job { seq, data, member });
        self.shared.work.notify_one();
    }

    /// Waits for the oldest chunk in flight.
    pub fn collect(&mut self) -> io::Result<Done> {
        let seq = self.oldest;
        let mut state = self.shared.lock();
        loop {
            if let Some(at) = state.results.iter().position(|d| d.seq == seq) {
                let done = state.results.remove(at);
                self.oldest += 1;
                return done.ok_or_else(|| io::Error::other("lost a compressed chunk"));
            }
            if state.ready == 0 {
                return Err(io::Error::other("the compression threads stopped"));
            }
            state = self
                .shared
                .done
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A worker: takes its compressor, says whether it could, then compresses
/// jobs until the pool closes.
fn work<F>(shared: &Shared, level: CompressionLvl, compress: F)
where
    F: Fn(&mut Compressor, &[u8], &mut Vec<u8>) -> io::Result<()>,
{
    let compressor = new_compressor(level);
    {
        let mut state = shared.lock();
        if compressor.is_some() {
            state.ready += 1;
        } else {
            state.failed += 1;
        }
    }
    shared.done.notify_all();
    let Some(mut compressor) = compressor else {
        return;
    };
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    break job;
                }
                if state.closed {
                    state.ready -= 1;
                    drop(state);
                    shared.done.notify_all();
                    return;
                }
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Job {
            seq,
            data,
            mut member,
        } = job;
        let compressed = panic::catch_unwind(AssertUnwindSafe(|| {
            compress(&mut compressor, &data, &mut member)
        }));
        let member = match compressed {
            Ok(result) => result.map(|()| member),
            Err(_) => Err(io::Error::other("a compression thread failed")),
        };
        // Room for every chunk in flight was reserved: this does not allocate.
        shared.lock().results.push_back(Done { seq, data, member });
        shared.done.notify_all();
    }
}

/// A compressor at `level`, or `None` when its memory cannot be had.
///
/// libdeflate reports a failed allocation with a null pointer, which the
/// binding turns into a panic; so the memory is tried first, fallibly, and
/// a panic that still comes is caught rather than allowed to end the thread.
pub(super) fn new_compressor(level: CompressionLvl) -> Option<Compressor> {
    if !available(COMPRESSOR_BYTES) {
        return None;
    }
    panic::catch_unwind(AssertUnwindSafe(|| Compressor::new(level))).ok()
}

/// Whether `bytes` more could be allocated now.
pub(super) fn available(bytes: usize) -> bool {
    Vec::<u8>::new().try_reserve_exact(bytes).is_ok()
}
