//! Listings visit people in rank order, but their data lies in roster order, scattered over
//! memory: a loop that does a lot for each person waits for each person's data in turn. Asking
//! for it a few people ahead lets the processor fetch many at once while the loop works.
//!
//! The loops used to read the next few dozen people first (plain reads, kept from being
//! optimised away): the processor can only run so far ahead of a read it waits for, and perf
//! still found the CSV's rows waiting on each person. Prefetch hints do not wait: writing a
//! company's year as CSV went 150 → 110 ms, and 100 ms once every line of a value was asked
//! for; the year's user CPU fell 1.76 → 1.65 s with the engine's loops done the same way
//! (docs/performance.md, session 13).

/// How far ahead a loop over people asks for what it will read of them (`prefetch`): far
/// enough that the memory has answered by then (a dozen people's work), near enough that it is
/// still in the cache. What a person's data points at is asked for at `NEAR`, once the person
/// asked for at `FAR` has come.
pub const FAR: usize = 16;
pub const NEAR: usize = 8;

/// Asks the processor to fetch the memory at `place` into the cache, every line of it (a
/// person takes two), without waiting for it. Only on x86-64 (the machines measured);
/// elsewhere it does nothing, and the loops wait on memory as they would without it.
#[inline(always)]
pub fn prefetch<T>(place: *const T) {
    let start = place.cast::<u8>();
    for offset in line_offsets(start.addr() % LINE, std::mem::size_of::<T>()) {
        fetch(start.wrapping_add(offset));
    }
}

/// Where, from a value's start `skip` bytes into a cache line, each line the value's `size`
/// bytes touch begins (the first: the value's start itself).
fn line_offsets(skip: usize, size: usize) -> impl Iterator<Item = usize> {
    let lines = (skip + size.max(1)).div_ceil(LINE);
    (0..lines).map(move |line| (line * LINE).saturating_sub(skip))
}

/// `prefetch` of the entry of `list` that a loop over `order` reaches `FAR` places after
/// `place` (a listing visits its people's entries in rank order, all over the list).
#[inline(always)]
pub fn prefetch_ahead<T>(list: &[T], order: &[usize], place: usize) {
    if let Some(&far) = order.get(place + FAR) {
        prefetch(&list[far]);
    }
}

/// A cache line's bytes (x86-64's).
const LINE: usize = 64;

#[inline(always)]
fn fetch(place: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees, and a place that is not
    // mapped is ignored, never a fault. It needs SSE, which every x86-64 processor has.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(place.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = place;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_a_value_touches_is_fetched_once() {
        for skip in 0..LINE {
            for size in 0..300 {
                let fetched: Vec<usize> = line_offsets(skip, size).map(|o| (skip + o) / LINE).collect();
                let touched: Vec<usize> = (skip / LINE..=(skip + size.max(1) - 1) / LINE).collect();
                assert_eq!(fetched, touched, "{size} bytes from {skip} into a line");
            }
        }
    }
}
