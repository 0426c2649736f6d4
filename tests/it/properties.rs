//! Property tests over generated inputs, built directly as library values (no files): a
//! random rubric, roster, points and KPI sheets, events, city awards and vetoes go through
//! `engine::quarter` (and `engine::year`), and the results are checked against SPEC § 3-4
//! recomputed independently here: quotas and the tie rule, who gets staff and management
//! lines, sums, highest-award-only netting, ranking, scores, and determinism under any
//! reordering of the input rows.

use chrono::NaiveDate;
use cs_score::engine::awards::{LineSource, Part};
use cs_score::engine::quota::Cut;
use cs_score::engine::{self, PeriodResult, PersonResult, Report, Trail};
use cs_score::model::{
    CityAwardRow, Dataset, EventRow, KpiSheet, KpiValue, MonthPoints, Period, Person, PointsSheet, Roster, Source,
    VetoRow,
};
use cs_score::report::json;
use cs_score::rubric::{self, Rubric};
use proptest::collection::vec;
use proptest::option::weighted as maybe;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// The vocabulary the generator draws from.

const YEAR: i32 = 2009;
const DEPARTMENT: &str = "客户服务部";
const UNITS: [&str; 3] = ["营业厅", "客服中心", "客户服务部"];
const STAFF_POSTS: [&str; 2] = ["营业员", "客服代表"];
const MANAGEMENT_POSTS: [&str; 3] = ["部长", "厅经理", "中心主任"];
/// Scopes: the department (everyone), one unit, or a list of units.
const SCOPES: [&[&str]; 4] = [&["客户服务部"], &["营业厅"], &["客服中心"], &["营业厅", "客服中心"]];
const EVENT_UNITS: [&str; 4] = ["客户服务部", "营业厅", "客服中心", "代办渠道"];
const RULE_EVENTS: [&str; 3] = ["市公司客服季度竞赛", "暗查暗访", "服务之星评选"];
const TRAINING_EVENT: &str = "区分公司部门业绩考评";
const YEAR_EVENT: &str = "年度先进集体评选";
const SHARES: [&str; 5] = ["0.3", "0.5", "0.6", "1.0", "0.25"];
const TRAINING_SHARES: [&str; 4] = ["0.3", "0.2", "0.1", "0.5"];
const AMOUNTS: [u32; 4] = [100, 150, 200, 300];
const GROUPS: [&str; 2] = ["cash", "gift"];
const CITY_AWARDS: [&str; 2] = ["市公司服务明星", "市公司先进个人"];
/// Steady monthly levels (in half points: 85, 90).
const LEVELS: [u32; 2] = [170, 180];
const CITY_AMOUNTS: [u32; 6] = [50, 100, 150, 200, 300, 400];
/// (month, day) in 2009; some before, inside and after 2009Q2.
const JOINED: [(u32, u32); 6] = [(1, 15), (4, 1), (4, 20), (5, 10), (6, 30), (8, 1)];
const LEFT: [(u32, u32); 6] = [(3, 31), (4, 15), (5, 31), (6, 29), (6, 30), (7, 10)];

// ---------------------------------------------------------------------------------------
// Generated inputs.

#[derive(Debug, Clone)]
struct RuleSpec {
    period: &'static str,
    event: &'static str,
    unit: Option<&'static str>,
    rank_at_most: Option<u32>,
    /// `None`: `repeat` left out (defaults to once).
    repeat: Option<&'static str>,
    management: Option<(&'static [&'static str], u32)>,
    /// scope, share, amount
    staff: Option<(&'static [&'static str], &'static str, u32)>,
    group: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct RubricSpec {
    rounding: &'static str,
    base: &'static str,
    ties: &'static str,
    city: &'static str,
    weights: (&'static str, &'static str),
    missing_month: &'static str,
    annual_points: &'static str,
    tie_break: &'static [&'static str],
    rules: Vec<RuleSpec>,
    training: Option<(&'static [&'static str], Vec<&'static str>)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PeriodPick {
    Quarter(u32),
    Month(u32),
    Year,
}

impl PeriodPick {
    fn period(self) -> Period {
        match self {
            PeriodPick::Quarter(quarter) => Period::Quarter { year: YEAR, quarter },
            PeriodPick::Month(month) => Period::Month { year: YEAR, month },
            PeriodPick::Year => Period::Year(YEAR),
        }
    }
}

