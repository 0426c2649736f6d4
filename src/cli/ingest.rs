//! `cs-score ingest KIND FILE`: an outside CSV or workbook → the data folder's canonical
//! UTF-8 CSV. The source is read by the one reader (`read::Table`, worksheets through
//! `read::sheet`) and validated by the same `read::files` functions the reports use; then the
//! data folder as it would be is read back whole in a scratch copy, so an ingest can never
//! leave a workspace the reports reject. Nothing is written until all of that passed, an
//! existing file is replaced only with `--replace` (its old bytes kept in `data/.history/`),
//! and every ingest is logged with the source's SHA-256. A failed write undoes the earlier
//! ones, so the data folder is either fully updated or byte-identical.
//!
//! The canonical form (`Canon`) lives here: canonical column names, values in one spelling,
//! rows with the identity `--replace` compares them by. (`template` writes for a spreadsheet
//! instead, through `report::csv` and `report::xlsx` like the reports.)

use super::{output, report::report_warnings, Global, Kind};
use crate::error::{sort, Error, Problem, Result};
use crate::model::{Dataset, Period, PeriodKind, Roster};
use crate::read::files::{self, Findings};
use crate::read::sheet::{Expect, Workbook};
use crate::read::{values, Column, Table};
use crate::report::unguard_formula;
use crate::rubric::Rubric;
use crate::workspace::Workspace;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The ingest log in the data folder.
pub const LOG_FILE: &str = "ingest-log.csv";
const LOG_HEADER: [&str; 8] = ["time", "kind", "period", "source", "sha256", "rows", "read", "file"];
/// Where replaced files are kept, inside the data folder.
pub const HISTORY_DIR: &str = ".history";

/// What the command line asked for.
pub struct Request<'a> {
    pub kind: Kind,
    pub file: &'a Path,
    pub period: Option<&'a str>,
    pub sheet: Option<&'a str>,
    pub replace: bool,
    pub dry_run: bool,
}

impl Kind {
    /// The name used on the command line and for a workbook sheet.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Roster => "roster",
            Kind::Points => "points",
            Kind::Kpi => "kpi",
            Kind::Events => "events",
            Kind::CityAwards => "city-awards",
            Kind::Vetoes => "vetoes",
        }
    }

    /// The columns the reader knows for this kind.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Roster => files::ROSTER,
            Kind::Points => files::POINTS,
            Kind::Kpi => files::KPI,
            Kind::Events => files::EVENTS,
            Kind::CityAwards => files::CITY_AWARDS,
            Kind::Vetoes => files::VETOES,
        }
    }

    /// A sheet per period (`points/YYYY-MM.csv`, `kpi/…`) rather than one file of rows that
    /// each name their period.
    fn periodic(self) -> bool {
        matches!(self, Kind::Points | Kind::Kpi)
    }

    /// Rows that carry their own `period` column.
    fn rows_have_periods(self) -> bool {
        matches!(self, Kind::Events | Kind::CityAwards | Kind::Vetoes)
    }

    /// Whether a period can be this kind's sheet: a month for points; a month or a quarter
    /// for KPI exports.
    fn fits(self, period: &Period) -> bool {
        match self {
            Kind::Points => period.kind() == PeriodKind::Month,
            Kind::Kpi => period.kind() != PeriodKind::Year,
            _ => false,
        }
    }

    fn period_words(self) -> &'static str {
        match self {
            Kind::Points => "a month (YYYY-MM)",
            _ => "a month (YYYY-MM) or a quarter (YYYYQn)",
        }
    }

    /// The data file a period's sheet of this kind goes to, relative to the data folder.
    pub fn relative(self, period: Option<&Period>) -> String {
        match (self, period) {
            (Kind::Points | Kind::Kpi, Some(p)) => format!("{}/{p}.csv", self.name()),
            _ => format!("{}.csv", self.name()),
        }
    }
}

/// How a canonical cell is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Id,
    Text,
    Number,
    Date,
    Period,
    Rank,
    Yuan,
}

