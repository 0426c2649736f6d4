//! `cs-score init [DIR] [--example]`: a new workspace, empty or with the example year.

use super::Global;
use crate::error::{Error, Result};
use crate::workspace::CONFIG_FILE;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/example_files.rs"));

const EMPTY_CONFIG: &str =
    "# cs-score workspace (see README: \"The workspace\")\nrubric = \"builtin:hecheng-2009\"\ndata = \"data\"\n";
const EMPTY_ROSTER: &str = "id,name,unit,post,joined,left\n";

pub fn run(dir: Option<&Path>, example: bool, global: &Global) -> Result<()> {
    let root = dir.unwrap_or(Path::new("."));
    if root.join(CONFIG_FILE).exists() {
        return Err(Error::one(
            root.join(CONFIG_FILE).display().to_string(),
            "already exists: this folder is a workspace; pick another folder",
        ));
    }
    let files: Vec<(&str, &[u8])> = if example {
        EXAMPLE_FILES.to_vec()
    } else {
        vec![(CONFIG_FILE, EMPTY_CONFIG.as_bytes()), ("data/roster.csv", EMPTY_ROSTER.as_bytes())]
    };
    // Never overwrite: a folder that already holds any of these files is refused whole.
    let existing: Vec<String> =
        files.iter().filter(|(relative, _)| root.join(relative).exists()).map(|(r, _)| r.to_string()).collect();
    if !existing.is_empty() {
        return Err(Error::one(
            root.display().to_string(),
            format!("already holds {}: nothing was written; pick an empty folder", existing.join(", ")),
        ));
    }
    let mut written = Vec::new();
    for (relative, bytes) in files {
        let path = root.join(relative);
        let result = path
            .parent()
            .map_or(Ok(()), |parent| {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Error::one(
                        parent.display().to_string(),
                        format!("cannot be created: {}", crate::error::io_text(&e)),
                    )
                })
            })
            .and_then(|_| super::output::to_file(&path, bytes));
        if let Err(e) = result {
            // Undo: a failed init leaves no half-made workspace behind.
            for done in &written {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path);
    }
    for folder in ["data/points", "data/kpi"] {
        let _ = std::fs::create_dir_all(root.join(folder));
    }
    if !global.quiet {
        let next =
            if example { "`cs-score quarter 2009Q2`" } else { "`cs-score check`, once data/roster.csv is filled in" };
        eprintln!("made a workspace in {}; next: cd there and run {next}", root.display());
    }
    Ok(())
}
