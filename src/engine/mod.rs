//! The pure engine: validated data + rubric → a period's results. One pipeline serves the
//! month, the quarter and the year: score people, rank them, then (quarter/year) veto, fire
//! the award rules, net city awards, allot training and grades. No paths, no clap.

pub mod awards;
pub mod quota;
pub mod scores;

use crate::error::Problem;
use crate::model::{CityAwardRow, Dataset, MonthEntry, Period, PeriodKind, Person, VetoRow};
use crate::rubric::Rubric;
use crate::{cache, threads};
use awards::{AwardLine, RuleOutcome, Standing, TrainingOutcome};
use quota::{Band, Candidate};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use scores::{Notes, Scored};
use std::sync::Arc;

/// One person's results for a quarter or a year.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonResult {
    /// The person's position on the roster.
    pub position: usize,
    /// The person as the roster has them (id, name, unit, post, dates, roster row).
    pub person: Arc<Person>,
    pub management: bool,
    pub active_at_end: bool,
    /// The veto that applies to this period, if any.
    /// Boxed: few people are vetoed, and every result carries the field.
    pub veto: Option<Box<VetoRow>>,
    pub scored: Scored,
    pub rank: Option<u32>,
    pub training: bool,
    pub awards: Vec<AwardLine>,
    pub payout: Decimal,
    /// The grade band's name, shared by everyone in the band.
    pub grade: Option<Arc<str>>,
}

/// A quarter's or a year's results. `P` is what is kept of each person: everything
/// (`PersonResult`), or for the quarters inside a year only what the year needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodResult<P = PersonResult> {
    pub period: Period,
    pub policy: String,
    pub decimals: u32,
    /// Ranked people by rank then id, then the unranked by id.
    pub people: Vec<P>,
    pub rules: Vec<RuleOutcome>,
    pub training: Option<TrainingOutcome>,
    /// Year only: the excellence bands.
    pub grades: Vec<Band>,
    /// The sum of `payout` over people (for a year: the year's own awards).
    pub total_payout: Decimal,
    /// Year only: each quarter's total payout.
    pub quarter_totals: Vec<(Period, Decimal)>,
    /// Year only: each quarter's payouts by roster position (0 for people not in it), beside
    /// `quarter_totals`; see `quarter_payouts`. Looked up, not copied into every person's
    /// result: 92 bytes a person more in the largest list of a company's year.
    quarter_paid: Vec<PaidByPosition>,
    /// Year only: what the department pays for the year, the quarters included.
    pub year_total_payout: Option<Decimal>,
    pub warnings: Vec<Problem>,
}

impl PeriodResult {
    /// A person's payout in each quarter of the year, Q1 first (none outside a year).
    pub fn quarter_payouts<'a>(&'a self, p: &'a PersonResult) -> impl Iterator<Item = (Period, Decimal)> + 'a {
        self.quarter_totals.iter().zip(&self.quarter_paid).map(|((q, _), paid)| (*q, paid.get(p.position)))
    }

    /// Asks for `p`'s quarter payouts to be fetched into the cache (see `cache::prefetch`).
    pub fn prefetch_quarter_payouts(&self, p: &PersonResult) {
        for paid in &self.quarter_paid {
            crate::cache::prefetch(paid.yuan.as_ptr().wrapping_add(p.position));
        }
    }

    /// A person's payout for the whole year: the quarters' and the year's own (none outside a
    /// year). The quarters that paid nothing, most people's, are not added: adding a `Decimal`
    /// zero costs as much as any other (perf: summing five a row was a sixth of writing a
    /// company's year as CSV), and gives the same amount, at most to fewer places, which whole
    /// yuan do not show.
    pub fn year_payout(&self, p: &PersonResult) -> Option<Decimal> {
        (self.period.kind() == PeriodKind::Year).then(|| {
            self.quarter_payouts(p)
                .map(|(_, paid)| paid)
                .filter(|paid| !paid.is_zero())
                .fold(p.payout, |sum, paid| sum + paid)
        })
    }
}

/// One person's line in the monthly bulletin.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthPerson {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub unit: Arc<str>,
    pub post: Arc<str>,
    pub entry: Option<MonthEntry>,
    pub rank: Option<u32>,
}

/// The monthly points bulletin (积分通报).
#[derive(Debug, Clone, PartialEq)]
pub struct MonthResult {
    pub period: Period,
    /// The month's points sheet, when there is one (its rows' lines are in the entries).
    pub file: Option<std::sync::Arc<str>>,
    pub policy: String,
    pub decimals: u32,
    pub people: Vec<MonthPerson>,
    /// The rounded mean of the points given this month.
    pub mean: Option<Decimal>,
    /// Item columns the sheet used, in rubric order.
    pub item_names: Vec<String>,
    pub warnings: Vec<Problem>,
}

/// Whatever a period's report is.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Month(MonthResult),
    Period(Box<PeriodResult>),
}

/// Whose scoring steps (inputs with their file and line, exact means) to keep for `explain`.
/// A report keeps none: for half a million people they would outweigh the results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Trail<'a> {
    #[default]
    None,
    /// One person, by id.
    Of(&'a str),
    Everyone,
}

impl Trail<'_> {
    fn keeps(self, person: &Person) -> bool {
        match self {
            Trail::None => false,
            Trail::Of(id) => *person.id == *id,
            Trail::Everyone => true,
        }
    }
}