/// Where a canonical cell comes from.
#[derive(Debug, Clone)]
enum Origin {
    Column(&'static str),
    Header(usize),
    /// The roster's name for the row's id (a sheet's own spelling only raises a warning).
    RosterName,
}

/// A file in canonical form: canonical column names, normalised values, rows with the line
/// they came from and the key that identifies them across versions.
#[derive(Debug, Clone)]
struct Canon {
    headers: Vec<String>,
    rows: Vec<CanonRow>,
}

#[derive(Debug, Clone)]
struct CanonRow {
    line: u64,
    /// Identity across versions: the id, or a row's period and names (`#2` for a repeat).
    key: String,
    /// The key and the name, for messages.
    label: String,
    cells: Vec<String>,
    /// The row's period, for sorting and `--period` (kinds whose rows carry one).
    period: Option<Period>,
}

impl Canon {
    /// A validated table in canonical form. Rows of a points or KPI sheet without any value
    /// are left out: the reports treat them as no row.
    fn of(kind: Kind, table: &Table, rubric: &Rubric, roster: &Roster) -> Canon {
        let mut columns: Vec<(String, Form, Origin)> = Vec::new();
        let mut push = |name: &'static str, form: Form| columns.push((name.to_string(), form, Origin::Column(name)));
        match kind {
            Kind::Roster => {
                push("id", Form::Id);
                push("name", Form::Text);
                push("unit", Form::Text);
                push("post", Form::Text);
                push("joined", Form::Date);
                push("left", Form::Date);
            }
            Kind::Points | Kind::Kpi => {
                push("id", Form::Id);
                columns.push(("name".into(), Form::Text, Origin::RosterName));
                if kind == Kind::Points {
                    for item in rubric.item_names() {
                        if let Some(i) = table.find_header(&item) {
                            columns.push((item, Form::Number, Origin::Header(i)));
                        }
                    }
                    columns.push(("points".into(), Form::Number, Origin::Column("points")));
                    columns.push(("note".into(), Form::Text, Origin::Column("note")));
                } else {
                    columns.push(("kpi".into(), Form::Number, Origin::Column("kpi")));
                }
            }
            Kind::Events => {
                push("period", Form::Period);
                push("event", Form::Text);
                push("unit", Form::Text);
                push("rank", Form::Rank);
                push("note", Form::Text);
            }
            Kind::CityAwards => {
                push("period", Form::Period);
                push("id", Form::Id);
                push("award", Form::Text);
                push("amount", Form::Yuan);
                push("group", Form::Text);
            }
            Kind::Vetoes => {
                push("period", Form::Period);
                push("id", Form::Id);
                push("reason", Form::Text);
            }
        }
        let values: Vec<usize> =
            columns.iter().enumerate().filter(|(_, (_, form, _))| *form == Form::Number).map(|(i, _)| i).collect();
        let mut rows = Vec::new();
        for row in &table.rows {
            let id = normal(Form::Id, table.cell(row, "id"));
            let cells: Vec<String> = columns
                .iter()
                .map(|(_, form, from)| match from {
                    Origin::Column(c) => normal(*form, table.cell(row, c)),
                    Origin::Header(i) => normal(*form, Table::cell_at(row, *i)),
                    Origin::RosterName => {
                        roster.get(&id).map_or_else(|| table.cell(row, "name").to_string(), |p| p.name.to_string())
                    }
                })
                .collect();
            if kind.periodic() && values.iter().all(|&i| cells[i].is_empty()) {
                continue;
            }
            let period = kind.rows_have_periods().then(|| Period::parse(&cells[0]).ok()).flatten();
            rows.push(CanonRow { line: row.line, key: String::new(), label: String::new(), cells, period });
        }
        // Item columns nobody filled in (a template has every post's) are left out.
        let blank: Vec<usize> = (0..columns.len())
            .filter(|&i| matches!(columns[i].2, Origin::Header(_)) && rows.iter().all(|r| r.cells[i].is_empty()))
            .collect();
        for row in &mut rows {
            row.cells = row.cells.drain(..).enumerate().filter(|(i, _)| !blank.contains(i)).map(|(_, c)| c).collect();
        }
        let headers = columns.into_iter().enumerate().filter(|(i, _)| !blank.contains(i)).map(|(_, c)| c.0).collect();
        let mut canon = Canon { headers, rows };
        canon.sort_and_key(kind);
        canon
    }

    /// Rows that carry periods are kept in period order (stable), so the same data gives the
    /// same bytes however it arrived; then each row gets its identity across versions.
    fn sort_and_key(&mut self, kind: Kind) {
        if kind.rows_have_periods() {
            self.rows.sort_by_key(|r| r.period);
        }
        let key_columns: &[&str] = match kind {
            Kind::Roster | Kind::Points | Kind::Kpi => &["id"],
            Kind::Events => &["period", "event", "unit"],
            Kind::CityAwards => &["period", "id", "award"],
            Kind::Vetoes => &["period", "id"],
        };
        let index: Vec<usize> = key_columns.iter().filter_map(|k| self.headers.iter().position(|h| h == k)).collect();
        let name = self.headers.iter().position(|h| h == "name");
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in &mut self.rows {
            let base: Vec<&str> = index.iter().map(|&i| row.cells[i].as_str()).collect();
            let base = base.join(" ");
            let n = seen.entry(base.clone()).or_default();
            *n += 1;
            row.key = if *n == 1 { base.clone() } else { format!("{base} #{n}") };
            row.label = match name.map(|i| row.cells[i].as_str()) {
                Some(name) if !name.is_empty() => format!("{} {name}", row.key),
                _ => row.key.clone(),
            };
        }
    }

    /// The canonical bytes: UTF-8 without a BOM, LF line ends, values as they are (the data
    /// folder is cs-score's own; formula guards belong to files meant for a spreadsheet).
    fn to_csv(&self) -> std::result::Result<Vec<u8>, String> {
        write_csv(&self.headers, self.rows.iter().map(|r| r.cells.as_slice()))
    }

