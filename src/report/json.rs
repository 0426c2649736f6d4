//! JSON output, field for field as SPEC § 6: scores as numbers with the rubric's decimals,
//! money as whole yuan, absent values as null.

use super::{plain, yuan};
use crate::engine::awards::{AwardLine, LineSource};
use crate::engine::quota::{Cut, TieAtCut};
use crate::engine::{MonthResult, PeriodResult, Report};
use crate::model::{format_fixed, PeriodKind};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{json, Map, Number, Value};
use std::str::FromStr;

fn number(text: &str) -> Value {
    Number::from_str(text).map(Value::Number).unwrap_or(Value::Null)
}

fn score(value: Option<Decimal>, decimals: u32) -> Value {
    value.map_or(Value::Null, |v| number(&format_fixed(v, decimals)))
}

fn money(value: Decimal) -> Value {
    number(&yuan(value))
}

fn decimal(value: Decimal) -> Value {
    number(&plain(value))
}

pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    write_to(report, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the report as pretty JSON to `out`, one person at a time: half a million people are
/// never one tree of JSON values. The bytes are exactly `serde_json::to_string_pretty` of the
/// whole report, and a newline.
pub fn write_to(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (top, people): (Value, Box<dyn Iterator<Item = Person<'_>> + '_>) = match report {
        Report::Month(m) => (month(m), Box::new(month_people(m).map(Person::Month))),
        Report::Period(p) => (period(p), Box::new(period_people(p).map(Person::Period))),
    };
    let text = serde_json::to_string_pretty(&top).map_err(std::io::Error::other)?;
    // The people go where the placeholder is: a JSON string cannot hold an unescaped quote, so
    // this key and value can only be the top-level `people` field.
    let placeholder = format!("\"people\": {}", serde_json::to_string(PEOPLE).map_err(std::io::Error::other)?);
    let (before, after) = text.split_once(&placeholder).expect("the top object has the people placeholder");
    out.write_all(before.as_bytes())?;
    out.write_all(b"\"people\": [")?;
    let mut person = Vec::new();
    let mut any = false;
    for value in people {
        out.write_all(if any { b",\n    " } else { b"\n    " })?;
        any = true;
        person.clear();
        serde_json::to_writer_pretty(&mut person, &value).map_err(std::io::Error::other)?;
        // Two levels deeper than on its own; a newline never occurs inside a JSON string.
        for (i, line) in person.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n    ")?;
            }
            out.write_all(line)?;
        }
    }
    out.write_all(if any { b"\n  ]" } else { b"]" })?;
    out.write_all(after.as_bytes())?;
    out.write_all(b"\n")
}

/// A person of any report, written as what it holds.
// One at a time, written at once: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum Person<'a> {
    Month(Value),
    Period(PeriodPerson<'a>),
}

/// Stands for the people in the top object until they are written one by one.
const PEOPLE: &str = "\u{1}people\u{1}";

fn month_people(m: &MonthResult) -> impl Iterator<Item = Value> + '_ {
    m.people.iter().map(|p| {
        let items: Map<String, Value> =
            p.entry.iter().flat_map(|e| e.items.iter()).map(|(name, v)| (name.to_string(), decimal(*v))).collect();
        json!({
            "id": p.id, "name": p.name, "unit": p.unit, "post": p.post,
            "points": p.entry.as_ref().map_or(Value::Null, |e| decimal(e.points)),
            "rank": p.rank,
            "items": items,
        })
    })
}

fn month(m: &MonthResult) -> Value {
    json!({
        "period": m.period.to_string(),
        "policy": m.policy,
        "people": PEOPLE,
        "mean": score(m.mean, m.decimals),
        "warnings": m.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
    })
}

fn tie(t: &Option<TieAtCut>) -> Value {
    t.as_ref().map_or(Value::Null, |t| json!({ "rank": t.rank, "ids": t.ids, "included": t.included }))
}

fn line(l: &AwardLine) -> Value {
    json!({
        "award": l.award,
        "source": match l.source { LineSource::District => "district", LineSource::City => "city" },
        "amount": money(l.amount),
        "paid": money(l.paid),
        "superseded_by": l.superseded_by,
        "group": l.group,
    })
}

fn cut_fields(c: &Cut) -> Value {
    json!({
        "share": decimal(c.share),
        "base": c.base,
        "candidates": c.candidates.len(),
    })
}

/// One person of a quarter or a year, in SPEC § 6's field order. A struct, not a tree of
/// values: half a million of them are written.
#[derive(Serialize)]
struct PeriodPerson<'a> {
    id: &'a str,
    name: &'a str,
    unit: &'a str,
    post: &'a str,
    management: bool,
    active_at_end: bool,
    vetoed: bool,
    veto_reason: Option<&'a str>,
    points: Value,
    kpi: Value,
    score: Value,
    rank: Option<u32>,
    training: bool,
    awards: Vec<Value>,
    payout: Value,
    #[serde(flatten)]
    year: Option<YearPerson<'a>>,
}

