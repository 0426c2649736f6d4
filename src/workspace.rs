//! The imperative shell around the data: finding a workspace, reading `cs-score.toml`,
//! loading the rubric and reading the data files a period needs, each file once.

use crate::error::{Error, Problem, Result};
use crate::model::{Dataset, Period, Roster, Sheets};
use crate::read::files::{self, Findings};
use crate::read::{Aliases, Column, Rows, Table};
use crate::rubric::{self, Rubric};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const CONFIG_FILE: &str = "cs-score.toml";

/// `cs-score.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    pub rubric: String,
    pub data: String,
    pub lang: Option<String>,
    pub columns: Columns,
}

#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub aliases: Aliases,
}

impl Config {
    /// Reads `cs-score.toml`, naming the line and column of a syntax error and the key of
    /// any other problem, all at once.
    pub fn parse(text: &str) -> Result<Config> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = e.span().map_or(CONFIG_FILE.to_string(), |s| {
                let (line, col) = crate::error::line_column(text, s.start);
                format!("{CONFIG_FILE}:{line}:{col}")
            });
            Error::one(
                at,
                format!(
                    "not valid TOML: {}; text values need quotes, e.g. data = \"data\"",
                    e.message().trim().replace('\n', "; ")
                ),
            )
        })?;
        let mut problems = Vec::new();
        let mut problem =
            |key: &str, message: String| problems.push(Problem::new(format!("{CONFIG_FILE}: {key}"), message));
        let mut text_value = |key: &str| match table.get(key) {
            None => None,
            Some(toml::Value::String(s)) => Some(s.trim().to_string()),
            Some(other) => {
                problem(key, format!("must be a text in quotes, got {other}"));
                None
            }
        };
        let rubric = text_value("rubric").unwrap_or_else(|| rubric::BUILTIN_NAME.to_string());
        let data = text_value("data").unwrap_or_else(|| "data".to_string());
        let lang = text_value("lang");
        let mut aliases = Aliases::new();
        match table.get("columns").map(|c| (c, c.get("aliases"))) {
            None => {}
            Some((toml::Value::Table(columns), found)) => {
                for key in columns.keys().filter(|k| *k != "aliases") {
                    problem(&format!("columns.{key}"), "unknown key: [columns] holds only aliases".to_string());
                }
                match found {
                    None => {}
                    Some(toml::Value::Table(list)) => {
                        // An alias for a column no file has would be dropped without a word.
                        let kinds = [
                            files::ROSTER,
                            files::POINTS,
                            files::KPI,
                            files::EVENTS,
                            files::CITY_AWARDS,
                            files::VETOES,
                        ];
                        let mut known: Vec<&str> = kinds.iter().flat_map(|k| k.iter().map(|c| c.name)).collect();
                        known.sort_unstable();
                        known.dedup();
                        // Named as headers are matched: whatever the case (`ID` is `id`).
                        let canonical_of = |key: &str| key.trim().to_lowercase();
                        for key in list.keys().filter(|k| !known.contains(&canonical_of(k).as_str())) {
                            let hint = match crate::error::did_you_mean(&canonical_of(key), known.iter().copied()) {
                                Some(near) => format!("did you mean `{near}`?"),
                                None => format!(
                                    "aliases are for the columns {} (a rubric item's column takes none: its header is the item's name)",
                                    known.join(", ")
                                ),
                            };
                            problem(&format!("columns.aliases.{key}"), format!("unknown column: {hint}"));
                        }
                        for (key, names) in list {
                            let canonical = canonical_of(key);
                            let names: Option<Vec<String>> = names
                                .as_array()
                                .and_then(|a| a.iter().map(|n| n.as_str().map(|s| s.trim().to_string())).collect());
                            match names {
                                Some(n) => aliases.entry(canonical).or_default().extend(n),
                                None => problem(
                                    &format!("columns.aliases.{key}"),
                                    "must be a list of header names, e.g. [\"员工号\"]".to_string(),
                                ),
                            }
                        }
                    }
                    Some(_) => problem("columns.aliases", "must be a table: write [columns.aliases]".to_string()),
                }
            }
            Some(_) => problem("columns", "must be a table: write [columns.aliases]".to_string()),
        }
        for key in table.keys() {
            if !["rubric", "data", "lang", "columns"].contains(&key.as_str()) {
                let hint = match crate::error::did_you_mean(key, ["rubric", "data", "lang", "columns"]) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => "the keys are rubric, data, lang and [columns.aliases]".to_string(),
                };
                problem(key, format!("unknown key: {hint}"));
            }
        }
        if let Some(l) = &lang {
            if crate::report::Lang::from_setting(l).is_none() {
                problem("lang", format!("\"{l}\" is not a language: write \"zh\" or \"en\""));
            }
        }
        if problems.is_empty() {
            Ok(Config { rubric, data, lang, columns: Columns { aliases } })
        } else {
            Err(Error::Problems(problems))
        }
    }
}

