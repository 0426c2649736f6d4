//! The error catalogue: every case folder in `tests/errors/` (all but `_base`) is one error or
//! warning message the tool can give, run through the real binary and compared byte for byte.
//!
//! A case is `tests/errors/_base/` (one small valid workspace) changed by the case folder:
//! - `remove` (optional): base-relative paths to delete, one per line (applied first, so a case
//!   may also put a folder where the base has a file);
//! - every other file except `cmd`, `expected` and `nodir` is copied over the base at the same
//!   relative path;
//! - `cmd`: the arguments on one line, split on whitespace; `--dir <workspace>` is put in front,
//!   except when the case has a `nodir` marker file — then the command runs without `--dir` in
//!   an empty temporary folder;
//! - `expected`: `exit N`, the line `--- stderr`, the exact stderr, and for `check` (whose summary
//!   goes to standard output, its problems to standard error) the line `--- stdout` and the
//!   exact stdout.
//!
//! The binary runs with `LANG=C`, without `CS_SCORE_DIR`, in the workspace folder. The
//! temporary folder's path is written `<ws>` in the recorded output. Besides the recorded output,
//! every case asserts: no panic on stderr, nothing written to the workspace, and — for commands
//! other than `check` — an empty standard output when the command failed (a warning case that
//! exits 0 prints its report there, which is not recorded). All mismatches are collected and
//! reported together, each with a line diff.
//!
//! To re-record every `expected` file from the current binary (after changing a message on
//! purpose), run `UPDATE_ERRORS=1 cargo test --test it errors` and review the diff.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files in a case folder that describe the case rather than overlay the workspace.
const CASE_FILES: &[&str] = &["cmd", "expected", "remove", "nodir"];

fn catalogue_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors")
}

/// Every file under `dir`, by path relative to it (with `/` separators), with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().components();
                let relative: Vec<String> = relative.map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.insert(relative.join("/"), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn write_all(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (relative, bytes) in files {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// Builds the case's workspace in `root`: a copy of `_base`, minus `remove`, plus the overlay.
fn build_workspace(case: &Path, root: &Path) {
    write_all(root, &snapshot(&catalogue_dir().join("_base")));
    if let Ok(list) = std::fs::read_to_string(case.join("remove")) {
        for relative in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let path = root.join(relative);
            assert!(path.exists(), "{}: `remove` names {relative}, which _base does not have", case.display());
            if path.is_dir() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }
    let mut overlay = snapshot(case);
    overlay.retain(|relative, _| !CASE_FILES.contains(&relative.as_str()));
    write_all(root, &overlay);
}

/// What one run printed, in the `expected` file's format.
fn render(code: i32, stderr: &str, stdout: Option<&str>) -> String {
    let mut out = format!("exit {code}\n--- stderr\n{stderr}");
    if let Some(stdout) = stdout {
        if !out.ends_with('\n') {
            out.push_str("\n\\ no newline at end of stderr\n");
        }
        out.push_str("--- stdout\n");
        out.push_str(stdout);
    }
    out
}

/// A minimal line diff (longest common subsequence): `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "    {}", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "  + {}", b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "  - {}", a[i]);
            i += 1;
        }
    }
    if expected.ends_with('\n') != actual.ends_with('\n') {
        out.push_str("  (the final newline differs)\n");
    }
    out
}

/// Runs one case; returns its problems (empty when it passes).
fn run_case(case: &Path, update: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let cmd = std::fs::read_to_string(case.join("cmd")).expect("every case has a `cmd` file");
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let nodir = case.join("nodir").exists();

    let temp = tempfile::TempDir::new().unwrap();
    let root = temp.path().to_path_buf();
    if !nodir {
        build_workspace(case, &root);
    }
    let before = snapshot(&root);

    let mut command = Command::cargo_bin("cs-score").unwrap();
    command.current_dir(&root).env("LANG", "C").env_remove("CS_SCORE_DIR");
    if !nodir {
        command.arg("--dir").arg(&root);
    }
    let output = command.args(&args).output().unwrap();

    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let mut stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut spellings = vec![root.display().to_string()];
    if let Ok(canonical) = root.canonicalize() {
        spellings.insert(0, canonical.display().to_string());
    }
    for spelling in &spellings {
        stderr = stderr.replace(spelling.as_str(), "<ws>");
        stdout = stdout.replace(spelling.as_str(), "<ws>");
    }
    let code = output.status.code().unwrap_or(-1);
    let is_check = args.contains(&"check");

    if stderr.contains("panicked") {
        problems.push(format!("it panicked:\n{stderr}"));
    }
    if !is_check && code != 0 && !stdout.is_empty() {
        problems.push(format!("it failed but printed to standard output:\n{stdout}"));
    }
    let after = snapshot(&root);
    if after != before {
        let changed: Vec<&String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        problems.push(format!("the workspace changed: {changed:?}"));
    }

    let actual = render(code, &stderr, is_check.then_some(stdout.as_str()));
    let expected_path = case.join("expected");
    if update {
        std::fs::write(&expected_path, &actual).unwrap();
    } else {
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => {
                problems.push(format!("output differs (- expected, + actual):\n{}", diff(&expected, &actual)))
            }
            Err(e) => {
                problems.push(format!("cannot read {}: {e} (record it with UPDATE_ERRORS=1)", expected_path.display()))
            }
        }
    }
    problems
}

#[test]
fn every_catalogued_message_is_printed_as_recorded() {
    let update = std::env::var("UPDATE_ERRORS").is_ok_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(catalogue_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "_base"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", catalogue_dir().display());

    let mut report = String::new();
    let mut failed = 0;
    for case in &cases {
        let problems = run_case(case, update);
        if !problems.is_empty() {
            failed += 1;
            let name = case.file_name().unwrap().to_string_lossy();
            let _ = writeln!(
                report,
                "=== tests/errors/{name} (cmd: {})",
                std::fs::read_to_string(case.join("cmd")).unwrap().trim()
            );
            for p in problems {
                let _ = writeln!(report, "{p}");
            }
        }
    }
    assert!(failed == 0, "{failed} of {} error-catalogue cases failed:\n\n{report}", cases.len());
}
