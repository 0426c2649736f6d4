//! Fuzz target: arbitrary bytes as every kind of data file.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cs_score::fuzzing::read_data_file(data));
