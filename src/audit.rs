//! Cross-file checks behind `cs-score check`: things no single file shows — an event name
//! no rule uses, a scope that matches no unit, a quota that rounds to zero, weights that do
//! not add up. Pure: rubric and data in, warnings out.

use crate::engine::quota;
use crate::error::{did_you_mean, Problem};
use crate::model::{Dataset, EventRow, Period, PeriodKind};
use crate::rubric::{QuotaBase, Rubric, Scope};
use rust_decimal::Decimal;
use std::collections::BTreeSet;

fn warn(location: String, message: String) -> Problem {
    Problem::new(location, format!("warning: {message}"))
}

/// Every cross-file warning. `origin` names the rubric in messages; `within` is the period
/// being checked (its end decides who is active), or `None` for "as of now" (no leaving date).
pub fn cross_checks(rubric: &Rubric, origin: &str, data: &Dataset, within: Option<&Period>) -> Vec<Problem> {
    let mut out = Vec::new();
    let at = |key: &str| format!("{origin}: {key}");

    let weights = rubric.score.points_weight + rubric.score.kpi_weight;
    if weights != Decimal::ONE {
        out.push(warn(
            at("score.points_weight"),
            format!("points_weight + kpi_weight = {weights}, not 1: scores leave the 100-point scale; make them add up to 1"),
        ));
    }
    for (i, table) in rubric.points.tables.iter().enumerate() {
        let sum: Decimal = table.items.iter().map(|item| item.max).sum();
        if sum != rubric.points.max {
            out.push(warn(
                at(&format!("points.table[{}].items", i + 1)),
                format!(
                    "the item maxima of the {} table add up to {sum}, not points.max = {}: adjust the items or points.max",
                    table.posts.join("/"),
                    rubric.points.max
                ),
            ));
        }
    }

    let units: BTreeSet<&str> = data.roster.people.iter().map(|p| p.unit.as_ref()).collect();
    let mut scopes: Vec<(String, &Scope)> = Vec::new();
    for rule in &rubric.awards {
        if let Some(m) = &rule.management {
            scopes.push((format!("award {}.management_scope", rule.key), &m.scope));
        }
        if let Some(s) = &rule.staff {
            scopes.push((format!("award {}.staff_scope", rule.key), &s.scope));
        }
    }
    if let Some(t) = &rubric.training {
        scopes.push(("training.scope".to_string(), &t.scope));
    }
    for (key, scope) in &scopes {
        for unit in &scope.0 {
            if *unit != rubric.department && !units.contains(unit.as_str()) {
                let hint = did_you_mean(unit, units.iter().copied())
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default();
                out.push(warn(at(key), format!("scope \"{unit}\" matches no unit on the roster{hint}")));
            }
        }
    }

    // Who counts for a quota: active at the end of the period checked, or still employed.
    let active = |p: &crate::model::Person| match within {
        Some(period) => p.active_at_end(period),
        None => p.left.is_none(),
    };
    for rule in &rubric.awards {
        let Some(staff) = &rule.staff else { continue };
        let in_scope =
            data.roster.people.iter().filter(|p| active(p) && staff.scope.includes(&p.unit, &rubric.department));
        let base = match rubric.quota.base {
            QuotaBase::Headcount => in_scope.count(),
            QuotaBase::Staff | QuotaBase::Eligible => in_scope.filter(|p| !rubric.is_management(&p.post)).count(),
        };
        let (product, places) = quota::quota(staff.share, base, rubric.quota.rounding);
        if places == 0 && !staff.share.is_zero() {
            out.push(warn(
                at(&format!("award {}.staff_share", rule.key)),
                format!(
                    "{} × {base} = {} rounds to 0 places ({}): the staff part can never pay",
                    staff.share.normalize(),
                    product.normalize(),
                    rubric.quota.rounding.name()
                ),
            ));
        }
    }

    let known: BTreeSet<&str> = rubric
        .awards
        .iter()
        .map(|a| a.event.as_str())
        .chain(rubric.training.iter().map(|t| t.event.as_str()))
        .collect();
    for row in &data.events {
        if within.is_some_and(|w| !w.contains(&row.period) && !row.period.contains(w)) {
            continue;
        }
        if !known.contains(row.event.as_str()) {
            let hint = match did_you_mean(&row.event, known.iter().copied()) {
                Some(near) => format!("did you mean \"{near}\"?"),
                None => format!("known events: {}", known.iter().copied().collect::<Vec<_>>().join(", ")),
            };
            out.push(warn(
                row.source.to_string(),
                format!("event \"{}\" is used by no rule or training table: {hint}", row.event),
            ));
        }
        // The training table takes the department's place from the best rank among a quarter's
        // rows (the quarter's own, or its months'): when none of them has one, the quarter has
        // no training slots. A year's row is no quarter's.
        if let Some(t) = rubric.training.as_ref().filter(|t| t.event == row.event && t.unit == row.unit) {
            let trains = |r: &EventRow| r.event == t.event && r.unit == t.unit;
            let quarter = (row.period.kind() != PeriodKind::Year).then(|| row.period.quarters()[0]);
            let ranked_in_quarter =
                |q: Period| data.events.iter().any(|r| trains(r) && r.rank.is_some() && q.contains(&r.period));
            if row.rank.is_none() && quarter.is_some_and(|q| !ranked_in_quarter(q)) {
                out.push(warn(
                    row.source.to_string(),
                    format!(
                        "column rank: is blank: the training table takes {}'s place in \"{}\" from it; give the place (1, 2, 3 …)",
                        t.unit, t.event
                    ),
                ));
            }
        }
    }
    out
}