#[derive(Debug, Clone)]
struct PersonSpec {
    unit: &'static str,
    post: &'static str,
    joined: Option<NaiveDate>,
    left: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
struct EventSpec {
    period: PeriodPick,
    event: &'static str,
    unit: &'static str,
    rank: Option<u32>,
}

#[derive(Debug, Clone)]
struct CitySpec {
    person: usize,
    period: PeriodPick,
    award: &'static str,
    amount: u32,
    group: &'static str,
}

/// Values are in half points: 161 is 80.5.
type Sheet = Option<Vec<Option<u32>>>;

#[derive(Debug, Clone)]
struct Scenario {
    rubric: RubricSpec,
    quarters: Vec<u32>,
    people: Vec<PersonSpec>,
    /// One per month of `quarters`, in order.
    points: Vec<Sheet>,
    kpi_monthly: Vec<Sheet>,
    /// One per quarter; when present, the quarter's monthly KPI sheets are not used.
    kpi_quarterly: Vec<Sheet>,
    events: Vec<EventSpec>,
    city: Vec<CitySpec>,
    vetoes: Vec<(usize, PeriodPick)>,
}

fn id_of(i: usize) -> String {
    format!("{:04}", 1001 + i)
}

fn index_of(id: &str) -> usize {
    id.parse::<usize>().expect("generated ids are numbers") - 1001
}

fn half(v: u32) -> Decimal {
    Decimal::new(i64::from(v) * 5, 1)
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

fn quoted(xs: &[&str]) -> String {
    if xs.len() == 1 {
        format!("\"{}\"", xs[0])
    } else {
        let inner: Vec<String> = xs.iter().map(|x| format!("\"{x}\"")).collect();
        format!("[{}]", inner.join(", "))
    }
}

impl RubricSpec {
    fn toml(&self) -> String {
        let mut t = String::new();
        let w = &mut t;
        writeln!(w, "[policy]\nname = \"测试办法\"\neffective = \"2009-04-01\"\n").unwrap();
        writeln!(
            w,
            "[org]\ndepartment = \"{DEPARTMENT}\"\nmanagement_posts = [\"部长\", \"副部长\", \"中心主任\", \"厅经理\"]\n"
        )
        .unwrap();
        writeln!(
            w,
            "[score]\npoints_weight = {}\nkpi_weight = {}\ndecimals = 2\nannual_points = \"{}\"\nmissing_month = \"{}\"\n",
            self.weights.0, self.weights.1, self.annual_points, self.missing_month
        )
        .unwrap();
        let tb: Vec<String> = self.tie_break.iter().map(|k| format!("\"{k}\"")).collect();
        writeln!(w, "[ranking]\ntie_break = [{}]\n", tb.join(", ")).unwrap();
        writeln!(w, "[quota]\nrounding = \"{}\"\nbase = \"{}\"\nties = \"{}\"\n", self.rounding, self.base, self.ties)
            .unwrap();
        for (i, r) in self.rules.iter().enumerate() {
            writeln!(w, "[[award]]\nkey = \"rule{}\"\nname = \"规则{}\"", i + 1, i + 1).unwrap();
            writeln!(w, "period = \"{}\"\nevent = \"{}\"", r.period, r.event).unwrap();
            if let Some(u) = r.unit {
                writeln!(w, "unit = \"{u}\"").unwrap();
            }
            if let Some(m) = r.rank_at_most {
                writeln!(w, "rank_at_most = {m}").unwrap();
            }
            if let Some(rep) = r.repeat {
                writeln!(w, "repeat = \"{rep}\"").unwrap();
            }
            if let Some((scope, amount)) = r.management {
                writeln!(w, "management_scope = {}\nmanagement_amount = {amount}", quoted(scope)).unwrap();
            }
            if let Some((scope, share, amount)) = r.staff {
                writeln!(w, "staff_scope = {}\nstaff_share = {share}\nstaff_amount = {amount}", quoted(scope)).unwrap();
            }
            if let Some(g) = r.group {
                writeln!(w, "group = \"{g}\"").unwrap();
            }
            writeln!(w).unwrap();
        }
        if let Some((scope, shares)) = &self.training {
            writeln!(
                w,
                "[training]\nevent = \"{TRAINING_EVENT}\"\nunit = \"{DEPARTMENT}\"\nscope = {}\nshares = [{}]\n",
                quoted(scope),
                shares.join(", ")
            )
            .unwrap();
        }
        writeln!(
            w,
            "[[grade]]\nname = \"优秀\"\nshare = 0.2\n\n[[grade]]\nname = \"良好\"\nshare = 0.3\n\n[[grade]]\nname = \"合格\"\nshare = 0.5\n"
        )
        .unwrap();
        writeln!(w, "[highest_only]\ncity = \"{}\"", self.city).unwrap();
        t
    }

    fn load(&self) -> Rubric {
        let text = self.toml();
        match rubric::load(&text, "rubric.toml") {
            Ok(r) => r,
            Err(p) => panic!("generated rubric does not load: {p:?}\n{text}"),
        }
    }
}

impl Scenario {
    fn months(&self) -> Vec<u32> {
        self.quarters.iter().flat_map(|q| (q - 1) * 3 + 1..=(q - 1) * 3 + 3).collect()
    }

    fn active_in(&self, i: usize, period: &Period) -> bool {
        let p = &self.people[i];
        p.joined.is_none_or(|j| j <= period.last_day()) && p.left.is_none_or(|l| l >= period.first_day())
    }

    fn active_at_end(&self, i: usize, period: &Period) -> bool {
        self.active_in(i, period) && self.people[i].left.is_none_or(|l| l >= period.last_day())
    }

    fn management(&self, i: usize) -> bool {
        MANAGEMENT_POSTS.contains(&self.people[i].post)
    }

    /// Vetoes honoured by a period: a quarter's own; a year's and its quarters'.
    fn vetoed(&self, i: usize, period: &Period) -> bool {
        self.vetoes.iter().any(|&(who, at)| who == i && period.contains(&at.period()))
    }
}

// ---------------------------------------------------------------------------------------
// Strategies.

fn scope() -> impl Strategy<Value = &'static [&'static str]> {
    select(SCOPES.to_vec())
}

fn rule_spec() -> impl Strategy<Value = RuleSpec> {
    (
        select(RULE_EVENTS.to_vec()),
        maybe(0.5, select(EVENT_UNITS.to_vec())),
        maybe(0.6, 1u32..=3),
        select(vec![None, Some("once"), Some("per_occurrence")]),
        maybe(0.5, (scope(), select(AMOUNTS.to_vec()))),
        maybe(0.85, (scope(), select(SHARES.to_vec()), select(AMOUNTS.to_vec()))),
        maybe(0.7, select(GROUPS.to_vec())),
    )
        .prop_map(|(event, unit, rank_at_most, repeat, management, staff, group)| RuleSpec {
            period: "quarter",
            event,
            unit,
            rank_at_most,
            repeat,
            management,
            staff,
            group,
        })
}

fn year_rule() -> impl Strategy<Value = RuleSpec> {
    (
        maybe(0.5, (scope(), select(AMOUNTS.to_vec()))),
        (scope(), select(SHARES.to_vec()), select(AMOUNTS.to_vec())),
        maybe(0.7, select(GROUPS.to_vec())),
    )
        .prop_map(|(management, staff, group)| RuleSpec {
            period: "year",
            event: YEAR_EVENT,
            unit: None,
            rank_at_most: None,
            repeat: None,
            management,
            staff: Some(staff),
            group,
        })
}

fn rubric_spec() -> impl Strategy<Value = RubricSpec> {
    (
        (
            select(vec!["half_up", "floor", "ceil"]),
            select(vec!["headcount", "staff", "eligible"]),
            select(vec!["include", "exclude"]),
            select(vec!["top_up", "skip"]),
            select(vec![("0.4", "0.6"), ("0.5", "0.5"), ("0.3", "0.7")]),
            select(vec!["mean_of_present", "zero"]),
            select(vec!["sum", "mean"]),
            select(vec![&["kpi", "points"][..], &["points", "kpi"][..], &["kpi"][..], &[][..]]),
        ),
        vec(rule_spec(), 2..=4),
        any::<prop::sample::Index>(),
        maybe(0.4, year_rule()),
        maybe(0.7, (scope(), vec(select(TRAINING_SHARES.to_vec()), 1..=3))),
    )
        .prop_map(
            |(
                (rounding, base, ties, city, weights, missing_month, annual_points, tie_break),
                mut rules,
                per_occurrence,
                year_rule,
                training,
            )| {
                // At least one rule pays once per event row.
                let k = per_occurrence.index(rules.len());
                rules[k].repeat = Some("per_occurrence");
                rules.extend(year_rule);
                RubricSpec {
                    rounding,
                    base,
                    ties,
                    city,
                    weights,
                    missing_month,
                    annual_points,
                    tie_break,
                    rules,
                    training,
                }
            },
        )
}

fn date(d: (u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, d.0, d.1).expect("a valid date")
}

fn person_spec() -> impl Strategy<Value = PersonSpec> {
    (
        select(UNITS.to_vec()),
        prop_oneof![
            4 => select(STAFF_POSTS.to_vec()),
            1 => select(MANAGEMENT_POSTS.to_vec()),
        ],
        maybe(0.25, select(JOINED.to_vec())),
        maybe(0.2, select(LEFT.to_vec())),
    )
        .prop_map(|(unit, post, joined, left)| {
            let joined = joined.map(date);
            // The last working day is never before the first.
            let left = left.map(date).filter(|l| joined.is_none_or(|j| *l >= j));
            PersonSpec { unit, post, joined, left }
        })
}

/// A points or KPI value on a coarse grid so that ties (also across a quota's cut-off) are
/// frequent: mostly 85, 90 or 95, else any multiple of 0.5 between 80 and 100 (in half
/// points).
fn value() -> impl Strategy<Value = u32> {
    prop_oneof![
        6 => select(vec![170u32, 180, 190]),
        1 => 160u32..=200,
    ]
}

fn sheet(n: usize, present: f64) -> impl Strategy<Value = Sheet> {
    maybe(present, vec(maybe(0.85, value()), n))
}

/// A period for a row: mostly in `quarters` (a weighted list), sometimes the year.
fn period_pick(quarters: Vec<u32>) -> impl Strategy<Value = PeriodPick> {
    prop_oneof![
        5 => select(quarters.clone()).prop_map(PeriodPick::Quarter),
        3 => (select(quarters), 0u32..3).prop_map(|(q, k)| PeriodPick::Month((q - 1) * 3 + 1 + k)),
        1 => Just(PeriodPick::Year),
    ]
}

fn event_spec(quarters: Vec<u32>) -> impl Strategy<Value = EventSpec> {
    let mut events = RULE_EVENTS.to_vec();
    events.push(TRAINING_EVENT);
    (period_pick(quarters), select(events), select(EVENT_UNITS.to_vec()), maybe(0.8, 1u32..=5)).prop_map(
        |(period, event, unit, rank)| EventSpec {
            // The year's own event only ever has year rows.
            event: if period == PeriodPick::Year && event == TRAINING_EVENT { YEAR_EVENT } else { event },
            period,
            unit,
            rank,
        },
    )
}

fn city_spec(n: usize, quarters: Vec<u32>) -> impl Strategy<Value = CitySpec> {
    (
        0..n,
        period_pick(quarters),
        select(CITY_AWARDS.to_vec()),
        select(CITY_AMOUNTS.to_vec()),
        prop_oneof![3 => Just("cash"), 1 => Just("gift")],
    )
        .prop_map(|(person, period, award, amount, group)| CitySpec { person, period, award, amount, group })
}

fn veto_spec(n: usize, quarters: Vec<u32>) -> impl Strategy<Value = (usize, PeriodPick)> {
    (
        0..n,
        prop_oneof![
            4 => select(quarters).prop_map(PeriodPick::Quarter),
            1 => Just(PeriodPick::Year),
        ],
    )
}

/// A scenario whose data covers `quarters` of 2009 (rows of other quarters appear via
/// `row_quarters`, a weighted list, so that the engine must leave them out).
fn scenario(quarters: Vec<u32>, row_quarters: Vec<u32>) -> impl Strategy<Value = Scenario> {
    (rubric_spec(), 1usize..=30).prop_flat_map(move |(rubric, n)| {
        let months = quarters.len() * 3;
        (
            Just(rubric),
            Just(quarters.clone()),
            vec(person_spec(), n),
            vec(sheet(n, 0.9), months),
            vec(sheet(n, 0.9), months),
            vec(sheet(n, 0.2), quarters.len()),
            vec(event_spec(row_quarters.clone()), 1..14),
            vec(city_spec(n, row_quarters.clone()), 0..8),
            vec(veto_spec(n, row_quarters.clone()), 0..4),
            vec(maybe(0.7, (select(LEVELS.to_vec()), select(LEVELS.to_vec()))), n),
        )
            .prop_map(
                |(
                    rubric,
                    quarters,
                    people,
                    mut points,
                    mut kpi_monthly,
                    mut kpi_quarterly,
                    events,
                    city,
                    vetoes,
                    levels,
                )| {
                    // Most people score the same every month, so that whole ties (score and
                    // every tie-break key) are common and fall across quota cut-offs.
                    for (i, level) in levels.iter().enumerate() {
                        let Some((p, k)) = *level else { continue };
                        let flatten = |sheets: &mut Vec<Sheet>, v: u32| {
                            for rows in sheets.iter_mut().flatten() {
                                if let Some(x) = rows[i].as_mut() {
                                    *x = v;
                                }
                            }
                        };
                        flatten(&mut points, p);
                        flatten(&mut kpi_monthly, k);
                        flatten(&mut kpi_quarterly, k);
                    }
                    Scenario { rubric, quarters, people, points, kpi_monthly, kpi_quarterly, events, city, vetoes }
                },
            )
    })
}

fn quarter_scenario() -> impl Strategy<Value = Scenario> {
    scenario(vec![2], vec![2, 2, 2, 2, 1, 3])
}

fn year_scenario() -> impl Strategy<Value = Scenario> {
    scenario(vec![1, 2, 3, 4], vec![1, 2, 3, 4])
}

// ---------------------------------------------------------------------------------------
// Scenario → library values.

/// A tiny deterministic shuffler (splitmix64), so a permutation is just a seed.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn src(file: &str, line: usize) -> Source {
    Source { file: Arc::from(file), line: line as u64 }
}