    fn value<'a>(&'a self, row: &'a CanonRow, column: &str) -> &'a str {
        self.headers.iter().position(|h| h == column).and_then(|i| row.cells.get(i)).map_or("", String::as_str)
    }
}

/// Plain CSV rows (no guard, no BOM): the canonical data files and the ingest log.
fn write_csv<'a>(
    headers: &[String],
    rows: impl IntoIterator<Item = &'a [String]>,
) -> std::result::Result<Vec<u8>, String> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(headers).map_err(|e| e.to_string())?;
    for row in rows {
        w.write_record(row).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// A validated cell in canonical spelling (`９２．５` → `92.5`, `2009/5/4` → `2009-05-04`,
/// `2009q2` → `2009Q2`). Validation already passed, so a value that does not parse is
/// only kept as written (an old file being compared).
fn normal(form: Form, raw: &str) -> String {
    let shown = |r: std::result::Result<Option<String>, String>| match r {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => raw.to_string(),
    };
    match form {
        Form::Text => raw.to_string(),
        Form::Id if raw.is_empty() => String::new(),
        Form::Id => values::id(raw).map_or_else(|_| raw.to_string(), |id| id.into_owned()),
        Form::Number => shown(values::number(raw).map(|v| v.map(crate::report::plain))),
        Form::Yuan => shown(values::whole_yuan(raw).map(|v| v.map(crate::report::plain))),
        Form::Date => shown(values::date(raw).map(|v| v.map(|d| d.to_string()))),
        Form::Rank => shown(values::rank(raw).map(|v| v.map(|n| n.to_string()))),
        Form::Period if raw.is_empty() => String::new(),
        Form::Period => Period::parse(raw).map_or_else(|_| raw.to_string(), |p| p.to_string()),
    }
}

/// One worksheet or CSV file read from the source.
struct Source {
    table: Table,
    /// The period the sheet's name gives, if it is one.
    sheet_period: Option<Period>,
}

/// One data file to write.
struct Plan {
    period: Option<Period>,
    relative: String,
    display: String,
    path: PathBuf,
    old: Option<Vec<u8>>,
    /// The old file has rows: replacing it needs `--replace` and keeps a copy. (A file with
    /// only its header, as `cs-score init` makes the roster, has nothing to lose.)
    old_has_rows: bool,
    new: Vec<u8>,
    /// Rows taken from the source.
    rows: usize,
    changes: Vec<Problem>,
    source: String,
    read: String,
}

impl Plan {
    fn unchanged(&self) -> bool {
        self.old.as_deref() == Some(self.new.as_slice())
    }

    /// Writing it would change something that is there now.
    fn replaces(&self) -> bool {
        self.old_has_rows && !self.unchanged()
    }
}

/// Everything one ingest works with, resolved once.
struct Ingest<'a> {
    req: &'a Request<'a>,
    workspace: Workspace,
    rubric: Rubric,
    /// The roster the data folder has now.
    roster: Roster,
    /// `--period`.
    wanted: Option<Period>,
}

pub fn run(global: &Global, req: &Request) -> Result<()> {
    let kind = req.kind;
    let wanted = req.period.map(Period::parse).transpose().map_err(Error::Usage)?;
    match (&wanted, kind) {
        (Some(_), Kind::Roster) => return Err(Error::Usage("the roster has no period: leave out --period".into())),
        (Some(p), k) if k.periodic() && !k.fits(p) => {
            return Err(Error::Usage(format!("--period {p}: a {} sheet is for {}", k.name(), k.period_words())));
        }
        _ => {}
    }
    let workspace = Workspace::find(global.dir.as_deref())?;
    let rubric = workspace.rubric(global.rubric.as_deref())?;
    let mut warnings = Vec::new();
    // The workspace as it is: its roster, and the problems it already has (an ingest is
    // refused only for problems it would add).
    let (current, baseline) = match workspace.read(&rubric, None) {
        Ok((data, found)) => (data, found.problems),
        Err(Error::Problems(p)) if kind == Kind::Roster => (Dataset::default(), p),
        Err(Error::Problems(mut p)) => {
            p.push(Problem::new(
                "",
                "ingest: nothing was written: the roster must be valid first (fix it, or `cs-score ingest roster FILE`)",
            ));
            return Err(Error::Problems(p));
        }
        Err(e) => return Err(e),
    };
    let ingest = Ingest { req, workspace, rubric, roster: std::sync::Arc::unwrap_or_clone(current.roster), wanted };

    let display = req.file.display().to_string();
    let bytes = std::fs::read(req.file).map_err(|e| Error::one(display.clone(), crate::error::io_text(&e)))?;
    let sha256: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let sources = read_source(&ingest, &display, bytes)?;
    let mut found = Findings::default();
    let (plans, skipped) = ingest.plans(&sources, &display, &mut found)?;
    // The data folder as it would be, read whole the way every report reads it.
    let added = new_problems(&ingest.workspace, &ingest.rubric, &plans, &baseline)?;
    if !added.is_empty() {
        let mut problems = added;
        problems.push(Problem::new(
            "",
            "ingest: nothing was written: with this file the data folder would have the problems above",
        ));
        return Err(Error::Problems(problems));
    }
    warnings.extend(found.warnings);
    sort(&mut warnings);
    report_warnings(global, &warnings)?;
    if !req.replace && !req.dry_run {
        ingest.refuse_overwrite(&plans)?;
    }
    let changes: String = plans.iter().flat_map(|p| &p.changes).map(|c| format!("{c}\n")).collect();
    let skipped: String = skipped.iter().map(|s| format!("{s}: skipped: nothing is filled in yet\n")).collect();
    let out = if req.dry_run {
        changes + &skipped + &dry_run_summary(&plans, req.replace)
    } else {
        let kept = apply(&ingest.workspace, kind, &plans, &display, &sha256)?;
        changes + &skipped + &summary(&plans, &kept)
    };
    output::to_stdout(out.as_bytes())
}

