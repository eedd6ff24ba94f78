//! Threads for the writer, and how they and the writing thread share memory
//! that may run out.
//!
//! Under a memory limit, what cannot fail gracefully must not meet an
//! exhausted memory: std maps a new thread's signal stack and aborts when it
//! cannot, and a channel's first wait or send on a thread allocates. So
//! threads are started only when the memory all their work will take is
//! free (compression threads once, when an archive is begun, never later
//! when its buffers fill the memory), and they wait on condition variables,
//! which take no memory, for tasks ([`Workers`]) and for values
//! ([`Slot`]). Every large buffer is taken fallibly, leaving [`SLACK`] free.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// A task for a thread of the pool.
pub(super) type Task = Box<dyn FnOnce() + Send>;

/// Memory left free beside every buffer taken, for the small allocations
/// that cannot fail gracefully: a buffer that would leave less is refused.
pub(super) const SLACK: usize = 1 << 20;

/// A new thread's own memory: std's default stack (2 MiB) and a margin for
/// its signal stack and thread-local data.
pub(super) const THREAD: usize = (2 << 20) + (64 << 10);

/// Whether `bytes` could be had now: asked for and given back at once.
pub(super) fn room_for(bytes: usize) -> bool {
    Vec::<u8>::new().try_reserve_exact(bytes).is_ok()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A value handed from one thread to another.
pub(super) struct Slot<T> {
    value: Mutex<Option<T>>,
    filled: Condvar,
}

impl<T> Slot<T> {
    pub fn new() -> Arc<Slot<T>> {
        Arc::new(Slot {
            value: Mutex::new(None),
            filled: Condvar::new(),
        })
    }

    /// Hands `value` over (replacing one not yet taken).
    pub fn put(&self, value: T) {
        *lock(&self.value) = Some(value);
        self.filled.notify_all();
    }

    /// Waits for the value and takes it.
    pub fn take(&self) -> T {
        let mut value = lock(&self.value);
        loop {
            if let Some(v) = value.take() {
                return v;
            }
            value = self
                .filled
                .wait(value)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The tasks waiting for a thread, and whether more may come.
struct Queue {
    tasks: Mutex<(VecDeque<Task>, bool)>,
    given: Condvar,
}

impl Queue {
    /// The next task, or `None` once the queue is closed and empty.
    fn next(&self) -> Option<Task> {
        let mut queue = lock(&self.tasks);
        loop {
            if let Some(task) = queue.0.pop_front() {
                return Some(task);
            }
            if queue.1 {
                return None;
            }
            queue = self
                .given
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Threads that run tasks in the order they are given, each on the first
/// thread free.
pub(super) struct Workers {
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Up to `n` threads, as many as there is memory for when each also
    /// needs `each` bytes for its work (and none, rather than one that
    /// could not be had in full). At most `n` tasks should wait at a time.
    pub fn start(n: usize, each: usize) -> Workers {
        let fits = (1..=n)
            .rev()
            .find(|&k| {
                room_for(
                    k.saturating_mul(THREAD.saturating_add(each))
                        .saturating_add(SLACK),
                )
            })
            .unwrap_or(0);
        let queue = Arc::new(Queue {
            tasks: Mutex::new((VecDeque::with_capacity(2 * n + 2), false)),
            given: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(fits);
        for _ in 0..fits {
            let mine = Arc::clone(&queue);
            let up = Slot::new();
            let started = Arc::clone(&up);
            let spawned = thread::Builder::new().spawn(move || {
                started.put(());
                while let Some(task) = mine.next() {
                    // A task that panics has told its waiter (see `Slot`
                    // users); the thread goes on with the next one.
                    let _ = catch_unwind(AssertUnwindSafe(task));
                }
            });
            let Ok(thread) = spawned else { break };
            // One at a time: each has its own memory before the next starts.
            up.take();
            threads.push(thread);
        }
        Workers { queue, threads }
    }

    /// How many threads there are.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Gives `task` to the threads; `false` when there are none.
    pub fn run(&self, task: Task) -> bool {
        if self.threads.is_empty() {
            return false;
        }
        lock(&self.queue.tasks).0.push_back(task);
        self.queue.given.notify_one();
        true
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the queue ends each thread once the tasks given are done.
        lock(&self.queue.tasks).1 = true;
        self.queue.given.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_on_the_threads_and_none_are_left_running() {
        let workers = Workers::start(3, 0);
        assert_eq!(workers.len(), 3);
        let slots: Vec<Arc<Slot<usize>>> = (0..10).map(|_| Slot::new()).collect();
        for (i, slot) in slots.iter().enumerate() {
            let slot = Arc::clone(slot);
            assert!(workers.run(Box::new(move || slot.put(i * i))));
        }
        // A task that panics leaves its thread working.
        assert!(workers.run(Box::new(|| panic!("a failing task"))));
        let got: Vec<usize> = slots.iter().map(|s| s.take()).collect();
        assert_eq!(got, (0..10).map(|i| i * i).collect::<Vec<_>>());
        let last = Slot::new();
        let put = Arc::clone(&last);
        assert!(workers.run(Box::new(move || put.put("still working"))));
        assert_eq!(last.take(), "still working");
        drop(workers);
        // No room for even one thread's work: none is started.
        let none = Workers::start(2, usize::MAX / 4);
        assert_eq!(none.len(), 0);
        assert!(!none.run(Box::new(|| ())));
    }
}