/// The dataset the readers would have produced; with a seed, the roster, every sheet,
/// the events, the city awards and the vetoes are in a shuffled order (and their line
/// numbers follow, as if the files had been reordered).
fn dataset(s: &Scenario, seed: Option<u64>) -> Dataset {
    let n = s.people.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut events: Vec<&EventSpec> = s.events.iter().collect();
    let mut city: Vec<&CitySpec> = s.city.iter().collect();
    let mut vetoes: Vec<(usize, PeriodPick)> = Vec::new();
    for v in &s.vetoes {
        // The reader keeps one veto per (period, id).
        if !vetoes.contains(v) {
            vetoes.push(*v);
        }
    }
    if let Some(seed) = seed {
        let mut r = Shuffle(seed);
        r.shuffle(&mut order);
        r.shuffle(&mut events);
        r.shuffle(&mut city);
        r.shuffle(&mut vetoes);
    }
    let roster = Roster::new(
        order
            .iter()
            .enumerate()
            .map(|(line, &i)| {
                let p = &s.people[i];
                Person {
                    id: id_of(i).into(),
                    name: format!("员工{}", i + 1).into(),
                    unit: p.unit.into(),
                    post: p.post.into(),
                    joined: p.joined,
                    left: p.left,
                    source: src("data/roster.csv", line + 2),
                }
            })
            .collect(),
    );
    let mut data = Dataset { roster: roster.into(), ..Dataset::default() };
    for (mi, &month) in s.months().iter().enumerate() {
        let period = Period::Month { year: YEAR, month };
        if let Some(rows) = &s.points[mi] {
            let file: Arc<str> = Arc::from(format!("data/points/{period}.csv"));
            let mut sheet = PointsSheet::new(file);
            // The roster lists people in `order`: a person's position is their place in it.
            for (position, &i) in order.iter().enumerate() {
                if let (Some(v), true) = (rows[i], s.active_in(i, &period)) {
                    let line = std::num::NonZeroU32::new(position as u32 + 2).expect("a data line");
                    sheet.insert(position, MonthPoints { points: half(v), line });
                }
            }
            data.points.insert(period, sheet);
        }
        let quarter = month.div_ceil(3);
        let qi = s.quarters.iter().position(|&q| q == quarter).unwrap();
        if s.kpi_quarterly[qi].is_none() {
            if let Some(rows) = &s.kpi_monthly[mi] {
                let file: Arc<str> = Arc::from(format!("data/kpi/{period}.csv"));
                data.kpi_monthly.insert(period, kpi_sheet(s, rows, &order, &period, file));
            }
        }
    }
    for (qi, &quarter) in s.quarters.iter().enumerate() {
        if let Some(rows) = &s.kpi_quarterly[qi] {
            let period = Period::Quarter { year: YEAR, quarter };
            let file: Arc<str> = Arc::from(format!("data/kpi/{period}.csv"));
            data.kpi_quarterly.insert(period, kpi_sheet(s, rows, &order, &period, file));
        }
    }
    data.events = events
        .iter()
        .enumerate()
        .map(|(line, e)| EventRow {
            period: e.period.period(),
            event: e.event.to_string(),
            unit: e.unit.to_string(),
            rank: e.rank,
            note: String::new(),
            source: src("data/events.csv", line + 2),
        })
        .collect();
    data.city_awards = city
        .iter()
        .enumerate()
        .map(|(line, c)| CityAwardRow {
            period: c.period.period(),
            id: id_of(c.person),
            award: c.award.to_string(),
            amount: Decimal::from(c.amount),
            group: c.group.to_string(),
            source: src("data/city-awards.csv", line + 2),
        })
        .collect();
    data.vetoes = vetoes
        .iter()
        .enumerate()
        .map(|(line, &(i, period))| VetoRow {
            period: period.period(),
            id: id_of(i),
            reason: "违规".to_string(),
            source: src("data/vetoes.csv", line + 2),
        })
        .collect();
    data
}

