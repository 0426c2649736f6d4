//! The imperative shell around the data: finding a workspace, reading `cs-score.toml`,
//! loading the rubric and reading the data files a period needs, each file once.

use crate::error::{Error, Problem, Result};
use crate::model::{Dataset, Period};
use crate::read::files::{self, Findings};
use crate::read::{Aliases, Column, Table};
use crate::rubric::{self, Rubric};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "cs-score.toml";

/// `cs-score.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_rubric")]
    pub rubric: String,
    #[serde(default = "default_data")]
    pub data: String,
    pub lang: Option<String>,
    #[serde(default)]
    pub columns: Columns,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    #[serde(default)]
    pub aliases: Aliases,
}

fn default_rubric() -> String {
    rubric::BUILTIN_NAME.to_string()
}

fn default_data() -> String {
    "data".to_string()
}

/// A found workspace: its folder and configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
}

impl Workspace {
    /// `--dir`, else `$CS_SCORE_DIR` (resolved by the caller into `dir`), else the current
    /// folder and its parents.
    pub fn find(dir: Option<&Path>) -> Result<Workspace> {
        let root = match dir {
            Some(d) => {
                if !d.join(CONFIG_FILE).is_file() {
                    return Err(no_workspace(&format!("{} has no {CONFIG_FILE}", d.display())));
                }
                d.to_path_buf()
            }
            None => {
                let cwd = std::env::current_dir()
                    .map_err(|e| Error::one("", format!("cannot read the current folder: {e}")))?;
                cwd.ancestors()
                    .find(|a| a.join(CONFIG_FILE).is_file())
                    .map(Path::to_path_buf)
                    .ok_or_else(|| no_workspace(&format!("no {CONFIG_FILE} in {} or its parents", cwd.display())))?
            }
        };
        let text = read_text(&root.join(CONFIG_FILE), CONFIG_FILE)?;
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::one(CONFIG_FILE, e.message().trim().to_string()))?;
        Ok(Workspace { root, config })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join(&self.config.data)
    }

    /// How a data file is named in messages: relative to the workspace.
    pub fn display(&self, relative: &str) -> String {
        format!("{}/{relative}", self.config.data.trim_end_matches('/'))
    }

    /// Loads the rubric named by `--rubric` or the workspace; returns it with its warnings.
    pub fn rubric(&self, override_path: Option<&Path>) -> Result<(Rubric, Vec<Problem>)> {
        let named = override_path.and_then(Path::to_str).unwrap_or(&self.config.rubric);
        if named.starts_with("builtin:") && named != rubric::BUILTIN_NAME {
            return Err(Error::one(
                named,
                format!("is not a built-in rubric; the built-in one is {}", rubric::BUILTIN_NAME),
            ));
        }
        let (text, origin) = match override_path {
            Some(p) if p.to_str() == Some(rubric::BUILTIN_NAME) => {
                (rubric::BUILTIN_HECHENG_2009.to_string(), rubric::BUILTIN_NAME.to_string())
            }
            Some(p) => (read_text(p, &p.display().to_string())?, p.display().to_string()),
            None if self.config.rubric == rubric::BUILTIN_NAME => {
                (rubric::BUILTIN_HECHENG_2009.to_string(), rubric::BUILTIN_NAME.to_string())
            }
            None => {
                let p = self.root.join(&self.config.rubric);
                (read_text(&p, &self.config.rubric)?, self.config.rubric.clone())
            }
        };
        let loaded = rubric::load(&text, &origin)?;
        Ok((loaded.rubric, loaded.warnings))
    }

    /// Reads what a period needs: the roster, the points and KPI files of its months (and its
    /// quarters' KPI exports), events, city awards and vetoes. All problems at once.
    pub fn load(&self, rubric: &Rubric, period: &Period) -> Result<Loaded> {
        let (data, mut found) = self.read(rubric, Some(period))?;
        if !found.problems.is_empty() {
            crate::error::sort(&mut found.problems);
            return Err(Error::Problems(found.problems));
        }
        Ok(Loaded { data, warnings: found.warnings })
    }

    /// Reads every data file (`within: None`) or those a period needs, collecting every
    /// problem and warning. Fails early only when the roster itself cannot be used.
    pub fn read(&self, rubric: &Rubric, within: Option<&Period>) -> Result<(Dataset, Findings)> {
        let mut found = Findings::default();
        let roster = match self.table("roster.csv", files::ROSTER, true, &mut found) {
            Some(t) => files::roster(&t, &mut found),
            None => Default::default(),
        };
        if !found.problems.is_empty() {
            return Err(Error::Problems(found.problems));
        }
        let mut data = Dataset { roster, ..Dataset::default() };
        let wanted = |p: &Period| match within {
            None => true,
            Some(w) => w.months().contains(p) || w.quarters().contains(p),
        };
        for (name, month) in self.period_files("points", &mut found) {
            if wanted(&month) {
                if let Some(t) = self.table(&name, files::POINTS, false, &mut found) {
                    let sheet = files::points(&t, &data.roster, rubric, &mut found);
                    data.points.insert(month, (t.file.clone(), sheet));
                }
            }
        }
        for (name, p) in self.period_files("kpi", &mut found) {
            if wanted(&p) {
                if let Some(t) = self.table(&name, files::KPI, false, &mut found) {
                    let sheet = files::kpi(&t, &data.roster, rubric, &mut found);
                    let target = if matches!(p, Period::Quarter { .. }) {
                        &mut data.kpi_quarterly
                    } else {
                        &mut data.kpi_monthly
                    };
                    target.insert(p, (t.file.clone(), sheet));
                }
            }
        }
        for (quarter, (qfile, _)) in &data.kpi_quarterly {
            for (month, (mfile, _)) in &data.kpi_monthly {
                if quarter.contains(month) {
                    found.problems.push(Problem::new(
                        qfile.to_string(),
                        format!("{quarter} has both a quarterly KPI export and the monthly file {mfile}: keep one"),
                    ));
                }
            }
        }
        if let Some(t) = self.table("events.csv", files::EVENTS, false, &mut found) {
            data.events = files::events(&t, &mut found);
        }
        if let Some(t) = self.table("city-awards.csv", files::CITY_AWARDS, false, &mut found) {
            data.city_awards = files::city_awards(&t, &data.roster, &mut found);
        }
        if let Some(t) = self.table("vetoes.csv", files::VETOES, false, &mut found) {
            data.vetoes = files::vetoes(&t, &data.roster, &mut found);
        }
        Ok((data, found))
    }

    /// Reads and parses one data file; `None` when an optional file is absent or it cannot
    /// be parsed (the problem is recorded).
    fn table(&self, relative: &str, columns: &[Column], required: bool, found: &mut Findings) -> Option<Table> {
        let path = self.data_dir().join(relative);
        let display = self.display(relative);
        match std::fs::read(&path) {
            Ok(bytes) => {
                found.files += 1;
                Table::parse(&display, &bytes, columns, &self.config.columns.aliases)
                    .map_err(|p| found.problems.extend(p))
                    .ok()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found.problems.push(Problem::new(
                    display,
                    format!("is missing: every workspace needs a roster (columns id, name, unit, post); `cs-score init --example` shows one ({e})"),
                ));
                None
            }
            Err(e) => {
                found.problems.push(Problem::new(display, format!("cannot be read: {e}")));
                None
            }
        }
    }

    /// The `YYYY-MM.csv` / `YYYYQn.csv` files of a data subfolder, by period.
    pub fn period_files(&self, folder: &str, found: &mut Findings) -> BTreeMap<String, Period> {
        let dir = self.data_dir().join(folder);
        let mut out = BTreeMap::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
            Err(e) => {
                found.problems.push(Problem::new(self.display(folder), format!("cannot be read: {e}")));
                return out;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(stem) = name.strip_suffix(".csv").or_else(|| name.strip_suffix(".CSV")) else {
                continue;
            };
            match Period::parse(stem) {
                Ok(p)
                    if matches!(p, Period::Month { .. })
                        || (folder == "kpi" && matches!(p, Period::Quarter { .. })) =>
                {
                    out.insert(format!("{folder}/{name}"), p);
                }
                _ => found.warnings.push(Problem::new(
                    self.display(&format!("{folder}/{name}")),
                    format!(
                        "warning: ignored: name a {folder} file {}",
                        if folder == "kpi" { "YYYY-MM.csv or YYYYQn.csv" } else { "YYYY-MM.csv" }
                    ),
                )),
            }
        }
        out
    }
}

/// A period's data and the warnings reading it raised.
pub struct Loaded {
    pub data: Dataset,
    pub warnings: Vec<Problem>,
}

fn no_workspace(why: &str) -> Error {
    Error::one(
        "",
        format!("no cs-score workspace: {why}; make one with `cs-score init DIR` (or `cs-score init DIR --example`), or point to one with --dir or CS_SCORE_DIR"),
    )
}

fn read_text(path: &Path, display: &str) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::one(display.to_string(), format!("cannot be read: {e}")))?;
    crate::read::decode(&bytes).map(|(t, _)| t.into_owned()).map_err(|(_, m)| Error::one(display.to_string(), m))
}
