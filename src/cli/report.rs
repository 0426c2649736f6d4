//! `month`, `quarter` and `year`: one pipeline — resolve, load the period's files, run the
//! engine, render in the chosen format, write.

use super::progress::Progress;
use super::{output, Context, Format, Global};
use crate::engine::{self, Report, Trail};
use crate::error::{Error, Problem, Result};
use crate::model::{Dataset, Period, PeriodKind};
use crate::report::{self, csv::Encoding};
use crate::workspace::{FileHook, Loaded};
use std::sync::Arc;

pub fn run(global: &Global, period: Period, mask: bool) -> Result<()> {
    require_output_for_xlsx(global)?;
    let (ctx, mut result, warnings) = compute(global, period, Trail::None)?;
    if let (true, Report::Month(m)) = (mask, &mut result) {
        report::mask_month(m);
    }
    report_warnings(global, &warnings)?;
    match (global.format, csv_encoding(global)) {
        // UTF-8 CSV and JSON are written as they are made, person by person: a company's
        // report is never held whole. (GBK is encoded whole first, so that text it cannot hold
        // fails before any output.)
        (Format::Csv, encoding @ (Encoding::Utf8 | Encoding::Utf8Bom)) => {
            let bom = encoding == Encoding::Utf8Bom;
            emit_streamed(global, |out| report::csv::write_report_to(&result, bom, out))?
        }
        (Format::Json, _) => emit_streamed(global, |out| report::json::write_to(&result, out))?,
        _ => emit(global, &render(global, &ctx, &result)?)?,
    }
    // The process ends here: the system takes back the memory at once, while freeing half a
    // million people's results one by one takes a noticeable part of a second.
    std::mem::forget(result);
    Ok(())
}

/// Resolves the context, loads the period's files and runs the engine; the report carries
/// every warning (rubric, reading, engine), which are also returned for stderr.
/// `trail` names whose scoring steps to keep (`explain`).
pub fn compute(global: &Global, period: Period, trail: Trail<'_>) -> Result<(Context, Report, Vec<Problem>)> {
    let mut ctx = Context::resolve(global)?;
    // Said when this returns, either way.
    let encodings = super::Encodings::new(global);
    ctx.workspace.on_encoding = encodings.as_ref().map(super::Encodings::hook);
    let progress = Progress::new(global).map(Arc::new);
    if let Some(p) = &progress {
        let p = p.clone();
        ctx.workspace.on_file = Some(FileHook(Arc::new(move |name: &str| p.file(name))));
    }
    let stage = |what: String| progress.as_ref().inspect(|p| p.stage(what));
    let (ws, rubric, data_dir) = (&ctx.workspace, &ctx.rubric, &ctx.workspace.config.data);
    let (mut result, mut warnings) = if period.kind() == PeriodKind::Year {
        let (Loaded { data, mut warnings }, base_problems) = ws.load_base()?;
        let quarters = period.quarters();
        if !base_problems.is_empty() {
            // As for any period: every file's problems at once, and nothing scored.
            let mut problems = base_problems;
            for q in &quarters {
                problems.extend(ws.load_quarter(rubric, q, &data.roster).0.err().unwrap_or_default());
            }
            crate::error::sort(&mut problems);
            problems.dedup();
            return Err(Error::Problems(problems));
        }
        let roster = data.roster.clone();
        // A year reads its monthly files a quarter at a time (see `engine::year_loading`),
        // each quarter's on another thread while the quarter before it is scored.
        let year = std::thread::scope(|scope| {
            let roster = &roster;
            let read = |q: Period| crate::threads::start(scope, move || ws.load_quarter(rubric, &q, roster));
            let mut next = quarters.first().map(|&q| (q, read(q)));
            let load = |q: &Period, data: &mut Dataset| {
                let (sheets, read_warnings) = match next.take() {
                    Some((p, reading)) if p == *q => reading.join(),
                    _ => ws.load_quarter(rubric, q, roster),
                };
                next = quarters.iter().find(|&n| n > q).map(|&n| (n, read(n)));
                warnings.extend(read_warnings);
                stage(format!("scoring {q}"));
                sheets.map(|s| data.put(s))
            };
            engine::year_loading(&period, rubric, &data, data_dir, trail, load)
        })?;
        // The roster lives on in the results; what is left of the data goes with the process.
        std::mem::forget(data);
        (Report::Period(Box::new(year)), warnings)
    } else {
        let mut loaded = ws.load(rubric, &period)?;
        stage(format!("scoring {period}"));
        (engine::run_dropping_sheets(&period, rubric, &mut loaded.data, data_dir, trail)?, loaded.warnings)
    };
    drop(progress);
    ctx.workspace.on_file = None;
    ctx.workspace.on_encoding = None;
    drop(encodings);
    let engine_warnings = match &mut result {
        Report::Month(m) => &mut m.warnings,
        Report::Period(p) => &mut p.warnings,
    };
    warnings.append(engine_warnings);
    crate::error::sort(&mut warnings);
    warnings.dedup();
    engine_warnings.clone_from(&warnings);
    Ok((ctx, result, warnings))
}