/// Runs the one pipeline for any period. `data_dir` only names missing files in messages.
pub fn run(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
) -> Result<Report, Vec<Problem>> {
    match period.kind() {
        PeriodKind::Month => Ok(Report::Month(month(period, rubric, data, data_dir))),
        PeriodKind::Quarter => quarter(period, rubric, data, data_dir, trail).map(|r| Report::Period(Box::new(r))),
        PeriodKind::Year => year(period, rubric, data, data_dir, trail).map(|r| Report::Period(Box::new(r))),
    }
}

/// `run` for a caller with no further use for the period's sheets: a quarter lets them go once
/// its people are scored, before its results are made (60 MB of a company's quarter that the
/// results would otherwise be made beside). The same pipeline as `quarter`.
pub fn run_dropping_sheets(
    period: &Period,
    rubric: &Rubric,
    data: &mut Dataset,
    data_dir: &str,
    trail: Trail<'_>,
) -> Result<Report, Vec<Problem>> {
    if period.kind() != PeriodKind::Quarter {
        return run(period, rubric, data, data_dir, trail);
    }
    let (scored, warnings) = score_quarter(period, rubric, data, data_dir, trail)?;
    data.drop_sheets();
    Ok(Report::Period(Box::new(settle(period, rubric, data, scored, warnings, keep_everything))))
}

/// The monthly bulletin: points as given, ranked by points alone.
pub fn month(period: &Period, rubric: &Rubric, data: &Dataset, data_dir: &str) -> MonthResult {
    let sheet = data.points.get(period);
    let mut warnings = Vec::new();
    // Everyone active that month, and anyone else the sheet gives a row for (the quarter uses
    // such rows too, so the bulletin shows them).
    let has_row = |position: usize| sheet.is_some_and(|rows| rows.contains(position));
    let (positions, people): (Vec<usize>, Vec<&Person>) =
        data.roster.people.iter().map(|p| &**p).enumerate().filter(|(i, p)| p.active_in(period) || has_row(*i)).unzip();
    let entry = |s: &crate::model::PointsSheet, i: usize| {
        s.get(i).map(|row| MonthEntry { points: row.points, items: s.items(i).to_vec(), line: row.line.get() })
    };
    let entries: Vec<Option<MonthEntry>> = positions.iter().map(|&i| sheet.and_then(|s| entry(s, i))).collect();
    let as_scored: Vec<Scored> =
        entries.iter().map(|e| Scored { score: e.as_ref().map(|m| m.points), ..Scored::default() }).collect();
    let ranks = scores::rank(&as_scored, |s| s, &[]);
    let missing_file = format!("{data_dir}/points/{period}.csv");
    match sheet {
        None => warnings.push(Problem::new(
            missing_file,
            format!("warning: there is no points sheet for {period}: add it (cs-score template points {period})"),
        )),
        Some(rows) => {
            let file = &rows.file;
            for (p, e) in people.iter().zip(&entries) {
                if !p.active_in(period) {
                    warnings.push(Problem::new(
                        file.to_string(),
                        format!("warning: {} {} has a row but was not active in {period} (joined or left): it counts all the same", p.id, p.name),
                    ));
                } else if e.is_none() {
                    warnings.push(Problem::new(
                        file.to_string(),
                        format!(
                            "warning: {} {} is active in {period} but has no points row: add it if it was forgotten",
                            p.id, p.name
                        ),
                    ));
                }
            }
        }
    }
    let given: Vec<Decimal> = entries.iter().flatten().map(|e| e.points).collect();
    let mean = (!given.is_empty()).then(|| {
        crate::model::round_half_up(
            given.iter().copied().sum::<Decimal>() / Decimal::from(given.len()),
            rubric.score.decimals,
        )
    });
    let used: Vec<&str> = entries.iter().flatten().flat_map(|e| e.items.iter().map(|(n, _)| n.as_ref())).collect();
    let item_names = rubric.item_names().into_iter().filter(|n| used.contains(&n.as_str())).collect();
    let mut rows: Vec<MonthPerson> = people
        .iter()
        .zip(entries)
        .zip(ranks)
        .map(|((p, entry), rank)| MonthPerson {
            id: p.id.clone(),
            name: p.name.clone(),
            unit: p.unit.clone(),
            post: p.post.clone(),
            entry,
            rank,
        })
        .collect();
    rows.sort_by(|a, b| listing_key(a.rank, &a.id).cmp(&listing_key(b.rank, &b.id)));
    crate::error::sort(&mut warnings);
    MonthResult {
        period: *period,
        file: sheet.map(|s| s.file.clone()),
        policy: rubric.policy_name.clone(),
        decimals: rubric.score.decimals,
        people: rows,
        mean,
        item_names,
        warnings,
    }
}

/// Ranked first by rank, then the unranked; each by id.
fn listing_key(rank: Option<u32>, id: &str) -> (bool, u32, &str) {
    (rank.is_none(), rank.unwrap_or(0), id)
}

/// A quarter's results (SPEC § 4).
pub fn quarter(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
) -> Result<PeriodResult, Vec<Problem>> {
    quarter_keeping(period, rubric, data, data_dir, trail, keep_everything)
}

/// What `check` needs of a quarter: its problems, or its warnings (nobody's results are kept).
pub fn quarter_findings(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
) -> Result<Vec<Problem>, Vec<Problem>> {
    quarter_keeping(period, rubric, data, data_dir, Trail::None, keep_nothing).map(|r| r.warnings)
}

