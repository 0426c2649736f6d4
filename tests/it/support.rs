//! A small builder over a temporary workspace and the real binary:
//! `Ws::case("worked-2009Q2").write("data/x.csv", "…").run(&["quarter", "2009Q2"])`.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The folder of checked-in test workspaces.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/cases")
}

/// The shipped example workspace.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hecheng-2009")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temporary workspace.
pub struct Ws {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl Ws {
    /// An empty folder (no workspace yet).
    pub fn empty() -> Ws {
        Ws { dir: tempfile::tempdir().unwrap() }
    }

    /// A copy of `tests/it/cases/<name>`.
    pub fn case(name: &str) -> Ws {
        Ws::copy_of(&cases_dir().join(name))
    }

    /// A copy of the shipped example workspace.
    pub fn example() -> Ws {
        Ws::copy_of(&example_dir())
    }

    pub fn copy_of(dir: &Path) -> Ws {
        let ws = Ws::empty();
        copy_dir(dir, ws.path());
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or overwrites) a file relative to the workspace.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> &Ws {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative)).unwrap()
    }

    pub fn remove(&self, relative: &str) -> &Ws {
        std::fs::remove_file(self.path().join(relative)).unwrap();
        self
    }

    /// Runs `cs-score --dir <ws> ARGS…` with a neutral environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// `run` with these variables set in the environment as well.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
        let mut cmd = Command::cargo_bin("cs-score").unwrap();
        cmd.arg("--dir").arg(self.path()).args(args).env_remove("CS_SCORE_DIR").env("LANG", "C");
        cmd.envs(env.iter().copied());
        run(cmd)
    }

    /// Runs `cs-score ARGS…` inside the workspace folder (no --dir).
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::cargo_bin("cs-score").unwrap();
        cmd.current_dir(cwd).args(args).env_remove("CS_SCORE_DIR").env("LANG", "C");
        run(cmd)
    }

    /// Runs and parses JSON output, asserting success.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let r = self.run(&all);
        assert_eq!(r.code, 0, "stderr: {}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.stdout))
    }

    /// Runs with `--format json` and parses the output whatever the exit code.
    pub fn json_any(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let r = self.run(&all);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr))
    }

    /// Every file under the workspace with its bytes, for "nothing changed" checks.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
            entries.sort_by_key(|e| e.path());
            for e in entries {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push((e.path(), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.path(), &mut out);
        out
    }
}

pub fn run(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A person's object in a JSON report, by id.
pub fn person<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["people"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("no person {id}"))
}

/// A rule's object in a JSON report's `awards`, by key.
pub fn rule<'a>(report: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    report["awards"].as_array().unwrap().iter().find(|r| r["award"] == key).unwrap_or_else(|| panic!("no rule {key}"))
}

/// The text of one entry of a zip file, such as `xl/worksheets/sheet1.xml` of an XLSX, to
/// check what calamine does not expose (data validation, frozen panes, filters).
pub fn unzip_entry(path: &Path, name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).expect("a zip file");
    let mut entry = archive.by_name(name).unwrap_or_else(|_| panic!("no {name} in {}", path.display()));
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    text
}
