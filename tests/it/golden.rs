//! Golden outputs: `month`, `quarter` and `year` on the shipped example workspace in every
//! text format, checked in under tests/it/snapshots/ (review changes with `cargo insta review`,
//! or rerun with INSTA_UPDATE=always and read the diff). Each run is also repeated to prove a
//! rerun is byte-identical.

use crate::support::Ws;

const REPORTS: &[(&str, &str)] = &[("month", "2009-05"), ("month", "2009-03"), ("quarter", "2009Q2"), ("year", "2009")];

#[test]
fn example_workspace_reports_match_their_golden_files() {
    let ws = Ws::example();
    for &(command, period) in REPORTS {
        for format in ["table", "csv", "json"] {
            let args = [command, period, "--format", format, "--lang", "zh", "-q"];
            let first = ws.run(&args);
            assert_eq!(first.code, 0, "{command} {period} {format}: {}", first.stderr);
            let again = ws.run(&args);
            assert_eq!(first.stdout_bytes, again.stdout_bytes, "{command} {period} {format}: rerun differs");
            insta::assert_snapshot!(format!("{command}-{period}-{format}"), first.stdout);
        }
    }
}

#[test]
fn english_tables_match_their_golden_files() {
    let ws = Ws::example();
    for &(command, period) in REPORTS {
        let r = ws.run(&[command, period, "--lang", "en", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        insta::assert_snapshot!(format!("{command}-{period}-table-en"), r.stdout);
    }
}

#[test]
fn explain_matches_its_golden_file() {
    let ws = Ws::example();
    for (period, id) in [("2009Q2", "0209"), ("2009", "0202"), ("2009Q3", "0209")] {
        let r = ws.run(&["explain", period, id, "--lang", "en", "-q"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        insta::assert_snapshot!(format!("explain-{period}-{id}"), r.stdout);
    }
}