fn keep_nothing(_: Settled<'_>) {}

/// `quarter`, keeping of each person what `keep` makes of them.
fn quarter_keeping<P: Send>(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
    keep: impl Fn(Settled<'_>) -> P + Sync,
) -> Result<PeriodResult<P>, Vec<Problem>> {
    let (scored, warnings) = score_quarter(period, rubric, data, data_dir, trail)?;
    Ok(settle(period, rubric, data, scored, warnings, keep))
}

/// The first half of a quarter: every active person's points, KPI and score (in roster
/// order), and the warnings scoring raised; or the problems that stop it.
type QuarterScored = (Vec<(usize, Scored)>, Vec<Problem>);

fn score_quarter(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
) -> Result<QuarterScored, Vec<Problem>> {
    let mut notes = Notes::default();
    scores::missing_sheets(period, data, rubric, data_dir, &mut notes);
    let sheets = scores::QuarterSheets::new(period, data, data_dir);
    // Each person is scored on their own: a long roster in two halves, one on another thread,
    // whose results and notes follow the first half's (roster order, as on one thread).
    let score = |positions: std::ops::Range<usize>| {
        let mut notes = Notes::default();
        // Room at once, and in the first half's list for everyone (the second's is appended to
        // it): a list of half a million grown step by step is copied, into fresh memory, at
        // every step.
        let room = if positions.start == 0 { data.roster.len() } else { positions.len() };
        let mut scored: Vec<(usize, Scored)> = Vec::with_capacity(room);
        scored.extend(
            positions
                .map(|i| (i, &data.roster.people[i]))
                .filter(|(_, p)| p.active_in(period))
                .map(|(i, p)| (i, scores::quarter(p, i, &sheets, rubric, trail.keeps(p), &mut notes))),
        );
        (scored, notes)
    };
    let [(mut scored, first), (second, rest)] = threads::halves(data.roster.len(), TWO_THREADS_FROM, score);
    scored.extend(second);
    for half in [first, rest] {
        notes.problems.extend(half.problems);
        notes.warnings.extend(half.warnings);
    }
    if !notes.problems.is_empty() {
        // By file and line, as warnings are: the people's order would mix the files.
        crate::error::sort(&mut notes.problems);
        return Err(notes.problems);
    }
    crate::error::sort(&mut notes.warnings);
    Ok((scored, notes.warnings))
}

/// A year's results: each quarter through the same pipeline, then the annual scores.
pub fn year(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
) -> Result<PeriodResult, Vec<Problem>> {
    year_scoring(period, rubric, data, trail, |q| score_quarter(q, rubric, data, data_dir, Trail::None))
}

/// `year`, with each quarter's points and KPI sheets put by `load` into a dataset of their own
/// (sharing `data`'s roster) just before that quarter is scored, replacing the last quarter's:
/// a year of half a million people then holds one quarter of sheets at a time. When any
/// quarter's files have problems, those are all returned, as when every file is read first.
pub fn year_loading(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    data_dir: &str,
    trail: Trail<'_>,
    mut load: impl FnMut(&Period, &mut Dataset) -> Result<(), Vec<Problem>>,
) -> Result<PeriodResult, Vec<Problem>> {
    let mut sheets = Dataset { roster: data.roster.clone(), ..Dataset::default() };
    year_scoring(period, rubric, data, trail, |q| {
        let scored = load(q, &mut sheets).and_then(|()| score_quarter(q, rubric, &sheets, data_dir, Trail::None));
        // The quarter's sheets go once its people are scored (or failed to be).
        sheets.drop_sheets();
        scored
    })
}

/// The year from `score` of each of its quarters, in order. Each quarter's payouts are settled
/// on another thread as soon as its people are scored, while this one goes on to the next
/// quarter: the next quarter's files are read meanwhile (see `year_loading`'s caller), and a
/// year that settled each quarter before going on left a core idle a fifth of the time, the
/// files read before the settling was done. Every quarter's problems come back together.
fn year_scoring(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    trail: Trail<'_>,
    mut score: impl FnMut(&Period) -> Result<QuarterScored, Vec<Problem>>,
) -> Result<PeriodResult, Vec<Problem>> {
    let quarters = period.quarters();
    std::thread::scope(|scope| {
        let mut problems = Vec::new();
        let mut scored = Vec::new();
        for q in &quarters {
            match score(q) {
                Ok((people, warnings)) => {
                    let scores = QuarterScores::of(data.roster.len(), rubric.score.decimals, &people);
                    scored.push(QuarterInYear {
                        period: *q,
                        warnings,
                        scores,
                        payouts: start_payouts(scope, *q, rubric, data, people),
                    });
                }
                Err(p) => problems.extend(p),
            }
        }
        if !problems.is_empty() {
            // A folder's problem (two files for one month, a folder that cannot be read) comes
            // with every quarter read from it: once is enough.
            crate::error::sort(&mut problems);
            problems.dedup();
            return Err(problems);
        }
        Ok(year_of_quarters(period, rubric, data, trail, scored))
    })
}

/// A quarter's payouts, settled on a helper thread of `scope` (here, for a roster too short to
/// be worth a thread).
fn start_payouts<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    q: Period,
    rubric: &'scope Rubric,
    data: &'scope Dataset,
    scored: Vec<(usize, Scored)>,
) -> threads::Job<'scope, SettledPayouts> {
    if data.roster.len() < TWO_THREADS_FROM {
        return threads::Job::Done(payouts(&q, rubric, data, scored));
    }
    threads::start(scope, move || payouts(&q, rubric, data, scored))
}

