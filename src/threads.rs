//! Scoped helper threads that never fail the run: when the system refuses a new thread (a
//! tight process limit), the job is done on the calling thread instead — slower, same result.

use std::mem::MaybeUninit;
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
    both(n, from, || work(0..mid, first), || work(mid..n, second))
}

/// `first` here and `second` on a helper thread when there are `from` items or more in all
/// (below that, both here, in that order).
fn both<R: Send>(n: usize, from: usize, first: impl FnOnce() -> R, second: impl FnOnce() -> R + Send) -> [R; 2] {
    let (first, second) = beside(n, from, first, second);
    [first, second]
}

/// `here` on this thread and `there` beside it on a helper thread, when the two work on `from`
/// items or more in all (`n`); below that, both here, in that order.
pub fn beside<A, B: Send>(n: usize, from: usize, here: impl FnOnce() -> A, there: impl FnOnce() -> B + Send) -> (A, B) {
    if n < from {
        return (here(), there());
    }
    std::thread::scope(|scope| {
        let helper = start(scope, there);
        (here(), helper.join())
    })
}

/// `make` of each of `items` into one list in the same order, the items cut in two halves as
/// `halves_mut` cuts them and each half's results written by its own thread straight into its
/// part of the list. Each half keeps a state as it goes (`begin` makes it from the half's
/// places; `make` gets it with each place and item), and both states come back beside the list.
///
/// In place because a list made in two and then joined goes through fresh memory twice (the
/// second half's own list, then its copy into the first's): 64 MB for the results of a year of
/// half a million people, where first touching memory is much of the time (docs/performance.md).
pub fn halves_into<T: Send, U: Send, S: Send>(
    items: &mut [T],
    from: usize,
    begin: impl Fn(std::ops::Range<usize>) -> S + Sync,
    make: impl Fn(&mut S, usize, &mut T) -> U + Sync,
) -> (Vec<U>, [S; 2]) {
    let (n, mid) = (items.len(), items.len() / 2);
    let mut list: Vec<U> = Vec::with_capacity(n);
    let (first_slots, second_slots) = list.spare_capacity_mut()[..n].split_at_mut(mid);
    let (first, second) = items.split_at_mut(mid);
    let half = |places: std::ops::Range<usize>, items: &mut [T], slots: &mut [MaybeUninit<U>]| {
        let mut state = begin(places.clone());
        for ((place, item), slot) in places.zip(items).zip(slots) {
            slot.write(make(&mut state, place, item));
        }
        state
    };
    let states = both(n, from, || half(0..mid, first, first_slots), || half(mid..n, second, second_slots));
    // SAFETY: the first `n` slots are initialised: each half zips its places, items and slots,
    // all three of its own length (`mid`, then `n - mid`), and writes every slot; both halves
    // have returned. A panic in either goes on before this line and leaves the list empty (what
    // was written is leaked, never read).
    unsafe { list.set_len(n) };
    (list, states)
}

/// `halves_mut` over the places `0..n` alone.
pub fn halves<R: Send>(n: usize, from: usize, work: impl Fn(std::ops::Range<usize>) -> R + Sync) -> [R; 2] {
    halves_mut(&mut vec![(); n], from, |places, _| work(places))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_into_makes_every_item_in_order_with_each_halfs_state() {
        for n in 0..7 {
            for from in [0, n + 1] {
                let mut items: Vec<String> = (0..n).map(|i| format!("i{i}")).collect();
                let (list, states) = halves_into(
                    &mut items,
                    from,
                    |places| (places, 0),
                    |(places, made), place, item| {
                        assert!(places.contains(&place));
                        *made += 1;
                        format!("{place}:{}", std::mem::take(item))
                    },
                );
                let expected: Vec<String> = (0..n).map(|i| format!("{i}:i{i}")).collect();
                assert_eq!(list, expected);
                assert!(items.iter().all(String::is_empty));
                assert_eq!(states, [(0..n / 2, n / 2), (n / 2..n, n - n / 2)]);
            }
        }
    }

    #[test]
    fn halves_into_passes_a_panic_on_and_leaves_no_list() {
        for from in [0, usize::MAX] {
            let caught = std::panic::catch_unwind(|| {
                halves_into(
                    &mut [1, 2, 3, 4, 5],
                    from,
                    |_| (),
                    |_, place, _| {
                        assert_ne!(place, 3, "place 3 fails");
                        vec![place]
                    },
                )
            });
            assert!(caught.is_err());
        }
    }

    #[test]
    fn beside_gives_both_results_the_second_on_a_helper_from_the_threshold() {
        let here = std::thread::current().id();
        for (from, helped) in [(0, true), (5, true), (6, false)] {
            let (a, (b, there)) = beside(5, from, || 6 * 7, || ("x", std::thread::current().id()));
            assert_eq!((a, b), (42, "x"));
            assert_eq!(there != here, helped, "from {from}");
        }
    }

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
