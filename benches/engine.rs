//! In-process benchmarks (divan): the reader, loading a workspace, the engine and each
//! renderer, on a generated workspace of 20,000 people (`CS_BENCH_PEOPLE` overrides).
//!
//! ```sh
//! cargo bench --bench engine                 # everything, a few minutes
//! cargo bench --bench engine -- step1_read   # one group (a divan filter)
//! CS_BENCH_PEOPLE=1000 cargo bench --bench engine
//! ```
//!
//! The workspace is generated once per process into a temporary folder (`support/gen.rs`,
//! the same generator as `gen_workspace`), loaded once per period, and each report computed
//! once; each benchmark then times only its own stage. Groups are named `stepN_…` so divan
//! runs them in pipeline order: the reader first, on a fresh heap, before the loaded
//! datasets and reports (hundreds of MB at 20,000 people) stay resident for the rest.

#[path = "support/gen.rs"]
mod gen;

use cs_score::engine::{self, Report, Trail};
use cs_score::model::{Dataset, Period};
use cs_score::read::files::{self, Findings};
use cs_score::read::{Aliases, Table};
use cs_score::report::{self, csv::Encoding, Lang};
use cs_score::rubric::{self, Rubric};
use cs_score::workspace::Workspace;
use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use std::sync::LazyLock;

const SEED: u64 = 2009;
const Q2: Period = Period::Quarter { year: 2009, quarter: 2 };
const YEAR: Period = Period::Year(2009);
/// As a quarter's or a year's load reads points sheets: item values validated, not kept.
const KEEP_ITEMS: bool = false;

fn main() {
    eprintln!("cs-score benches: {} people (CS_BENCH_PEOPLE)", people());
    divan::main();
}

fn people() -> usize {
    std::env::var("CS_BENCH_PEOPLE").ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(20_000)
}

static RUBRIC: LazyLock<Rubric> = LazyLock::new(|| {
    rubric::load(rubric::BUILTIN_HECHENG_2009, rubric::BUILTIN_NAME).expect("the built-in rubric loads")
});

static PLAN: LazyLock<gen::Plan> = LazyLock::new(|| gen::Plan::new(people(), SEED));

/// The generated workspace on disk, removed when the process ends.
struct Fixture {
    _dir: tempfile::TempDir,
    workspace: Workspace,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::Builder::new().prefix("cs-score-bench-").tempdir().expect("a temporary folder");
    PLAN.write(dir.path()).expect("the workspace is written");
    let workspace = Workspace::find(Some(dir.path())).expect("the generated workspace is found");
    Fixture { _dir: dir, workspace }
});

fn load(period: &Period) -> Dataset {
    FIXTURE.workspace.load(&RUBRIC, period).unwrap_or_else(|e| panic!("the generated workspace loads: {e}")).data
}

static Q2_DATA: LazyLock<Dataset> = LazyLock::new(|| load(&Q2));
static YEAR_DATA: LazyLock<Dataset> = LazyLock::new(|| load(&YEAR));

fn run(period: &Period, data: &Dataset) -> Report {
    engine::run(period, &RUBRIC, data, "data", Trail::None)
        .unwrap_or_else(|p| panic!("the engine runs: {} problems", p.len()))
}

static Q2_REPORT: LazyLock<Report> = LazyLock::new(|| run(&Q2, &Q2_DATA));
static YEAR_REPORT: LazyLock<Report> = LazyLock::new(|| run(&YEAR, &YEAR_DATA));

/// One generated file in memory, with its data row count.
struct Sheet {
    name: String,
    bytes: Vec<u8>,
    rows: usize,
}

fn sheet(name: &str, fill: impl FnOnce(&mut Vec<u8>) -> std::io::Result<usize>) -> Sheet {
    let mut bytes = Vec::new();
    let rows = fill(&mut bytes).expect("writing to memory cannot fail");
    Sheet { name: name.to_string(), bytes, rows }
}