/// What a year keeps of one of its quarters: every person's points and KPI (by roster
/// position), and every person's payout, settled on another thread (see `year_scoring`) —
/// four full quarters of half a million people would not fit. The year's scores need only the
/// quarters' points and KPI: the last quarter's payouts are settled beside them.
struct QuarterInYear<'scope> {
    period: Period,
    warnings: Vec<Problem>,
    scores: QuarterScores,
    payouts: threads::Job<'scope, SettledPayouts>,
}

/// A person's quarterly points and KPI.
type PointsAndKpi = (Option<Decimal>, Option<Decimal>);

/// A quarter's points and KPI by roster position, as a year keeps them until its own scores
/// are made: 16 bytes a person, not the 40 of a `PointsAndKpi` (80 MB of fresh memory over the
/// four quarters of half a million people, against 32). A quarter's values are rounded to the
/// score's places, so each is kept as its mantissa at that scale when that gives it back
/// exactly (sign and scale too); any other value is kept as it is, aside. The mantissas are
/// 64-bit: at the rubric's most places (10) a value up to 900 million fits, so that a rubric
/// with many places does not send everyone aside, where a person takes several times the room.
struct QuarterScores {
    decimals: u32,
    /// Points and KPI mantissas; `NONE` for no value (and for people not in the quarter, who
    /// have none), `ASIDE` for values kept in `aside`.
    compact: Vec<[i64; 2]>,
    aside: FxHashMap<usize, PointsAndKpi>,
}

impl QuarterScores {
    const NONE: i64 = i64::MIN;
    const ASIDE: i64 = i64::MIN + 1;

    /// The points and KPI of a quarter's `scored` people, by roster position.
    fn of(people: usize, decimals: u32, scored: &[(usize, Scored)]) -> QuarterScores {
        let mut scores = QuarterScores::new(people, decimals);
        for (position, s) in scored {
            scores.put(*position, (s.points, s.kpi));
        }
        scores
    }

    fn new(people: usize, decimals: u32) -> QuarterScores {
        QuarterScores { decimals, compact: vec![[Self::NONE; 2]; people], aside: FxHashMap::default() }
    }

    fn put(&mut self, position: usize, (points, kpi): PointsAndKpi) {
        match (self.mantissa(points), self.mantissa(kpi)) {
            (Some(p), Some(k)) => self.compact[position] = [p, k],
            _ => {
                self.compact[position] = [Self::ASIDE; 2];
                self.aside.insert(position, (points, kpi));
            }
        }
    }

    /// What `put` was given at `position` (nothing for anyone else).
    fn get(&self, position: usize) -> PointsAndKpi {
        match self.compact[position] {
            [Self::ASIDE, _] => self.aside[&position],
            [points, kpi] => (self.value(points), self.value(kpi)),
        }
    }

    /// The value's compact form, when it gives the value back exactly (`Decimal`s equal in
    /// value may still differ in scale or the sign of zero, which reports can show).
    fn mantissa(&self, value: Option<Decimal>) -> Option<i64> {
        let Some(value) = value else { return Some(Self::NONE) };
        let m = i64::try_from(value.mantissa()).ok().filter(|&m| m > Self::ASIDE)?;
        (self.value(m).map(|v| v.serialize()) == Some(value.serialize())).then_some(m)
    }

    fn value(&self, mantissa: i64) -> Option<Decimal> {
        (mantissa != Self::NONE).then(|| Decimal::new(mantissa, self.decimals))
    }
}

/// A settled quarter's payouts.
struct SettledPayouts {
    total: Decimal,
    /// By roster position (0 for people not active in the quarter).
    by_position: PaidByPosition,
}

/// A quarter's payouts by roster position, as a year keeps them until its report is written:
/// whole yuan (nearly every payout) in 4 bytes a person, any other amount aside. As `Decimal`s
/// they took 16 bytes a person, 32 MB of fresh memory over a company's four quarters, where
/// fresh memory is time (docs/performance.md, "The machine").
#[derive(Debug, Clone, PartialEq)]
struct PaidByPosition {
    yuan: Vec<u32>,
    aside: FxHashMap<usize, Decimal>,
}

impl PaidByPosition {
    /// In `yuan`: the amount is in `aside`.
    const ASIDE: u32 = u32::MAX;

    /// Nothing paid to any of `people`.
    fn new(people: usize) -> PaidByPosition {
        PaidByPosition { yuan: vec![0; people], aside: FxHashMap::default() }
    }

    /// Records the payout at `position`: as its number when that gives it back exactly (as
    /// `QuarterScores::mantissa` decides: alike to the last bit, places and the sign of zero
    /// included), else aside.
    fn put(&mut self, position: usize, paid: Decimal) {
        let exact = u32::try_from(paid.mantissa())
            .ok()
            .filter(|&yuan| yuan != Self::ASIDE && Decimal::from(yuan).serialize() == paid.serialize());
        match exact {
            Some(yuan) => self.yuan[position] = yuan,
            None => {
                self.yuan[position] = Self::ASIDE;
                self.aside.insert(position, paid);
            }
        }
    }

    fn get(&self, position: usize) -> Decimal {
        match self.yuan[position] {
            Self::ASIDE => self.aside[&position],
            yuan => Decimal::from(yuan),
        }
    }
}