impl Ingest<'_> {
    /// Validates each source and works out its data file; every problem at once, or the plans
    /// and the sheets skipped: a quarter's workbook is filled month by month, so its sheets
    /// with nothing in them yet are left for later (and their data files as they are).
    fn plans(&self, sources: &[Source], display: &str, found: &mut Findings) -> Result<(Vec<Plan>, Vec<String>)> {
        let kind = self.req.kind;
        let mut plans: Vec<Plan> = Vec::new();
        let mut skipped = Vec::new();
        for source in sources {
            let problems_before = found.problems.len();
            let period = match kind.periodic().then(|| resolve_period(kind, self.req, display, source)) {
                None => None,
                Some(Ok(p)) => Some(p),
                Some(Err(problems)) => {
                    found.problems.extend(problems);
                    continue;
                }
            };
            let new_roster = validate(kind, &source.table, &self.roster, &self.rubric, found);
            if let (true, Some(p)) = (kind.rows_have_periods(), &self.wanted) {
                outside_period(&source.table, p, found);
            }
            if found.problems.len() > problems_before {
                continue;
            }
            let canon = Canon::of(kind, &source.table, &self.rubric, new_roster.as_ref().unwrap_or(&self.roster));
            if canon.rows.is_empty() && kind.periodic() && sources.len() > 1 {
                skipped.push(source.table.file.to_string());
                continue;
            }
            if canon.rows.is_empty() && !kind.rows_have_periods() {
                found.problems.push(Problem::new(
                    source.table.file.to_string(),
                    match kind {
                        Kind::Roster => "has no people: nothing to ingest",
                        _ => "has no values (every row is blank): fill it in first",
                    },
                ));
                continue;
            }
            match self.plan(period, &source.table, canon) {
                Ok(p) => plans.push(p),
                Err(Error::Problems(p)) => found.problems.extend(p),
                Err(e) => return Err(e),
            }
        }
        for (i, p) in plans.iter().enumerate() {
            if let Some(first) = plans[..i].iter().find(|q| q.relative == p.relative) {
                found.problems.push(Problem::new(
                    p.source.clone(),
                    format!("goes to {} as {} does: import one of them (use --sheet)", p.display, first.source),
                ));
            }
        }
        if plans.is_empty() && !skipped.is_empty() && found.problems.is_empty() {
            found
                .problems
                .push(Problem::new(display, "has no values in any sheet (every row is blank): fill it in first"));
        }
        if found.problems.is_empty() {
            return Ok((plans, skipped));
        }
        let mut problems = std::mem::take(&mut found.problems);
        sort(&mut problems);
        problems.push(Problem::new("", "ingest: nothing was written"));
        Err(Error::Problems(problems))
    }

    /// An existing file that would change needs `--replace`: say so, with every change.
    fn refuse_overwrite(&self, plans: &[Plan]) -> Result<()> {
        let mut problems = Vec::new();
        for p in plans.iter().filter(|p| p.replaces()) {
            let what = match p.changes.len() {
                0 => "differs in form only (headers, spelling or order; no value changes)".to_string(),
                n => format!("differs in {n} place(s)"),
            };
            let period_hint = if self.req.kind.rows_have_periods() && self.wanted.is_none() {
                ", or give --period to replace only that period's rows"
            } else {
                ""
            };
            problems.push(Problem::new(
                p.display.clone(),
                format!(
                    "already exists and {what} from {}: nothing was written; run again with --replace to replace it (the old file is kept in {}){period_hint}",
                    p.source,
                    self.workspace.display(&format!("{HISTORY_DIR}/"))
                ),
            ));
            problems.extend(p.changes.iter().cloned());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Problems(problems))
        }
    }
}

fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".to_string()
    } else {
        format!("{n} rows")
    }
}

/// What `--dry-run` would do, per file.
fn dry_run_summary(plans: &[Plan], replace: bool) -> String {
    let mut out = String::new();
    for p in plans {
        let what = if p.unchanged() {
            format!("unchanged ({} from {})", rows(p.rows), p.source)
        } else if p.replaces() {
            format!(
                "would replace it: {} change(s), {} from {}{}",
                p.changes.len(),
                rows(p.rows),
                p.source,
                if replace { "" } else { " (needs --replace)" }
            )
        } else {
            format!("would create it with {} from {}", rows(p.rows), p.source)
        };
        out.push_str(&format!("{}: {what}\n", p.display));
    }
    out + "dry run: nothing was written\n"
}

/// What was done, per file.
fn summary(plans: &[Plan], kept: &[Option<String>]) -> String {
    let mut out = String::new();
    for (p, kept) in plans.iter().zip(kept) {
        let from = format!("{} from {} ({})", rows(p.rows), p.source, p.read);
        let line = match kept {
            _ if p.unchanged() => format!("unchanged, {from}"),
            Some(history) => format!("replaced: {} change(s), {from}; the old file is {history}", p.changes.len()),
            None => format!("new file, {from}"),
        };
        out.push_str(&format!("{}: {line}\n", p.display));
    }
    out
}

