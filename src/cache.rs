//! Listings visit people in rank order, but their data lies in roster order, scattered over
//! memory: a loop that does a lot for each person waits for each person's data in turn. Asking
//! for it a few people ahead lets the processor fetch many at once while the loop works.
//!
//! The loops used to read the next few dozen people first (plain reads, kept from being
//! optimised away): the processor can only run so far ahead of a read it waits for, and perf
//! still found the CSV's rows waiting on each person. Prefetch hints do not wait: writing a
//! company's year as CSV went 150 → 110 ms, and the year's user CPU fell 1.76 → 1.65 s with the
//! engine's loops done the same way (docs/performance.md, session 13).

/// How far ahead a loop over people asks for what it will read of them (`prefetch`): far
/// enough that the memory has answered by then (a dozen people's work), near enough that it is
/// still in the cache. What a person's data points at is asked for at `NEAR`, once the person
/// asked for at `FAR` has come.
pub const FAR: usize = 16;
pub const NEAR: usize = 8;

/// Asks the processor to fetch the memory at `place` into the cache, without waiting for it.
/// Only on x86-64 (the machines measured); elsewhere it does nothing, and the loops wait on
/// memory as they would without it.
#[inline(always)]
pub fn prefetch<T: ?Sized>(place: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing the program sees, and a place that is not
    // mapped is ignored, never a fault.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(place.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = place;
}
