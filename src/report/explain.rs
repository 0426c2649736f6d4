//! `explain`: every step behind one person's numbers, in the order the policy applies them,
//! each citing its file and line or rubric key. It only reads what the engine recorded while
//! computing (inputs, aggregates, cuts, lines); it recomputes nothing.

use super::table::quota_arithmetic;
use super::{plain, score_text, yuan, Lang};
use crate::engine::awards::{LineSource, Part};
use crate::engine::quota::Cut;
use crate::engine::scores::{Aggregate, Measure, Steps};
use crate::engine::{MonthResult, PeriodResult, PersonResult, Report};
use crate::model::PeriodKind;
use crate::rubric::{MissingMonth, Rubric};
use serde_json::json;
use std::fmt::Write;

/// One step of an explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub topic: &'static str,
    pub text: String,
    /// Files with lines, or rubric keys, the step rests on.
    pub cite: Vec<String>,
}

/// A person's explanation for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub period: String,
    pub id: String,
    pub name: String,
    pub steps: Vec<Step>,
}

fn step(topic: &'static str, text: String, cite: Vec<String>) -> Step {
    Step { topic, text, cite }
}

fn ordinal(n: usize, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("第{n}"),
        Lang::En => {
            let suffix = match (n % 10, n % 100) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            format!("{n}{suffix}")
        }
    }
}

/// Explains one person, or `None` when they are not in the report.
pub fn explain(report: &Report, rubric: &Rubric, id: &str, lang: Lang) -> Option<Explanation> {
    match report {
        Report::Month(m) => month(m, id, lang),
        Report::Period(p) => period(p, rubric, id, lang),
    }
}

fn month(m: &MonthResult, id: &str, lang: Lang) -> Option<Explanation> {
    let p = m.people.iter().find(|p| *p.id == *id)?;
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let mut steps = vec![step("person", format!("{} {}, {} {}", p.id, p.name, p.unit, p.post), vec![])];
    match &p.entry {
        None => {
            steps.push(step("points", l("本月积分表中没有此人的行", "no row in this month's points sheet"), vec![]))
        }
        Some(e) => {
            let mut text = format!("{} {}", l("月度积分", "monthly points"), plain(e.points));
            if !e.items.is_empty() {
                let items: Vec<String> = e.items.iter().map(|(n, v)| format!("{n} {}", plain(*v))).collect();
                let _ = write!(text, " = {}", items.join(" + "));
            }
            let file = m.file.as_deref().unwrap_or_default();
            steps.push(step("points", text, vec![format!("{file}:{}", e.line)]));
        }
    }
    let ranked = m.people.iter().filter(|o| o.rank.is_some()).count();
    let tied: Vec<String> = m
        .people
        .iter()
        .filter(|o| o.id != p.id && o.rank.is_some() && o.rank == p.rank)
        .map(|o| format!("{} {}", o.id, o.name))
        .collect();
    if let Some(rank) = p.rank {
        let mut text = format!("{} {rank} / {ranked} ({})", l("名次", "rank"), l("按积分排名", "by points alone"));
        if !tied.is_empty() {
            let _ = write!(text, "; {} {}", l("并列:", "tied with"), tied.join(", "));
        }
        steps.push(step("rank", text, vec![]));
    }
    steps.push(step(
        "mean",
        format!("{} {}", l("部门平均积分", "department mean"), score_text(m.mean, m.decimals)),
        vec![],
    ));
    Some(Explanation { period: m.period.to_string(), id: p.id.to_string(), name: p.name.to_string(), steps })
}

/// An exact value as it is, or cut to 6 decimals with "…" when it does not end sooner
/// (a mean of thirds), so the line stays readable and honest.
fn exact_text(value: rust_decimal::Decimal) -> String {
    let shown = value.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::ToZero);
    if shown == value {
        plain(value)
    } else {
        format!("{}…", plain(shown))
    }
}

