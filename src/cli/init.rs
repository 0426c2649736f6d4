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
    for (relative, bytes) in files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::one(parent.display().to_string(), format!("cannot be created: {e}")))?;
        }
        super::output::to_file(&path, bytes)?;
    }
    for folder in ["data/points", "data/kpi"] {
        let _ = std::fs::create_dir_all(root.join(folder));
    }
    if !global.quiet {
        let next = if example { "cs-score quarter 2009Q2" } else { "fill data/roster.csv, then cs-score check" };
        eprintln!("made a workspace in {}; next: cd there and run `{next}`", root.display());
    }
    Ok(())
}