/// Reads the source file: CSV in any encoding the reader takes, or the chosen worksheets of
/// a workbook. One formula guard is taken off every cell.
fn read_source(ingest: &Ingest, display: &str, bytes: Vec<u8>) -> Result<Vec<Source>> {
    let (req, rubric, roster) = (ingest.req, &ingest.rubric, &ingest.roster);
    let aliases = &ingest.workspace.config.columns.aliases;
    let kind = req.kind;
    let mut columns = kind.columns().to_vec();
    if kind.periodic() {
        // A sheet may say its period in a column; the reports ignore it, ingest checks it.
        columns.push(Column::optional("period", &["期间"]));
    }
    let items = if kind == Kind::Points { rubric.item_names() } else { Vec::new() };
    let mut sources = Vec::new();
    if is_workbook(req.file, &bytes) {
        let mut book = Workbook::open(display, bytes)?;
        let names = book.names();
        let expect = Expect { columns: &columns, aliases, extra: &items, roster };
        let mut problems = Vec::new();
        for name in choose_sheets(&names, kind, req.sheet, ingest.wanted.as_ref(), display)? {
            let grid = book.grid(&name)?;
            match grid.table(&expect) {
                Ok(table) => {
                    let sheet_period = Period::parse(&name).ok().filter(|p| kind.fits(p));
                    sources.push(Source { table, sheet_period });
                }
                Err(p) => problems.extend(p),
            }
        }
        if !problems.is_empty() {
            problems.push(Problem::new("", "ingest: nothing was written"));
            return Err(Error::Problems(problems));
        }
    } else {
        if req.sheet.is_some() {
            return Err(Error::Usage(format!("--sheet is for workbooks, and {display} is a CSV file")));
        }
        let table = Table::parse(display, &bytes, &columns, aliases).map_err(|mut p| {
            p.push(Problem::new("", "ingest: nothing was written"));
            Error::Problems(p)
        })?;
        sources.push(Source { table, sheet_period: None });
    }
    for s in &mut sources {
        s.table.map_cells(unguard_formula);
    }
    Ok(sources)
}

/// A workbook by its extension, else by its first bytes (a zip, or an OLE2 `.xls`).
fn is_workbook(path: &Path, bytes: &[u8]) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => true,
        Some("csv" | "txt") => false,
        _ => bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0"),
    }
}

/// The worksheets to read: `--sheet`; else the sheets named by a period of this kind (a
/// workbook cs-score exported has one per month), or the one `--period` names; else a
/// sheet named after the kind; else the first.
fn choose_sheets(
    names: &[String],
    kind: Kind,
    sheet: Option<&str>,
    wanted: Option<&Period>,
    display: &str,
) -> Result<Vec<String>> {
    if let Some(sheet) = sheet {
        let found = names
            .iter()
            .find(|n| n.as_str() == sheet)
            .or_else(|| names.iter().find(|n| values::trim(n).eq_ignore_ascii_case(values::trim(sheet))));
        return match found {
            Some(n) => Ok(vec![n.clone()]),
            None => Err(Error::Usage(format!(
                "{display} has no sheet \"{sheet}\"; its sheets are: {}",
                names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
            ))),
        };
    }
    let periodic: Vec<(&String, Period)> =
        names.iter().filter_map(|n| Period::parse(n).ok().filter(|p| kind.fits(p)).map(|p| (n, p))).collect();
    match wanted {
        Some(w) => {
            if let Some((n, _)) = periodic.iter().find(|(_, p)| p == w) {
                return Ok(vec![(*n).clone()]);
            }
        }
        None if !periodic.is_empty() => return Ok(periodic.into_iter().map(|(n, _)| n.clone()).collect()),
        None => {}
    }
    if let Some(n) = names.iter().find(|n| values::trim(n).eq_ignore_ascii_case(kind.name())) {
        return Ok(vec![n.clone()]);
    }
    names.first().map(|n| vec![n.clone()]).ok_or_else(|| Error::one(display, "has no worksheets"))
}

