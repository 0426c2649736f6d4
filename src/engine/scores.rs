//! Scores: monthly points → quarterly and annual points, KPI and weighted score, with the
//! `missing_month` rule; then the ranking (score, then tie-break keys, all descending).

use crate::error::Problem;
use crate::model::{
    mantissa_at, round_half_up, rounded_ratio, Dataset, KpiValue, MonthPoints, Period, Person, Sheet, SheetRow, Source,
};
use crate::rubric::{AnnualPoints, MissingMonth, Rubric, TieKey};
use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a value measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Points,
    Kpi,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Points => "points",
            Measure::Kpi => "KPI",
        }
    }
}

/// One input value behind a person's score, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub measure: Measure,
    pub period: Period,
    /// `None`: the person had no row and the month was skipped.
    pub value: Option<Decimal>,
    /// The file and line; for a missing row the file that lacks it (line 0); `None` for a
    /// value derived from a quarter (the year's inputs).
    pub origin: Option<Source>,
    pub missing: bool,
}

/// How a set of values became one: their mean or sum, exact and rounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub values: Vec<Decimal>,
    pub sum: bool,
    pub exact: Decimal,
    pub rounded: Decimal,
}

/// A person's scores for one quarter or year, and — when their trail is kept for `explain`
/// — the steps behind them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scored {
    pub points: Option<Decimal>,
    pub kpi: Option<Decimal>,
    pub score: Option<Decimal>,
    /// Boxed: absent for all but the person explained, so it costs everyone else 8 bytes.
    pub steps: Option<Box<Steps>>,
}

/// How a person's scores were computed, for `explain`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Steps {
    pub inputs: Vec<Input>,
    pub points_calc: Option<Aggregate>,
    pub kpi_calc: Option<Aggregate>,
    /// points × weight + kpi × weight before rounding.
    pub score_exact: Option<Decimal>,
}

/// Findings of the scoring stage.
#[derive(Debug, Default)]
pub struct Notes {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// The values behind one aggregate: at most a quarter's three months or a year's four
/// quarters, kept on the stack (half a million people are scored one after another).
#[derive(Debug, Default)]
struct Values {
    values: [Decimal; 4],
    len: usize,
}

impl Values {
    fn push(&mut self, value: Decimal) {
        self.values[self.len] = value;
        self.len += 1;
    }

    fn as_slice(&self) -> &[Decimal] {
        &self.values[..self.len]
    }
}

/// The rounded mean or sum of the values, and with `trail` the steps behind it.
fn aggregate(values: &[Decimal], sum: bool, decimals: u32, trail: bool) -> (Option<Decimal>, Option<Aggregate>) {
    if values.is_empty() {
        return (None, None);
    }
    if !trail {
        // In integers when the values are small (always, for scores): half a million people.
        let scale = values.iter().map(|v| v.scale()).max().unwrap_or(0);
        let total = values.iter().try_fold(0i128, |t, v| {
            let m = mantissa_at(*v, scale).filter(|&m| exact_in_decimal(m, scale))?;
            t.checked_add(m).filter(|&t| exact_in_decimal(t, scale))
        });
        let count = if sum { 1 } else { values.len() as i128 };
        if let Some(rounded) = total.and_then(|t| rounded_ratio(t, count, scale, decimals)) {
            return (Some(rounded), None);
        }
    }
    let total: Decimal = values.iter().copied().sum();
    let exact = if sum { total } else { total / Decimal::from(values.len()) };
    let rounded = round_half_up(exact, decimals);
    let steps = trail.then(|| Aggregate { values: values.to_vec(), sum, exact, rounded });
    (Some(rounded), steps)
}

/// One sheet a quarter needs: its period, its file (or the file it would be), its rows.
type QuarterSheet<'a, T> = (Period, Arc<str>, Option<&'a Sheet<T>>);

/// A quarter's sheets, looked up once for everyone rather than once per person.
pub struct QuarterSheets<'a> {
    points: Vec<QuarterSheet<'a, MonthPoints>>,
    /// The quarterly KPI export, or the months' KPI files.
    kpi: Vec<QuarterSheet<'a, KpiValue>>,
}

