//! `cs-score check [PERIOD]`: validates the rubric and every data file (or one period's),
//! runs the cross-file checks, and prints every problem as `file:line: message` on standard
//! error, then a summary on standard output.

use super::report::emit;
use super::{Format, Global};
use crate::engine;
use crate::error::{sort, Error, Problem, Result};
use crate::model::Period;
use crate::workspace::Workspace;
use serde_json::json;

pub fn run(global: &Global, within: Option<Period>) -> Result<()> {
    // A usage error is found before any file is read: the problems are a list, not a table
    // a spreadsheet would take.
    if !matches!(global.format, Format::Table | Format::Json) {
        return Err(Error::Usage(format!("check prints table or json, not {:?}", global.format).to_lowercase()));
    }
    let mut workspace = Workspace::find(global.dir.as_deref())?;
    let encodings = super::Encodings::new(global);
    workspace.on_encoding = encodings.as_ref().map(super::Encodings::hook);
    let (mut problems, mut warnings, files) = match workspace.rubric(global.rubric.as_deref()) {
        Err(Error::Problems(p)) => (p, Vec::new(), 0),
        Err(e) => return Err(e),
        Ok(rubric) => {
            let origin = global.rubric.as_ref().map_or(workspace.config.rubric.clone(), |p| p.display().to_string());
            let data_dir = &workspace.config.data;
            // The engine's own checks (missing rows under `missing_month`): shown only when no
            // file has a problem.
            let mut engine_findings: Vec<std::result::Result<Vec<Problem>, Vec<Problem>>> = Vec::new();
            let read = match within {
                Some(month @ Period::Month { .. }) => workspace.read(&rubric, Some(&month)).inspect(|(data, found)| {
                    if found.problems.is_empty() {
                        engine_findings.push(Ok(engine::month(&month, &rubric, data, data_dir).warnings));
                    }
                }),
                // A quarter's files at a time, as `year` reads them: a company's whole data
                // folder is never held at once.
                _ => workspace.read_by_quarter(&rubric, within.as_ref(), |quarter, data, found| {
                    if found.problems.is_empty() {
                        engine_findings.push(engine::quarter_findings(quarter, &rubric, data, data_dir));
                    }
                }),
            };
            match read {
                Err(Error::Problems(p)) => (p, Vec::new(), 1),
                Err(e) => return Err(e),
                Ok((data, found)) => {
                    let mut problems = found.problems;
                    let mut warnings = found.warnings;
                    if problems.is_empty() {
                        for findings in engine_findings {
                            match findings {
                                Ok(w) => warnings.extend(w),
                                Err(p) => problems.extend(p),
                            }
                        }
                    }
                    warnings.extend(crate::audit::cross_checks(&rubric, &origin, &data, within.as_ref()));
                    (problems, warnings, found.files)
                }
            }
        }
    };
    drop(encodings);
    sort(&mut problems);
    problems.dedup();
    sort(&mut warnings);
    warnings.dedup();
    let mut summary = summary(problems.len(), warnings.len(), files);
    if global.strict && problems.is_empty() && !warnings.is_empty() {
        summary.push_str("; --strict: warnings count as errors");
    }
    let failed = !problems.is_empty() || (global.strict && !warnings.is_empty());
    // The problems are errors and warnings, which go to standard error (SPEC §5) in every
    // format, as every other command's do; what is written to standard output (or --output)
    // is the report: the JSON, or the summary (a file asked for holds the lines too).
    let shown = warnings.iter().filter(|_| !global.quiet);
    let mut all: Vec<Problem> = problems.iter().chain(shown).cloned().collect();
    sort(&mut all);
    super::report::say_lines(&all);
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
        _ if global.output.is_some() => all.iter().map(|p| format!("{p}\n")).collect::<String>() + &summary + "\n",
        _ => format!("{summary}\n"),
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