fn kpi_sheet(s: &Scenario, rows: &[Option<u32>], order: &[usize], period: &Period, file: Arc<str>) -> KpiSheet {
    let mut sheet = KpiSheet::new(file);
    for (position, &i) in order.iter().enumerate() {
        if let (Some(v), true) = (rows[i], s.active_in(i, period)) {
            sheet.insert(
                position,
                KpiValue { kpi: half(v), line: std::num::NonZeroU32::new(position as u32 + 2).expect("a data line") },
            );
        }
    }
    sheet
}

const Q2: Period = Period::Quarter { year: YEAR, quarter: 2 };

fn run_quarter(s: &Scenario, rubric: &Rubric, seed: Option<u64>) -> PeriodResult {
    let data = dataset(s, seed);
    match engine::quarter(&Q2, rubric, &data, "data", Trail::None) {
        Ok(r) => r,
        Err(p) => panic!("engine::quarter refused valid data: {p:?}"),
    }
}

fn render(result: &PeriodResult) -> String {
    json::render(&Report::Period(result.clone().into()))
}

// ---------------------------------------------------------------------------------------
// Independent arithmetic (SPEC § 4).

fn round_half_up(v: Decimal, decimals: u32) -> Decimal {
    v.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

fn quota_of(share: Decimal, base: usize, rounding: &str) -> usize {
    let product = share * Decimal::from(base);
    let rounded = match rounding {
        "half_up" => round_half_up(product, 0),
        "floor" => product.floor(),
        "ceil" => product.ceil(),
        other => panic!("unknown rounding {other}"),
    };
    rounded.to_string().parse().expect("a whole count")
}

fn in_scope(scope: &[&str], unit: &str) -> bool {
    scope.iter().any(|s| *s == DEPARTMENT || *s == unit)
}

/// A quarter takes its own rows and its months'; a year only its own.
fn row_in(period: &Period, row: &Period) -> bool {
    match period {
        Period::Year(_) => row == period,
        _ => period.contains(row),
    }
}

fn firings(rule: &RuleSpec, period: &Period, events: &[EventSpec]) -> usize {
    let rows = events
        .iter()
        .filter(|e| {
            row_in(period, &e.period.period())
                && e.event == rule.event
                && rule.unit.is_none_or(|u| u == e.unit)
                && rule.rank_at_most.is_none_or(|max| e.rank.is_some_and(|r| r <= max))
        })
        .count();
    match rule.repeat {
        Some("per_occurrence") => rows,
        _ => rows.min(1),
    }
}

/// The ranking key of a result person: score, then each tie-break key.
fn key(p: &PersonResult, tie_break: &[&str]) -> Vec<Option<Decimal>> {
    std::iter::once(p.scored.score)
        .chain(tie_break.iter().map(|k| match *k {
            "kpi" => p.scored.kpi,
            _ => p.scored.points,
        }))
        .collect()
}

/// The expected candidates of a cut, in listing order, and the base of its quota.
fn expected_candidates(s: &Scenario, result: &PeriodResult, scope: &[&str], staff_only: bool) -> (Vec<String>, usize) {
    let period = result.period;
    let candidates: Vec<String> = result
        .people
        .iter()
        .filter(|p| {
            let i = index_of(&p.person.id);
            s.active_at_end(i, &period)
                && !s.vetoed(i, &period)
                && !(staff_only && s.management(i))
                && in_scope(scope, s.people[i].unit)
                && p.scored.score.is_some()
        })
        .map(|p| p.person.id.to_string())
        .collect();
    let at_end = (0..s.people.len()).filter(|&i| s.active_at_end(i, &period) && in_scope(scope, s.people[i].unit));
    let base = match s.rubric.base {
        "headcount" => at_end.count(),
        "staff" => at_end.filter(|&i| !s.management(i)).count(),
        _ => candidates.len(),
    };
    (candidates, base)
}

/// Property 1 for one cut: candidates, base, quota, and where the cut falls given ties.
fn check_cut(
    s: &Scenario,
    result: &PeriodResult,
    what: &str,
    cut: &Cut,
    scope: &[&str],
    share: Decimal,
    staff_only: bool,
) -> Result<(), TestCaseError> {
    let (expected, base) = expected_candidates(s, result, scope, staff_only);
    // A candidate names its place in the listing.
    let got: Vec<String> = cut.candidates.iter().map(|c| result.people[c.place].person.id.to_string()).collect();
    prop_assert_eq!(&got, &expected, "{}: candidates", what);
    prop_assert_eq!(cut.base, base, "{}: base ({})", what, s.rubric.base);
    let quota = quota_of(share, base, s.rubric.rounding);
    prop_assert_eq!(cut.quota, quota, "{}: quota of {} × {}", what, share, base);
    let by_id: HashMap<&str, &PersonResult> = result.people.iter().map(|p| (p.person.id.as_ref(), p)).collect();
    let keys: Vec<Vec<Option<Decimal>>> =
        expected.iter().map(|id| key(by_id[id.as_str()], s.rubric.tie_break)).collect();
    let n = keys.len();
    let include = s.rubric.ties == "include";
    if quota == 0 || quota >= n || keys[quota - 1] != keys[quota] {
        prop_assert_eq!(cut.taken, quota.min(n), "{}: taken without a tie", what);
        prop_assert!(cut.tie.is_none(), "{}: a tie reported where none is", what);
    } else {
        let tied = &keys[quota - 1];
        let start = keys.iter().position(|k| k == tied).unwrap();
        let end = keys.iter().rposition(|k| k == tied).unwrap() + 1;
        let Some(tie) = &cut.tie else {
            return Err(TestCaseError::fail(format!(
                "{what}: candidates {start}..{end} tie across the cut at {quota} but no tie is reported"
            )));
        };
        prop_assert_eq!(tie.included, include, "{}: tie.included", what);
        prop_assert_eq!(&tie.ids[..], &expected[start..end], "{}: tied ids", what);
        let want = if include { end } else { start };
        prop_assert_eq!(cut.taken, want, "{}: taken with a tie ({})", what, s.rubric.ties);
    }
    // The headline: no quota is exceeded except by a declared, included tie.
    let declared = cut.tie.as_ref().is_some_and(|t| t.included);
    if !declared {
        prop_assert!(cut.taken <= cut.quota.min(n), "{}: took {} over a quota of {}", what, cut.taken, cut.quota);
    }
    if !include {
        prop_assert!(cut.taken <= cut.quota, "{}: ties = exclude went over", what);
    }
    Ok(())
}

fn quarter_rules(s: &Scenario) -> Vec<(String, &RuleSpec)> {
    rules_of(s, "quarter")
}

fn rules_of<'a>(s: &'a Scenario, period: &str) -> Vec<(String, &'a RuleSpec)> {
    s.rubric
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.period == period)
        .map(|(i, r)| (format!("rule{}", i + 1), r))
        .collect()
}

