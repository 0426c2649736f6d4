//! Replays the inputs the fuzzers found (fuzz/regressions/<target>/) and the fuzz seed files
//! through the same entry points the fuzz targets call: each must return, not panic.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        if entry.file_name() == ".gitkeep" {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} panics", entry.path().display());
        count += 1;
    }
    count
}

#[test]
fn reader_regressions_do_not_panic() {
    assert!(replay("read_data_file", cs_score::fuzzing::read_data_file) > 0);
}

#[test]
fn rubric_regressions_do_not_panic() {
    assert!(replay("load_rubric", cs_score::fuzzing::load_rubric) > 0);
}