/// A person's fields that only a year has.
#[derive(Serialize)]
struct YearPerson<'a> {
    grade: Option<&'a str>,
    quarter_payouts: Map<String, Value>,
    year_payout: Value,
}

fn period_people(r: &PeriodResult) -> impl Iterator<Item = PeriodPerson<'_>> + '_ {
    let year = r.period.kind() == PeriodKind::Year;
    let d = r.decimals;
    r.people.iter().map(move |p| PeriodPerson {
        id: &p.person.id,
        name: &p.person.name,
        unit: &p.person.unit,
        post: &p.person.post,
        management: p.management,
        active_at_end: p.active_at_end,
        vetoed: p.veto.is_some(),
        veto_reason: p.veto.as_ref().map(|v| v.reason.as_str()),
        points: score(p.scored.points, d),
        kpi: score(p.scored.kpi, d),
        score: score(p.scored.score, d),
        rank: p.rank,
        training: p.training,
        awards: p.awards.iter().map(line).collect(),
        payout: money(p.payout),
        year: year.then(|| YearPerson {
            grade: p.grade.as_deref(),
            quarter_payouts: r.quarter_payouts(p).map(|(q, v)| (q.to_string(), money(v))).collect(),
            year_payout: r.year_payout(p).map_or(Value::Null, money),
        }),
    })
}

fn period(r: &PeriodResult) -> Value {
    let year = r.period.kind() == PeriodKind::Year;
    let awards: Vec<Value> = r
        .rules
        .iter()
        .map(|rule| {
            json!({
                "award": rule.key,
                "name": rule.name,
                "fired": rule.fired,
                "quota": rule.cut.as_ref().map(|c| c.quota),
                "recipients": rule.recipients,
                "paid": money(rule.paid),
                "staff_quota": rule.cut.as_ref().map(cut_fields),
                "tie": rule.cut.as_ref().map_or(Value::Null, |c| tie(&c.tie)),
            })
        })
        .collect();
    let training = r.training.as_ref().map_or(Value::Null, |t| {
        json!({
            "place": t.place,
            "share": decimal(t.share),
            "quota": t.cut.quota,
            "recipients": t.cut.taken,
            "base": t.cut.base,
            "tie": tie(&t.cut.tie),
        })
    });
    let mut out = json!({
        "period": r.period.to_string(),
        "policy": r.policy,
        "people": PEOPLE,
        "awards": awards,
        "training": training,
        "total_payout": money(r.total_payout),
    });
    let fields = out.as_object_mut().expect("object");
    if year {
        let grades: Map<String, Value> = r.grades.iter().map(|b| (b.name.clone(), json!(b.end - b.start))).collect();
        fields.insert("grades".into(), Value::Object(grades));
        let totals: Map<String, Value> = r.quarter_totals.iter().map(|(q, v)| (q.to_string(), money(*v))).collect();
        fields.insert("quarter_totals".into(), Value::Object(totals));
        fields.insert("year_total_payout".into(), r.year_total_payout.map_or(Value::Null, money));
    }
    fields.insert("warnings".into(), json!(r.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{MonthPerson, MonthResult};
    use crate::model::{MonthEntry, Period};

    /// The whole report as one tree, pretty-printed: what `write_to` must give byte for byte.
    fn as_one_tree(m: &MonthResult) -> String {
        let mut top = month(m);
        top["people"] = Value::Array(month_people(m).collect());
        serde_json::to_string_pretty(&top).unwrap() + "\n"
    }

    #[test]
    fn people_written_one_by_one_read_as_the_whole_tree() {
        let person = |id: &str, points: Option<i64>| MonthPerson {
            id: id.into(),
            name: "张\"伟\n".into(),
            unit: "营业厅".into(),
            post: "营业员".into(),
            entry: points.map(|p| MonthEntry { points: Decimal::from(p), items: Vec::new(), line: 2 }),
            rank: points.map(|_| 1),
        };
        let mut m = MonthResult {
            period: Period::parse("2009-05").unwrap(),
            file: None,
            policy: "policy \"people\": [".into(),
            decimals: 2,
            people: Vec::new(),
            mean: None,
            item_names: Vec::new(),
            warnings: Vec::new(),
        };
        assert_eq!(render(&Report::Month(m.clone())), as_one_tree(&m));
        m.people = vec![person("0001", Some(92)), person("0002", None)];
        assert_eq!(render(&Report::Month(m.clone())), as_one_tree(&m));
    }
}