/// Shows warnings on stderr, or with --strict fails on them before anything is written.
pub fn report_warnings(global: &Global, warnings: &[Problem]) -> Result<()> {
    if global.strict && !warnings.is_empty() {
        let mut problems = warnings.to_vec();
        problems.push(Problem::new("", "--strict: warnings are errors; nothing was written"));
        return Err(Error::Problems(problems));
    }
    if !global.quiet && !warnings.is_empty() {
        say_lines(warnings);
    }
    Ok(())
}

/// Writes each of `lines` on a line of standard error. Through one buffer: standard error is
/// unbuffered, and `eprintln!` made a system call per piece of each line (over 100,000 for the
/// 27,000 warnings of a generated company's year). Like `eprintln!`, but a closed standard
/// error is no reason to fail the command: the exit code still says what happened.
pub fn say_lines<T: std::fmt::Display>(lines: impl IntoIterator<Item = T>) {
    use std::io::Write;
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    for line in lines {
        if writeln!(stderr, "{line}").is_err() {
            return;
        }
    }
    let _ = stderr.flush();
}

/// Renders a report in the chosen format.
fn render(global: &Global, ctx: &Context, result: &Report) -> Result<Vec<u8>> {
    Ok(match global.format {
        Format::Table => report::table::render(result, ctx.lang).into_bytes(),
        Format::Json => report::json::render(result).into_bytes(),
        Format::Csv => {
            report::csv::write_report(result, csv_encoding(global)).map_err(|m| Error::one("csv output", m))?
        }
        Format::Xlsx => report::xlsx::report(result).map_err(|m| Error::one("xlsx output", m))?,
    })
}

/// CSV for a file opens in Excel/WPS without mojibake (a BOM); on standard output it is plain
/// UTF-8 for scripts; `--encoding` decides otherwise.
fn csv_encoding(global: &Global) -> Encoding {
    let default = if global.output.is_some() { Encoding::Utf8Bom } else { Encoding::Utf8 };
    global.encoding.unwrap_or(default)
}

/// A workbook is binary: it goes to a file, never to a terminal or a pipe (exit 2 before
/// any work is done).
pub fn require_output_for_xlsx(global: &Global) -> Result<()> {
    if global.format == Format::Xlsx && global.output.is_none() {
        return Err(Error::Usage("--format xlsx writes a workbook: name the file with --output FILE.xlsx".into()));
    }
    Ok(())
}

/// Writes to --output (atomically) or standard output through `write`, as it is made.
fn emit_streamed(global: &Global, write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> Result<()> {
    match &global.output {
        Some(path) => output::stream_to_file(path, write),
        None => output::stream_to_stdout(write),
    }
}

/// Writes bytes to --output (atomically) or standard output.
pub fn emit(global: &Global, bytes: &[u8]) -> Result<()> {
    match &global.output {
        Some(path) => output::to_file(path, bytes),
        None => output::to_stdout(bytes),
    }
}