fn check_quotas(s: &Scenario, result: &PeriodResult) -> Result<(), TestCaseError> {
    let rules = quarter_rules(s);
    prop_assert_eq!(result.rules.len(), rules.len());
    for ((key, spec), outcome) in rules.iter().zip(&result.rules) {
        prop_assert_eq!(&outcome.key, key);
        let fired = firings(spec, &result.period, &s.events);
        prop_assert_eq!(outcome.fired, fired, "{}: fired", key);
        match (&spec.staff, &outcome.cut) {
            (Some((scope, share, _)), Some(cut)) if fired > 0 => {
                check_cut(s, result, key, cut, scope, dec(share), true)?
            }
            (Some(_), None) if fired == 0 => {}
            (None, None) => {}
            _ => {
                return Err(TestCaseError::fail(format!(
                    "{key}: staff part {:?}, fired {fired}, cut {:?}",
                    spec.staff,
                    outcome.cut.as_ref().map(|c| (c.quota, c.taken))
                )))
            }
        }
    }
    // Training: the best place among the period's rows for the training event and unit.
    let place = s
        .events
        .iter()
        .filter(|e| row_in(&result.period, &e.period.period()) && e.event == TRAINING_EVENT && e.unit == DEPARTMENT)
        .filter_map(|e| e.rank)
        .min();
    match (&s.rubric.training, place, &result.training) {
        (Some((scope, shares)), Some(place), Some(t)) => {
            let share = shares.get(place as usize - 1).map_or(Decimal::ZERO, |x| dec(x));
            prop_assert_eq!(t.place, place, "training place");
            prop_assert_eq!(t.share, share, "training share");
            check_cut(s, result, "training", &t.cut, scope, share, false)?;
        }
        (Some(_), None, None) | (None, _, None) => {}
        (spec, place, got) => {
            return Err(TestCaseError::fail(format!(
                "training: rubric {spec:?}, best place {place:?}, result {:?}",
                got.as_ref().map(|t| (t.place, t.cut.quota, t.cut.taken))
            )))
        }
    }
    // Each person's training flag is exactly the training cut's taken set.
    let trained: BTreeSet<&str> = result.training.as_ref().map(|t| taken_ids(result, &t.cut)).unwrap_or_default();
    for p in &result.people {
        prop_assert_eq!(p.training, trained.contains(p.person.id.as_ref()), "{} training", p.person.id);
    }
    Ok(())
}

