//! Scoped helper threads that never fail the run: when the system refuses a new thread (a
//! tight process limit), the job is done on the calling thread instead — slower, same result.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{Builder, Scope, ScopedJoinHandle};

/// A job started on a helper thread, or already done here.
pub enum Job<'scope, T> {
    Started(ScopedJoinHandle<'scope, T>),
    Done(T),
}

impl<T> Job<'_, T> {
    /// The job's result (a panic on the helper thread goes on here, as it would have inline).
    pub fn join(self) -> T {
        match self {
            Job::Started(handle) => handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            Job::Done(result) => result,
        }
    }
}

/// Starts `job` on a helper thread of `scope`, or does it now if no thread can be had.
pub fn start<'scope, T, F>(scope: &'scope Scope<'scope, '_>, job: F) -> Job<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    start_with(Builder::new(), scope, job)
}

fn start_with<'scope, T, F>(builder: Builder, scope: &'scope Scope<'scope, '_>, job: F) -> Job<'scope, T>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    // Held where both sides can take it: a refused thread drops its closure, not the job.
    let slot = Arc::new(Mutex::new(Some(job)));
    let theirs = Arc::clone(&slot);
    let take = |slot: &Mutex<Option<F>>| slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    let started = builder.spawn_scoped(scope, move || take(&theirs).expect("the job waits for its thread")());
    match started {
        Ok(handle) => Job::Started(handle),
        Err(_) => Job::Done(take(&slot).expect("a refused thread never took the job")()),
    }
}

/// `work` over `items` cut in two halves (each with its range of places), the second on a
/// helper thread when there are `from` items or more (below that, both here: a thread would
/// cost more than it saves).
pub fn halves_mut<T: Send, R: Send>(
    items: &mut [T],
    from: usize,
    work: impl Fn(std::ops::Range<usize>, &mut [T]) -> R + Sync,
) -> [R; 2] {
    let (n, mid) = (items.len(), items.len() / 2);
    let (first, second) = items.split_at_mut(mid);
    if n < from {
        return [work(0..mid, first), work(mid..n, second)];
    }
    std::thread::scope(|scope| {
        let helper = start(scope, || work(mid..n, second));
        [work(0..mid, first), helper.join()]
    })
}

/// `halves_mut` over the places `0..n` alone.
pub fn halves<R: Send>(n: usize, from: usize, work: impl Fn(std::ops::Range<usize>) -> R + Sync) -> [R; 2] {
    halves_mut(&mut vec![(); n], from, |places, _| work(places))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_thread_does_the_job_here() {
        std::thread::scope(|scope| {
            // No system can give a thread a stack of a quarter of the address space.
            let refused = start_with(Builder::new().stack_size(1 << 62), scope, || 6 * 7);
            assert!(matches!(refused, Job::Done(42)));
            let started = start(scope, || 6 * 7);
            assert!(matches!(started, Job::Started(_)));
            assert_eq!(started.join(), 42);
        });
    }
}