impl<'a> QuarterSheets<'a> {
    pub fn new(quarter: &Period, data: &'a Dataset, data_dir: &str) -> QuarterSheets<'a> {
        fn sheet<'a, T>(
            files: &'a BTreeMap<Period, Sheet<T>>,
            period: Period,
            expected: String,
        ) -> QuarterSheet<'a, T> {
            match files.get(&period) {
                Some(rows) => (period, rows.file.clone(), Some(rows)),
                None => (period, Arc::from(expected), None),
            }
        }
        let months = quarter.months();
        let points = months.iter().map(|m| sheet(&data.points, *m, format!("{data_dir}/points/{m}.csv"))).collect();
        let kpi = match data.kpi_quarterly.get(quarter) {
            Some(rows) => vec![(*quarter, rows.file.clone(), Some(rows))],
            None => months.iter().map(|m| sheet(&data.kpi_monthly, *m, format!("{data_dir}/kpi/{m}.csv"))).collect(),
        };
        QuarterSheets { points, kpi }
    }
}

/// Collects one person's values of a measure from the sheets, applying `missing_month` to
/// the periods in which they were active but had no row; with `inputs`, records each.
#[allow(clippy::too_many_arguments)]
fn collect<T: SheetRow>(
    person: &Person,
    position: usize,
    sheets: &[QuarterSheet<'_, T>],
    measure: Measure,
    rubric: &Rubric,
    mut inputs: Option<&mut Vec<Input>>,
    notes: &mut Notes,
) -> Values {
    let mut values = Values::default();
    for (period, file, rows) in sheets {
        match rows.map(|r| r.get(position)) {
            Some(Some(row)) => {
                let (value, line) = row.parts();
                values.push(value);
                if let Some(inputs) = inputs.as_deref_mut() {
                    let origin = Some(Source { file: file.clone(), line: line.get().into() });
                    inputs.push(Input { measure, period: *period, value: Some(value), origin, missing: false });
                }
            }
            _ if !person.active_in(period) => {}
            // No row in an existing sheet: said per person. No sheet at all: said once.
            Some(None) => {
                missing(person, file, *period, measure, rubric, &mut values, inputs.as_deref_mut(), Some(notes))
            }
            None => missing(person, file, *period, measure, rubric, &mut values, inputs.as_deref_mut(), None),
        }
    }
    values
}

/// Applies `missing_month` to one missing row; `notes` is `None` when the whole sheet is
/// missing (that is reported once, by `missing_sheets`).
#[allow(clippy::too_many_arguments)]
fn missing(
    person: &Person,
    file: &Arc<str>,
    period: Period,
    measure: Measure,
    rubric: &Rubric,
    values: &mut Values,
    inputs: Option<&mut Vec<Input>>,
    notes: Option<&mut Notes>,
) {
    let file_name: &str = file;
    // Formatted only when it is said (a missing sheet leaves thousands of rows missing), and
    // then straight into the message.
    let who = NoRow { person, measure, period };
    let value = match rubric.score.missing_month {
        MissingMonth::MeanOfPresent => {
            if let Some(n) = notes {
                n.warnings.push(Problem::new(
                    file_name,
                    format!("warning: {who}; it is left out of the mean (score.missing_month = \"mean_of_present\"): add the row if it was forgotten"),
                ));
            }
            None
        }
        MissingMonth::Zero => {
            if let Some(n) = notes {
                n.warnings.push(Problem::new(
                    file_name,
                    format!(
                        "warning: {who}; counted as 0 (score.missing_month = \"zero\"): add the row if it was forgotten"
                    ),
                ));
            }
            values.push(Decimal::ZERO);
            Some(Decimal::ZERO)
        }
        MissingMonth::Error => {
            if let Some(n) = notes {
                n.problems.push(Problem::new(
                    file_name,
                    format!("{who} but was active then: add the row, or set score.missing_month to \"mean_of_present\" or \"zero\""),
                ));
            }
            None
        }
    };
    if let Some(inputs) = inputs {
        let origin = Some(Source { file: file.clone(), line: 0 });
        inputs.push(Input { measure, period, value, origin, missing: true });
    }
}

/// Who has no row where: "0001 张伟 has no KPI row for 2009-05", the start of a missing row's
/// message (a company's year can have tens of thousands: written into each, not made apart).
struct NoRow<'a> {
    person: &'a Person,
    measure: Measure,
    period: Period,
}

impl std::fmt::Display for NoRow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let NoRow { person, measure, period } = self;
        write!(f, "{} {} has no {} row for {period}", person.id, person.name, measure.name())
    }
}