fn aggregate_text(a: &Aggregate, what: &str, decimals: u32, lang: Lang) -> String {
    let values: Vec<String> = a.values.iter().map(|v| plain(*v)).collect();
    let how = if a.sum { lang.pick("求和", "sum") } else { lang.pick("平均", "mean") };
    // One value (a quarterly export) has no mean to show, only its rounding.
    let formula = if a.values.len() == 1 { String::new() } else { format!("{how}({}) = ", values.join(", ")) };
    format!(
        "{what} = {formula}{} → {} ({} {decimals} {})",
        exact_text(a.exact),
        super::score_text(Some(a.rounded), decimals),
        lang.pick("四舍五入到", "rounded half-up to"),
        lang.pick("位小数", "decimals"),
    )
}

fn name_of(r: &PeriodResult, id: &str) -> String {
    r.people
        .iter()
        .find(|p| *p.person.id == *id)
        .map_or_else(|| id.to_string(), |p| format!("{} {}", p.person.id, p.person.name))
}

/// Where a person stands against a cut: candidate position, quota arithmetic, cut-off, tie.
fn cut_text(r: &PeriodResult, cut: &Cut, p: &PersonResult, lang: Lang) -> String {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let position = cut.candidates.iter().position(|c| r.people[c.place].position == p.position);
    let mut text = format!(
        "{} {} ({} = {})",
        l("名额", "quota"),
        quota_arithmetic(cut),
        l("基数", "base"),
        match cut.base_kind {
            crate::rubric::QuotaBase::Headcount => l("期末在岗总人数", "headcount active at end"),
            crate::rubric::QuotaBase::Staff => l("期末在岗非管理岗人数", "non-management staff active at end"),
            crate::rubric::QuotaBase::Eligible => l("候选人数", "candidates"),
        }
    );
    if let Some(pos) = position {
        let n = cut.candidates.len();
        let _ = match lang {
            Lang::Zh => write!(text, "; 本人在 {n} 名候选人中排{}", ordinal(pos + 1, lang)),
            Lang::En => write!(text, "; this person is {} of {n} candidates in ranking order", ordinal(pos + 1, lang)),
        };
    }
    if cut.taken > 0 {
        let last = &cut.candidates[cut.taken - 1];
        let _ = write!(
            text,
            "; {} {} ({} {})",
            l("名额线上最后一人", "the last place taken is"),
            name_of(r, &r.people[last.place].person.id),
            l("名次", "rank"),
            last.rank
        );
    } else {
        let _ = write!(text, "; {}", l("无人获得名额", "no place is taken"));
    }
    if let Some(tie) = &cut.tie {
        let names: Vec<String> = tie.ids.iter().map(|i| name_of(r, i)).collect();
        let what = if tie.included { l("全部纳入", "all included") } else { l("全部不纳入", "none included") };
        let _ = write!(
            text,
            "; {} {} {} (quota.ties)",
            names.join(l("、", " and ").as_str()),
            l("在名额线上并列,", "tie at the cut-off,"),
            what
        );
    }
    match position {
        Some(pos) if pos < cut.taken => {
            let _ = write!(text, " → {}", l("在名额内", "within the quota"));
        }
        Some(_) => {
            let _ = write!(text, " → {}", l("在名额线以下", "below the cut-off"));
        }
        None => {}
    }
    text
}

/// Why a person is not a candidate for a cut (the engine's candidate rule, in words).
fn not_candidate(p: &PersonResult, staff_only: bool, in_scope: bool, lang: Lang) -> String {
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    if staff_only && p.management {
        l("不是候选人：管理岗不参加员工名额", "not a candidate: management posts take no staff place")
    } else if !in_scope {
        l("不是候选人：不在适用范围内", "not a candidate: outside the scope")
    } else if !p.active_at_end {
        l("不是候选人：期末不在岗", "not a candidate: not active at the end of the period")
    } else if p.veto.is_some() {
        l("不是候选人：被否决", "not a candidate: vetoed")
    } else {
        l("不是候选人：没有得分", "not a candidate: no score")
    }
}

