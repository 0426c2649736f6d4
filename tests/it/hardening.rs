//! Hostile and broken inputs, output safety and pipes: each gives a clear error or a correct
//! result, never a panic, a partial file or a change to the data folder.

use crate::support::Ws;

fn rejects(ws: &Ws, needle: &str) {
    let before = ws.snapshot();
    let r = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains(needle), "missing {needle:?} in:\n{}", r.stderr);
    assert!(!r.stderr.contains("panicked"));
    assert!(r.stdout.is_empty());
    assert!(before == ws.snapshot(), "the workspace changed");
}

#[test]
fn a_file_that_ends_inside_a_quoted_cell_is_an_error() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/points/2009-05.csv", "id,points\n0001,91\n0002,\"90\n");
    rejects(&ws, "data/points/2009-05.csv:3: a quoted cell is not closed");
}

#[test]
fn a_nul_byte_is_located() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/points/2009-05.csv", b"id,points\n0001,9\x000\n".as_slice());
    rejects(&ws, "data/points/2009-05.csv:2: column points: contains a NUL byte");
}

#[test]
fn a_one_megabyte_cell_is_read() {
    let ws = Ws::case("worked-2009Q2");
    let sheet = ws.read("data/points/2009-05.csv").replace("id,name,points", "id,name,points,note");
    let huge = "备".repeat(350_000);
    let sheet: String = sheet
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 1 { format!("{l},{huge}\n") } else { format!("{l}\n") })
        .collect();
    ws.write("data/points/2009-05.csv", sheet);
    let r = ws.json(&["quarter", "2009Q2"]);
    assert_eq!(crate::support::person(&r, "0001")["points"].as_f64(), Some(91.0));
}

#[test]
fn ten_thousand_columns_are_read() {
    let ws = Ws::case("worked-2009Q2");
    let extra: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let ones = vec!["1"; 10_000].join(",");
    let mut sheet = format!("id,name,points,{}\n", extra.join(","));
    for line in ws.read("data/points/2009-05.csv").lines().skip(1) {
        sheet.push_str(&format!("{line},{ones}\n"));
    }
    ws.write("data/points/2009-05.csv", sheet);
    let r = ws.json(&["quarter", "2009Q2"]);
    assert_eq!(r["total_payout"], 1550);
}

#[test]
fn output_into_a_missing_folder_fails_cleanly() {
    let ws = Ws::case("worked-2009Q2");
    let target = ws.path().join("no-such-folder/q2.json");
    let r = ws.run(&["quarter", "2009Q2", "--format", "json", "--output", target.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("q2.json: cannot be written"), "{}", r.stderr);
    assert!(!target.exists());
}

#[test]
fn output_over_a_folder_fails_and_leaves_it() {
    let ws = Ws::case("worked-2009Q2");
    let target = ws.path().join("data");
    let before = ws.snapshot();
    let r = ws.run(&["quarter", "2009Q2", "--format", "csv", "--output", target.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(before == ws.snapshot());
    let leftovers: Vec<_> = std::fs::read_dir(ws.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");
}

/// A workspace big enough that its output overflows a pipe buffer.
fn big_workspace(people: usize) -> Ws {
    let ws = Ws::case("worked-2009Q2");
    let mut roster = String::from("id,name,unit,post,joined,left\n");
    let mut points = String::from("id,points\n");
    for i in 0..people {
        roster.push_str(&format!("{i:05},员工{i},营业厅,营业员,2008-01-01,\n"));
        points.push_str(&format!("{i:05},{}\n", 80 + i % 20));
    }
    ws.write("data/roster.csv", roster);
    for m in ["04", "05", "06"] {
        ws.write(&format!("data/points/2009-{m}.csv"), &points);
        ws.write(&format!("data/kpi/2009-{m}.csv"), points.replace("points", "kpi"));
    }
    ws.write("data/city-awards.csv", "period,id,award,amount,group\n");
    ws
}

#[test]
fn a_closed_pipe_ends_quietly_with_0() {
    let ws = big_workspace(2_000);
    let bin = assert_cmd::cargo::cargo_bin("cs-score");
    // CSV too: its rows were once written through the csv crate's writer, which turned the
    // closed pipe into another kind of error (exit 1, "cannot be written: Broken pipe").
    for format in ["json", "csv"] {
        let script = format!(
            "set -o pipefail; '{}' --dir '{}' quarter 2009Q2 --format {format} | head -c 10 >/dev/null",
            bin.display(),
            ws.path().display()
        );
        let mut c = assert_cmd::Command::new("bash");
        c.args(["-c", &script]);
        let r = crate::support::run(c);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked") && !r.stderr.contains("Broken pipe"), "{format}: {}", r.stderr);
    }
}

/// Standard error that cannot be written (a pipe already closed at its other end) changes nothing but
/// what is lost: a report with warnings is still written whole with exit 0, and bad data still
/// ends with 1, not with a panic's 101.
#[cfg(unix)]
#[test]
fn an_unwritable_standard_error_keeps_the_report_and_the_exit_code() {
    let ws = Ws::example();
    let run = |args: &[&str]| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("cs-score"));
        c.arg("--dir").arg(ws.path()).args(args).env_remove("CS_SCORE_DIR");
        // A pipe nobody reads: the input of a process that has ended. Every write to it fails
        // (EPIPE; a Rust program ignores SIGPIPE).
        let mut gone = std::process::Command::new("true").stdin(std::process::Stdio::piped()).spawn().unwrap();
        let writer = gone.stdin.take().unwrap();
        gone.wait().unwrap();
        c.stderr(writer);
        let out = c.output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let usual = ws.run(&["quarter", "2009Q2", "--format", "csv"]);
    assert!(usual.stderr.contains("warning"), "the example warns: {}", usual.stderr);
    assert_eq!(run(&["quarter", "2009Q2", "--format", "csv"]), (0, usual.stdout));
    ws.write("data/points/2009-05.csv", "id,points\n0201,9O\n");
    assert_eq!(run(&["quarter", "2009Q2"]).0, 1);
}

#[test]
fn permuting_the_rows_of_every_input_file_changes_no_output_byte() {
    let ws = Ws::example();
    let before: Vec<Vec<u8>> = ["quarter 2009Q2", "year 2009", "month 2009-03"]
        .iter()
        .map(|c| ws.run(&[c.split(' ').collect::<Vec<_>>(), vec!["--format", "json"]].concat()).stdout_bytes)
        .collect();
    for entry in walk(&ws.path().join("data")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines.remove(0);
        lines.reverse();
        // A deterministic shuffle on top of the reversal: odd lines first.
        let (odd, even): (Vec<_>, Vec<_>) = lines.iter().enumerate().partition(|(i, _)| i % 2 == 1);
        let shuffled: Vec<&str> = odd.into_iter().chain(even).map(|(_, l)| *l).collect();
        std::fs::write(&entry, format!("{header}\n{}\n", shuffled.join("\n"))).unwrap();
    }
    let after: Vec<Vec<u8>> = ["quarter 2009Q2", "year 2009", "month 2009-03"]
        .iter()
        .map(|c| ws.run(&[c.split(' ').collect::<Vec<_>>(), vec!["--format", "json"]].concat()).stdout_bytes)
        .collect();
    for (b, a) in before.iter().zip(&after) {
        // Warnings cite line numbers, which move with the rows; everything else must not.
        let strip = |bytes: &Vec<u8>| {
            let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            v.as_object_mut().unwrap().remove("warnings");
            v
        };
        assert_eq!(strip(b), strip(a));
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else if e.path().extension().is_some_and(|x| x == "csv") {
            out.push(e.path());
        }
    }
    out
}
