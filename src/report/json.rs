//! JSON output, field for field as SPEC § 6: scores as numbers with the rubric's decimals,
//! money as whole yuan, absent values as null.

use super::{plain, yuan};
use crate::engine::awards::{AwardLine, LineSource};
use crate::engine::quota::{Cut, TieAtCut};
use crate::engine::{MonthResult, PeriodResult, Report};
use crate::model::{format_fixed, PeriodKind};
use rust_decimal::Decimal;
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
    let value = match report {
        Report::Month(m) => month(m),
        Report::Period(p) => period(p),
    };
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values always serialise");
    text.push('\n');
    text
}

fn month(m: &MonthResult) -> Value {
    let people: Vec<Value> = m
        .people
        .iter()
        .map(|p| {
            let items: Map<String, Value> =
                p.entry.iter().flat_map(|e| e.items.iter()).map(|(name, v)| (name.to_string(), decimal(*v))).collect();
            json!({
                "id": p.id, "name": p.name, "unit": p.unit, "post": p.post,
                "points": p.entry.as_ref().map_or(Value::Null, |e| decimal(e.points)),
                "rank": p.rank,
                "items": items,
            })
        })
        .collect();
    json!({
        "period": m.period.to_string(),
        "policy": m.policy,
        "people": people,
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

fn period(r: &PeriodResult) -> Value {
    let year = r.period.kind() == PeriodKind::Year;
    let d = r.decimals;
    let people: Vec<Value> = r
        .people
        .iter()
        .map(|p| {
            let mut o = json!({
                "id": p.person.id, "name": p.person.name, "unit": p.person.unit, "post": p.person.post,
                "management": p.management,
                "active_at_end": p.active_at_end,
                "vetoed": p.veto.is_some(),
                "veto_reason": p.veto.as_ref().map(|v| v.reason.clone()),
                "points": score(p.scored.points, d),
                "kpi": score(p.scored.kpi, d),
                "score": score(p.scored.score, d),
                "rank": p.rank,
                "training": p.training,
                "awards": p.awards.iter().map(line).collect::<Vec<_>>(),
                "payout": money(p.payout),
            });
            if year {
                let fields = o.as_object_mut().expect("object");
                fields.insert("grade".into(), json!(p.grade));
                let quarters: Map<String, Value> =
                    p.quarter_payouts.iter().map(|(q, v)| (q.to_string(), money(*v))).collect();
                fields.insert("quarter_payouts".into(), Value::Object(quarters));
                fields.insert("year_payout".into(), p.year_payout.map_or(Value::Null, money));
            }
            o
        })
        .collect();
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
        "people": people,
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