fn period(r: &PeriodResult, rubric: &Rubric, id: &str, lang: Lang) -> Option<Explanation> {
    let p = r.people.iter().find(|p| *p.person.id == *id)?;
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let d = r.decimals;
    let mut steps = Vec::new();
    let role = if p.management { l("管理岗", "management") } else { l("员工", "staff") };
    let mut who = format!("{} {}, {} {} ({role})", p.person.id, p.person.name, p.person.unit, p.person.post);
    if let Some(j) = p.person.joined {
        let _ = write!(who, "; {} {j}", l("入职", "joined"));
    }
    if let Some(left) = p.person.left {
        let _ = write!(who, "; {} {left}", l("离职(最后工作日)", "left (last day)"));
    }
    let _ = write!(
        who,
        "; {}",
        if p.active_at_end {
            l("期末在岗", "active at the end of the period")
        } else {
            l("期末不在岗", "not active at the end of the period")
        }
    );
    steps.push(step("person", who, vec![p.person.source.to_string()]));
    let none = Steps::default();
    let trail = p.scored.steps.as_deref().unwrap_or(&none);

    for (measure, topic, label, calc) in [
        (Measure::Points, "points", l("积分", "points"), &trail.points_calc),
        (Measure::Kpi, "kpi", l("绩效", "KPI"), &trail.kpi_calc),
    ] {
        for input in trail.inputs.iter().filter(|i| i.measure == measure) {
            let text = match (input.missing, input.value) {
                (false, Some(v)) => format!("{} {label} {}", input.period, plain(v)),
                (true, Some(v)) => format!(
                    "{} {label}: {} {} (score.missing_month = \"zero\")",
                    input.period,
                    l("无记录，按", "no row, counted as"),
                    plain(v)
                ),
                (_, None) => match rubric.score.missing_month {
                    MissingMonth::Error => format!("{} {label}: {}", input.period, l("无记录", "no row")),
                    _ => format!(
                        "{} {label}: {} (score.missing_month = \"mean_of_present\")",
                        input.period,
                        l("无记录，不计入平均", "no row, left out of the mean")
                    ),
                },
            };
            let cite = input
                .origin
                .as_ref()
                .map_or_else(|| format!("{} {}", input.period, input.measure.name()), |o| o.to_string());
            steps.push(step(topic, text, vec![cite]));
        }
        match calc {
            Some(a) => {
                let key = if a.sum { "score.annual_points" } else { "score.decimals" };
                steps.push(step(topic, aggregate_text(a, &label, d, lang), vec![key.to_string()]));
            }
            None => {
                steps.push(step(topic, format!("{label}: {}", l("无数据，得分为空", "no value, so no score")), vec![]))
            }
        }
    }
    if let (Some(exact), Some(score)) = (trail.score_exact, p.scored.score) {
        steps.push(step(
            "score",
            format!(
                "{} = {} × {} + {} × {} = {} → {}",
                l("得分", "score"),
                score_text(p.scored.points, d),
                plain(rubric.score.points_weight),
                score_text(p.scored.kpi, d),
                plain(rubric.score.kpi_weight),
                exact_text(exact),
                score_text(Some(score), d)
            ),
            vec!["score.points_weight".into(), "score.kpi_weight".into(), "score.decimals".into()],
        ));
    }
    let ranked = r.people.iter().filter(|o| o.rank.is_some()).count();
    match p.rank {
        Some(rank) => {
            let mut text = format!("{} {rank} / {ranked}", l("名次", "rank"));
            // Tied on score and every tie-break key means the same rank.
            let tied: Vec<&PersonResult> =
                r.people.iter().filter(|o| o.person.id != p.person.id && o.rank == p.rank).collect();
            if !tied.is_empty() {
                let names: Vec<String> = tied.iter().map(|o| format!("{} {}", o.person.id, o.person.name)).collect();
                let _ = write!(
                    text,
                    "; {} {}",
                    l("得分及各比较项均相同而并列:", "tied on score and every tie-break key with"),
                    names.join(", ")
                );
            }
            steps.push(step("rank", text, vec!["ranking.tie_break".into()]));
        }
        None => steps.push(step("rank", l("未排名（没有得分）", "not ranked (no score)"), vec![])),
    }
    if let Some(v) = &p.veto {
        steps.push(step(
            "veto",
            format!(
                "{} {}: {} — {}",
                l("否决", "vetoed for"),
                v.period,
                v.reason,
                l(
                    "保留名次，但本期不得任何奖励、培训名额和等次",
                    "stays ranked but gets no award, training slot or grade this period"
                )
            ),
            vec![v.source.to_string()],
        ));
    }

    for rule in rubric.awards.iter().filter(|a| a.period == r.period.kind()) {
        let Some(outcome) = r.rules.iter().find(|o| o.key == rule.key) else { continue };
        let cite = vec![format!("award {}", rule.key)];
        if outcome.fired == 0 {
            let mut cond = format!("{} \"{}\"", l("事项", "event"), rule.event);
            if let Some(u) = &rule.unit {
                let _ = write!(cond, ", {} {u}", l("单位", "unit"));
            }
            if let Some(max) = rule.rank_at_most {
                let _ = write!(cond, ", {} ≤ {max}", l("名次", "rank"));
            }
            steps.push(step(
                "award",
                format!(
                    "{} ({}): {} {cond}",
                    rule.key,
                    rule.name,
                    l(
                        "未触发 — events.csv 中本期没有符合的行:",
                        "not fired — no row in events.csv for this period with"
                    ),
                ),
                cite,
            ));
            continue;
        }
        let mut cites = cite.clone();
        cites.extend(outcome.rows.iter().map(|s| s.to_string()));
        steps.push(step(
            "award",
            format!("{} ({}): {} {}", rule.key, rule.name, l("触发次数", "fired ×"), outcome.fired),
            cites,
        ));
        if let Some(m) = &rule.management {
            let in_scope = m.scope.includes(&p.person.unit, &rubric.department);
            let text = if !p.management {
                None
            } else if !in_scope {
                Some(l("管理岗部分：不在适用范围内", "management part: outside its scope"))
            } else if !p.active_at_end || p.veto.is_some() {
                Some(l(
                    "管理岗部分：期末不在岗或被否决，无奖励",
                    "management part: not active at end or vetoed, nothing",
                ))
            } else {
                Some(format!("{}: {}", l("管理岗部分", "management part"), yuan(m.amount)))
            };
            if let Some(t) = text {
                steps.push(step("award", format!("  {t}"), vec![format!("award {}.management_amount", rule.key)]));
            }
        }
        if let (Some(s), Some(cut)) = (&rule.staff, &outcome.cut) {
            let in_scope = s.scope.includes(&p.person.unit, &rubric.department);
            let is_candidate = cut.candidates.iter().any(|c| r.people[c.place].position == p.position);
            let text = if is_candidate {
                format!("{}: {}", l("员工部分", "staff part"), cut_text(r, cut, p, lang))
            } else if p.management {
                String::new()
            } else {
                format!("{}: {}", l("员工部分", "staff part"), not_candidate(p, true, in_scope, lang))
            };
            if !text.is_empty() {
                steps.push(step(
                    "award",
                    format!("  {text}"),
                    vec![
                        format!("award {}.staff_share", rule.key),
                        "quota.rounding".into(),
                        "quota.base".into(),
                        "quota.ties".into(),
                    ],
                ));
            }
        }
    }

    for line in &p.awards {
        let text = match line.source {
            LineSource::City => format!(
                "{}: {} {} ({} {})",
                l("市公司奖励", "city award"),
                line.award,
                yuan(line.amount),
                l("分组", "group"),
                line.group.clone().unwrap_or_default()
            ),
            LineSource::District => {
                let part =
                    if line.part == Part::Management { l("管理岗", "management") } else { l("员工", "staff") };
                let why = match (&line.group, &line.superseded_by) {
                    (None, _) => l("无分组，全额发放", "no group: paid in full"),
                    (Some(g), Some(by)) => format!(
                        "{} {by} {} {g} ({})",
                        l("被", "superseded by"),
                        l("取代，同组", "in group"),
                        l("就高不就低", "highest award only")
                    ),
                    (Some(g), None) if line.paid < line.amount => format!(
                        "{} {g}{}",
                        l("同组", "highest in group"),
                        l(
                            " 最高，扣除市公司已发部分后补差 (highest_only.city = top_up)",
                            ", less what the city paid (highest_only.city = top_up)"
                        )
                    ),
                    (Some(g), None) => {
                        format!("{} {g}{}", l("同组", "highest in group"), l(" 最高，全额发放", ", paid in full"))
                    }
                };
                format!(
                    "{} {} ({part}) {} → {} {}: {why}",
                    l("奖励", "line"),
                    line.award,
                    yuan(line.amount),
                    l("发放", "paid"),
                    yuan(line.paid)
                )
            }
        };
        steps.push(step("netting", text, vec![line.origin.to_string(), "highest_only.city".into()]));
    }

    if r.period.kind() == PeriodKind::Quarter {
        match (&r.training, &rubric.training) {
            (Some(t), Some(rt)) => {
                let in_scope = rt.scope.includes(&p.person.unit, &rubric.department);
                let is_candidate = t.cut.candidates.iter().any(|c| r.people[c.place].position == p.position);
                let head = format!(
                    "{} {} → {} {}",
                    l("部门考评第", "department place"),
                    t.place,
                    l("比例", "share"),
                    plain(t.share)
                );
                let body =
                    if is_candidate { cut_text(r, &t.cut, p, lang) } else { not_candidate(p, false, in_scope, lang) };
                steps.push(step(
                    "training",
                    format!("{}: {head}; {body}", l("培训名额", "training"),),
                    vec![t.row.to_string(), "training.shares".into()],
                ));
            }
            _ => steps.push(step(
                "training",
                l("培训名额：本期没有部门考评名次", "training: no departmental place this period"),
                vec!["training.event".into()],
            )),
        }
    }

    if r.period.kind() == PeriodKind::Year && !r.grades.is_empty() {
        let bands: Vec<String> = r
            .grades
            .iter()
            .map(|b| {
                format!(
                    "{} {}–{} ({} {})",
                    b.name,
                    b.start + 1,
                    b.end,
                    l("累计比例", "cumulative share"),
                    plain(b.cumulative)
                )
            })
            .collect();
        let text = match &p.grade {
            Some(g) => format!("{} {g}; {}", l("等次", "grade"), bands.join(", ")),
            None => format!(
                "{}; {}",
                l("无等次（被否决、期末不在岗或没有得分）", "no grade (vetoed, not active at year end, or no score)"),
                bands.join(", ")
            ),
        };
        let mut text = text;
        for b in r.grades.iter().filter_map(|b| b.tie.as_ref().map(|t| (b, t))) {
            let (band, tie) = b;
            if tie.ids.iter().any(|i| **i == *p.person.id) {
                let what = if tie.included {
                    l("并列者全部纳入", "the tied are all included")
                } else {
                    l("并列者全部不纳入", "the tied are all left out")
                };
                let _ = write!(text, "; {} {}: {what}", l("在分界线上并列", "tied at the boundary of"), band.name);
            }
        }
        steps.push(step("grade", text, vec!["grade".into(), "quota.rounding".into(), "quota.ties".into()]));
    }

    let mut payout = format!("{} {} {}", l("本期发放", "payout"), yuan(p.payout), l("元", "yuan"));
    if let Some(y) = r.year_payout(p) {
        let quarters: Vec<String> = r.quarter_payouts(p).map(|(q, v)| format!("{q} {}", yuan(v))).collect();
        let _ = write!(
            payout,
            "; {} = {} + {} {} = {}",
            l("全年合计", "year total"),
            quarters.join(" + "),
            l("年度", "year"),
            yuan(p.payout),
            yuan(y)
        );
    }
    steps.push(step("payout", payout, vec![]));
    Some(Explanation {
        period: r.period.to_string(),
        id: p.person.id.to_string(),
        name: p.person.name.to_string(),
        steps,
    })
}

pub fn render_text(e: &Explanation, lang: Lang) -> String {
    let mut out =
        format!("{} {} {} — {}\n", e.period, e.id, e.name, lang.pick("计算过程", "how the numbers came about"));
    for (i, s) in e.steps.iter().enumerate() {
        let _ = write!(out, "{:>2}. {}", i + 1, s.text);
        if !s.cite.is_empty() {
            let _ = write!(out, "  [{}]", s.cite.join("; "));
        }
        out.push('\n');
    }
    out
}

pub fn render_json(e: &Explanation) -> String {
    let steps: Vec<serde_json::Value> =
        e.steps.iter().map(|s| json!({ "topic": s.topic, "text": s.text, "cite": s.cite })).collect();
    let value = json!({ "period": e.period, "id": e.id, "name": e.name, "steps": steps });
    let mut text = serde_json::to_string_pretty(&value).expect("JSON values always serialise");
    text.push('\n');
    text
}
