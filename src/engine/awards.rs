//! Award rules, training slots and the highest-award-only netting (就高不就低).
//! Pure functions over ranked people and the period's event rows.

use super::quota::{self, Candidate, Cut};
use crate::model::{CityAwardRow, EventRow, Period, PeriodKind, Person, Source};
use crate::rubric::{AwardRule, CityNetting, QuotaBase, Rubric, Scope};
use crate::threads;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Who a person is for the award machinery, in ranking order.
#[derive(Debug, Clone)]
pub struct Standing<'a> {
    pub person: &'a Arc<Person>,
    /// The person's unit (kept here: the rules test it for everyone).
    pub unit: &'a str,
    pub management: bool,
    pub active_at_end: bool,
    pub vetoed: bool,
    /// `Some` when the person is ranked (scored) this period.
    pub rank: Option<u32>,
}

// A one-line list (most people's) fits the allocator's 128-byte class (see `superseded_by`).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<AwardLine>() <= 128);

/// Whether a line comes from a district rule or from the city company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSource {
    District,
    City,
}

/// The part of a rule a line pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Management,
    Staff,
    City,
}

/// One award line for one person.
#[derive(Debug, Clone, PartialEq)]
pub struct AwardLine {
    /// The rule key, or the city award's name. Shared by every line of a rule (a rule can
    /// pay a hundred thousand people).
    pub award: Arc<str>,
    pub name: Arc<str>,
    pub source: LineSource,
    pub part: Part,
    pub group: Option<Arc<str>>,
    pub amount: Decimal,
    /// What the district pays on this line after netting.
    pub paid: Decimal,
    /// The award that took this line's place (shared with that award's lines; a company's
    /// year has a few hundred thousand lines, and 8 bytes less each makes a one-line list fit
    /// the allocator's 128-byte class instead of 160).
    pub superseded_by: Option<Arc<str>>,
    /// The event or city-award row behind the line.
    pub origin: Source,
}

/// What one rule did this period.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    pub key: String,
    pub name: String,
    pub fired: usize,
    /// The event rows that fired it.
    pub rows: Vec<Source>,
    /// The staff part's quota and cut, when the rule has a staff part and fired.
    pub cut: Option<Cut>,
    pub recipients: usize,
    pub paid: Decimal,
}

/// The training slots of a quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingOutcome {
    pub place: u32,
    pub row: Source,
    pub share: Decimal,
    pub cut: Cut,
}

/// Rows of a period: a quarter takes its own rows and its months'; a year only its own.
pub fn in_period(result: &Period, row: &Period) -> bool {
    match result.kind() {
        PeriodKind::Year => row == result,
        _ => result.contains(row),
    }
}

/// Whether a person of a unit is in `scope` (see `Scope::includes_in`).
fn in_scope<'s>(scope: &'s Scope, rubric: &Rubric) -> impl Fn(&str) -> bool + 's {
    scope.includes_in(&rubric.department)
}

/// The base a quota is taken of (SPEC § 4 "Awards").
fn base(kind: QuotaBase, people: &[Standing], scope: &Scope, candidates: usize, rubric: &Rubric) -> usize {
    let in_scope = in_scope(scope, rubric);
    let at_end = people.iter().filter(|p| p.active_at_end && in_scope(p.unit));
    match kind {
        QuotaBase::Headcount => at_end.count(),
        QuotaBase::Staff => at_end.filter(|p| !p.management).count(),
        QuotaBase::Eligible => candidates,
    }
}

/// Ranked candidates in scope, active at end, not vetoed (and, when `staff_only`, not
/// management), in ranking order — `people` is already in ranking order.
fn candidates(people: &[Standing], scope: &Scope, staff_only: bool, rubric: &Rubric) -> Vec<Candidate> {
    let in_scope = in_scope(scope, rubric);
    people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.active_at_end && !p.vetoed && !(staff_only && p.management) && in_scope(p.unit))
        .filter_map(|(place, p)| p.rank.map(|rank| Candidate { place, rank }))
        .collect()
}

