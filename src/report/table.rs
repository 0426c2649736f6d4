//! Human tables (comfy-table, CJK-aware widths) in Chinese or English: the ranking, then
//! one row per award rule, training, grades and totals.

use super::{plain, score_text, yuan, Lang};
use crate::engine::awards::{LineSource, RuleOutcome};
use crate::engine::quota::Cut;
use crate::engine::{MonthResult, PeriodResult, Report};
use crate::model::PeriodKind;
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

fn new_table(headers: Vec<String>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers);
    t
}

fn right_align(t: &mut Table, columns: impl IntoIterator<Item = usize>) {
    for i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn render(report: &Report, lang: Lang) -> String {
    match report {
        Report::Month(m) => month(m, lang),
        Report::Period(p) => period(p, lang),
    }
}

/// The cells every listing starts with: rank, id, name, unit, post.
fn identity(rank: Option<u32>, texts: [&str; 4]) -> Vec<String> {
    std::iter::once(rank.map(|r| r.to_string()).unwrap_or_default())
        .chain(texts.into_iter().map(str::to_string))
        .collect()
}

fn month(m: &MonthResult, lang: Lang) -> String {
    let l = |zh, en| lang.pick(zh, en).to_string();
    let mut out = String::new();
    let _ = writeln!(out, "{} — {} {}", m.policy, m.period, l("月度积分通报", "monthly points bulletin"));
    let mut headers = vec![l("名次", "Rank"), l("工号", "ID"), l("姓名", "Name"), l("单位", "Unit"), l("岗位", "Post")];
    headers.extend(m.item_names.iter().cloned());
    headers.push(l("积分", "Points"));
    let mut t = new_table(headers);
    for p in &m.people {
        let mut row = identity(p.rank, [&p.id, &p.name, &p.unit, &p.post].map(|t| &**t));
        for item in &m.item_names {
            let v = p.entry.as_ref().and_then(|e| e.items.iter().find(|(n, _)| **n == **item)).map(|(_, v)| plain(*v));
            row.push(v.unwrap_or_default());
        }
        row.push(p.entry.as_ref().map(|e| plain(e.points)).unwrap_or_else(|| l("无", "none")));
        t.add_row(row);
    }
    right_align(&mut t, std::iter::once(0).chain(5..6 + m.item_names.len()));
    let _ = writeln!(out, "{t}");
    let given = m.people.iter().filter(|p| p.entry.is_some()).count();
    let _ = writeln!(
        out,
        "{}: {}  ({} {given}/{})",
        l("部门平均积分", "Department mean"),
        score_text(m.mean, m.decimals),
        l("已填报", "rows"),
        m.people.len()
    );
    out
}

/// `0.3 × 9 = 2.7 → 3 (half_up)`.
pub fn quota_arithmetic(c: &Cut) -> String {
    format!("{} × {} = {} → {} ({})", plain(c.share), c.base, plain(c.product), c.quota, c.rounding.name())
}

fn tie_text(c: &Cut, lang: Lang) -> String {
    match &c.tie {
        None => String::new(),
        Some(t) if t.included => format!(
            "{} {} ({})",
            lang.pick("并列于名额线，全部纳入:", "tie at the cut-off, all included:"),
            t.ids.join(", "),
            t.rank
        ),
        Some(t) => format!(
            "{} {} ({})",
            lang.pick("并列于名额线，全部不纳入:", "tie at the cut-off, none included:"),
            t.ids.join(", "),
            t.rank
        ),
    }
}

fn rule_row(rule: &RuleOutcome, lang: Lang) -> Vec<String> {
    vec![
        rule.key.clone(),
        rule.name.clone(),
        rule.fired.to_string(),
        rule.cut.as_ref().map(quota_arithmetic).unwrap_or_else(|| "—".into()),
        rule.recipients.to_string(),
        yuan(rule.paid),
        rule.cut.as_ref().map(|c| tie_text(c, lang)).unwrap_or_default(),
    ]
}

fn period(r: &PeriodResult, lang: Lang) -> String {
    let l = |zh, en| lang.pick(zh, en).to_string();
    let year = r.period.kind() == PeriodKind::Year;
    let mut out = String::new();
    let title =
        if year { l("年度业绩排名", "annual ranking") } else { l("季度业绩排名", "quarterly ranking") };
    let _ = writeln!(out, "{} — {} {title}", r.policy, r.period);
    let mut headers = vec![
        l("名次", "Rank"),
        l("工号", "ID"),
        l("姓名", "Name"),
        l("单位", "Unit"),
        l("岗位", "Post"),
        l("积分", "Points"),
        l("绩效", "KPI"),
        l("得分", "Score"),
    ];
    if year {
        headers.push(l("等次", "Grade"));
    } else {
        headers.push(l("培训", "Training"));
    }
    headers.push(l("奖励 (金额→发放)", "Awards (amount→paid)"));
    headers.push(l("发放", "Payout"));
    if year {
        headers.extend(r.quarter_totals.iter().map(|(q, _)| q.to_string()));
        headers.push(l("全年合计", "Year total"));
    }
    let mut t = new_table(headers);
    for p in &r.people {
        let mut lines: Vec<String> = p
            .awards
            .iter()
            .map(|a| match a.source {
                LineSource::District => format!("{} {}→{}", a.award, yuan(a.amount), yuan(a.paid)),
                LineSource::City => {
                    format!("{}: {} {}", l("市公司", "city"), a.award, yuan(a.amount))
                }
            })
            .collect();
        if let Some(v) = &p.veto {
            lines.push(format!("{}: {}", l("否决", "vetoed"), v.reason));
        }
        if !p.active_at_end {
            lines.push(l("期末不在岗", "not active at end"));
        }
        let mut row = identity(p.rank, [&p.person.id, &p.person.name, &p.person.unit, &p.person.post].map(|t| &**t));
        row.extend([
            score_text(p.scored.points, r.decimals),
            score_text(p.scored.kpi, r.decimals),
            score_text(p.scored.score, r.decimals),
        ]);
        if year {
            row.push(p.grade.as_deref().unwrap_or_default().to_string());
        } else {
            row.push(if p.training { l("是", "yes") } else { String::new() });
        }
        row.push(lines.join("\n"));
        row.push(yuan(p.payout));
        if year {
            row.extend(r.quarter_payouts(p).map(|(_, v)| yuan(v)));
            row.push(r.year_payout(p).map(yuan).unwrap_or_default());
        }
        t.add_row(row);
    }
    let money_columns: Vec<usize> = if year { (10..16).collect() } else { vec![10] };
    right_align(&mut t, [0, 5, 6, 7].into_iter().chain(money_columns));
    let _ = writeln!(out, "{t}\n");

    let mut rules = new_table(vec![
        l("规则", "Rule"),
        l("名称", "Name"),
        l("触发", "Fired"),
        l("员工名额", "Staff quota"),
        l("获奖人数", "Recipients"),
        l("发放", "Paid"),
        l("说明", "Note"),
    ]);
    for rule in &r.rules {
        rules.add_row(rule_row(rule, lang));
    }
    right_align(&mut rules, [2, 4, 5]);
    let _ = writeln!(out, "{rules}");

    if !year {
        match &r.training {
            None => {
                let _ = writeln!(
                    out,
                    "{}",
                    l("培训名额：本期无部门考评名次", "Training: no departmental place this period")
                );
            }
            Some(tr) => {
                let line = format!(
                    "{}: {} {} → {} {}; {}: {}  {}",
                    l("培训名额", "Training"),
                    l("部门考评第", "department place"),
                    tr.place,
                    l("比例", "share"),
                    plain(tr.share),
                    quota_arithmetic(&tr.cut),
                    tr.cut.taken,
                    tie_text(&tr.cut, lang)
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
    }
    if year && !r.grades.is_empty() {
        let counts: Vec<String> = r.grades.iter().map(|b| format!("{} {}", b.name, b.end - b.start)).collect();
        let _ = writeln!(out, "{}: {}", l("评优等次", "Grades"), counts.join(", "));
        for b in r.grades.iter().filter(|b| b.tie.is_some()) {
            if let Some(tie) = &b.tie {
                let what = if tie.included { l("纳入", "included") } else { l("不纳入", "excluded") };
                let _ = writeln!(
                    out,
                    "  {}: {} {} ({what})",
                    b.name,
                    l("并列于分界线", "tie at the boundary"),
                    tie.ids.join(", ")
                );
            }
        }
    }
    let vetoed: Vec<String> = r
        .people
        .iter()
        .filter_map(|p| {
            p.veto.as_ref().map(|v| format!("{} {} ({}: {})", p.person.id, p.person.name, v.period, v.reason))
        })
        .collect();
    if !vetoed.is_empty() {
        let _ = writeln!(out, "{}: {}", l("否决", "Vetoes"), vetoed.join("; "));
    }
    let _ = writeln!(out, "{}: {} {}", l("合计发放", "Total payout"), yuan(r.total_payout), l("元", "yuan"));
    if year {
        let all = r.year_total_payout.unwrap_or_default();
        let _ = writeln!(
            out,
            "{}: {} {}",
            l("全年合计（含各季度）", "Year total incl. quarters"),
            yuan(all),
            l("元", "yuan")
        );
    }
    out
}
