//! `month`, `quarter` and `year`: one pipeline — resolve, load the period's files, run the
//! engine, render in the chosen format, write.

use super::{output, Context, Format, Global};
use crate::engine::{self, Report};
use crate::error::{Error, Problem, Result};
use crate::model::Period;
use crate::report::{self, csv::Encoding};

pub fn run(global: &Global, period: Period) -> Result<()> {
    let ctx = Context::resolve(global)?;
    let loaded = ctx.workspace.load(&ctx.rubric, &period)?;
    let mut result = engine::run(
        &period,
        &ctx.rubric,
        &loaded.data,
        &ctx.workspace.config.data,
    )?;
    let mut warnings = ctx.warnings.clone();
    warnings.extend(loaded.warnings);
    match &mut result {
        Report::Month(m) => {
            warnings.append(&mut m.warnings);
            m.warnings = warnings.clone();
        }
        Report::Period(p) => {
            warnings.append(&mut p.warnings);
            p.warnings = warnings.clone();
        }
    }
    finish(global, &ctx, &result, &warnings)
}

/// Shows warnings (or, with --strict, fails on them), then renders and writes the report.
pub fn finish(global: &Global, ctx: &Context, result: &Report, warnings: &[Problem]) -> Result<()> {
    if global.strict && !warnings.is_empty() {
        let mut problems = warnings.to_vec();
        problems.push(Problem::new(
            "",
            "--strict: warnings are errors; nothing was written",
        ));
        return Err(Error::Problems(problems));
    }
    if !global.quiet {
        for w in warnings {
            eprintln!("{w}");
        }
    }
    let bytes = match global.format {
        Format::Table => report::table::render(result, ctx.lang).into_bytes(),
        Format::Json => report::json::render(result).into_bytes(),
        Format::Csv => {
            let default = if global.output.is_some() {
                Encoding::Utf8Bom
            } else {
                Encoding::Utf8
            };
            report::csv::write(
                &report::csv::flatten(result),
                global.encoding.unwrap_or(default),
            )
            .map_err(|m| Error::one("csv output", m))?
        }
        Format::Xlsx => {
            return Err(Error::Usage(
                "--format xlsx is not available for this command yet".into(),
            ))
        }
    };
    match &global.output {
        Some(path) => output::to_file(path, &bytes),
        None => output::to_stdout(&bytes),
    }
}