/// The id of the person at a place in the standings.
pub fn id_at<'a>(people: &'a [Standing<'a>]) -> impl Fn(usize) -> String + 'a {
    |place| people[place].person.id.to_string()
}

/// Fires every rule of the period's kind; returns the outcomes and, per person index in
/// `people`, the district lines (not yet netted).
pub fn fire_rules(
    period: &Period,
    rubric: &Rubric,
    people: &[Standing],
    events: &[EventRow],
) -> (Vec<RuleOutcome>, Vec<Vec<AwardLine>>) {
    let mut lines: Vec<Vec<AwardLine>> = vec![Vec::new(); people.len()];
    let mut outcomes = Vec::new();
    for rule in rubric.awards.iter().filter(|r| r.period == period.kind()) {
        let rows: Vec<&EventRow> = events.iter().filter(|e| fires(rule, period, e)).collect();
        let fired = match (rows.len(), rule.repeat) {
            (0, _) => 0,
            (_, crate::rubric::Repeat::Once) => 1,
            (n, crate::rubric::Repeat::PerOccurrence) => n,
        };
        let cut = rule.staff.as_ref().filter(|_| fired > 0).map(|staff| {
            let c = candidates(people, &staff.scope, true, rubric);
            let b = base(rubric.quota.base, people, &staff.scope, c.len(), rubric);
            let (rounding, ties) = (rubric.quota.rounding, rubric.quota.ties);
            quota::select(c, staff.share, rubric.quota.base, b, rounding, ties, &id_at(people))
        });
        let origins: Vec<&Source> = (0..fired).map(|firing| &rows[firing.min(rows.len() - 1)].source).collect();
        let management = rule.management.as_ref().map(|m| (m, in_scope(&m.scope, rubric)));
        let staff = rule.staff.as_ref().zip(cut.as_ref());
        // Each person's lines are their own: a long listing's are made in two halves, the
        // second on another thread. Each half has its own copies of the rule's names and the
        // rows' files, which every line shares: copies shared by both had each line wait on
        // the other thread for its count of sharers.
        let recipients = threads::halves_mut(&mut lines, super::TWO_THREADS_FROM, |places, lines| {
            let (key, name): (Arc<str>, Arc<str>) = (rule.key.as_str().into(), rule.name.as_str().into());
            let group: Option<Arc<str>> = rule.group.as_deref().map(Arc::from);
            // Who in this half got a line of this rule (a rule can pay half the company).
            let mut recipient = vec![false; places.len()];
            for origin in &origins {
                let origin = Source { file: Arc::from(&*origin.file), line: origin.line };
                let line = |part: Part, amount: Decimal| AwardLine {
                    award: key.clone(),
                    name: name.clone(),
                    source: LineSource::District,
                    part,
                    group: group.clone(),
                    amount,
                    paid: amount,
                    superseded_by: None,
                    origin: origin.clone(),
                };
                if let Some((m, in_scope)) = &management {
                    for (k, p) in people[places.clone()].iter().enumerate() {
                        if p.management && p.active_at_end && !p.vetoed && in_scope(p.unit) {
                            add_line(&mut lines[k], line(Part::Management, m.amount));
                            recipient[k] = true;
                        }
                    }
                }
                if let Some((staff, cut)) = staff {
                    for k in cut.taken_places().filter(|i| places.contains(i)).map(|i| i - places.start) {
                        add_line(&mut lines[k], line(Part::Staff, staff.amount));
                        recipient[k] = true;
                    }
                }
            }
            recipient.iter().filter(|&&r| r).count()
        });
        outcomes.push(RuleOutcome {
            key: rule.key.clone(),
            name: rule.name.clone(),
            fired,
            rows: rows.iter().map(|r| r.source.clone()).collect(),
            cut,
            recipients: recipients.iter().sum(),
            paid: Decimal::ZERO,
        });
    }
    (outcomes, lines)
}

/// Adds a line to a person's list. Most people get one line at most: the first gets a list
/// with room for one, not the four a push would make room for.
fn add_line(lines: &mut Vec<AwardLine>, line: AwardLine) {
    if lines.capacity() == 0 {
        lines.reserve_exact(1);
    }
    lines.push(line);
}

fn fires(rule: &AwardRule, period: &Period, row: &EventRow) -> bool {
    in_period(period, &row.period)
        && row.event == rule.event
        && rule.unit.as_ref().is_none_or(|u| *u == row.unit)
        && rule.rank_at_most.is_none_or(|max| row.rank.is_some_and(|r| r <= max))
}

/// The quarter's training slots: the department's best place among the training event's
/// rows decides the share; `None` when there is no such row.
pub fn training(period: &Period, rubric: &Rubric, people: &[Standing], events: &[EventRow]) -> Option<TrainingOutcome> {
    let t = rubric.training.as_ref()?;
    if period.kind() != PeriodKind::Quarter {
        return None;
    }
    let best = events
        .iter()
        .filter(|e| in_period(period, &e.period) && e.event == t.event && e.unit == t.unit)
        .filter_map(|e| e.rank.map(|r| (r, e)))
        .min_by_key(|(r, _)| *r)?;
    let place = best.0;
    let share = t.shares.get(place as usize - 1).copied().unwrap_or(Decimal::ZERO);
    let c = candidates(people, &t.scope, false, rubric);
    let b = base(rubric.quota.base, people, &t.scope, c.len(), rubric);
    let (rounding, ties) = (rubric.quota.rounding, rubric.quota.ties);
    let cut = quota::select(c, share, rubric.quota.base, b, rounding, ties, &id_at(people));
    Some(TrainingOutcome { place, row: best.1.source.clone(), share, cut })
}

/// The city company's lines for a person, from their rows of the period.
pub fn city_lines(rows: &[&CityAwardRow]) -> Vec<AwardLine> {
    let mut lines: Vec<AwardLine> = rows
        .iter()
        .map(|r| AwardLine {
            award: r.award.as_str().into(),
            name: r.award.as_str().into(),
            source: LineSource::City,
            part: Part::City,
            group: Some(r.group.as_str().into()),
            amount: r.amount,
            paid: Decimal::ZERO,
            superseded_by: None,
            origin: r.source.clone(),
        })
        .collect();
    // Listed by the city's own terms, not by row order in the file.
    lines.sort_by(|a, b| (&a.group, &a.award, a.amount).cmp(&(&b.group, &b.award, b.amount)));
    lines
}

/// Highest award only (就高不就低): within each group the highest district line `D` (the
/// earliest on equal amounts) is netted against the highest city line `C`; every other
/// district line in the group pays 0 and names what superseded it. Lines without a group
/// are paid in full; city lines are never paid by the district.
pub fn net(lines: &mut [AwardLine], netting: CityNetting) {
    // Each group at its first line, found by index: this runs for every person with an award
    // line (300,000 in a company's year), on two threads, so it neither allocates nor touches
    // the counts of the names shared by every line of a rule. Groups are independent: each
    // reads and writes only its own lines.
    for first in 0..lines.len() {
        let Some(group) = lines[first].group.as_deref() else { continue };
        if lines[..first].iter().any(|l| l.group.as_deref() == Some(group)) {
            continue;
        }
        // The highest city line and the highest district line, the earlier on equal amounts.
        let (mut best_city, mut winner) = (None::<usize>, None::<usize>);
        for (i, l) in lines.iter().enumerate().filter(|(_, l)| l.group.as_deref() == Some(group)) {
            let best = match l.source {
                LineSource::City => &mut best_city,
                LineSource::District => &mut winner,
            };
            if best.is_none_or(|b| l.amount > lines[b].amount) {
                *best = Some(i);
            }
        }
        let Some(w) = winner else { continue };
        let d = lines[w].amount;
        let c = best_city.map_or(Decimal::ZERO, |b| lines[b].amount);
        let paid = match netting {
            // Without a city line, or with one of 0, nothing is taken off: `d - 0` is `d` itself,
            // to the same places, for any amount but zero (0.00 - 0 gives the 0 taken off). A
            // difference read back at once waits on the processor putting it together (perf
            // annotate: half of paying a person).
            CityNetting::TopUp if c.is_zero() && !d.is_zero() => d.max(Decimal::ZERO),
            CityNetting::TopUp => (d - c).max(Decimal::ZERO),
            CityNetting::Skip if d > c => d,
            CityNetting::Skip => Decimal::ZERO,
        };
        for i in 0..lines.len() {
            if lines[i].group != lines[w].group || lines[i].source == LineSource::City {
                continue;
            }
            if i == w {
                let city_name = || best_city.map_or_else(|| Arc::from(""), |b| lines[b].award.clone());
                lines[i].superseded_by = (paid.is_zero() && !d.is_zero()).then(city_name);
                lines[i].paid = paid;
            } else {
                lines[i].superseded_by = Some(lines[w].award.clone());
                lines[i].paid = Decimal::ZERO;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    proptest::proptest! {
        /// Taking zero (at any places) off an amount other than zero gives the amount itself,
        /// to the same places, as `net` takes for granted when a group has no city line: small
        /// amounts and those beyond 32 and 64 bits (each has its own way through `Decimal`'s
        /// subtraction). Off zero it gives the zero taken off, which `net` leaves to subtracting.
        #[test]
        fn taking_zero_off_changes_nothing(mantissa in proptest::num::i64::ANY, wide in proptest::bool::ANY, scale in 0u32..=10, zero_places in 0u32..=4) {
            let zero = Decimal::new(0, zero_places);
            let d = Decimal::from_i128_with_scale(i128::from(mantissa) * if wide { 1 << 30 } else { 1 }, scale);
            let taken = (d - zero).max(Decimal::ZERO).serialize();
            if d.is_zero() {
                proptest::prop_assert_eq!(taken, zero.serialize());
            } else {
                proptest::prop_assert_eq!(taken, d.max(Decimal::ZERO).serialize());
            }
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn line(award: &str, source: LineSource, amount: &str, group: Option<&str>) -> AwardLine {
        AwardLine {
            award: award.into(),
            name: award.into(),
            source,
            part: if source == LineSource::City { Part::City } else { Part::Staff },
            group: group.map(Arc::from),
            amount: d(amount),
            paid: if source == LineSource::City { Decimal::ZERO } else { d(amount) },
            superseded_by: None,
            origin: Source { file: "e".into(), line: 1 },
        }
    }

    /// `net` as it was first written (a set of the group names, each netted in turn): the
    /// reference the allocation-free `net` is held to.
    fn net_by_group_set(lines: &mut [AwardLine], netting: CityNetting) {
        let groups: BTreeSet<Arc<str>> = lines.iter().filter_map(|l| l.group.clone()).collect();
        for group in groups {
            let in_group = |l: &AwardLine| l.group.as_deref() == Some(&*group);
            let best_city = lines
                .iter()
                .filter(|l| in_group(l) && l.source == LineSource::City)
                .fold(None::<&AwardLine>, |best, l| match best {
                    Some(b) if b.amount >= l.amount => Some(b),
                    _ => Some(l),
                })
                .map(|l| (l.amount, l.award.clone()));
            let mut winner: Option<usize> = None;
            for (i, l) in lines.iter().enumerate() {
                if in_group(l) && l.source == LineSource::District && winner.is_none_or(|w| l.amount > lines[w].amount)
                {
                    winner = Some(i);
                }
            }
            let Some(w) = winner else { continue };
            let d = lines[w].amount;
            let (c, city_name) = best_city.unwrap_or((Decimal::ZERO, Arc::from("")));
            let paid = match netting {
                CityNetting::TopUp => (d - c).max(Decimal::ZERO),
                CityNetting::Skip if d > c => d,
                CityNetting::Skip => Decimal::ZERO,
            };
            let winner_key = lines[w].award.clone();
            for (i, l) in lines.iter_mut().enumerate() {
                if !in_group(l) || l.source == LineSource::City {
                    continue;
                }
                if i == w {
                    l.paid = paid;
                    l.superseded_by = (paid.is_zero() && !d.is_zero()).then(|| city_name.clone());
                } else {
                    l.paid = Decimal::ZERO;
                    l.superseded_by = Some(winner_key.clone());
                }
            }
        }
    }

    fn paid(lines: &[AwardLine]) -> Vec<(String, Decimal, Option<String>)> {
        lines.iter().map(|l| (l.award.to_string(), l.paid, l.superseded_by.as_deref().map(String::from))).collect()
    }

    #[test]
    fn top_up_pays_the_difference_on_the_highest_line() {
        // 李娜 in the worked example: 200 and 100 from the district, 150 from the city.
        let mut lines = vec![
            line("city_cs_top3", LineSource::District, "200", Some("cash")),
            line("hall_mystery_top3", LineSource::District, "100", Some("cash")),
            line("市公司服务明星", LineSource::City, "150", Some("cash")),
        ];
        net(&mut lines, CityNetting::TopUp);
        assert_eq!(
            paid(&lines),
            vec![
                ("city_cs_top3".into(), d("50"), None),
                ("hall_mystery_top3".into(), d("0"), Some("city_cs_top3".into())),
                ("市公司服务明星".into(), d("0"), None),
            ]
        );
    }

    #[test]
    fn skip_pays_nothing_when_the_city_paid_as_much() {
        let mut lines = vec![
            line("a", LineSource::District, "150", Some("cash")),
            line("C", LineSource::City, "150", Some("cash")),
        ];
        net(&mut lines, CityNetting::Skip);
        assert_eq!(paid(&lines)[0], ("a".into(), d("0"), Some("C".into())));
        let mut lines = vec![
            line("a", LineSource::District, "200", Some("cash")),
            line("C", LineSource::City, "150", Some("cash")),
        ];
        net(&mut lines, CityNetting::Skip);
        assert_eq!(paid(&lines)[0], ("a".into(), d("200"), None));
    }

    #[test]
    fn equal_district_lines_the_earlier_rule_wins_and_ungrouped_lines_pay_in_full() {
        let mut lines = vec![
            line("first", LineSource::District, "300", Some("cash")),
            line("second", LineSource::District, "300", Some("cash")),
            line("free", LineSource::District, "80", None),
        ];
        net(&mut lines, CityNetting::TopUp);
        assert_eq!(
            paid(&lines),
            vec![
                ("first".into(), d("300"), None),
                ("second".into(), d("0"), Some("first".into())),
                ("free".into(), d("80"), None),
            ]
        );
    }

    #[test]
    fn groups_are_netted_separately() {
        let mut lines = vec![
            line("a", LineSource::District, "300", Some("cash")),
            line("b", LineSource::District, "100", Some("gift")),
            line("C", LineSource::City, "500", Some("gift")),
        ];
        net(&mut lines, CityNetting::TopUp);
        assert_eq!(paid(&lines)[0].1, d("300"));
        assert_eq!(paid(&lines)[1], ("b".into(), d("0"), Some("C".into())));
    }

    proptest::proptest! {
        /// Netting by index does what netting each group of a set of names in turn did: any
        /// mix of groups (none, and the empty name), sources, amounts (negative, zero, ties, one
        /// value at two scales), repeated award names, lines paid or superseded beforehand, and
        /// both nettings. Compared whole (`Decimal` equality ignores scale, so paid amounts are
        /// compared as text too).
        #[test]
        fn netting_by_index_is_netting_by_the_set_of_groups(
            given in proptest::collection::vec(
                (0usize..5, proptest::bool::ANY, -2i64..5, proptest::bool::ANY, 0usize..4, 0usize..3),
                0..16,
            ),
            skip in proptest::bool::ANY,
        ) {
            let groups = [None, Some("cash"), Some("gift"), Some("goods"), Some("")];
            let lines: Vec<AwardLine> = given
                .iter()
                .map(|&(group, city, amount, wide, name, before)| {
                    let source = if city { LineSource::City } else { LineSource::District };
                    // 100 or 100.00: the same amount at two scales.
                    let amount = if wide { format!("{}.00", amount * 100) } else { (amount * 100).to_string() };
                    let mut l = line(["a", "b", "c", "d"][name], source, &amount, groups[group]);
                    match before {
                        1 => l.paid = d("7"),
                        2 => l.superseded_by = Some("earlier".into()),
                        _ => {}
                    }
                    l
                })
                .collect();
            let netting = if skip { CityNetting::Skip } else { CityNetting::TopUp };
            let (mut new, mut old) = (lines.clone(), lines);
            net(&mut new, netting);
            net_by_group_set(&mut old, netting);
            proptest::prop_assert_eq!(format!("{new:?}"), format!("{old:?}"));
        }
    }
}