/// The ids of the people a cut took (its candidates name their places in the listing).
fn taken_ids<'r>(result: &'r PeriodResult, cut: &Cut) -> BTreeSet<&'r str> {
    cut.taken_places().map(|place| result.people[place].person.id.as_ref()).collect()
}

/// Property 2: staff lines go to the first `taken` candidates, `fired` times each;
/// management lines to every eligible manager in scope, `fired` times each.
fn check_lines(s: &Scenario, result: &PeriodResult, period_kind: &str) -> Result<(), TestCaseError> {
    let period = result.period;
    let rules = rules_of(s, period_kind);
    for ((key, spec), outcome) in rules.iter().zip(&result.rules) {
        let fired = outcome.fired;
        let taken: BTreeSet<&str> = outcome.cut.as_ref().map(|c| taken_ids(result, c)).unwrap_or_default();
        let mut recipients = 0;
        for p in &result.people {
            let i = index_of(&p.person.id);
            let of_rule = |part: Part| {
                p.awards
                    .iter()
                    .filter(|l| l.source == LineSource::District && *l.award == **key && l.part == part)
                    .collect::<Vec<_>>()
            };
            let staff = of_rule(Part::Staff);
            let management = of_rule(Part::Management);
            if !staff.is_empty() || !management.is_empty() {
                recipients += 1;
            }
            let want_staff = if taken.contains(p.person.id.as_ref()) { fired } else { 0 };
            prop_assert_eq!(staff.len(), want_staff, "{} staff lines of {}", key, p.person.id);
            if !staff.is_empty() {
                prop_assert!(s.active_at_end(i, &period), "{}: {} not active at end", key, p.person.id);
                prop_assert!(!s.vetoed(i, &period), "{}: {} is vetoed", key, p.person.id);
                prop_assert!(!s.management(i), "{}: {} is management", key, p.person.id);
                prop_assert!(p.rank.is_some(), "{}: {} is not ranked", key, p.person.id);
                let amount = Decimal::from(spec.staff.expect("a staff part").2);
                prop_assert!(staff.iter().all(|l| l.amount == amount));
            }
            let eligible_manager = spec.management.is_some_and(|(scope, _)| {
                s.management(i)
                    && s.active_at_end(i, &period)
                    && !s.vetoed(i, &period)
                    && in_scope(scope, s.people[i].unit)
            });
            let want_management = if eligible_manager { fired } else { 0 };
            prop_assert_eq!(management.len(), want_management, "{} management lines of {}", key, p.person.id);
            if let Some((_, amount)) = spec.management {
                prop_assert!(management.iter().all(|l| l.amount == Decimal::from(amount)));
            }
            for l in staff.iter().chain(&management) {
                prop_assert_eq!(l.group.as_deref(), spec.group, "{} group", key);
            }
        }
        prop_assert_eq!(outcome.recipients, recipients, "{} recipients", key);
    }
    Ok(())
}

/// Property 3: the sums.
fn check_sums(result: &PeriodResult) -> Result<(), TestCaseError> {
    for rule in &result.rules {
        let paid: Decimal = result
            .people
            .iter()
            .flat_map(|p| &p.awards)
            .filter(|l| l.source == LineSource::District && *l.award == *rule.key)
            .map(|l| l.paid)
            .sum();
        prop_assert_eq!(rule.paid, paid, "{} paid", rule.key);
    }
    let total: Decimal = result.people.iter().map(|p| p.payout).sum();
    prop_assert_eq!(result.total_payout, total, "total_payout");
    for p in &result.people {
        let sum: Decimal = p.awards.iter().map(|l| l.paid).sum();
        prop_assert_eq!(p.payout, sum, "payout of {}", p.person.id);
        for l in &p.awards {
            prop_assert!(l.paid >= Decimal::ZERO && l.paid <= l.amount, "{} {:?}", p.person.id, l);
            if l.source == LineSource::City {
                prop_assert_eq!(l.paid, Decimal::ZERO, "city line of {} paid", p.person.id);
            }
        }
    }
    Ok(())
}

/// The same sums, read back from the rendered JSON.
fn check_json_sums(text: &str) -> Result<(), TestCaseError> {
    let v: Value = serde_json::from_str(text).expect("valid JSON");
    let num = |v: &Value| -> Decimal { json_dec(v).unwrap_or_else(|| panic!("not a number: {v}")) };
    let people = v["people"].as_array().unwrap();
    let mut total = Decimal::ZERO;
    for p in people {
        let lines: Decimal = p["awards"].as_array().unwrap().iter().map(|l| num(&l["paid"])).sum();
        prop_assert_eq!(num(&p["payout"]), lines, "JSON payout of {}", p["id"]);
        total += num(&p["payout"]);
    }
    prop_assert_eq!(num(&v["total_payout"]), total, "JSON total_payout");
    for a in v["awards"].as_array().unwrap() {
        let paid: Decimal = people
            .iter()
            .flat_map(|p| p["awards"].as_array().unwrap())
            .filter(|l| l["source"] == "district" && l["award"] == a["award"])
            .map(|l| num(&l["paid"]))
            .sum();
        prop_assert_eq!(num(&a["paid"]), paid, "JSON paid of {}", a["award"]);
    }
    Ok(())
}