/// A found workspace: its folder and configuration.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub config: Config,
    /// Told the name of each monthly file as it begins to be read (a progress display).
    pub on_file: Option<FileHook>,
    /// Told `FILE: read as ENCODING` for each data file read (`--verbose`).
    pub on_encoding: Option<FileHook>,
}

/// Something to tell which file is being read; called from the reading threads.
#[derive(Clone)]
pub struct FileHook(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for FileHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileHook")
    }
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
        let text = read_text(&root.join(CONFIG_FILE), CONFIG_FILE, "the workspace's settings")?;
        let config = Config::parse(&text)?;
        Ok(Workspace { root, config, on_file: None, on_encoding: None })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join(&self.config.data)
    }

    /// How a data file is named in messages: relative to the workspace.
    pub fn display(&self, relative: &str) -> String {
        format!("{}/{relative}", self.config.data.trim_end_matches('/'))
    }

    /// Loads the rubric named by `--rubric` or the workspace; returns it with its warnings.
    pub fn rubric(&self, override_path: Option<&Path>) -> Result<Rubric> {
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
            Some(p) => (
                read_text(
                    p,
                    &p.display().to_string(),
                    "given by --rubric, relative to the current folder; or use --rubric builtin:hecheng-2009",
                )?,
                p.display().to_string(),
            ),
            None if self.config.rubric == rubric::BUILTIN_NAME => {
                (rubric::BUILTIN_HECHENG_2009.to_string(), rubric::BUILTIN_NAME.to_string())
            }
            None => {
                let p = self.root.join(&self.config.rubric);
                let named_by = format!(
                    "named by rubric = \"{}\" in cs-score.toml: create it, or write rubric = \"{}\"",
                    self.config.rubric,
                    rubric::BUILTIN_NAME
                );
                (read_text(&p, &self.config.rubric, &named_by)?, self.config.rubric.clone())
            }
        };
        Ok(rubric::load(&text, &origin)?)
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
        let (mut data, mut found) = self.read_base()?;
        let sheets = self.read_sheets(rubric, within, &data.roster, &mut found);
        data.put(sheets);
        Ok((data, found))
    }

    /// `read` for a year, a quarter or the whole data folder (`within: None`), a quarter's
    /// points and KPI files at a time (`check`): the base files, then each quarter (for `None`,
    /// each quarter any points or KPI file is for) in turn, its sheets handed to `each` with the
    /// base data and let go before the next quarter's are read, so memory grows with people,
    /// not months. The data returned is the base data, without sheets. Every file is read once
    /// and the findings are `read`'s, except that what a folder's listing finds (a month given
    /// twice, a folder that cannot be read, a file ignored) is found again with each quarter:
    /// the caller sorts and dedups. A month is read with `read`: its quarter's other files would
    /// be read too.
    pub fn read_by_quarter(
        &self,
        rubric: &Rubric,
        within: Option<&Period>,
        mut each: impl FnMut(&Period, &Dataset, &Findings),
    ) -> Result<(Dataset, Findings)> {
        debug_assert!(!matches!(within, Some(Period::Month { .. })), "a month is read with `read`");
        let (mut data, mut found) = self.read_base()?;
        let quarters: Vec<Period> = match within {
            Some(p) => p.quarters(),
            None => {
                let mut listed = BTreeSet::new();
                for folder in ["points", "kpi"] {
                    listed.extend(self.period_files(folder, &mut found).into_values().flat_map(|p| p.quarters()));
                }
                listed.into_iter().collect()
            }
        };
        let roster = data.roster.clone();
        for quarter in &quarters {
            data.put(self.read_sheets(rubric, Some(quarter), &roster, &mut found));
            each(quarter, &data, &found);
            data.drop_sheets();
        }
        Ok((data, found))
    }

    /// Reads what every period needs but no monthly file: the roster, events, city awards
    /// and vetoes. A year reads its quarters' points and KPI files with `load_quarter`, one
    /// quarter at a time, so that memory grows with people and not with months.
    /// Fails early only when the roster itself cannot be used; the problems of the other
    /// files are returned with the data, to be given together with those of the monthly files.
    pub fn load_base(&self) -> Result<(Loaded, Vec<Problem>)> {
        let (data, found) = self.read_base()?;
        Ok((Loaded { data, warnings: found.warnings }, found.problems))
    }

    /// Reads one quarter's points and KPI files: the sheets, or every problem; and the
    /// warnings either way.
    pub fn load_quarter(&self, rubric: &Rubric, quarter: &Period, roster: &Roster) -> QuarterLoad {
        let mut found = Findings::default();
        let sheets = self.read_sheets(rubric, Some(quarter), roster, &mut found);
        let sheets = if found.problems.is_empty() { Ok(sheets) } else { Err(found.problems) };
        (sheets, found.warnings)
    }

    /// The roster (failing early when it cannot be used), events, city awards and vetoes.
    fn read_base(&self) -> Result<(Dataset, Findings)> {
        let mut found = Findings::default();
        let roster_path = self.data_dir().join("roster.csv");
        // The events need no roster: beside a large one they are read on another thread, while
        // this one reads the roster's file and makes its index, which leave the other core idle.
        let read_events = || {
            let mut found = Findings::default();
            let events =
                self.table("events.csv", files::EVENTS, false, &mut found).map(|t| files::events(&t, &mut found));
            (events, found)
        };
        let size = std::fs::metadata(&roster_path).map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
        let read_roster = || match std::fs::read(&roster_path) {
            // Read whole: a large roster is read in halves on two threads (`files::roster_from_bytes`).
            Ok(bytes) => {
                self.announce("roster.csv");
                found.files += 1;
                let (file, aliases) = (self.display("roster.csv"), &self.config.columns.aliases);
                let roster = files::roster_from_bytes(&file, &bytes, aliases, files::ROSTER_HALVES_FROM, &mut found);
                // Decoding the whole file again for its encoding's name: only when asked.
                if let Some((_, encoding)) = self.on_encoding.as_ref().and_then(|_| crate::read::decode(&bytes).ok()) {
                    self.tell_encoding("roster.csv", encoding);
                }
                roster
            }
            Err(_) => {
                // Missing, or not readable: say which, as for any other file.
                let _ = self.table("roster.csv", files::ROSTER, true, &mut found);
                Default::default()
            }
        };
        let (roster, (events, events_found)) =
            crate::threads::beside(size, files::ROSTER_HALVES_FROM, read_roster, read_events);
        if !found.problems.is_empty() {
            return Err(Error::Problems(found.problems));
        }
        let mut data = Dataset { roster: Arc::new(roster), ..Dataset::default() };
        // What the events gave, after the roster's, as when they are read after it.
        found.append(events_found);
        if let Some(events) = events {
            data.events = events;
        }
        if let Some(t) = self.table("city-awards.csv", files::CITY_AWARDS, false, &mut found) {
            data.city_awards = files::city_awards(&t, &data.roster, &mut found);
        }
        if let Some(t) = self.table("vetoes.csv", files::VETOES, false, &mut found) {
            data.vetoes = files::vetoes(&t, &data.roster, &mut found);
        }
        Ok((data, found))
    }

    /// Reads the points and KPI files of a period (or all of them).
    fn read_sheets(&self, rubric: &Rubric, within: Option<&Period>, roster: &Roster, found: &mut Findings) -> Sheets {
        let mut data = Sheets::default();
        let wanted = |p: &Period| match within {
            None => true,
            Some(w) => w.months().contains(p) || w.quarters().contains(p),
        };
        // The monthly files are the bulk of the data: each is streamed into its sheet, row by
        // row, never held whole; independent of each other, they are read in parallel.
        let keep_items = within.is_some_and(|p| p.kind() == crate::model::PeriodKind::Month);
        let mut jobs: Vec<(String, Period)> = self.period_files("points", found).into_iter().collect();
        jobs.extend(self.period_files("kpi", found));
        jobs.retain(|(_, p)| wanted(p));
        let read = parallel(&jobs, |(name, _)| {
            let mut found = Findings { files: 1, ..Findings::default() };
            let sheet = if name.starts_with("points/") {
                let mut rows = files::PointsRows::new(roster, rubric, keep_items, &mut found);
                let read = self.stream(name, files::POINTS, &mut rows);
                read.map(|_| Sheet::Points(rows.sheet))
            } else {
                let mut rows = files::KpiRows::new(roster, rubric, &mut found);
                let read = self.stream(name, files::KPI, &mut rows);
                read.map(|_| Sheet::Kpi(rows.sheet))
            };
            (found, sheet)
        });
        for ((_, period), (file_found, sheet)) in jobs.into_iter().zip(read) {
            match sheet {
                // The file's own problem says it all: what its rows found is left out.
                Err(problems) => {
                    found.files += file_found.files;
                    found.problems.extend(problems);
                }
                Ok(sheet) => {
                    found.append(file_found);
                    match sheet {
                        Sheet::Points(s) => drop(data.points.insert(period, s)),
                        Sheet::Kpi(s) if matches!(period, Period::Quarter { .. }) => {
                            drop(data.kpi_quarterly.insert(period, s))
                        }
                        Sheet::Kpi(s) => drop(data.kpi_monthly.insert(period, s)),
                    }
                }
            }
        }
        for (quarter, qsheet) in &data.kpi_quarterly {
            let monthly: Vec<&str> =
                data.kpi_monthly.iter().filter(|(m, _)| quarter.contains(m)).map(|(_, s)| s.file.as_ref()).collect();
            if !monthly.is_empty() {
                found.problems.push(Problem::new(
                    qsheet.file.to_string(),
                    format!(
                        "{quarter} has both this quarterly KPI export and monthly files ({}): keep one or the other",
                        monthly.join(", ")
                    ),
                ));
            }
        }
        data
    }

    /// Tells the progress display which file is being read.
    fn announce(&self, relative: &str) {
        if let Some(hook) = &self.on_file {
            (hook.0)(&self.display(relative));
        }
    }

    /// Tells `--verbose` how a file was decoded.
    fn tell_encoding(&self, relative: &str, encoding: &str) {
        if let Some(hook) = &self.on_encoding {
            (hook.0)(&format!("{}: read as {encoding}", self.display(relative)));
        }
    }

    /// Streams one data file (listed in its folder, so present) into `rows`.
    fn stream(&self, relative: &str, columns: &[Column], rows: &mut dyn Rows) -> std::result::Result<(), Vec<Problem>> {
        let path = self.data_dir().join(relative);
        self.announce(relative);
        let open = || std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn std::io::Read>);
        let table = Table::stream(&self.display(relative), &open, columns, &self.config.columns.aliases, rows)?;
        self.tell_encoding(relative, &table.encoding);
        Ok(())
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
                    .inspect(|t| self.tell_encoding(relative, &t.encoding))
                    .map_err(|p| found.problems.extend(p))
                    .ok()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                found.problems.push(Problem::new(
                    display,
                    "is missing: every workspace needs a roster (columns id, name, unit, post); `cs-score init --example` shows one",
                ));
                None
            }
            Err(e) => {
                found.problems.push(Problem::new(display, crate::error::io_text(&e)));
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
                found.problems.push(Problem::new(self.display(folder), crate::error::io_text(&e)));
                return out;
            }
        };
        let mut names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect();
        names.sort();
        let mut by_period: BTreeMap<Period, String> = BTreeMap::new();
        for name in names {
            let lower = name.to_lowercase();
            if [".xlsx", ".xls", ".ods"].iter().any(|x| lower.ends_with(x)) {
                found.warnings.push(Problem::new(
                    self.display(&format!("{folder}/{name}")),
                    format!("warning: ignored: a workbook is not read from here; bring it in with `cs-score ingest {folder} FILE`"),
                ));
                continue;
            }
            let Some(stem) = name.strip_suffix(".csv").or_else(|| name.strip_suffix(".CSV")) else {
                continue;
            };
            match Period::parse(stem) {
                Ok(p)
                    if matches!(p, Period::Month { .. })
                        || (folder == "kpi" && matches!(p, Period::Quarter { .. })) =>
                {
                    // 2009-5.csv and 2009-05.csv are the same month: never let one hide the other.
                    if let Some(first) = by_period.insert(p, name.clone()) {
                        found.problems.push(Problem::new(
                            self.display(&format!("{folder}/{name}")),
                            format!(
                                "is for {p} like {}: keep one file per period",
                                self.display(&format!("{folder}/{first}"))
                            ),
                        ));
                        continue;
                    }
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

/// A monthly file read into its sheet.
enum Sheet {
    Points(crate::model::PointsSheet),
    Kpi(crate::model::KpiSheet),
}

/// `f` over every job, on as many threads as there are cores (at most one per job); the
/// results in the jobs' order, so that nothing depends on which thread finished first.
fn parallel<J: Sync, R: Send>(jobs: &[J], f: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len());
    if threads <= 1 {
        return jobs.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                crate::threads::start(scope, || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break out };
                        out.push((i, f(job)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(crate::threads::Job::join).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// One quarter's sheets (or the problems of its files), and the warnings reading it raised.
pub type QuarterLoad = (std::result::Result<Sheets, Vec<Problem>>, Vec<Problem>);

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

/// Reads a TOML file as text; `role` says where its name came from, for the message.
fn read_text(path: &Path, display: &str, role: &str) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::one(display.to_string(), format!("{} ({role})", crate::error::io_text(&e))))?;
    crate::read::decode(&bytes).map(|(t, _)| t.into_owned()).map_err(|(at, _)| {
        // Count on the bytes: the text is not valid, so no string offset can be trusted.
        let at = at.min(bytes.len());
        let line_start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let col = String::from_utf8_lossy(&bytes[line_start..at]).chars().count() + 1;
        Error::one(format!("{display}:{line}:{col}"), "is not UTF-8 text: save it as UTF-8")
    })
}