/// One message per sheet that a period needs and does not have (SPEC § 4: every active
/// person then has no row, so `missing_month` applies to all of them).
pub fn missing_sheets(quarter: &Period, data: &Dataset, rubric: &Rubric, data_dir: &str, notes: &mut Notes) {
    let anyone_active = |m: &Period| data.roster.people.iter().any(|p| p.active_in(m));
    let mut absent: Vec<(Measure, Period)> = Vec::new();
    for month in quarter.months().iter().filter(|m| anyone_active(m)) {
        if !data.points.contains_key(month) {
            absent.push((Measure::Points, *month));
        }
        if !data.kpi_quarterly.contains_key(quarter) && !data.kpi_monthly.contains_key(month) {
            absent.push((Measure::Kpi, *month));
        }
    }
    let active_months = quarter.months().iter().filter(|m| anyone_active(m)).count();
    for measure in [Measure::Points, Measure::Kpi] {
        let none = absent.iter().filter(|(m, _)| *m == measure).count();
        if none > 0 && none == active_months {
            // Not one month of it: say so once, plainly, instead of once a month, by what
            // `missing_month` makes of it for everyone.
            let folder = if measure == Measure::Points { "points" } else { "kpi" };
            let sheet = if measure == Measure::Points { "points sheet" } else { "KPI file" };
            let head = format!("there is no {sheet} for any month of {quarter}");
            let mean = format!("warning: {head}: nobody can be scored or ranked; add the files");
            missing_month(rubric, notes, format!("{data_dir}/{folder}"), &head, mean, ("each month", "files"));
            absent.retain(|(m, _)| *m != measure);
        }
    }
    for (measure, month) in absent {
        let (folder, what) = match measure {
            Measure::Points => ("points", "points sheet"),
            Measure::Kpi => ("kpi", "KPI file (nor a quarterly export)"),
        };
        let file = format!("{data_dir}/{folder}/{month}.csv");
        let head = format!("there is no {what} for {month}");
        let mean = format!(
            "warning: {head}; {quarter} {} the mean of the other months: add the file",
            match measure {
                Measure::Points => "points are",
                Measure::Kpi => "KPI is",
            }
        );
        missing_month(rubric, notes, file, &head, mean, ("it", "file"));
    }
}

/// What `missing_month` makes of sheets not there (`head` says which), at `at`: `mean` is the
/// warning under "mean_of_present"; under "zero" everyone counts 0 for `counted` and under
/// "error" it is an error, each saying to add the `files`.
fn missing_month(
    rubric: &Rubric,
    notes: &mut Notes,
    at: String,
    head: &str,
    mean: String,
    (counted, files): (&str, &str),
) {
    match rubric.score.missing_month {
        MissingMonth::MeanOfPresent => notes.warnings.push(Problem::new(at, mean)),
        MissingMonth::Zero => notes.warnings.push(Problem::new(
            at,
            format!("warning: {head}; every active person counts 0 for {counted} (score.missing_month = \"zero\"): add the {files}"),
        )),
        MissingMonth::Error => notes.problems.push(Problem::new(
            at,
            format!("{head} (score.missing_month = \"error\"): add the {files}, or set score.missing_month to \"mean_of_present\""),
        )),
    }
}

/// A person's quarterly scores (SPEC § 4 "Quarter"); `trail` keeps the steps for `explain`.
pub fn quarter(
    person: &Person,
    position: usize,
    sheets: &QuarterSheets<'_>,
    rubric: &Rubric,
    trail: bool,
    notes: &mut Notes,
) -> Scored {
    let decimals = rubric.score.decimals;
    let mut inputs = Vec::new();
    let record = trail.then_some(&mut inputs);
    let points = collect(person, position, &sheets.points, Measure::Points, rubric, record, notes);
    let record = trail.then_some(&mut inputs);
    let kpis = collect(person, position, &sheets.kpi, Measure::Kpi, rubric, record, notes);
    let points = aggregate(points.as_slice(), false, decimals, trail);
    let kpi = aggregate(kpis.as_slice(), false, decimals, trail);
    combine(points, kpi, inputs, rubric, trail)
}

/// A person's annual scores from their quarterly ones (SPEC § 4 "Year").
/// `quarters` holds the year's quarters with the person's points and KPI in each (none in a
/// quarter they were not in, or had no values for).
pub fn year(quarters: &[(Period, Option<Decimal>, Option<Decimal>)], rubric: &Rubric, trail: bool) -> Scored {
    let decimals = rubric.score.decimals;
    let mut inputs = Vec::new();
    let mut points = Values::default();
    let mut kpis = Values::default();
    // The inputs only for a trail: a list per person is half a million allocations a year.
    let mut input = |measure, period, value| {
        if trail {
            inputs.push(Input { measure, period, value: Some(value), origin: None, missing: false });
        }
    };
    for &(q, quarter_points, quarter_kpi) in quarters {
        if let Some(p) = quarter_points {
            points.push(p);
            input(Measure::Points, q, p);
        }
        if let Some(k) = quarter_kpi {
            kpis.push(k);
            input(Measure::Kpi, q, k);
        }
    }
    let sum = rubric.score.annual_points == AnnualPoints::Sum;
    let points = aggregate(points.as_slice(), sum, decimals, trail);
    let kpi = aggregate(kpis.as_slice(), false, decimals, trail);
    combine(points, kpi, inputs, rubric, trail)
}