/// The second half of a quarter inside a year: each person's payout, as `settle` pays it
/// (the same listing, rules, city awards and netting), and nothing else. Only people with a
/// district line are visited, a third of a company's quarter, and no result is made for
/// anyone: the district never pays a city line (`awards::net`), so the rest are paid nothing.
/// Training places are not money, and a year's report shows none of
/// its quarters': they are not chosen (that takes a list of candidates, 8 MB, and a quota
/// cut among half a million people).
/// `scored` is taken, not borrowed, so that the quarter's list is freed when its payouts are.
fn payouts(q: &Period, rubric: &Rubric, data: &Dataset, scored: Vec<(usize, Scored)>) -> SettledPayouts {
    let (listing, _, mut lines) = Listing::new(q, rubric, data, &scored);
    let mut by_position = PaidByPosition::new(data.roster.len());
    let mut total = Decimal::ZERO;
    for place in 0..lines.len() {
        // Each place's scores lie all over the quarter's list (see `cache`).
        cache::prefetch_ahead(&scored, &listing.order, place);
        if lines[place].is_empty() {
            continue;
        }
        let position = scored[listing.order[place]].0;
        let (_, payout) = listing.pay(position, std::mem::take(&mut lines[place]), rubric);
        by_position.put(position, payout);
        total += payout;
    }
    SettledPayouts { total, by_position }
}

/// The year from its quarters: annual scores, ranking, year rules and grades, while the
/// quarters' payouts are settled on other threads.
fn year_of_quarters(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    trail: Trail<'_>,
    quarters: Vec<QuarterInYear<'_>>,
) -> PeriodResult {
    let mut warnings = Vec::new();
    let mut scores: Vec<(Period, QuarterScores)> = Vec::new();
    let mut settling = Vec::new();
    for q in quarters {
        warnings.extend(q.warnings);
        scores.push((q.period, q.scores));
        settling.push(q.payouts);
    }
    crate::error::sort(&mut warnings);
    warnings.dedup();
    // Room at once (see `score_quarter`).
    let mut scored: Vec<(usize, Scored)> = Vec::with_capacity(data.roster.len());
    scored.extend(data.roster.people.iter().enumerate().filter(|(_, p)| p.active_in(period)).map(|(i, p)| {
        // At most four quarters: on the stack, not a list per person.
        let mut per_quarter = [(*period, None, None); 4];
        let mut n = 0;
        // A quarter the person was not in gives no values, as does one without any.
        for (q, (points, kpi)) in scores.iter().map(|(q, s)| (q, s.get(i))).take(4) {
            per_quarter[n] = (*q, points, kpi);
            n += 1;
        }
        (i, scores::year(&per_quarter[..n], rubric, trail.keeps(p)))
    }));
    // The quarters' points and KPI (16 bytes a person a quarter) are not needed past here:
    // gone before the year's results are made, the largest list of the run.
    let quarters: Vec<Period> = scores.into_iter().map(|(q, _)| q).collect();
    let mut result = settle(period, rubric, data, scored, warnings, keep_everything);
    let payouts: Vec<SettledPayouts> = settling.into_iter().map(threads::Job::join).collect();
    result.quarter_totals = quarters.into_iter().zip(&payouts).map(|(q, p)| (q, p.total)).collect();
    result.quarter_paid = payouts.into_iter().map(|p| p.by_position).collect();
    // Everyone paid in a quarter is active in it, so in the year and in its results: the year's
    // total is the quarters' totals and the year's own, without adding up each person's.
    let total = result.quarter_totals.iter().map(|(_, t)| *t).sum::<Decimal>() + result.total_payout;
    debug_assert_eq!(Some(total), result.people.iter().map(|p| result.year_payout(p)).sum(), "year total");
    result.year_total_payout = Some(total);
    result
}

/// People from which scoring and settling take a second thread (below it, one is enough).
/// Debug builds split any listing of two or more, so that every test of the tool (goldens,
/// properties, the error catalogue) goes through the two-thread path too.
const TWO_THREADS_FROM: usize = if cfg!(debug_assertions) { 2 } else { 20_000 };

/// The shared second half of the pipeline: rank, veto, awards, training, netting, grades.
/// Everything settled about one person, for `settle`'s caller to keep what it needs of.
pub struct Settled<'a> {
    pub position: usize,
    pub person: &'a Arc<Person>,
    pub standing: &'a Standing<'a>,
    pub veto: Option<&'a VetoRow>,
    /// Lent, not given: a caller that keeps only payouts never touches it (the scores lie in
    /// roster order, people are settled in listing order).
    pub scored: &'a Scored,
    pub training: bool,
    pub awards: Vec<AwardLine>,
    pub payout: Decimal,
    pub grade: Option<&'a Arc<str>>,
}

/// Keeps all of a person (a quarter's or a year's report).
fn keep_everything(p: Settled<'_>) -> PersonResult {
    p.into()
}

impl From<Settled<'_>> for PersonResult {
    fn from(p: Settled<'_>) -> PersonResult {
        PersonResult {
            position: p.position,
            person: p.person.clone(),
            management: p.standing.management,
            active_at_end: p.standing.active_at_end,
            veto: p.veto.cloned().map(Box::new),
            scored: p.scored.clone(),
            rank: p.standing.rank,
            training: p.training,
            awards: p.awards,
            payout: p.payout,
            grade: p.grade.cloned(),
        }
    }
}

/// Each scored entry's place in id order (see `Roster::id_order`), looked up in one pass in
/// entry order: what a listing orders equal ranks by.
fn id_places(scored: &[(usize, Scored)], id_order: &[u32]) -> Vec<u32> {
    scored.iter().map(|(position, _)| id_order[*position]).collect()
}