/// Property 4: highest award only, per person and group.
fn check_netting(s: &Scenario, result: &PeriodResult) -> Result<(), TestCaseError> {
    let order: HashMap<String, usize> =
        quarter_rules(s).into_iter().enumerate().map(|(k, (key, _))| (key, k)).collect();
    for p in &result.people {
        let i = index_of(&p.person.id);
        let mut groups: BTreeSet<&str> = p.awards.iter().filter_map(|l| l.group.as_deref()).collect();
        for c in s.city.iter().filter(|c| c.person == i) {
            if row_in(&result.period, &c.period.period()) {
                groups.insert(c.group);
            }
        }
        for l in p.awards.iter().filter(|l| l.group.is_none()) {
            prop_assert_eq!(l.paid, l.amount, "{}: ungrouped {} not paid in full", p.person.id, l.award);
        }
        for g in groups {
            let district: Vec<_> =
                p.awards.iter().filter(|l| l.source == LineSource::District && l.group.as_deref() == Some(g)).collect();
            // C from the generated city rows of the period, not from the result's lines.
            let c = s
                .city
                .iter()
                .filter(|c| c.person == i && c.group == g && row_in(&result.period, &c.period.period()))
                .map(|c| Decimal::from(c.amount))
                .max()
                .unwrap_or(Decimal::ZERO);
            let city_lines =
                p.awards.iter().filter(|l| l.source == LineSource::City && l.group.as_deref() == Some(g)).count();
            let city_rows = s
                .city
                .iter()
                .filter(|c| c.person == i && c.group == g && row_in(&result.period, &c.period.period()))
                .count();
            prop_assert_eq!(city_lines, city_rows, "{} city lines in {}", p.person.id, g);
            let Some(d) = district.iter().map(|l| l.amount).max() else {
                continue;
            };
            let paying: Vec<_> = district.iter().filter(|l| l.paid > Decimal::ZERO).collect();
            prop_assert!(paying.len() <= 1, "{}: {} district lines paid in {}", p.person.id, paying.len(), g);
            let paid: Decimal = district.iter().map(|l| l.paid).sum();
            prop_assert!(paid <= d, "{}: paid {} over D = {} in {}", p.person.id, paid, d, g);
            let want = match s.rubric.city {
                "top_up" => (d - c).max(Decimal::ZERO),
                _ if d > c => d,
                _ => Decimal::ZERO,
            };
            prop_assert_eq!(paid, want, "{} in {}: D = {}, C = {} ({})", p.person.id, g, d, c, s.rubric.city);
            // The paying line is the highest, the earliest rule among equals.
            let first_best = district.iter().filter(|l| l.amount == d).min_by_key(|l| order[&*l.award]).unwrap();
            if let Some(line) = paying.first() {
                prop_assert_eq!(line.amount, d);
                prop_assert_eq!(&line.award, &first_best.award, "{}: earlier rule wins", p.person.id);
            }
            // Every other district line in the group names what superseded it.
            let winner = district.iter().position(|l| std::ptr::eq(*l, *first_best)).unwrap();
            for (k, l) in district.iter().enumerate() {
                if k != winner {
                    prop_assert_eq!(l.paid, Decimal::ZERO);
                    prop_assert!(l.superseded_by.is_some(), "{}: {} names no winner", p.person.id, l.award);
                }
            }
        }
    }
    Ok(())
}

fn json_dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Some(dec(&n.to_string())),
        _ => None,
    }
}

/// Property 6: ranks from the JSON values alone.
fn check_ranking(s: &Scenario, text: &str) -> Result<(), TestCaseError> {
    let v: Value = serde_json::from_str(text).expect("valid JSON");
    let people = v["people"].as_array().unwrap();
    let key = |p: &Value| -> Option<Vec<Decimal>> {
        let score = json_dec(&p["score"])?;
        let mut k = vec![score];
        for t in s.rubric.tie_break {
            k.push(json_dec(&p[*t]).expect("a scored person has points and KPI"));
        }
        Some(k)
    };
    for p in people {
        match key(p) {
            None => prop_assert!(p["rank"].is_null(), "{} has no score but rank {}", p["id"], p["rank"]),
            Some(mine) => {
                let ahead = people.iter().filter_map(key).filter(|other| *other > mine).count();
                prop_assert_eq!(p["rank"].as_u64(), Some(ahead as u64 + 1), "rank of {} with key {:?}", p["id"], mine);
            }
        }
    }
    // Listing: by rank then id; the unranked after, by id.
    let listing: Vec<(bool, u64, String)> = people
        .iter()
        .map(|p| (p["rank"].is_null(), p["rank"].as_u64().unwrap_or(0), p["id"].as_str().unwrap().to_string()))
        .collect();
    let mut sorted = listing.clone();
    sorted.sort();
    prop_assert_eq!(listing, sorted, "listing order");
    // Exactly the people active in the quarter are listed.
    let listed: BTreeSet<String> = people.iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    let active: BTreeSet<String> = (0..s.people.len()).filter(|&i| s.active_in(i, &Q2)).map(id_of).collect();
    prop_assert_eq!(listed, active, "listed people");
    Ok(())
}

/// Scores recomputed from the generated sheets (SPEC § 4 "Quarter").
fn check_scores(s: &Scenario, result: &PeriodResult) -> Result<(), TestCaseError> {
    let zero = s.rubric.missing_month == "zero";
    let (pw, kw) = (dec(s.rubric.weights.0), dec(s.rubric.weights.1));
    let qi = s.quarters.iter().position(|&q| q == 2).unwrap();
    let months = s.months();
    for p in &result.people {
        let i = index_of(&p.person.id);
        let monthly = |sheets: &[Sheet]| -> Vec<Decimal> {
            let mut values = Vec::new();
            for (mi, &month) in months.iter().enumerate() {
                let period = Period::Month { year: YEAR, month };
                if !Q2.contains(&period) || !s.active_in(i, &period) {
                    continue;
                }
                match sheets[mi].as_ref().and_then(|rows| rows[i]) {
                    Some(v) => values.push(half(v)),
                    None if zero => values.push(Decimal::ZERO),
                    None => {}
                }
            }
            values
        };
        let mean = |values: Vec<Decimal>| {
            (!values.is_empty())
                .then(|| round_half_up(values.iter().copied().sum::<Decimal>() / Decimal::from(values.len()), 2))
        };
        let points = mean(monthly(&s.points));
        let kpi = match &s.kpi_quarterly[qi] {
            Some(rows) => match rows[i] {
                Some(v) => Some(half(v)),
                None if zero => Some(Decimal::ZERO),
                None => None,
            },
            None => mean(monthly(&s.kpi_monthly)),
        };
        let score = points.zip(kpi).map(|(p, k)| round_half_up(p * pw + k * kw, 2));
        prop_assert_eq!(p.scored.points, points, "points of {}", p.person.id);
        prop_assert_eq!(p.scored.kpi, kpi, "kpi of {}", p.person.id);
        prop_assert_eq!(p.scored.score, score, "score of {}", p.person.id);
        prop_assert_eq!(p.management, s.management(i), "management of {}", p.person.id);
        prop_assert_eq!(p.active_at_end, s.active_at_end(i, &Q2), "active_at_end of {}", p.person.id);
        prop_assert_eq!(p.veto.is_some(), s.vetoed(i, &Q2), "vetoed of {}", p.person.id);
    }
    Ok(())
}