type Aggregated = (Option<Decimal>, Option<Aggregate>);

fn combine(
    (points, points_calc): Aggregated,
    (kpi, kpi_calc): Aggregated,
    inputs: Vec<Input>,
    rubric: &Rubric,
    trail: bool,
) -> Scored {
    let (points_weight, kpi_weight, decimals) =
        (rubric.score.points_weight, rubric.score.kpi_weight, rubric.score.decimals);
    if !trail {
        if let (Some(p), Some(k)) = (points, kpi) {
            if let Some(score) = weighted_fast(p, points_weight, k, kpi_weight, decimals) {
                return Scored { points, kpi, score: Some(score), steps: None };
            }
        }
    }
    let score_exact = match (points, kpi) {
        (Some(p), Some(k)) => Some(p * points_weight + k * kpi_weight),
        _ => None,
    };
    Scored {
        points,
        kpi,
        score: score_exact.map(|s| round_half_up(s, decimals)),
        steps: trail.then(|| Box::new(Steps { inputs, points_calc, kpi_calc, score_exact })),
    }
}

/// `round_half_up(p × pw + k × kw, decimals)` in integers (see `rounded_ratio`); `None` when
/// the numbers are too large for that.
fn weighted_fast(p: Decimal, pw: Decimal, k: Decimal, kw: Decimal, decimals: u32) -> Option<Decimal> {
    let term = |v: Decimal, w: Decimal| {
        // `mantissa_at` at a value's own scale is its mantissa when below 2^63, so `small` always
        // holds: the product fits an `i128`, made by one 64-bit multiplication.
        let small = |m: i128| i64::try_from(m).ok();
        let product = i128::from(small(mantissa_at(v, v.scale())?)?) * i128::from(small(mantissa_at(w, w.scale())?)?);
        let scale = v.scale() + w.scale();
        exact_in_decimal(product, scale).then_some((product, scale))
    };
    let ((a, scale_a), (b, scale_b)) = (term(p, pw)?, term(k, kw)?);
    let scale = scale_a.max(scale_b);
    let widen = |m: i128, from: u32| {
        let wide = || m.checked_mul(10i128.checked_pow(scale - from)?);
        crate::model::rescale(m, from, scale).or_else(wide).filter(|&m| exact_in_decimal(m, scale))
    };
    let sum = widen(a, scale_a)?.checked_add(widen(b, scale_b)?)?;
    rounded_ratio(exact_in_decimal(sum, scale).then_some(sum)?, 1, scale, decimals)
}

/// Whether `Decimal` holds `mantissa` × 10^-`scale` as it is (96 bits, scale at most 28): only
/// then is its arithmetic exact, and only then may the integer shortcuts stand in for it (past
/// that, `Decimal` rounds a product or a sum before the final half-up rounding; found by review).
fn exact_in_decimal(mantissa: i128, scale: u32) -> bool {
    mantissa.unsigned_abs() < 1 << 96 && scale <= 28
}

