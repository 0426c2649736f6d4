//! `cs-score check [PERIOD]`: validates the rubric and every data file (or one period's),
//! runs the cross-file checks, and prints every problem as `file:line: message`.

use super::report::emit;
use super::{Format, Global};
use crate::engine;
use crate::error::{sort, Error, Problem, Result};
use crate::model::{Period, PeriodKind};
use crate::workspace::Workspace;
use serde_json::json;
use std::collections::BTreeSet;

pub fn run(global: &Global, within: Option<Period>) -> Result<()> {
    let workspace = Workspace::find(global.dir.as_deref())?;
    let (mut problems, mut warnings, files) = match workspace.rubric(global.rubric.as_deref()) {
        Err(Error::Problems(p)) => (p, Vec::new(), 0),
        Err(e) => return Err(e),
        Ok(rubric) => {
            let origin = global.rubric.as_ref().map_or(workspace.config.rubric.clone(), |p| p.display().to_string());
            match workspace.read(&rubric, within.as_ref()) {
                Err(Error::Problems(p)) => (p, Vec::new(), 1),
                Err(e) => return Err(e),
                Ok((data, found)) => {
                    let mut problems = found.problems;
                    let mut warnings = found.warnings;
                    if problems.is_empty() {
                        // The engine's own checks: missing rows under `missing_month`.
                        for q in quarters_to_check(&data, within.as_ref()) {
                            match engine::quarter_findings(&q, &rubric, &data, &workspace.config.data) {
                                Ok(w) => warnings.extend(w),
                                Err(p) => problems.extend(p),
                            }
                        }
                        if let Some(m @ Period::Month { .. }) = within {
                            warnings.extend(engine::month(&m, &rubric, &data, &workspace.config.data).warnings);
                        }
                    }
                    warnings.extend(crate::audit::cross_checks(&rubric, &origin, &data, within.as_ref()));
                    (problems, warnings, found.files)
                }
            }
        }
    };
    sort(&mut problems);
    problems.dedup();
    sort(&mut warnings);
    warnings.dedup();
    let mut summary = summary(problems.len(), warnings.len(), files);
    if global.strict && problems.is_empty() && !warnings.is_empty() {
        summary.push_str("; --strict: warnings count as errors");
    }
    let failed = !problems.is_empty() || (global.strict && !warnings.is_empty());
    let text = match global.format {
        Format::Json => {
            let list = |v: &[Problem]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
            let value = json!({
                "period": within.map(|p| p.to_string()),
                "errors": list(&problems),
                "warnings": list(&warnings),
                "files": files,
                "ok": !failed,
            });
            serde_json::to_string_pretty(&value).expect("JSON values always serialise") + "\n"
        }
        _ => {
            let shown = warnings.iter().filter(|_| !global.quiet);
            let mut all: Vec<Problem> = problems.iter().chain(shown).cloned().collect();
            sort(&mut all);
            let mut out: String = all.iter().map(|p| format!("{p}\n")).collect();
            out.push_str(&summary);
            out.push('\n');
            out
        }
    };
    emit(global, text.as_bytes())?;
    if failed {
        // The lines are already printed; exit 1 without repeating them.
        return Err(Error::Problems(Vec::new()));
    }
    Ok(())
}

fn summary(errors: usize, warnings: usize, files: usize) -> String {
    match (errors, warnings) {
        (0, 0) => format!("check: no problems in {files} files"),
        _ => format!("check: {errors} error(s), {warnings} warning(s) in {files} files"),
    }
}

/// The quarters whose scores to try: the period's, or every quarter with a points or KPI file.
fn quarters_to_check(data: &crate::model::Dataset, within: Option<&Period>) -> Vec<Period> {
    match within {
        Some(p) if p.kind() == PeriodKind::Month => Vec::new(),
        Some(p) => p.quarters(),
        None => {
            let months = data.points.keys().chain(data.kpi_monthly.keys()).chain(data.kpi_quarterly.keys());
            months.flat_map(|p| p.quarters()).collect::<BTreeSet<_>>().into_iter().collect()
        }
    }
}
