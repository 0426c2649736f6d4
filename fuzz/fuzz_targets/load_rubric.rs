//! Fuzz target: arbitrary text as a rubric.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cs_score::fuzzing::load_rubric(data));