/// Orders two scored people: score, then each tie-break key, all descending.
pub fn compare(a: &Scored, b: &Scored, tie_break: &[TieKey]) -> Ordering {
    let key = |s: &Scored, k: Option<TieKey>| match k {
        None => s.score,
        Some(TieKey::Kpi) => s.kpi,
        Some(TieKey::Points) => s.points,
    };
    std::iter::once(None)
        .chain(tie_break.iter().copied().map(Some))
        .map(|k| key(b, k).cmp(&key(a, k)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Ranks the scored entries: rank = 1 + the number strictly ahead (1, 2, 2, 4).
/// Returns, for each input index, its rank (`None` for entries without a score).
pub fn rank<T>(entries: &[T], scored: impl Fn(&T) -> &Scored, tie_break: &[TieKey]) -> Vec<Option<u32>> {
    ranking(entries, scored, tie_break).ranks
}

/// A ranking: each entry's rank (`None` without a score), and the ranked entries' indices best
/// first, equal keys in index order, or by `listed` (`ranking_listed_by`: a listing's order).
#[derive(Debug, PartialEq)]
pub struct Ranking {
    pub ranks: Vec<Option<u32>>,
    pub order: Vec<u32>,
}

/// `rank`, with the order it found.
pub fn ranking<T>(entries: &[T], scored: impl Fn(&T) -> &Scored, tie_break: &[TieKey]) -> Ranking {
    ranking_listed_by(entries, scored, tie_break, None)
}

/// `ranking`, equal keys ordered by `listed` (each entry's own number, no two the same: a
/// listing's place in id order) rather than by index, so that the order is a listing's already
/// (`engine::listing_order`) and no run of equals is sorted again.
pub fn ranking_listed_by<T>(
    entries: &[T],
    scored: impl Fn(&T) -> &Scored,
    tie_break: &[TieKey],
    listed: Option<&[u32]>,
) -> Ranking {
    if let Some(ranking) = ranking_by_keys(entries, &scored, tie_break, listed) {
        return ranking;
    }
    let mut order: Vec<u32> =
        (0..entries.len() as u32).filter(|&i| scored(&entries[i as usize]).score.is_some()).collect();
    let of = |i: u32| scored(&entries[i as usize]);
    let listed_at = |i: u32| listed.map_or(i, |l| l[i as usize]);
    // Stable: without `listed`, equal keys stay in index order.
    order.sort_by(|&a, &b| compare(of(a), of(b), tie_break).then_with(|| listed_at(a).cmp(&listed_at(b))));
    let tied = |place: usize| compare(of(order[place - 1]), of(order[place]), tie_break).is_eq();
    let ranks = ranks_in_order(entries.len(), &order, tied);
    Ranking { ranks, order }
}

/// Each entry's rank from the ranked order (`tied(place)`: whether the entry at `place` has the
/// keys of the one before it): 1 + the number strictly ahead.
fn ranks_in_order(n: usize, order: &[u32], tied: impl Fn(usize) -> bool) -> Vec<Option<u32>> {
    let mut ranks = vec![None; n];
    let mut rank = 1;
    for (place, &i) in order.iter().enumerate() {
        if place > 0 && !tied(place) {
            rank = place as u32 + 1;
        }
        ranks[i as usize] = Some(rank);
    }
    ranks
}

/// The ranking by integer sort keys (see `sort_keys`), each packed with its index (or its
/// `listed` number) into one number: half a million people are then sorted as plain `u64`s (or
/// `u128`s when the keys are long), not by comparing decimals scattered in memory. `None` when
/// the keys do not fit.
fn ranking_by_keys<T>(
    entries: &[T],
    scored: &impl Fn(&T) -> &Scored,
    tie_break: &[TieKey],
    listed: Option<&[u32]>,
) -> Option<Ranking> {
    let keys = sort_keys(entries, scored, tie_break)?;
    // What follows the key: the index, or the `listed` number, and the entry each number is.
    let listed_at = |i: usize| listed.map_or(i as u32, |l| l[i]);
    let entry_of: Option<Vec<u32>> = listed.map(|listed| {
        debug_assert_eq!(listed.len(), entries.len(), "a listed number for each entry");
        let mut entry_of = vec![u32::MAX; listed.iter().max().map_or(0, |&m| m as usize + 1)];
        for (i, &l) in listed.iter().enumerate() {
            // A number twice would list one entry twice and leave another out.
            debug_assert_eq!(entry_of[l as usize], u32::MAX, "listed number {l} twice");
            entry_of[l as usize] = i as u32;
        }
        entry_of
    });
    let span = entry_of.as_ref().map_or(entries.len(), Vec::len);
    let index_bits = u32::try_from(span).ok().map_or(u32::BITS, |n| u32::BITS - n.leading_zeros());
    // Best first: the sort is ascending, so each key is turned around below its largest value.
    let top = (1u128 << keys.bits) - 1;
    let keys = &keys;
    let packed = || {
        keys.values
            .iter()
            .enumerate()
            .filter(|(_, v)| SortKeys::scored(v))
            .map(move |(i, v)| ((top - keys.key(v)) << index_bits) | u128::from(listed_at(i)))
    };
    let entry_of = entry_of.as_deref();
    if keys.bits + index_bits <= u64::BITS {
        Some(ranking_packed(entries.len(), packed().map(|p| p as u64), index_bits, entry_of))
    } else if keys.bits + index_bits <= u128::BITS {
        Some(ranking_packed(entries.len(), packed(), index_bits, entry_of))
    } else {
        None
    }
}

/// Sorts packed keys (turned-around key, then index or listed number) and reads the ranking
/// off them; `entry_of` turns a listed number back into its entry.
fn ranking_packed<P: Ord + Copy + Into<u128>>(
    n: usize,
    packed: impl Iterator<Item = P>,
    index_bits: u32,
    entry_of: Option<&[u32]>,
) -> Ranking {
    // Room at once: collected from a filter, the list would grow step by step.
    let mut packed = {
        let mut list = Vec::with_capacity(n);
        list.extend(packed);
        list
    };
    packed.sort_unstable();
    let low = |p: P| (p.into() & ((1 << index_bits) - 1)) as u32;
    let order: Vec<u32> = match entry_of {
        None => packed.iter().map(|&p| low(p)).collect(),
        Some(entry_of) => packed.iter().map(|&p| entry_of[low(p) as usize]).collect(),
    };
    let key_at = |place: usize| packed[place].into() >> index_bits;
    let ranks = ranks_in_order(n, &order, |place| key_at(place - 1) == key_at(place));
    Ranking { ranks, order }
}

/// Integer sort keys: score, then the tie-break keys, each at the largest scale any of them
/// has and one more than its mantissa (0 for none, ranked below any value), packed into one
/// number that orders as they do (`key`, made as the ranking packs it: a list of the packed
/// keys was another 8 MB written and read for half a million people, five listings a year).
#[derive(Debug)]
struct SortKeys {
    /// Each entry's values, slot by slot.
    values: Vec<[u64; 3]>,
    /// How many slots a key has (the score and the tie-break keys).
    slots: usize,
    /// Bits of each slot.
    widths: [u32; 3],
    /// Bits of a packed key (one slot per value).
    bits: u32,
}

impl SortKeys {
    /// Whether the entry of these values has a score (the first slot is not none).
    fn scored(values: &[u64; 3]) -> bool {
        values[0] != 0
    }

    /// The entry's values packed into one number.
    fn key(&self, values: &[u64; 3]) -> u128 {
        values[..self.slots].iter().zip(self.widths).fold(0u128, |key, (&x, width)| (key << width) | u128::from(x))
    }
}

/// The entries' `SortKeys`; `None` when they do not fit: a scale too fine, negative values, or
/// more than two tie-break keys.
fn sort_keys<T>(entries: &[T], scored: &impl Fn(&T) -> &Scored, tie_break: &[TieKey]) -> Option<SortKeys> {
    if tie_break.len() > 2 {
        return None;
    }
    let slots = 1 + tie_break.len();
    let values = |s: &Scored| {
        let mut v = [None; 3];
        v[0] = s.score;
        for (slot, key) in v[1..].iter_mut().zip(tie_break) {
            *slot = match key {
                TieKey::Kpi => s.kpi,
                TieKey::Points => s.points,
            };
        }
        v
    };
    let scale = entries.iter().flat_map(|e| values(scored(e))).flatten().map(|d| d.scale()).max().unwrap_or(0);
    let int = |d: Option<Decimal>| -> Option<u64> {
        match d {
            None => Some(0),
            Some(d) => u64::try_from(crate::model::mantissa_at(d, scale)?).ok()?.checked_add(1),
        }
    };
    // Each slot's values or-ed together: each slot takes as many bits as its largest value
    // (a company's keys then fit 64 bits with the index, and sort twice as fast as in 128).
    let mut all = [0u64; 3];
    // Filled in a loop, with room at once (collecting into an `Option` grows the list step by
    // step).
    let mut ints: Vec<[u64; 3]> = Vec::with_capacity(entries.len());
    for e in entries {
        let [a, b, c] = values(scored(e)).map(int);
        let v = [a?, b?, c?];
        for (all, v) in all.iter_mut().zip(v) {
            *all |= v;
        }
        ints.push(v);
    }
    let widths = all.map(|all| (u64::BITS - all.leading_zeros()).max(1));
    let bits = widths[..slots].iter().sum();
    if bits > 96 {
        return None;
    }
    Some(SortKeys { values: ints, slots, widths, bits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rubric::TieKey;

    /// A score-like decimal: up to `digits` digits at scale 0–4 (and now and then a huge one,
    /// which must take the `Decimal` way).
    fn value(mantissa: u64, scale: u32, huge: bool) -> Decimal {
        if huge {
            Decimal::from_i128_with_scale(i128::from(mantissa >> 8) << 30, scale)
        } else {
            Decimal::new((mantissa % 1_000_000) as i64, scale)
        }
    }

    proptest::proptest! {
        /// The integer shortcut of `aggregate` (taken without a trail) gives the value the
        /// `Decimal` division and half-up rounding give (the trail's way), for means and sums
        /// of one to four values.
        #[test]
        fn aggregates_in_integers_equal_the_decimal_ones(
            raw in proptest::collection::vec((proptest::num::u64::ANY, 0u32..=4, proptest::bool::weighted(0.05)), 1..=4),
            sum in proptest::bool::ANY,
            decimals in 0u32..=4,
        ) {
            let values: Vec<Decimal> = raw.iter().map(|&(m, s, huge)| value(m, s, huge)).collect();
            let (fast, _) = aggregate(&values, sum, decimals, false);
            let (slow, _) = aggregate(&values, sum, decimals, true);
            proptest::prop_assert_eq!(fast, slow);
        }

        /// The same for the weighted score: points × weight + KPI × weight, rounded.
        #[test]
        fn weighted_scores_in_integers_equal_the_decimal_ones(
            p in proptest::num::u64::ANY, ps in 0u32..=10, k in proptest::num::u64::ANY, ks in 0u32..=10,
            pw in 0i64..=i64::MAX, kw in 0i64..=i64::MAX, ws in 0u32..=15, decimals in 0u32..=10,
            huge in proptest::bool::weighted(0.05), short in proptest::bool::ANY,
        ) {
            // Everyday weights (0.6, 0.45) as often as long ones (999.1234567890127), below 1000.
            let weight = |w: i64| {
                let scale = if short { ws.min(3) } else { ws.min(15) };
                Decimal::new(w % (1000 * 10i64.pow(scale)), scale)
            };
            let (p, k) = (value(p, ps, huge), value(k, ks, false));
            let (pw, kw) = (weight(pw), weight(kw));
            let exact = p.checked_mul(pw).zip(k.checked_mul(kw)).and_then(|(a, b)| a.checked_add(b));
            proptest::prop_assume!(exact.is_some(), "beyond what Decimal holds");
            let slow = round_half_up(exact.unwrap_or_default(), decimals);
            if let Some(fast) = weighted_fast(p, pw, k, kw, decimals) {
                proptest::prop_assert_eq!(fast, slow);
            } else {
                proptest::prop_assert!(huge || !short, "everyday numbers take the integer way");
            }
        }
    }

    proptest::proptest! {
        /// Ranking by packed integer keys ranks as comparing decimals does: every rank, and the
        /// order (best first, equal keys by index), whatever the scales (1 = 1.0 = 1.00), the
        /// missing values and the tie-break keys; with everyday numbers (`u64` keys), long ones
        /// (`u128` keys), and huge, negative or too many keys (the decimal way).
        #[test]
        fn ranking_by_keys_is_ranking_by_decimals(
            people in proptest::collection::vec(
                proptest::array::uniform3(proptest::option::weighted(0.9, (0i64..40, 0u32..=2, proptest::bool::weighted(0.02)))),
                0..60,
            ),
            magnitude in 0u32..3,
            tie in 0usize..6,
            shuffle in proptest::collection::vec(proptest::num::u32::ANY, 60),
        ) {
            let shift = [0, 20, 50][magnitude as usize];
            let value = |v: Option<(i64, u32, bool)>| {
                v.map(|(m, scale, negative)| Decimal::new(if negative { -(m << shift) } else { m << shift }, scale))
            };
            let people: Vec<Scored> = people
                .iter()
                .map(|[s, k, p]| Scored { score: value(*s), kpi: value(*k), points: value(*p), ..Scored::default() })
                .collect();
            let ties: [&[TieKey]; 6] = [
                &[],
                &[TieKey::Kpi],
                &[TieKey::Points],
                &[TieKey::Kpi, TieKey::Points],
                &[TieKey::Points, TieKey::Kpi],
                &[TieKey::Kpi, TieKey::Points, TieKey::Kpi],
            ];
            let tie_break = ties[tie];
            let mut order: Vec<u32> = (0..people.len() as u32).filter(|&i| people[i as usize].score.is_some()).collect();
            order.sort_by(|&a, &b| compare(&people[a as usize], &people[b as usize], tie_break));
            let ranks: Vec<Option<u32>> = people
                .iter()
                .map(|p| {
                    let ahead = people.iter().filter(|q| q.score.is_some() && compare(q, p, tie_break).is_lt()).count();
                    p.score.map(|_| 1 + ahead as u32)
                })
                .collect();
            // Equal keys by a listed number instead (unique, with gaps, in another order):
            // the same ranks, the order sorted by key then by that number.
            let mut by_shuffle: Vec<usize> = (0..people.len()).collect();
            by_shuffle.sort_by_key(|&i| (shuffle[i], i));
            let mut listed = vec![0u32; people.len()];
            for (k, &i) in by_shuffle.iter().enumerate() {
                listed[i] = 2 * k as u32 + 1;
            }
            let mut listed_order = order.clone();
            listed_order.sort_by_key(|&i| listed[i as usize]);
            listed_order.sort_by(|&a, &b| compare(&people[a as usize], &people[b as usize], tie_break));
            proptest::prop_assert_eq!(
                ranking_listed_by(&people, |s| s, tie_break, Some(&listed)),
                Ranking { ranks: ranks.clone(), order: listed_order }
            );
            proptest::prop_assert_eq!(ranking(&people, |s| s, tie_break), Ranking { ranks, order });
            let everyday = magnitude < 2 && tie < 5 && people.iter().flat_map(|p| [p.score, p.kpi, p.points]).flatten().all(|d| !d.is_sign_negative());
            if everyday {
                proptest::prop_assert!(ranking_by_keys(&people, &|s: &Scored| s, tie_break, None).is_some());
            }
        }
    }

    /// The review's case: a long weight whose product with the points needs more than 96 bits,
    /// where `Decimal` rounds the product before the score is rounded (…0879, not the exact
    /// …0878): the integer way must leave it to `Decimal`.
    #[test]
    fn a_product_beyond_96_bits_is_left_to_decimal() {
        let (p, pw) = (Decimal::new(10_183_319_569_685, 10), Decimal::new(9_991_234_567_890_127, 13));
        assert_eq!(round_half_up(p * pw, 10).to_string(), "1017439.3450050879");
        assert_eq!(weighted_fast(p, pw, Decimal::ZERO, Decimal::ZERO, 10), None);
    }

    fn scored(score: &str, kpi: &str, points: &str) -> Scored {
        let d = |s: &str| s.parse::<Decimal>().ok();
        Scored { score: d(score), kpi: d(kpi), points: d(points), ..Scored::default() }
    }

    #[test]
    fn rank_is_one_plus_the_number_strictly_ahead() {
        // Scores 93.2, 90.4, 90.4, 90.0 and one without a score: ranks 1, 2, 2, 4, none.
        let people = [
            scored("90.40", "90", "91"),
            scored("93.20", "92", "95"),
            scored("", "", ""),
            scored("90.00", "90", "90"),
            scored("90.40", "90", "91"),
        ];
        let ranks = rank(&people, |s| s, &[TieKey::Kpi, TieKey::Points]);
        assert_eq!(ranks, [Some(2), Some(1), None, Some(4), Some(2)]);
    }

    #[test]
    fn integer_sort_keys_and_decimal_comparison_rank_alike() {
        // Scale 2 takes the integer keys; a value with 21 places forces decimal comparison.
        let people = [
            scored("90.40", "90", "91"),
            scored("93.2", "92", "95"),
            scored("90.4", "90.5", "91"),
            scored("", "", ""),
            scored("90.400", "90.50", "91"),
        ];
        let fine = {
            let mut p = people.clone();
            p[3] = scored("1.000000000000000000001", "0", "0");
            p
        };
        let keys = [TieKey::Kpi, TieKey::Points];
        assert!(sort_keys(&people, &|s: &Scored| s, &keys).is_some());
        assert!(sort_keys(&fine, &|s: &Scored| s, &keys).is_none());
        assert_eq!(rank(&people, |s| s, &keys), [Some(4), Some(1), Some(2), None, Some(2)]);
        assert_eq!(rank(&fine, |s| s, &keys), [Some(4), Some(1), Some(2), Some(5), Some(2)]);
    }

    #[test]
    fn tie_break_keys_separate_equal_scores_in_their_order() {
        // Equal scores 91.40: KPI decides first (91 beats 90), then points.
        let people = [scored("91.40", "90", "93.5"), scored("91.40", "91", "92"), scored("91.40", "90", "93")];
        assert_eq!(rank(&people, |s| s, &[TieKey::Kpi, TieKey::Points]), [Some(2), Some(1), Some(3)]);
        assert_eq!(rank(&people, |s| s, &[TieKey::Points]), [Some(1), Some(3), Some(2)]);
        assert_eq!(rank(&people, |s| s, &[]), [Some(1), Some(1), Some(1)]);
    }

    #[test]
    fn quarter_points_are_the_rounded_mean_half_up() {
        // (88 + 90 + 91) / 3 = 89.666… → 89.67; (90 + 90.5 + 90) / 3 = 90.1666… → 90.17.
        let a = aggregate(&[Decimal::from(88), Decimal::from(90), Decimal::from(91)], false, 2, true).1.unwrap();
        assert_eq!(a.rounded.to_string(), "89.67");
        let b = aggregate(&[Decimal::from(90), Decimal::new(905, 1), Decimal::from(90)], false, 2, false).0.unwrap();
        assert_eq!(b.to_string(), "90.17");
        // A half at the last place goes up, never to even: 90.125 → 90.13.
        let c = aggregate(&[Decimal::new(90125, 3)], false, 2, false).0.unwrap();
        assert_eq!(c.to_string(), "90.13");
        assert_eq!(aggregate(&[], false, 2, true), (None, None));
    }
}
