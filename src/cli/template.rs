//! `cs-score template KIND PERIOD`: a fill-in sheet with the roster already in it — for
//! points and KPI the people active in the period (id, name, unit, post) and the empty
//! columns to fill; for the roster, everyone on it. CSV (guarded, UTF-8 with a BOM in a file,
//! `--encoding` honoured) or an XLSX workbook (`report::xlsx`, shared with the reports) whose
//! number columns only accept a number from 0 to the rubric's maximum.

use super::report::{emit, require_output_for_xlsx};
use super::{Context, Format, Global, Kind};
use crate::error::{Error, Result};
use crate::model::{Period, PeriodKind, Person};
use crate::report::csv::{Cell, Encoding, Flat};
use crate::report::xlsx::{ColumnSpec, Sheet};
use crate::report::{self, Lang};
use crate::rubric::Rubric;
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::sync::Arc;

pub fn run(global: &Global, kind: Kind, period: Option<&str>) -> Result<()> {
    require_output_for_xlsx(global)?;
    if global.format == Format::Json {
        return Err(Error::Usage("a template is a CSV file or a workbook: --format csv or --format xlsx".into()));
    }
    let xlsx = global.format == Format::Xlsx;
    let period = period.map(Period::parse).transpose().map_err(Error::Usage)?;
    let months: Vec<Period> = match (kind, period) {
        (Kind::Roster, _) => Vec::new(),
        (Kind::Points | Kind::Kpi, None) => {
            return Err(Error::Usage(format!("which period? `cs-score template {} YYYY-MM`", kind.name())));
        }
        (Kind::Points, Some(p)) if p.kind() == PeriodKind::Month => vec![p],
        (Kind::Points, Some(p)) if p.kind() == PeriodKind::Quarter && xlsx => p.months(),
        (Kind::Points, Some(p)) => {
            return Err(Error::Usage(format!(
                "{p}: a points sheet is for one month (YYYY-MM); for a quarter's three months in one workbook add --format xlsx --output FILE.xlsx"
            )));
        }
        (Kind::Kpi, Some(p)) if p.kind() != PeriodKind::Year => vec![p],
        (Kind::Kpi, Some(p)) => {
            return Err(Error::Usage(format!("{p}: a KPI sheet is for a month (YYYY-MM) or a quarter (YYYYQn)")));
        }
        (other, _) => {
            return Err(Error::Usage(format!(
                "there is no {} template: templates are for roster, points and kpi (for {} rows, write them in a sheet and `cs-score ingest {} FILE`)",
                other.name(),
                other.name(),
                other.name()
            )));
        }
    };
    let ctx = Context::resolve(global)?;
    // Only the roster matters here; problems in other files do not stop a template.
    let (data, _) = ctx.workspace.read(&ctx.rubric, None)?;
    let people = &data.roster.people;
    let sheets: Vec<Sheet> = match kind {
        Kind::Roster => vec![roster_sheet(people, ctx.lang)],
        Kind::Points => months.iter().map(|m| points_sheet(m, people, &ctx.rubric, ctx.lang)).collect(),
        _ => months.iter().map(|p| kpi_sheet(p, people, &ctx.rubric, ctx.lang)).collect(),
    };
    let bytes = if xlsx {
        report::xlsx::write(&sheets).map_err(|m| Error::one("xlsx output", m))?
    } else {
        let default = if global.output.is_some() { Encoding::Utf8Bom } else { Encoding::Utf8 };
        let flat = sheets.first().map(|s| &s.flat).ok_or_else(|| Error::one("", "no sheet to write"))?;
        report::csv::write(flat, global.encoding.unwrap_or(default)).map_err(|m| Error::one("csv output", m))?
    };
    emit(global, &bytes)?;
    if !global.quiet {
        let whom = match period.filter(|_| kind != Kind::Roster) {
            Some(p) => format!("{} people active in {p}", people.iter().filter(|x| x.active_in(&p)).count()),
            None => format!("{} people on the roster", people.len()),
        };
        eprintln!("template: {whom}; fill it in, then `cs-score ingest {} FILE`", kind.name());
    }
    Ok(())
}

/// A header in the user's language; every label is an alias the reader accepts.
fn label(lang: Lang, name: &str) -> String {
    let zh = match name {
        "id" => "工号",
        "name" => "姓名",
        "unit" => "单位",
        "post" => "岗位",
        "points" => "积分",
        "note" => "备注",
        "kpi" => "绩效",
        "joined" => "入职日期",
        "left" => "离职日期",
        other => other,
    };
    lang.pick(zh, name).to_string()
}