static ROSTER: LazyLock<Sheet> = LazyLock::new(|| sheet("data/roster.csv", |w| PLAN.roster(w)));
/// May: a sheet by items (both tables' item columns, 好人好事, points, note).
static POINTS_ITEMS: LazyLock<Sheet> = LazyLock::new(|| sheet("data/points/2009-05.csv", |w| PLAN.points(5, w)));
/// June: a sheet by totals.
static POINTS_TOTALS: LazyLock<Sheet> = LazyLock::new(|| sheet("data/points/2009-06.csv", |w| PLAN.points(6, w)));
static KPI: LazyLock<Sheet> = LazyLock::new(|| sheet("data/kpi/2009-05.csv", |w| PLAN.kpi(Some(5), None, w)));

static ROSTER_PARSED: LazyLock<cs_score::model::Roster> = LazyLock::new(|| {
    let table = Table::parse(&ROSTER.name, &ROSTER.bytes, files::ROSTER, &Aliases::new()).expect("roster parses");
    files::roster(&table, &mut Findings::default())
});

/// Reading one file from bytes in memory: CSV → trimmed cells → validated domain rows.
/// Counters: bytes and data rows per second.
mod step1_read {
    use super::*;

    fn counted<'a, 'b>(bencher: Bencher<'a, 'b>, sheet: &Sheet) -> Bencher<'a, 'b> {
        bencher.counter(BytesCount::new(sheet.bytes.len())).counter(ItemsCount::new(sheet.rows))
    }

    #[divan::bench(sample_count = 20)]
    fn roster(bencher: Bencher) {
        let s = &*ROSTER;
        counted(bencher, s).bench(|| {
            let table = Table::parse(&s.name, black_box(&s.bytes), files::ROSTER, &Aliases::new()).unwrap();
            files::roster(&table, &mut Findings::default())
        });
    }

    /// The roster as `load` reads it: from the file's bytes, in two halves on two threads when
    /// the file is large enough (`files::ROSTER_HALVES_FROM`; 20,000 people are 1.1 MB).
    #[divan::bench(sample_count = 20)]
    fn roster_from_bytes(bencher: Bencher) {
        let s = &*ROSTER;
        counted(bencher, s).bench(|| {
            let mut found = Findings::default();
            files::roster_from_bytes(
                &s.name,
                black_box(&s.bytes),
                &Aliases::new(),
                files::ROSTER_HALVES_FROM,
                &mut found,
            )
        });
    }

    #[divan::bench(sample_count = 20, args = ["items", "totals"])]
    fn points_sheet(bencher: Bencher, kind: &str) {
        let s = if kind == "items" { &*POINTS_ITEMS } else { &*POINTS_TOTALS };
        let (rubric, roster) = (&*RUBRIC, &*ROSTER_PARSED);
        counted(bencher, s).bench(|| {
            let table = Table::parse(&s.name, black_box(&s.bytes), files::POINTS, &Aliases::new()).unwrap();
            files::points(&table, roster, rubric, KEEP_ITEMS, &mut Findings::default())
        });
    }

    /// The two halves of `points_sheet`: `Table::parse` alone (decode, split, trim).
    #[divan::bench(sample_count = 20, args = ["items", "totals"])]
    fn points_table_parse_only(bencher: Bencher, kind: &str) {
        let s = if kind == "items" { &*POINTS_ITEMS } else { &*POINTS_TOTALS };
        counted(bencher, s)
            .bench(|| Table::parse(&s.name, black_box(&s.bytes), files::POINTS, &Aliases::new()).unwrap());
    }

    /// … and `files::points` alone on an already parsed table (ids, numbers, items, ranges).
    #[divan::bench(sample_count = 20, args = ["items", "totals"])]
    fn points_validate_only(bencher: Bencher, kind: &str) {
        let s = if kind == "items" { &*POINTS_ITEMS } else { &*POINTS_TOTALS };
        let table = Table::parse(&s.name, &s.bytes, files::POINTS, &Aliases::new()).unwrap();
        let (rubric, roster) = (&*RUBRIC, &*ROSTER_PARSED);
        counted(bencher, s)
            .bench(|| files::points(black_box(&table), roster, rubric, KEEP_ITEMS, &mut Findings::default()));
    }