/// The listing of `scored`: by rank (the unranked last), then by id. The ranking (by
/// `scores::ranking_listed_by` with `id_places`) lists people so already; only the unranked,
/// few, are sorted here.
fn listing_order(
    scored: &[(usize, Scored)],
    scores::Ranking { ranks, mut order }: scores::Ranking,
    id_places: &[u32],
) -> (Vec<Option<u32>>, Vec<usize>) {
    let mut unranked: Vec<u32> = (0..scored.len() as u32).filter(|&i| ranks[i as usize].is_none()).collect();
    unranked.sort_unstable_by_key(|&i| id_places[i as usize]);
    order.extend(unranked);
    (ranks, order.into_iter().map(|i| i as usize).collect())
}

/// What settling a period works out before settling each person: the listing order, each
/// place's standing, who is vetoed, and the city awards by person. `Listing::new` hands over
/// beside it the period's rule outcomes and each place's district lines, for the settling to
/// fill in and use up.
struct Listing<'a> {
    /// Indices into the scored list, in listing order.
    order: Vec<usize>,
    /// Each place's standing.
    standings: Vec<Standing<'a>>,
    vetoes: FxHashMap<usize, &'a VetoRow>,
    city: FxHashMap<usize, Vec<&'a CityAwardRow>>,
}

impl<'a> Listing<'a> {
    /// The listing of `scored` (ranks, vetoes, standings), and the period's rules fired on it.
    fn new(
        period: &Period,
        rubric: &Rubric,
        data: &'a Dataset,
        scored: &[(usize, Scored)],
    ) -> (Listing<'a>, Vec<RuleOutcome>, Vec<Vec<AwardLine>>) {
        // Who is vetoed, the city awards and each person's standing but the rank need no
        // ranking: for a long listing they are made on another thread beside it.
        let unranked = || {
            let (vetoes, city) = (vetoes(period, data), city_awards(period, data));
            let standings = unranked_standings(period, rubric, data, scored, &vetoes);
            (vetoes, city, standings)
        };
        let ((ranks, order), (vetoes, city, mut by_roster)) = threads::beside(
            scored.len(),
            TWO_THREADS_FROM,
            || {
                let id_places = id_places(scored, data.roster.id_order());
                let ranking = scores::ranking_listed_by(scored, |(_, s)| s, &rubric.tie_break, Some(&id_places));
                listing_order(scored, ranking, &id_places)
            },
            unranked,
        );
        for (standing, rank) in by_roster.iter_mut().zip(ranks) {
            standing.rank = rank;
        }
        let standings: Vec<Standing> = (0..order.len())
            .map(|place| {
                cache::prefetch_ahead(&by_roster, &order, place);
                by_roster[order[place]].clone()
            })
            .collect();
        drop(by_roster);
        let (rules, lines) = awards::fire_rules(period, rubric, &standings, &data.events);
        (Listing { order, standings, vetoes, city }, rules, lines)
    }

    /// A person's district lines with their city awards, netted, and what the district pays
    /// them in all.
    fn pay(&self, position: usize, mut lines: Vec<AwardLine>, rubric: &Rubric) -> (Vec<AwardLine>, Decimal) {
        lines.extend(awards::city_lines(self.city.get(&position).map_or(&[][..], Vec::as_slice)));
        awards::net(&mut lines, rubric.city_netting);
        let payout = lines.iter().map(|l| l.paid).sum();
        (lines, payout)
    }
}

/// The earliest veto that applies to each person in `period` (then by reason), whatever the
/// row order; vetoes are few, people many: people are looked up by roster position.
fn vetoes<'a>(period: &Period, data: &'a Dataset) -> FxHashMap<usize, &'a VetoRow> {
    let mut vetoes: FxHashMap<usize, &VetoRow> = FxHashMap::default();
    for v in data.vetoes.iter().filter(|v| period.contains(&v.period)) {
        let Some(position) = data.roster.position(&v.id) else { continue };
        let earlier = |old: &&VetoRow| (v.period, &v.reason) < (old.period, &old.reason);
        if vetoes.get(&position).is_none_or(earlier) {
            vetoes.insert(position, v);
        }
    }
    vetoes
}

/// The period's city awards by person (roster position).
fn city_awards<'a>(period: &Period, data: &'a Dataset) -> FxHashMap<usize, Vec<&'a CityAwardRow>> {
    let mut city: FxHashMap<usize, Vec<&CityAwardRow>> = FxHashMap::default();
    for row in data.city_awards.iter().filter(|r| awards::in_period(period, &r.period)) {
        if let Some(position) = data.roster.position(&row.id) {
            city.entry(position).or_default().push(row);
        }
    }
    city
}

/// Each scored person's standing, in the scored list's (roster) order, without a rank yet:
/// made where people lie one after another in memory, then put in listing order (reading each
/// person in listing order would jump all over memory).
fn unranked_standings<'a>(
    period: &Period,
    rubric: &Rubric,
    data: &'a Dataset,
    scored: &[(usize, Scored)],
    vetoes: &FxHashMap<usize, &VetoRow>,
) -> Vec<Standing<'a>> {
    // Whether each of the roster's posts is management, asked once a post, not a person.
    let management: Vec<bool> = data.roster.posts().iter().map(|post| rubric.is_management(post)).collect();
    scored
        .iter()
        .map(|&(position, _)| {
            let p = &data.roster.people[position];
            Standing {
                person: p,
                unit: &p.unit,
                management: management[data.roster.post_of(position)],
                active_at_end: p.active_at_end(period),
                vetoed: vetoes.contains_key(&position),
                rank: None,
            }
        })
        .collect()
}

