//! `cs-score explain PERIOD ID`: the steps behind one person's numbers, as text or JSON.

use super::report::{compute, emit, report_warnings};
use super::{Format, Global};
use crate::error::{Error, Result};
use crate::model::Period;
use crate::report::explain;

pub fn run(global: &Global, period: Period, id: &str) -> Result<()> {
    // A usage error is found before any file is read.
    if !matches!(global.format, Format::Table | Format::Json) {
        return Err(Error::Usage(format!("explain prints table or json, not {:?}", global.format).to_lowercase()));
    }
    let (ctx, result, warnings) = compute(global, period, crate::engine::Trail::Of(id.trim()))?;
    let explanation = explain::explain(&result, &ctx.rubric, id.trim(), ctx.lang).ok_or_else(|| {
        Error::one(
            "",
            format!(
                "{id} is not in the {period} results: not on the roster or not active then (check {})",
                ctx.workspace.display("roster.csv")
            ),
        )
    })?;
    report_warnings(global, &warnings)?;
    let text = match global.format {
        Format::Json => explain::render_json(&explanation),
        _ => explain::render_text(&explanation, ctx.lang),
    };
    emit(global, text.as_bytes())
}