    #[divan::bench(sample_count = 20)]
    fn kpi_sheet(bencher: Bencher) {
        let s = &*KPI;
        let (rubric, roster) = (&*RUBRIC, &*ROSTER_PARSED);
        counted(bencher, s).bench(|| {
            let table = Table::parse(&s.name, black_box(&s.bytes), files::KPI, &Aliases::new()).unwrap();
            files::kpi(&table, roster, rubric, &mut Findings::default())
        });
    }
}

/// `Workspace::load`: every file a period needs, from disk (the page cache after the first
/// sample), into a validated `Dataset`. Counter: roster people per second.
mod step2_load {
    use super::*;

    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn quarter_2009q2(bencher: Bencher) {
        let ws = &FIXTURE.workspace;
        bencher.counter(ItemsCount::new(people())).bench(|| ws.load(&RUBRIC, &Q2).unwrap());
    }

    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn year_2009(bencher: Bencher) {
        let ws = &FIXTURE.workspace;
        bencher.counter(ItemsCount::new(people())).bench(|| ws.load(&RUBRIC, &YEAR).unwrap());
    }
}

/// The pure engine on a loaded `Dataset`. Counter: people per second.
mod step3_engine {
    use super::*;

    #[divan::bench(sample_count = 10, sample_size = 1)]
    fn quarter_2009q2(bencher: Bencher) {
        let data = &*Q2_DATA;
        bencher
            .counter(ItemsCount::new(data.roster.people.len()))
            .bench(|| engine::quarter(&Q2, &RUBRIC, data, "data", Trail::None));
    }

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn year_2009(bencher: Bencher) {
        let data = &*YEAR_DATA;
        bencher
            .counter(ItemsCount::new(data.roster.people.len()))
            .bench(|| engine::year(&YEAR, &RUBRIC, data, "data", Trail::None));
    }
}

/// Each renderer on a computed report. Counter: people (rows) per second.
mod step4_render {
    use super::*;

    fn report(period: &str) -> &'static Report {
        if period == "2009Q2" {
            &Q2_REPORT
        } else {
            &YEAR_REPORT
        }
    }

    fn rows(r: &Report) -> usize {
        match r {
            Report::Month(m) => m.people.len(),
            Report::Period(p) => p.people.len(),
        }
    }

    #[divan::bench(sample_count = 10, sample_size = 1, args = ["2009Q2", "2009"])]
    fn json(bencher: Bencher, period: &str) {
        let r = report(period);
        bencher.counter(ItemsCount::new(rows(r))).bench(|| report::json::render(r));
    }

    /// CSV in one buffer through the csv crate: the path of `--encoding gbk` and `utf8-bom`.
    #[divan::bench(sample_count = 10, sample_size = 1, args = ["2009Q2", "2009"])]
    fn csv_one_buffer(bencher: Bencher, period: &str) {
        let r = report(period);
        bencher.counter(ItemsCount::new(rows(r))).bench(|| report::csv::write_report(r, Encoding::Utf8).unwrap());
    }

    /// The workbook `--format xlsx` writes: ranking, rules and award lines, each row written
    /// out (through a temporary file) as it is made.
    #[divan::bench(sample_count = 10, sample_size = 1, args = ["2009Q2", "2009"])]
    fn xlsx(bencher: Bencher, period: &str) {
        let r = report(period);
        bencher.counter(ItemsCount::new(rows(r))).bench(|| report::xlsx::report(r).unwrap());
    }

    /// The command line's UTF-8 CSV: streamed, formatted in stretches on two threads.
    #[divan::bench(sample_count = 10, sample_size = 1, args = ["2009Q2", "2009"])]
    fn csv_streamed(bencher: Bencher, period: &str) {
        let r = report(period);
        bencher
            .counter(ItemsCount::new(rows(r)))
            .bench(|| report::csv::write_report_to(r, false, &mut std::io::sink()).unwrap());
    }

    #[divan::bench(sample_count = 10, sample_size = 1, args = ["2009Q2", "2009"])]
    fn table(bencher: Bencher, period: &str) {
        let r = report(period);
        bencher.counter(ItemsCount::new(rows(r))).bench(|| report::table::render(r, Lang::Zh));
    }
}