/// The second half of a quarter's or a year's pipeline: the listing and its rules
/// (`Listing`), training, grades, then each person settled and kept as `keep` says.
fn settle<P: Send>(
    period: &Period,
    rubric: &Rubric,
    data: &Dataset,
    scored: Vec<(usize, Scored)>,
    warnings: Vec<Problem>,
    keep: impl Fn(Settled<'_>) -> P + Sync,
) -> PeriodResult<P> {
    let (listing, mut rules, mut lines) = Listing::new(period, rubric, data, &scored);
    let Listing { order, standings, vetoes, .. } = &listing;
    let training = awards::training(period, rubric, standings, &data.events);
    let mut trained = vec![false; standings.len()];
    for place in training.iter().flat_map(|t| t.cut.taken_places()) {
        trained[place] = true;
    }
    let grade_candidates: Vec<Candidate> = if period.kind() == PeriodKind::Year {
        standings
            .iter()
            .enumerate()
            .filter(|(_, s)| s.active_at_end && !s.vetoed)
            .filter_map(|(place, s)| s.rank.map(|rank| Candidate { place, rank }))
            .collect()
    } else {
        Vec::new()
    };
    let shares: Vec<(String, Decimal)> = rubric.grades.iter().map(|g| (g.name.clone(), g.share)).collect();
    let grades = if period.kind() == PeriodKind::Year {
        quota::bands(&grade_candidates, &shares, rubric.quota.rounding, rubric.quota.ties, &awards::id_at(standings))
    } else {
        Vec::new()
    };
    // Each place's grade band, by index into `grades`.
    let mut grade_of: Vec<Option<u32>> = vec![None; standings.len()];
    for (index, band) in (0..).zip(&grades) {
        for c in &grade_candidates[band.start..band.end] {
            grade_of[c.place] = Some(index);
        }
    }
    // Each person is settled on their own, so a listing is settled in two stretches, a long
    // one's second on another thread; what the rules paid and the total are added up after
    // (exact sums: the order of the additions does not matter).
    // A stretch's payouts' total, what each rule paid in it, and its own copy of each band's
    // name: a result shares its band's name, and a copy shared by both stretches had every
    // result wait on the other thread for its count of sharers (perf: a sixth of settling).
    type Stretch = (Decimal, Vec<Decimal>, Vec<Arc<str>>);
    let settle_one = |(total, paid, band_names): &mut Stretch, place: usize, person_lines: &mut Vec<AwardLine>| {
        // What this loop reads of the people ahead, fetched in two steps: their scores and
        // their place in the roster's list of people (which a standing points at), then the
        // person that place points at. Read at once, the place itself was the loop's longest
        // wait (perf annotate: three fifths of its own time).
        cache::prefetch_ahead(&scored, order, place);
        if let Some(far) = standings.get(place + cache::FAR) {
            cache::prefetch(far.person);
        }
        if let Some(near) = standings.get(place + cache::NEAR) {
            cache::prefetch(Arc::as_ptr(near.person));
        }
        let (position, s) = (scored[order[place]].0, &scored[order[place]].1);
        let (person_lines, payout) = listing.pay(position, std::mem::take(person_lines), rubric);
        // What each rule paid: its lines found among the few rules, not by hashing each line.
        for line in person_lines.iter().filter(|l| l.source == awards::LineSource::District) {
            if let Some(rule) = rules.iter().position(|r| *r.key == *line.award) {
                paid[rule] += line.paid;
            }
        }
        *total += payout;
        keep(Settled {
            position,
            person: standings[place].person,
            standing: &standings[place],
            veto: vetoes.get(&position).copied(),
            scored: s,
            training: trained[place],
            awards: person_lines,
            payout,
            grade: grade_of[place].map(|band| &band_names[band as usize]),
        })
    };
    let begin = |_| {
        let band_names = grades.iter().map(|b| Arc::from(b.name.as_str())).collect();
        (Decimal::ZERO, vec![Decimal::ZERO; rules.len()], band_names)
    };
    let (people, [(mut total_payout, mut paid, _), (second_total, second_paid, _)]) =
        threads::halves_into(&mut lines, TWO_THREADS_FROM, begin, settle_one);
    total_payout += second_total;
    paid.iter_mut().zip(second_paid).for_each(|(a, b)| *a += b);
    for (rule, paid) in rules.iter_mut().zip(paid) {
        rule.paid += paid;
    }
    PeriodResult {
        period: *period,
        policy: rubric.policy_name.clone(),
        decimals: rubric.score.decimals,
        total_payout,
        people,
        rules,
        training,
        grades,
        quarter_totals: Vec::new(),
        quarter_paid: Vec::new(),
        year_total_payout: None,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any decimal: zero, small and huge mantissas, every scale, either sign (zero too).
    fn any_decimal() -> impl proptest::strategy::Strategy<Value = Option<Decimal>> {
        use proptest::prelude::*;
        let mantissa =
            prop_oneof![Just(0i128), -20_000i128..20_000, -(1i128 << 40)..(1i128 << 40), -(1i128 << 95)..(1i128 << 95)];
        let decimal = (mantissa, 0u32..=28, any::<bool>()).prop_map(|(m, scale, negative)| {
            let mut d = Decimal::from_i128_with_scale(m, scale);
            d.set_sign_negative(negative ^ (m < 0));
            d
        });
        proptest::option::weighted(0.9, decimal)
    }

    #[test]
    fn paid_by_position_keeps_the_edges_of_whole_yuan() {
        let mut negative_zero = Decimal::ZERO;
        negative_zero.set_sign_negative(true);
        let texts = ["0", "0.00", "300", "4294967294", "4294967295", "4294967296", "1.5", "-300"];
        let amounts: Vec<Decimal> =
            texts.iter().map(|t| t.parse().unwrap()).chain(std::iter::once(negative_zero)).collect();
        let mut kept = PaidByPosition::new(amounts.len());
        for (position, amount) in amounts.iter().enumerate() {
            kept.put(position, *amount);
        }
        for (position, amount) in amounts.iter().enumerate() {
            assert_eq!(kept.get(position).serialize(), amount.serialize(), "{amount}");
        }
        assert_eq!(kept.aside.len(), 6, "0.00, u32::MAX, 2^32, 1.5, -300 and -0 aside; 0, 300, 2^32 - 2 not");
    }

    proptest::proptest! {
        /// A quarter's payouts give back each amount put, to the same places and sign, whole
        /// yuan or not, and nothing for positions never paid.
        #[test]
        fn paid_by_position_gives_back_what_it_was_given(
            paid in proptest::collection::vec((0usize..8, any_decimal()), 0..12),
        ) {
            let mut kept = PaidByPosition::new(8);
            let mut expected = [Decimal::ZERO; 8];
            for (position, amount) in paid {
                let amount = amount.unwrap_or(Decimal::ZERO);
                kept.put(position, amount);
                expected[position] = amount;
            }
            for (position, amount) in expected.iter().enumerate() {
                proptest::prop_assert_eq!(kept.get(position).serialize(), amount.serialize());
            }
        }
    }

    proptest::proptest! {
        /// A year's store of a quarter's points and KPI gives back exactly what it was given
        /// (equal, and alike to the last bit: scale and the sign of zero show in reports),
        /// whichever values are kept compact and whichever aside; nothing for anyone else.
        #[test]
        fn quarter_scores_give_back_what_they_were_given(
            decimals in 0u32..=10,
            given in proptest::collection::vec((0usize..30, any_decimal(), any_decimal()), 0..30),
            rounded in proptest::collection::vec((-100_000i64..100_000, proptest::bool::ANY), 0..30),
        ) {
            let mut store = QuarterScores::new(30, decimals);
            let mut expected: FxHashMap<usize, PointsAndKpi> = FxHashMap::default();
            // Values as a quarter gives them (rounded to the score's places), then any others.
            let rounded = rounded.iter().enumerate().map(|(position, &(m, kpi))| {
                let v = Some(Decimal::new(m, decimals));
                (position, v, kpi.then_some(v).flatten())
            });
            for (position, points, kpi) in rounded.chain(given) {
                store.put(position, (points, kpi));
                expected.insert(position, (points, kpi));
            }
            for position in 0..30 {
                let (points, kpi) = store.get(position);
                let (want_points, want_kpi) = expected.get(&position).copied().unwrap_or((None, None));
                proptest::prop_assert_eq!(points.map(|d| d.serialize()), want_points.map(|d| d.serialize()));
                proptest::prop_assert_eq!(kpi.map(|d| d.serialize()), want_kpi.map(|d| d.serialize()));
            }
        }

        /// The listing order taken from the ranking's order is the order of sorting everyone
        /// by rank (the unranked last), then by id: whatever the ties (1 = 1.0), the unranked,
        /// the people left out (inactive: list places and roster positions differ), the
        /// tie-break keys (three take the ranking's decimal way), and however the roster's
        /// order differs from the ids' order.
        #[test]
        fn listing_order_is_by_rank_then_id(
            roster in proptest::collection::vec(
                (proptest::bool::weighted(0.8), proptest::option::weighted(0.8, (0i64..6, 0u32..=1)), 0i64..3),
                0..40,
            ),
            shuffle in proptest::collection::vec(proptest::num::u32::ANY, 40),
            tie in 0usize..3,
        ) {
            use crate::rubric::TieKey;
            let scored: Vec<(usize, Scored)> = roster
                .iter()
                .enumerate()
                .filter(|(_, (active, _, _))| *active)
                .map(|(position, (_, score, kpi))| {
                    let score = score.map(|(m, scale)| Decimal::new(m * 10i64.pow(scale), scale));
                    (position, Scored { score, kpi: Some(Decimal::from(*kpi)), ..Scored::default() })
                })
                .collect();
            let mut id_order: Vec<u32> = (0..roster.len() as u32).collect();
            id_order.sort_by_key(|&i| (shuffle[i as usize], i));
            let ties: [&[TieKey]; 3] = [&[], &[TieKey::Kpi], &[TieKey::Kpi, TieKey::Points, TieKey::Kpi]];
            let id_places = id_places(&scored, &id_order);
            let ranking = scores::ranking_listed_by(&scored, |(_, s)| s, ties[tie], Some(&id_places));
            let (ranks, listed) = listing_order(&scored, ranking, &id_places);
            proptest::prop_assert_eq!(&ranks, &scores::rank(&scored, |(_, s)| s, ties[tie]));
            let mut expected: Vec<usize> = (0..scored.len()).collect();
            expected.sort_by_key(|&i| (ranks[i].is_none(), ranks[i], id_order[scored[i].0]));
            proptest::prop_assert_eq!(listed, expected);
        }
    }
}
