//! Listings visit people in rank order, but their data lies in roster order, scattered over
//! memory: a loop that does a lot for each person waits for each person's data in turn. A
//! small loop that only reads that data first, a few dozen people ahead, lets the processor
//! fetch them all at once (measured: a tenth of the CPU of a 500,000-person year).

/// How many people are read ahead at a time: enough to keep the memory busy, few enough to
/// stay in the cache until they are used.
pub const AHEAD: usize = 64;

/// Reads `read` of each item and nothing more (the results are kept from being optimised away).
pub fn warm<T, R>(items: impl Iterator<Item = T>, read: impl Fn(T) -> R) {
    for item in items {
        std::hint::black_box(read(item));
    }
}