/// A points or KPI sheet's period from every place that can say it — `--period`, the sheet's
/// period column, its sheet name, the file name — which must all agree.
fn resolve_period(kind: Kind, req: &Request, display: &str, source: &Source) -> Result<Period, Vec<Problem>> {
    let table = &source.table;
    let mut said: Vec<(Period, String)> = Vec::new();
    if let Some(p) = req.period.and_then(|p| Period::parse(p).ok()) {
        said.push((p, "--period".into()));
    }
    let mut problems = Vec::new();
    let mut column: Option<(Period, u64)> = None;
    for row in &table.rows {
        let cell = table.cell(row, "period");
        if cell.is_empty() {
            continue;
        }
        match Period::parse(cell) {
            Err(m) => problems.push(table.problem(row, "period", m)),
            Ok(p) => match column {
                None => column = Some((p, row.line)),
                Some((first, line)) if first != p => problems.push(table.problem(
                    row,
                    "period",
                    format!("{p} differs from {first} on line {line}: one sheet holds one period"),
                )),
                Some(_) => {}
            },
        }
    }
    if let Some((p, line)) = column {
        said.push((p, format!("its {} column (line {line})", table.header("period"))));
    }
    if let Some(p) = source.sheet_period {
        said.push((p, "the sheet name".into()));
    }
    let file_name = req.file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let in_name = periods_in_name(&file_name);
    if let [p] = in_name.as_slice() {
        said.push((*p, "the file name".into()));
    } else if in_name.len() > 1 && req.period.is_none() {
        // With --period given, a file name naming several periods (an export date) is moot.
        let list: Vec<String> = in_name.iter().map(Period::to_string).collect();
        problems.push(Problem::new(
            display,
            format!("the file name names several periods ({}): give --period", list.join(", ")),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some((period, _)) = said.first().cloned() else {
        return Err(vec![Problem::new(
            table.file.to_string(),
            format!(
                "which period is this {} sheet for? give --period, or name the file like 2009-05{}.xlsx",
                kind.name(),
                if kind == Kind::Points { "积分" } else { "绩效" }
            ),
        )]);
    };
    // A workbook named for a quarter may hold that quarter's month sheets: its name only
    // has to contain the sheet's period. Everything else must say the same period.
    let agrees = |p: &Period, by: &str| *p == period || (by == "the file name" && p.contains(&period));
    if said.iter().any(|(p, by)| !agrees(p, by)) {
        let all: Vec<String> = said.iter().map(|(p, by)| format!("{by} says {p}")).collect();
        return Err(vec![Problem::new(
            table.file.to_string(),
            format!("conflicting periods: {}: make them agree (rename the file, or fix --period)", all.join(", ")),
        )]);
    }
    if !kind.fits(&period) {
        return Err(vec![Problem::new(
            table.file.to_string(),
            format!("{period}: a {} sheet is for {}", kind.name(), kind.period_words()),
        )]);
    }
    Ok(period)
}

/// Periods a file name mentions: `2009-05`, `2009_5`, `2009.05`, `2009Q2`, `2009年5月`,
/// `2009年第2季度`, full-width digits included.
pub fn periods_in_name(name: &str) -> Vec<Period> {
    let chars: Vec<char> = values::half_width(name).chars().collect();
    let digits = |from: usize, max: usize| -> usize {
        chars[from.min(chars.len())..].iter().take(max + 1).take_while(|c| c.is_ascii_digit()).count()
    };
    let number =
        |from: usize, len: usize| -> Option<u32> { chars[from..from + len].iter().collect::<String>().parse().ok() };
    let mut found: Vec<Period> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
        if !starts || digits(i, 4) != 4 {
            i += 1;
            continue;
        }
        let Some(year) = number(i, 4).map(|y| y as i32) else {
            i += 1;
            continue;
        };
        let at = i + 4;
        let next = chars.get(at).copied();
        let period = match next {
            Some('-' | '_' | '.' | '/') => match digits(at + 1, 2) {
                n @ (1 | 2) => {
                    number(at + 1, n).filter(|m| (1..=12).contains(m)).map(|month| Period::Month { year, month })
                }
                _ => None,
            },
            Some('Q' | 'q') => match (chars.get(at + 1), digits(at + 1, 1)) {
                (Some(c @ '1'..='4'), 1) => Some(Period::Quarter { year, quarter: *c as u32 - '0' as u32 }),
                _ => None,
            },
            Some('年') => {
                let from = at + 1 + usize::from(chars.get(at + 1) == Some(&'第'));
                let n = digits(from, 2);
                let quarter_word = |c: Option<&char>| match c {
                    Some('1' | '一') => Some(1),
                    Some('2' | '二') => Some(2),
                    Some('3' | '三') => Some(3),
                    Some('4' | '四') => Some(4),
                    _ => None,
                };
                if (1..=2).contains(&n) && chars.get(from + n) == Some(&'月') {
                    number(from, n).filter(|m| (1..=12).contains(m)).map(|month| Period::Month { year, month })
                } else if chars.get(from + 1) == Some(&'季') {
                    quarter_word(chars.get(from)).map(|quarter| Period::Quarter { year, quarter })
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(p) = period {
            if !found.contains(&p) {
                found.push(p);
            }
        }
        i += 4;
    }
    found
}

/// The `read::files` validation the reports use; for a roster, the roster it builds.
fn validate(kind: Kind, table: &Table, roster: &Roster, rubric: &Rubric, found: &mut Findings) -> Option<Roster> {
    match kind {
        Kind::Roster => return Some(files::roster(table, found)),
        Kind::Points => drop(files::points(table, roster, rubric, false, found)),
        Kind::Kpi => drop(files::kpi(table, roster, rubric, found)),
        Kind::Events => drop(files::events(table, found)),
        Kind::CityAwards => drop(files::city_awards(table, roster, found)),
        Kind::Vetoes => drop(files::vetoes(table, roster, found)),
    }
    None
}

/// With `--period`, every row of an events, city-awards or vetoes file must lie within it.
fn outside_period(table: &Table, wanted: &Period, found: &mut Findings) {
    for row in &table.rows {
        if let Ok(p) = Period::parse(table.cell(row, "period")) {
            if !wanted.contains(&p) {
                found.problems.push(table.problem(
                    row,
                    "period",
                    format!("{p} is outside --period {wanted}: import only that period's rows, or leave out --period"),
                ));
            }
        }
    }
}

impl Ingest<'_> {
    /// What writing this source means for its data file: the new bytes and what changes.
    fn plan(&self, period: Option<Period>, table: &Table, mut canon: Canon) -> Result<Plan> {
        let (kind, workspace, wanted) = (self.req.kind, &self.workspace, self.wanted.as_ref());
        let relative = kind.relative(period.as_ref());
        let display = workspace.display(&relative);
        let path = workspace.data_dir().join(&relative);
        let old = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::one(display, crate::error::io_text(&e))),
        };
        let rows = canon.rows.len();
        // The old file in canonical form, read as the reports read it (names from the same
        // roster, so they compare like for like).
        let old_canon = old.as_ref().and_then(|bytes| {
            Table::parse(&display, bytes, kind.columns(), &workspace.config.columns.aliases)
                .ok()
                .map(|t| Canon::of(kind, &t, &self.rubric, &self.roster))
        });
        if let (true, Some(w), Some(old)) = (kind.rows_have_periods(), wanted, &old_canon) {
            // Only this period's rows are replaced; the others stay as they are.
            let mut rows: Vec<CanonRow> =
                old.rows.iter().filter(|r| r.period.is_none_or(|p| !w.contains(&p))).cloned().collect();
            if canon.headers == old.headers {
                rows.append(&mut canon.rows);
                canon.rows = rows;
                canon.sort_and_key(kind);
            }
        }
        let new = canon.to_csv().map_err(|m| Error::one(display.clone(), m))?;
        let old_has_rows = old.is_some() && old_canon.as_ref().is_none_or(|c| !c.rows.is_empty());
        let changes = match (&old, &old_canon) {
            _ if !old_has_rows => Vec::new(),
            (Some(_), Some(old_canon)) => diff(old_canon, &canon, &display, &table.file),
            (Some(_), None) => {
                vec![Problem::new(
                    display.clone(),
                    "cannot be read as a table any more; it is replaced whole".to_string(),
                )]
            }
            (None, _) => Vec::new(),
        };
        Ok(Plan {
            period: period.or(wanted.copied()),
            relative,
            display,
            path,
            old_has_rows,
            old,
            new,
            rows,
            changes,
            source: table.file.to_string(),
            read: table.encoding.clone(),
        })
    }
}

/// Every difference between two canonical files: per row (by its key) and column,
/// `old → new`, each at the line of the file it is in.
fn diff(old: &Canon, new: &Canon, old_file: &str, new_file: &str) -> Vec<Problem> {
    let mut columns: Vec<&String> = new.headers.iter().collect();
    columns.extend(old.headers.iter().filter(|h| !new.headers.contains(h)));
    let old_rows: BTreeMap<&str, &CanonRow> = old.rows.iter().map(|r| (r.key.as_str(), r)).collect();
    let new_keys: std::collections::HashSet<&str> = new.rows.iter().map(|r| r.key.as_str()).collect();
    let shown = |v: &str| if v.is_empty() { "(blank)".to_string() } else { v.to_string() };
    let mut changes = Vec::new();
    for row in &new.rows {
        match old_rows.get(row.key.as_str()) {
            None => changes.push(Problem::at(new_file, row.line, format!("new row: {}", row.label))),
            Some(before) => {
                for column in &columns {
                    let (a, b) = (old.value(before, column), new.value(row, column));
                    if a != b {
                        changes.push(Problem::at(
                            old_file,
                            before.line,
                            format!("column {column}: {} → {} ({})", shown(a), shown(b), row.label),
                        ));
                    }
                }
            }
        }
    }
    for row in &old.rows {
        if !new_keys.contains(row.key.as_str()) {
            changes.push(Problem::at(old_file, row.line, format!("row removed: {}", row.label)));
        }
    }
    changes
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Scratch> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("cs-score-ingest-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Problems the data folder would have after the ingest that it does not have now: the
/// reports' own reading (`Workspace::read`) of a scratch copy with the new files in place.
fn new_problems(workspace: &Workspace, rubric: &Rubric, plans: &[Plan], baseline: &[Problem]) -> Result<Vec<Problem>> {
    let scratch_error =
        |e: std::io::Error| Error::one("", format!("cannot make a scratch copy of the data folder: {e}"));
    let scratch = Scratch::new().map_err(scratch_error)?;
    let data = scratch.0.join("data");
    let real = workspace.data_dir();
    let copy = |relative: &str| -> std::io::Result<()> {
        let from = real.join(relative);
        if from.is_file() {
            let to = data.join(relative);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(from, to)?;
        }
        Ok(())
    };
    for name in ["roster.csv", "events.csv", "city-awards.csv", "vetoes.csv"] {
        copy(name).map_err(scratch_error)?;
    }
    for folder in ["points", "kpi"] {
        if let Ok(entries) = std::fs::read_dir(real.join(folder)) {
            for entry in entries.flatten() {
                copy(&format!("{folder}/{}", entry.file_name().to_string_lossy())).map_err(scratch_error)?;
            }
        }
    }
    for plan in plans {
        let to = data.join(&plan.relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(scratch_error)?;
        }
        std::fs::write(&to, &plan.new).map_err(scratch_error)?;
    }
    // The scratch data folder is named by its absolute path, so a `data = "../x"` setting
    // cannot point the copy back at the real files; messages are renamed back afterwards.
    let mut config = workspace.config.clone();
    config.data = data.to_string_lossy().to_string();
    let overlay = Workspace { root: scratch.0.clone(), config, on_file: None, on_encoding: None };
    let mut problems = match overlay.read(rubric, None) {
        Ok((_, found)) => found.problems,
        Err(Error::Problems(p)) => p,
        Err(e) => return Err(e),
    };
    let (from, to) = (format!("{}/", overlay.config.data.trim_end_matches('/')), workspace.display(""));
    for p in &mut problems {
        if let Some(rest) = p.location.strip_prefix(&from) {
            p.location = format!("{to}{rest}");
        }
        p.message = p.message.replace(&from, &to);
    }
    let before: std::collections::HashSet<String> = baseline.iter().map(Problem::to_string).collect();
    problems.retain(|p| !before.contains(&p.to_string()));
    sort(&mut problems);
    problems.dedup();
    Ok(problems)
}

/// One step of `apply` to take back if a later one fails.
enum Undo {
    Remove(PathBuf),
    Restore(PathBuf, Option<Vec<u8>>),
    /// A folder this ingest made (removed only if empty again).
    RemoveDir(PathBuf),
}

/// Makes a folder and the missing ones above it, remembering each to take back.
fn make_dir(dir: &Path, undo: &mut Vec<Undo>) -> std::io::Result<()> {
    let missing: Vec<PathBuf> = dir.ancestors().take_while(|d| !d.exists()).map(Path::to_path_buf).collect();
    std::fs::create_dir_all(dir)?;
    undo.extend(missing.into_iter().rev().map(Undo::RemoveDir));
    Ok(())
}

/// Writes the plans: the old file's bytes to `.history` first, then the new file (atomic),
/// then the log row. If any step fails, the earlier ones are undone. Returns, per plan, where
/// the old file was kept.
fn apply(workspace: &Workspace, kind: Kind, plans: &[Plan], source: &str, sha256: &str) -> Result<Vec<Option<String>>> {
    let mut undo: Vec<Undo> = Vec::new();
    let result = apply_steps(workspace, kind, plans, source, sha256, &mut undo);
    if result.is_err() {
        for step in undo.into_iter().rev() {
            let _ = match step {
                Undo::Remove(path) => std::fs::remove_file(path),
                Undo::RemoveDir(path) => std::fs::remove_dir(path),
                Undo::Restore(path, None) => std::fs::remove_file(path),
                Undo::Restore(path, Some(bytes)) => {
                    output::to_file(&path, &bytes).map_err(|e| std::io::Error::other(e.to_string()))
                }
            };
        }
    }
    result
}

fn apply_steps(
    workspace: &Workspace,
    kind: Kind,
    plans: &[Plan],
    source: &str,
    sha256: &str,
    undo: &mut Vec<Undo>,
) -> Result<Vec<Option<String>>> {
    let data = workspace.data_dir();
    let stamp = chrono::Local::now();
    let mut kept = Vec::new();
    for plan in plans {
        if plan.unchanged() {
            kept.push(None);
            continue;
        }
        let fail = |what: &str, e: std::io::Error| Error::one(plan.display.clone(), format!("{what}: {e}"));
        let mut history = None;
        if let (Some(old), true) = (&plan.old, plan.old_has_rows) {
            let dir = data.join(HISTORY_DIR);
            make_dir(&dir, undo).map_err(|e| fail("cannot make the history folder", e))?;
            let base = format!("{}.{}", plan.relative.replace('/', "-"), stamp.format("%Y%m%d-%H%M%S"));
            let mut name = base.clone();
            let mut n = 1;
            while dir.join(&name).exists() {
                n += 1;
                name = format!("{base}-{n}");
            }
            let path = dir.join(&name);
            std::fs::write(&path, old).map_err(|e| fail("cannot keep the old file", e))?;
            undo.push(Undo::Remove(path));
            history = Some(workspace.display(&format!("{HISTORY_DIR}/{name}")));
        }
        if let Some(parent) = plan.path.parent() {
            make_dir(parent, undo).map_err(|e| fail("cannot make its folder", e))?;
        }
        output::to_file(&plan.path, &plan.new)?;
        undo.push(Undo::Restore(plan.path.clone(), plan.old.clone()));
        kept.push(history);
    }
    let log_path = data.join(LOG_FILE);
    let old_log = match std::fs::read(&log_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::one(workspace.display(LOG_FILE), crate::error::io_text(&e))),
    };
    let source_path = std::path::absolute(source).map_or(source.to_string(), |p| p.display().to_string());
    let rows: Vec<Vec<String>> = plans
        .iter()
        .map(|p| {
            vec![
                stamp.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                kind.name().to_string(),
                p.period.map(|p| p.to_string()).unwrap_or_default(),
                source_path.clone(),
                sha256.to_string(),
                p.rows.to_string(),
                p.read.clone(),
                p.display.clone(),
            ]
        })
        .collect();
    let headers: Vec<String> = LOG_HEADER.iter().map(|h| h.to_string()).collect();
    let fresh = write_csv(&headers, rows.iter().map(Vec::as_slice)).map_err(|m| Error::one(LOG_FILE, m))?;
    let log = match &old_log {
        None => fresh,
        Some(old) => {
            // Append the rows (not the header) after whatever the log holds.
            let body = fresh.iter().position(|&b| b == b'\n').map_or(&fresh[..], |i| &fresh[i + 1..]);
            let mut bytes = old.clone();
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(body);
            bytes
        }
    };
    make_dir(&data, undo).map_err(|e| Error::one(workspace.display(""), format!("cannot be made: {e}")))?;
    output::to_file(&log_path, &log)?;
    undo.push(Undo::Restore(log_path, old_log));
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_file_names() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(periods_in_name("2009-05积分"), [p("2009-05")]);
        assert_eq!(periods_in_name("积分表_2009_5 (1)"), [p("2009-05")]);
        assert_eq!(periods_in_name("绩效2009q2"), [p("2009Q2")]);
        assert_eq!(periods_in_name("2009年5月积分"), [p("2009-05")]);
        assert_eq!(periods_in_name("２００９年第二季度绩效"), [p("2009Q2")]);
        assert_eq!(periods_in_name("2009-05-04导出"), [p("2009-05")]);
        assert!(periods_in_name("积分表v2").is_empty());
        assert!(periods_in_name("12009-05").is_empty());
        assert_eq!(periods_in_name("2009-05至2009-06").len(), 2);
    }

    #[test]
    fn canonical_spelling() {
        assert_eq!(normal(Form::Number, "９２．５"), "92.5");
        assert_eq!(normal(Form::Number, "95分"), "95");
        assert_eq!(normal(Form::Number, ""), "");
        assert_eq!(normal(Form::Date, "2009/5/4"), "2009-05-04");
        assert_eq!(normal(Form::Period, "2009q2"), "2009Q2");
        assert_eq!(normal(Form::Rank, "第2名"), "2");
        assert_eq!(normal(Form::Yuan, "150元"), "150");
        assert_eq!(normal(Form::Id, "００１２"), "0012");
        assert_eq!(normal(Form::Number, "9O"), "9O", "an unparsable old value is kept as written");
    }
}