/// The four columns every sheet starts with, and the people's rows of them.
fn people_columns(people: &[&Person], lang: Lang) -> (Vec<String>, Vec<Vec<Cell<'static>>>, Vec<ColumnSpec>) {
    let headers = ["id", "name", "unit", "post"].iter().map(|h| label(lang, h)).collect();
    let rows = people
        .iter()
        .map(|p| {
            vec![
                Cell::text(p.id.to_string()),
                Cell::text(p.name.to_string()),
                Cell::text(p.unit.to_string()),
                Cell::text(p.post.to_string()),
            ]
        })
        .collect();
    let mut specs = vec![ColumnSpec::default(); 4];
    specs[0].id = true;
    (headers, rows, specs)
}

/// A month's points sheet: the item columns of the listed people's post tables (greyed for
/// those whose table lacks the item), then `points` (the total, for people given one
/// number) and `note`.
fn points_sheet(month: &Period, everyone: &[Arc<Person>], rubric: &Rubric, lang: Lang) -> Sheet<'static> {
    let people: Vec<&Person> = everyone.iter().map(|p| &**p).filter(|p| p.active_in(month)).collect();
    let tables: Vec<_> = people.iter().map(|p| rubric.table_for(&p.post)).collect();
    let items: Vec<(String, Decimal)> = rubric
        .item_names()
        .into_iter()
        .filter_map(|name| {
            let max =
                tables.iter().flatten().flat_map(|t| t.all_items()).filter(|i| i.name == name).map(|i| i.max).max();
            max.map(|m| (name, m))
        })
        .collect();
    let (mut headers, mut rows, mut columns) = people_columns(&people, lang);
    let mut shaded = HashSet::new();
    for (name, max) in &items {
        headers.push(name.clone());
        columns.push(ColumnSpec { id: false, max: Some(*max) });
    }
    let ceiling = people.iter().map(|p| rubric.points_ceiling(&p.post)).max().unwrap_or(rubric.points.max);
    headers.push(label(lang, "points"));
    columns.push(ColumnSpec { id: false, max: Some(ceiling) });
    headers.push(label(lang, "note"));
    for (i, row) in rows.iter_mut().enumerate() {
        for (j, (name, _)) in items.iter().enumerate() {
            if !tables[i].is_some_and(|t| t.all_items().any(|item| &item.name == name)) {
                shaded.insert((i, 4 + j));
            }
            row.push(Cell::Empty);
        }
        row.extend([Cell::Empty, Cell::Empty]);
    }
    Sheet { name: month.to_string(), flat: Flat { headers, rows }, columns, shaded }
}

/// A KPI sheet for a month or a quarter.
fn kpi_sheet(period: &Period, everyone: &[Arc<Person>], rubric: &Rubric, lang: Lang) -> Sheet<'static> {
    let people: Vec<&Person> = everyone.iter().map(|p| &**p).filter(|p| p.active_in(period)).collect();
    let (mut headers, mut rows, mut columns) = people_columns(&people, lang);
    headers.push(label(lang, "kpi"));
    columns.push(ColumnSpec { id: false, max: Some(rubric.kpi_max) });
    for row in &mut rows {
        row.push(Cell::Empty);
    }
    Sheet { name: period.to_string(), flat: Flat { headers, rows }, columns, shaded: HashSet::new() }
}

/// The roster as it is, everyone on it: a person left out would be dropped on re-import,
/// and earlier periods still need them.
fn roster_sheet(everyone: &[Arc<Person>], lang: Lang) -> Sheet<'static> {
    let people: Vec<&Person> = everyone.iter().map(|p| &**p).collect();
    let (mut headers, mut rows, columns) = people_columns(&people, lang);
    headers.extend([label(lang, "joined"), label(lang, "left")]);
    for (row, p) in rows.iter_mut().zip(&people) {
        let date = |d: Option<chrono::NaiveDate>| d.map_or(Cell::Empty, |d| Cell::text(d.to_string()));
        row.extend([date(p.joined), date(p.left)]);
    }
    Sheet { name: "roster".into(), flat: Flat { headers, rows }, columns, shaded: HashSet::new() }
}