/// Where two texts first differ, with a little context.
fn first_difference(a: &str, b: &str) -> String {
    for (n, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  - {x}\n  + {y}", n + 1);
        }
    }
    format!("one is a prefix of the other ({} vs {} lines)", a.lines().count(), b.lines().count())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // 64 keeps the suite fast; PROPTEST_CASES=5000 digs deeper.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(config())]

    /// 1. No quota is exceeded except by a declared, included tie; the cut ends exactly at
    /// the end (include) or start (exclude) of the tied group. Same for training.
    #[test]
    fn quotas_are_never_exceeded_except_by_a_declared_tie(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_quotas(&s, &result)?;
    }

    /// 2. A rule's staff lines go exactly to the first `taken` candidates, each of them
    /// active at end, not vetoed, not management and ranked; management lines to every
    /// eligible manager in scope.
    #[test]
    fn award_lines_go_to_exactly_the_right_people(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_lines(&s, &result, "quarter")?;
    }

    /// 3. Rule totals, people's payouts and the total payout add up; city lines pay 0.
    #[test]
    fn payouts_add_up(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_sums(&result)?;
        check_json_sums(&render(&result))?;
    }

    /// 4. Highest award only: per person and group at most one district line pays, and it
    /// pays max(0, D − C) (top_up) or D if D > C (skip).
    #[test]
    fn highest_award_only(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_netting(&s, &result)?;
    }

    /// 5. Determinism: the same input gives the same JSON, and so does any reordering of the
    /// roster, the sheets, the events, the city awards and the vetoes.
    #[test]
    fn output_does_not_depend_on_row_order(s in quarter_scenario(), seed in any::<u64>()) {
        let rubric = s.rubric.load();
        let first = render(&run_quarter(&s, &rubric, None));
        let again = render(&run_quarter(&s, &rubric, None));
        prop_assert!(first == again, "two runs differ: {}", first_difference(&first, &again));
        let shuffled = render(&run_quarter(&s, &rubric, Some(seed)));
        prop_assert!(
            first == shuffled,
            "reordered input changes the output: {}",
            first_difference(&first, &shuffled)
        );
    }

    /// 6. Rank = 1 + the number strictly ahead on (score, tie-break keys), recomputed from the
    /// JSON values; no score, no rank; listings by rank then id.
    #[test]
    fn ranking_counts_the_people_strictly_ahead(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_ranking(&s, &render(&result))?;
    }

    /// Quarterly points, KPI and score follow SPEC § 4 "Quarter" with `missing_month`.
    #[test]
    fn quarter_scores_follow_the_formula(s in quarter_scenario()) {
        let rubric = s.rubric.load();
        let result = run_quarter(&s, &rubric, None);
        check_scores(&s, &result)?;
    }

    /// The year: each person's year_payout is their quarters' payouts plus the year's own,
    /// the quarters' numbers are those of `engine::quarter`, and the year's sums add up.
    #[test]
    fn year_payout_is_the_quarters_plus_the_year(s in year_scenario()) {
        let rubric = s.rubric.load();
        let data = dataset(&s, None);
        let year = Period::Year(YEAR);
        let result = match engine::year(&year, &rubric, &data, "data", Trail::None) {
            Ok(r) => r,
            Err(p) => panic!("engine::year refused valid data: {p:?}"),
        };
        let quarters: Vec<PeriodResult> = year
            .quarters()
            .iter()
            .map(|q| engine::quarter(q, &rubric, &data, "data", Trail::None).expect("a valid quarter"))
            .collect();
        check_sums(&result)?;
        check_lines(&s, &result, "year")?;
        for ((key, spec), outcome) in rules_of(&s, "year").iter().zip(&result.rules) {
            prop_assert_eq!(outcome.fired, firings(spec, &year, &s.events), "{} fired", key);
            if let (Some((scope, share, _)), Some(cut)) = (&spec.staff, &outcome.cut) {
                check_cut(&s, &result, key, cut, scope, dec(share), true)?;
            }
        }
        let totals: Vec<(Period, Decimal)> =
            quarters.iter().map(|q| (q.period, q.total_payout)).collect();
        prop_assert_eq!(&result.quarter_totals, &totals, "quarter_totals");
        for p in &result.people {
            let want: Vec<(Period, Decimal)> = quarters
                .iter()
                .map(|q| {
                    let paid = q
                        .people
                        .iter()
                        .find(|r| r.person.id == p.person.id)
                        .map_or(Decimal::ZERO, |r| r.payout);
                    (q.period, paid)
                })
                .collect();
            let got: Vec<(Period, Decimal)> = result.quarter_payouts(p).collect();
            prop_assert_eq!(&got, &want, "quarter_payouts of {}", p.person.id);
            let sum: Decimal = want.iter().map(|(_, v)| *v).sum::<Decimal>() + p.payout;
            prop_assert_eq!(result.year_payout(p), Some(sum), "year_payout of {}", p.person.id);
        }
        let text = render(&result);
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        let year_total: Decimal = v["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| json_dec(&p["year_payout"]).expect("a year payout"))
            .sum();
        prop_assert_eq!(json_dec(&v["year_total_payout"]), Some(year_total), "year_total_payout");
    }
}
