//! The command line: clap types, and resolving what the user typed plus the workspace into
//! one `Context` before any work. Each subcommand lives in its own file.

pub mod check;
pub mod explain;
pub mod ingest;
pub mod init;
pub mod output;
pub mod progress;
pub mod report;
pub mod template;

use crate::error::{Error, Result};
use crate::model::Period;
use crate::report::csv::Encoding;
use crate::report::Lang;
use crate::rubric::Rubric;
use crate::workspace::{FileHook, Workspace};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "cs-score",
    version,
    about = "Customer-service team scoring: monthly points, quarterly rankings, bonuses and year-end results by a TOML policy"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct Global {
    /// The workspace folder (else $CS_SCORE_DIR, else the current folder and its parents)
    #[arg(long, global = true, env = "CS_SCORE_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A rubric file (or builtin:hecheng-2009) instead of the workspace's
    #[arg(long, global = true, value_name = "FILE")]
    pub rubric: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the output to FILE (atomically) instead of standard output
    #[arg(long, short = 'o', global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// CSV byte encoding (default: UTF-8 with BOM in a file, plain UTF-8 on standard output)
    #[arg(long, global = true, value_enum)]
    pub encoding: Option<Encoding>,
    /// Language of table labels (default: the workspace's `lang`, else $LANG, else zh)
    #[arg(long, global = true, value_enum)]
    pub lang: Option<Lang>,
    /// Treat warnings as errors
    #[arg(long, global = true)]
    pub strict: bool,
    /// Print no warnings
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Also say how each data file was decoded (UTF-8, UTF-8 with BOM or GB18030), on
    /// standard error
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

/// With `--verbose`, what each data file was read as: a hook for `Workspace::on_encoding`
/// gathers the lines (files are read on several threads) and they are printed together, each
/// file once, by file, when this is dropped: after reading, whether the command goes on or
/// fails (then before its problems).
pub struct Encodings(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Encodings {
    pub fn new(global: &Global) -> Option<Encodings> {
        global.verbose.then(|| Encodings(std::sync::Arc::default()))
    }

    pub fn hook(&self) -> FileHook {
        let gather = self.0.clone();
        FileHook(std::sync::Arc::new(move |line: &str| {
            gather.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line.to_string());
        }))
    }
}

impl Drop for Encodings {
    fn drop(&mut self) {
        let mut lines = std::mem::take(&mut *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        lines.sort();
        lines.dedup();
        report::say_lines(&lines);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Xlsx,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a workspace (with --example: the example year, ready to report)
    Init {
        /// The folder to make it in (default: --dir, else the current folder)
        #[arg(value_name = "DIR")]
        folder: Option<PathBuf>,
        /// Fill it with the example department's 2009
        #[arg(long)]
        example: bool,
    },
    /// The monthly points bulletin (积分通报)
    Month {
        /// YYYY-MM
        period: String,
        /// For a public notice board: names as 张*伟, IDs hidden
        #[arg(long)]
        mask: bool,
    },
    /// Quarterly ranking, training slots, award lines and payouts
    Quarter {
        /// YYYYQn
        period: String,
    },
    /// Annual ranking, grades, annual awards and the year's payouts
    Year {
        /// YYYY
        period: String,
    },
    /// Validate the rubric and every data file (or one period's); exit 1 on any error
    Check {
        /// YYYY-MM, YYYYQn or YYYY (default: every file)
        period: Option<String>,
    },
    /// Every step behind one person's numbers for a month, quarter or year
    Explain {
        /// YYYY-MM, YYYYQn or YYYY
        period: String,
        /// The person's id
        id: String,
    },
    /// Import a CSV/XLSX/XLS/ODS file into the data folder after full validation
    Ingest {
        /// What the file holds
        #[arg(value_enum)]
        kind: Kind,
        /// The file to import
        file: PathBuf,
        /// The period of a points or KPI sheet (else the sheet's period column, sheet name or
        /// file name); for events, city awards and vetoes: replace only that period's rows
        #[arg(long, value_name = "PERIOD")]
        period: Option<String>,
        /// The worksheet to read (default: the sheets named by periods, else the first)
        #[arg(long, value_name = "NAME")]
        sheet: Option<String>,
        /// Replace an existing file that differs (the old one is kept in data/.history/)
        #[arg(long)]
        replace: bool,
        /// Validate and show what would change; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// A fill-in sheet with the roster already in it (CSV, or XLSX with --format xlsx)
    Template {
        /// roster, points or kpi
        #[arg(value_enum)]
        kind: Kind,
        /// YYYY-MM (points, kpi), YYYYQn (kpi; points as a workbook with a sheet per month);
        /// optional for the roster
        period: Option<String>,
    },
}

/// The kinds of data file (SPEC § 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Roster,
    Points,
    Kpi,
    Events,
    CityAwards,
    Vetoes,
}

/// Everything a report command needs, resolved once.
pub struct Context {
    pub workspace: Workspace,
    pub rubric: Rubric,
    pub lang: Lang,
}

impl Context {
    pub fn resolve(global: &Global) -> Result<Context> {
        let workspace = Workspace::find(global.dir.as_deref())?;
        let rubric = workspace.rubric(global.rubric.as_deref())?;
        let lang = global
            .lang
            .or_else(|| workspace.config.lang.as_deref().and_then(Lang::from_setting))
            .or_else(|| std::env::var("LANG").ok().as_deref().and_then(Lang::from_setting))
            .unwrap_or(Lang::Zh);
        Ok(Context { workspace, rubric, lang })
    }
}

/// Transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` is set
/// (mimalloc's own switch, read before `main`: `=1` keeps them). mimalloc asks for huge pages
/// on its arenas; a run that comes after a pause, as a report run by hand or by cron does, gets
/// them from memory the virtual machine has handed back to its host, and the host backs each
/// again at its first touch, while 4 kB pages come first from memory it still backs. Measured
/// on this project's machine, the same binary each way, each run after a 3 s pause
/// (docs/performance.md, The machine): 500,000 people's year 1.44 -> 0.97 s and quarter 0.92 ->
/// 0.48 s without them, 20,000 people's year 119 -> 71 ms, 1,000 people's quarter 24 -> 6 ms,
/// the example's quarter 4.4 against 5.2 ms. Runs right after one another are faster with
/// them (500,000 people's year 0.89 against 0.97 s), as benchmarks run, not as people do.
pub fn small_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integers only and changes how later page faults
        // are served, not any memory of ours. Should it fail (an old kernel), pages stay huge.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

/// A period argument of the expected kind, or a usage error (exit 2).
pub fn period_arg(text: &str, kind: crate::model::PeriodKind) -> Result<Period> {
    let period = Period::parse(text).map_err(Error::Usage)?;
    if period.kind() != kind {
        let want = match kind {
            crate::model::PeriodKind::Month => "a month YYYY-MM",
            crate::model::PeriodKind::Quarter => "a quarter YYYYQn",
            crate::model::PeriodKind::Year => "a year YYYY",
        };
        return Err(Error::Usage(format!("\"{text}\" is not {want}")));
    }
    Ok(period)
}

/// Runs a parsed command line; the caller maps the error to an exit code.
pub fn run(cli: Cli) -> Result<()> {
    use crate::model::PeriodKind;
    match &cli.command {
        Command::Init { folder, example } => {
            init::run(folder.as_deref().or(cli.global.dir.as_deref()), *example, &cli.global)
        }
        Command::Month { period, mask } => report::run(&cli.global, period_arg(period, PeriodKind::Month)?, *mask),
        Command::Quarter { period } => report::run(&cli.global, period_arg(period, PeriodKind::Quarter)?, false),
        Command::Year { period } => report::run(&cli.global, period_arg(period, PeriodKind::Year)?, false),
        Command::Check { period } => {
            check::run(&cli.global, period.as_deref().map(Period::parse).transpose().map_err(Error::Usage)?)
        }
        Command::Explain { period, id } => explain::run(&cli.global, Period::parse(period).map_err(Error::Usage)?, id),
        Command::Ingest { kind, file, period, sheet, replace, dry_run } => ingest::run(
            &cli.global,
            &ingest::Request {
                kind: *kind,
                file,
                period: period.as_deref(),
                sheet: sheet.as_deref(),
                replace: *replace,
                dry_run: *dry_run,
            },
        ),
        Command::Template { kind, period } => template::run(&cli.global, *kind, period.as_deref()),
    }
}
