//! Plain domain types shared by every layer: periods, people, validated sheet rows and the
//! exact-decimal helpers for scores and money. Nothing here reads a file or knows about clap.

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Where a value came from: a data file and a 1-based line, for messages and `explain`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Source {
    /// `file:line`, or just `file` for line 0 (a whole file, such as one lacking a row).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.file),
            line => write!(f, "{}:{line}", self.file),
        }
    }
}

/// Rounds half-up (四舍五入) to `decimals` places; `round_dp` alone would be banker's rounding.
pub fn round_half_up(value: Decimal, decimals: u32) -> Decimal {
    value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

/// Orders two decimals exactly as `Ord` does, but cheaply in the common case: mantissas below
/// 2^63 and scales at most 18 apart (scores, KPIs and amounts have a handful of digits) are
/// brought to the larger scale as `i128`, where the product cannot overflow; `Decimal`'s own
/// comparison rescales in 96-bit arithmetic. Anything else is left to `Ord`.
pub fn compare(a: Decimal, b: Decimal) -> std::cmp::Ordering {
    let scale = a.scale().max(b.scale());
    match (mantissa_at(a, scale), mantissa_at(b, scale)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.cmp(&b),
    }
}

/// 10^0 … 10^18: what an `i64` holds, so that a product with a mantissa below 2^63 fits an
/// `i128`.
const POW10: [i128; 19] = {
    let mut p = [1i128; 19];
    let mut i = 1;
    while i < 19 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// A decimal's mantissa at `scale` (not below its own) as an `i128`, when the mantissa is below
/// 2^63 and the scales are at most 18 apart (then the product cannot overflow).
pub fn mantissa_at(value: Decimal, scale: u32) -> Option<i128> {
    let mantissa = value.mantissa();
    let by = scale.checked_sub(value.scale())? as usize;
    // Both factors below 2^63: one 64-bit multiplication gives the whole product, where an
    // `i128` one is three (scores and amounts of half a million people are compared so).
    (mantissa.unsigned_abs() < 1 << 63 && by < POW10.len())
        .then(|| i128::from(mantissa as i64) * i128::from(POW10[by] as i64))
}

/// Whether `mantissa / 10^scale` (any non-negative mantissa and scale: a number read as plain
/// digits, `values::plain_parts`, or a sum of them) is at most `max`, in integers without
/// making a `Decimal` of it; `None` when the two cannot be brought to one scale in an `i128`
/// (the caller then compares `Decimal`s).
pub fn at_most(mantissa: i128, scale: u32, max: Decimal) -> Option<bool> {
    let common = scale.max(max.scale());
    Some(rescale(mantissa, scale, common)? <= rescale(max.mantissa(), max.scale(), common)?)
}

/// `a == b`, for short texts such as names (2–4 Chinese characters, 6–12 bytes): the lengths,
/// then the bytes as two overlapping words, without a call to `memcmp` (perf: comparing each
/// sheet row's name with the roster's was most of the run's `memcmp`, a call per row).
#[inline]
fn same_text(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word8 = |s: &[u8], at: usize| u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"));
    let word4 = |s: &[u8], at: usize| u32::from_ne_bytes(s[at..at + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        _ => a == b,
    }
}

/// A maximum, with its mantissa worked out once at each of the few scales a sheet's plain
/// numbers have (0–3 places): checking a cell against it is then one comparison of integers,
/// where `at_most` brings the maximum to the cell's scale for every cell (perf: half of the
/// integer checks of a points row by items).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    max: Decimal,
    /// `max`'s mantissa at 0, 1, 2 and 3 places; `None` where it has more places or does not fit.
    at: [Option<i64>; 4],
}

impl Limit {
    pub fn new(max: Decimal) -> Limit {
        let at = std::array::from_fn(|places| {
            rescale(max.mantissa(), max.scale(), places as u32).and_then(|m| i64::try_from(m).ok())
        });
        Limit { max, at }
    }

    pub fn max(&self) -> Decimal {
        self.max
    }

    /// `at_most(mantissa, scale, max)`.
    #[inline]
    pub fn admits(&self, mantissa: i64, scale: u32) -> Option<bool> {
        match self.at.get(scale as usize) {
            Some(Some(max)) => Some(mantissa <= *max),
            _ => at_most(mantissa.into(), scale, self.max),
        }
    }
}

/// `mantissa / 10^scale` as a mantissa at `to` places (not fewer than `scale`), when it fits.
pub fn rescale(mantissa: i128, scale: u32, to: u32) -> Option<i128> {
    let by = to.checked_sub(scale)? as usize;
    let power = *POW10.get(by)?;
    // A sheet's numbers are small and mostly at one scale: then no multiplication, or one in
    // 64 bits, where a checked 128-bit one is several (perf: most of a points row's own time).
    if by == 0 {
        return Some(mantissa);
    }
    if let Some(product) = i64::try_from(mantissa).ok().and_then(|m| m.checked_mul(power as i64)) {
        return Some(product.into());
    }
    mantissa.checked_mul(power)
}

/// `round_half_up(numerator / denominator / 10^scale, decimals)` in integers, for loops over
/// half a million people; `None` for a negative numerator or numbers too large for that (the
/// caller then uses `Decimal` arithmetic). Equal in value to what dividing and rounding
/// `Decimal`s gives; its scale is always `decimals`, where `Decimal` may keep fewer places
/// (reports print scores at a fixed number of places, so the two print the same).
pub fn rounded_ratio(numerator: i128, denominator: i128, scale: u32, decimals: u32) -> Option<Decimal> {
    if numerator < 0 || denominator <= 0 {
        return None;
    }
    let (numerator, denominator) = if decimals >= scale {
        (rescale(numerator, scale, decimals)?, denominator)
    } else {
        (numerator, rescale(denominator, decimals, scale)?)
    };
    // Half up: ⌊n/d + 1/2⌋ = ⌊(2n + d) / 2d⌋; in u64 when that holds it (scores always),
    // where dividing is one instruction, not a call into 128-bit division.
    let rounded = match (u64::try_from(numerator), u64::try_from(denominator)) {
        (Ok(n), Ok(d)) if n < 1 << 62 && d < 1 << 61 => i128::from((2 * n + d) / (2 * d)),
        _ => numerator.checked_mul(2)?.checked_add(denominator)? / denominator.checked_mul(2)?,
    };
    Decimal::try_from_i128_with_scale(rounded, decimals).ok()
}

/// Formats a score with exactly `decimals` places (`93.2` → `93.20`).
pub fn format_fixed(value: Decimal, decimals: u32) -> String {
    let mut v = round_half_up(value, decimals);
    v.rescale(decimals);
    v.to_string()
}

/// A reporting period: a month, a quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year(i32),
}

impl Period {
    /// Parses `YYYY-MM`, `YYYYQn` (or `q`) and `YYYY`.
    pub fn parse(text: &str) -> Result<Period, String> {
        let t = text.trim();
        let bad = || format!("\"{t}\" is not a period: write YYYY-MM (month), YYYYQn (quarter) or YYYY (year)");
        let year_of = |s: &str| -> Option<i32> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        if let Some((y, m)) = t.split_once('-') {
            let year = year_of(y).ok_or_else(bad)?;
            let month: u32 = (m.len() <= 2 && !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()))
                .then(|| m.parse().ok())
                .flatten()
                .filter(|m| (1..=12).contains(m))
                .ok_or_else(bad)?;
            return Ok(Period::Month { year, month });
        }
        if let Some(pos) = t.find(['Q', 'q']) {
            let year = year_of(&t[..pos]).ok_or_else(bad)?;
            let quarter: u32 = match &t[pos + 1..] {
                "1" => 1,
                "2" => 2,
                "3" => 3,
                "4" => 4,
                _ => return Err(bad()),
            };
            return Ok(Period::Quarter { year, quarter });
        }
        year_of(t).map(Period::Year).ok_or_else(bad)
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Month { year, .. } | Period::Quarter { year, .. } | Period::Year(year) => year,
        }
    }

    pub fn first_day(&self) -> NaiveDate {
        let (y, m) = match *self {
            Period::Month { year, month } => (year, month),
            Period::Quarter { year, quarter } => (year, quarter * 3 - 2),
            Period::Year(year) => (year, 1),
        };
        NaiveDate::from_ymd_opt(y, m, 1).expect("period months are 1..=12")
    }

    /// The period's first and last month, as (year, month).
    pub fn month_span(&self) -> ((i32, u32), (i32, u32)) {
        match *self {
            Period::Month { year, month } => ((year, month), (year, month)),
            Period::Quarter { year, quarter } => ((year, quarter * 3 - 2), (year, quarter * 3)),
            Period::Year(year) => ((year, 1), (year, 12)),
        }
    }

    pub fn last_day(&self) -> NaiveDate {
        let (y, m) = match *self {
            Period::Month { year, month } => (year, month),
            Period::Quarter { year, quarter } => (year, quarter * 3),
            Period::Year(year) => (year, 12),
        };
        let next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) };
        next.and_then(|d| d.pred_opt()).expect("period dates are in chrono's range")
    }

    /// The months the period covers, in order.
    pub fn months(&self) -> Vec<Period> {
        let (first, last) = (self.first_day(), self.last_day());
        let count = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32 + 1;
        (0..count)
            .map(|k| {
                let index = first.month() as i32 - 1 + k;
                Period::Month { year: first.year() + index / 12, month: (index % 12 + 1) as u32 }
            })
            .collect()
    }

    /// The quarters of a year (or the quarter itself, or the quarter holding a month).
    pub fn quarters(&self) -> Vec<Period> {
        match *self {
            Period::Year(year) => (1..=4).map(|quarter| Period::Quarter { year, quarter }).collect(),
            Period::Quarter { .. } => vec![*self],
            Period::Month { year, month } => vec![Period::Quarter { year, quarter: month.div_ceil(3) }],
        }
    }

    /// True when `other` lies within this period (a period contains itself).
    pub fn contains(&self, other: &Period) -> bool {
        self.first_day() <= other.first_day() && other.last_day() <= self.last_day()
    }

    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Month { .. } => PeriodKind::Month,
            Period::Quarter { .. } => PeriodKind::Quarter,
            Period::Year(_) => PeriodKind::Year,
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}Q{quarter}"),
            Period::Year(year) => write!(f, "{year:04}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

/// One person on the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    // Shared, not copied: every result line of half a million people names its person.
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub unit: Arc<str>,
    pub post: Arc<str>,
    pub joined: Option<NaiveDate>,
    /// The last working day.
    pub left: Option<NaiveDate>,
    pub source: Source,
}

impl Person {
    /// Active in a period: joined by its last day and not left before its first day. Periods
    /// are whole months, so that is comparing months: no dates to work out for each person
    /// in each period.
    pub fn active_in(&self, period: &Period) -> bool {
        let (first, last) = period.month_span();
        let month = |d: NaiveDate| (d.year(), d.month());
        self.joined.is_none_or(|j| month(j) <= last) && self.left.is_none_or(|l| month(l) >= first)
    }

    /// Active at the end of a period: active in it and still there on its last day.
    pub fn active_at_end(&self, period: &Period) -> bool {
        self.active_in(period) && self.left.is_none_or(|l| l >= period.last_day())
    }
}

/// Each id's position on a roster.
///
/// Rosters are nearly always kept in id order, with ids of digits only: while each id is
/// greater than the one before as a number (by length, then value: `9` before `10`, unlike the
/// text order of `Roster::id_order`), the index is those numbers (`id_key`), ascending, found
/// where its number puts it (`find_ascending`), else by binary search, in one list of 8 bytes a
/// person. Such a roster can hold no duplicate, so
/// reading one takes no hashing, and a sheet's rows are matched against neighbouring numbers
/// rather than ids scattered in memory. The first id that breaks the order (or is not digits
/// only) turns the index into a hash table of positions, 4 bytes a slot, that compares a
/// candidate by its person's id on the roster (a copy of each id beside a `usize` took 24 bytes
/// a slot, 25 MB of fresh memory for half a million people). Fx, not SipHash: ids come from the
/// workspace's own files, and a year of a large company looks up millions.
#[derive(Debug, Clone)]
pub enum IdIndex {
    /// The `id_key` of every id so far, strictly ascending: an id's position is its place here.
    Ascending(Vec<u64>),
    Hashed(hashbrown::HashTable<u32>),
}

impl Default for IdIndex {
    fn default() -> Self {
        IdIndex::Ascending(Vec::new())
    }
}

/// Where an `id_key` keeps the id's length: the bits from here up.
const ID_KEY_LENGTH: u32 = 56;

/// An id of digits only, at most 16 of them, as one number: its length above its value, so
/// that `0129750` and `129750` differ. `None` for any other id.
#[inline]
pub fn id_key(id: &str) -> Option<u64> {
    let digits = id.as_bytes();
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    // One pass (a sheet's every row asks): each byte checked as it is added.
    let mut value = 0u64;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    // 16 digits are below 10^16 < 2^54: the length (at most 16) fits above bit 56.
    Some((digits.len() as u64) << ID_KEY_LENGTH | value)
}

/// The place of `key` in `keys` (strictly ascending), looked for first where its value puts it.
/// A roster's ids are mostly numbered one after another, so that is nearly always the place
/// or a few from it: a search among the few keys around it reads two or three cache lines, where
/// a binary search of half a million reads a line at each of its last dozen steps, each a wait
/// (the city awards' and vetoes' few thousand rows took 8 ms). Anywhere else, a binary search.
fn find_ascending(keys: &[u64], key: u64) -> Option<usize> {
    const AROUND: usize = 8;
    let (&first, &last) = (keys.first()?, keys.last()?);
    if key < first || key > last {
        return None;
    }
    // key - first <= last - first: the guess is at most the last place.
    let guess = match last - first {
        0 => 0,
        span => (u128::from(key - first) * (keys.len() - 1) as u128 / u128::from(span)) as usize,
    };
    let near = guess.saturating_sub(AROUND)..(guess + AROUND + 1).min(keys.len());
    if keys[near.start] <= key && key <= keys[near.end - 1] {
        return keys[near.clone()].binary_search(&key).ok().map(|i| near.start + i);
    }
    keys.binary_search(&key).ok()
}

impl IdIndex {
    fn hash(id: &str) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(id)
    }

    /// Room for `more` people of `people` (the roster the positions point into).
    pub fn reserve(&mut self, more: usize, people: &[Arc<Person>]) {
        match self {
            IdIndex::Ascending(keys) => keys.reserve(more),
            IdIndex::Hashed(table) => table.reserve(more, |&p| Self::hash(&people[p as usize].id)),
        }
    }

    /// Empties the index, with room for as many ids as it had (a file read again as GB18030
    /// starts over).
    pub fn clear(&mut self) {
        match self {
            IdIndex::Ascending(keys) => keys.clear(),
            IdIndex::Hashed(table) => *self = IdIndex::Ascending(Vec::with_capacity(table.capacity())),
        }
    }

    /// Adds `rest`, the index of the people who follow these (a roster's second half, read on
    /// its own), when both are ascending lists and `rest` begins above this one's end: its
    /// numbers are then these people's, in order. Else `false`, and nothing is added.
    pub fn append_ascending(&mut self, rest: &IdIndex) -> bool {
        match (self, rest) {
            (IdIndex::Ascending(keys), IdIndex::Ascending(more))
                if keys.last().zip(more.first()).is_none_or(|(last, first)| last < first) =>
            {
                keys.extend_from_slice(more);
                true
            }
            _ => false,
        }
    }

    /// The ids in ascending order as numbers, while the index is that list.
    pub fn keys(&self) -> Option<&[u64]> {
        match self {
            IdIndex::Ascending(keys) => Some(keys),
            IdIndex::Hashed(_) => None,
        }
    }

    /// The position of `id` among `people`.
    pub fn find(&self, id: &str, people: &[Arc<Person>]) -> Option<usize> {
        match self {
            IdIndex::Ascending(keys) => find_ascending(keys, id_key(id)?),
            IdIndex::Hashed(table) => {
                table.find(Self::hash(id), |&p| *people[p as usize].id == *id).map(|&p| p as usize)
            }
        }
    }

    /// Records `id` at `position`, the place the person will take in `people` (not yet there:
    /// the caller adds them once the id is accepted, so `people` holds the positions before
    /// it); or, when `people` has the id already, the position it has.
    pub fn insert(&mut self, id: &str, position: usize, people: &[Arc<Person>]) -> Result<(), usize> {
        if let IdIndex::Ascending(keys) = self {
            let next = id_key(id).filter(|&k| keys.last().is_none_or(|&last| last < k));
            match next {
                Some(key) if position == keys.len() => {
                    keys.push(key);
                    return Ok(());
                }
                // Out of order, or not digits only (or a position other than the next, which the
                // callers never give: they insert each person in turn): from here on, a hash
                // table of everyone so far.
                _ => *self = Self::hashed(&people[..keys.len()], keys.capacity()),
            }
        }
        let IdIndex::Hashed(table) = self else { unreachable!("made a hash table above") };
        // A roster of four billion people is a file of some 200 GB: positions fit in 32 bits.
        let position = u32::try_from(position).expect("fewer than 4 billion people on a roster");
        let same = |&p: &u32| *people[p as usize].id == *id;
        match table.entry(Self::hash(id), same, |&p| Self::hash(&people[p as usize].id)) {
            hashbrown::hash_table::Entry::Occupied(first) => Err(*first.get() as usize),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(position);
                Ok(())
            }
        }
    }

    /// A hash table of `people` (whose ids are distinct), with room for `room` in all.
    fn hashed(people: &[Arc<Person>], room: usize) -> IdIndex {
        let hash = |&p: &u32| Self::hash(&people[p as usize].id);
        let mut table = hashbrown::HashTable::with_capacity(room);
        for position in 0..people.len() as u32 {
            table.insert_unique(Self::hash(&people[position as usize].id), position, hash);
        }
        IdIndex::Hashed(table)
    }
}

/// Everyone who can be scored, in file order, with an index by id. A person's position in
/// `people` is how every sheet finds their row.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    /// Shared: every result of a period points at its person instead of copying them.
    pub people: Vec<Arc<Person>>,
    index: IdIndex,
    /// Each person's place in id order, made when first asked for.
    id_order: std::sync::OnceLock<Vec<u32>>,
    /// What a sheet's row is checked against, laid out for reading in roster order.
    lookups: Lookups,
}

/// Every person's name and post where a monthly sheet's rows look for them: the names one
/// after another in roster order, the posts as small numbers. Sheets list people in roster
/// order, so checking a row reads on through these instead of following a pointer to the
/// person and another to the name (perf: a tenth of a company's year was those string
/// comparisons, waiting on memory).
#[derive(Debug, Clone, Default, PartialEq)]
struct Lookups {
    names: String,
    /// Where each person's name ends in `names`.
    name_ends: Vec<usize>,
    /// Each person's post, by its index in `posts`.
    post_of: Vec<u32>,
    /// The roster's posts, each once, in order of first appearance.
    posts: Vec<Arc<str>>,
}

/// `Lookups` made person by person as a roster is read, each name and post added while its row
/// is at hand: made after the roster, they read half a million names and posts again through
/// a pointer each (perf: 14 ms of a company's year, on one core, the other idle).
#[derive(Debug, Default)]
pub struct LookupsBuilder {
    lookups: Lookups,
    /// Each post's number, by its text.
    by_text: FxHashMap<Arc<str>, u32>,
    /// Each post's number by the first copies met: the reader shares one copy of each post
    /// among its people, so a post is nearly always found among a few pointers; a roster of
    /// many posts (a wrong column taken for the post) still costs a hash lookup a person, not a
    /// scan. The copies are held here, so that no address is ever another post's.
    by_copy: Vec<(Arc<str>, u32)>,
}

/// The most copies `LookupsBuilder::by_copy` holds.
const POST_COPIES: usize = 16;

impl LookupsBuilder {
    /// The lookups of a whole roster's `people` at once.
    fn of(people: &[Arc<Person>]) -> LookupsBuilder {
        let mut lookups = LookupsBuilder::default();
        lookups.reserve(people.len(), people.iter().map(|p| p.name.len()).sum());
        for person in people {
            lookups.push(&person.name, &person.post);
        }
        lookups
    }

    /// Room for `people` more, of `name_bytes` of names in all, at once.
    pub fn reserve(&mut self, people: usize, name_bytes: usize) {
        self.lookups.names.reserve(name_bytes);
        self.lookups.name_ends.reserve(people);
        self.lookups.post_of.reserve(people);
    }

    /// Empties the lookups, keeping their room (a file read again as GB18030 starts over).
    pub fn clear(&mut self) {
        let lookups = &mut self.lookups;
        lookups.names.clear();
        lookups.name_ends.clear();
        lookups.post_of.clear();
        lookups.posts.clear();
        self.by_text.clear();
        self.by_copy.clear();
    }

    /// The next person's name and post.
    pub fn push(&mut self, name: &str, post: &Arc<str>) {
        let lookups = &mut self.lookups;
        lookups.names.push_str(name);
        lookups.name_ends.push(lookups.names.len());
        let copy = self.by_copy.iter().find(|(copy, _)| Arc::ptr_eq(copy, post)).map(|&(_, number)| number);
        let number = copy.unwrap_or_else(|| {
            let number = self.number(post);
            if self.by_copy.len() < POST_COPIES {
                self.by_copy.push((post.clone(), number));
            }
            number
        });
        self.lookups.post_of.push(number);
    }

    /// A post's number by its text, the next one when it is new.
    fn number(&mut self, post: &Arc<str>) -> u32 {
        if let Some(&number) = self.by_text.get(&**post) {
            return number;
        }
        let number = self.lookups.posts.len() as u32;
        self.lookups.posts.push(post.clone());
        self.by_text.insert(post.clone(), number);
        number
    }

    /// Adds the people of `rest` after these (a roster's second half, read on its own): its
    /// posts take the numbers they have here, or the next ones in the order it met them, as
    /// adding its people one by one would give.
    pub fn append(&mut self, rest: LookupsBuilder) {
        let rest = rest.lookups;
        let offset = self.lookups.names.len();
        self.lookups.names.push_str(&rest.names);
        self.lookups.name_ends.extend(rest.name_ends.iter().map(|end| end + offset));
        let numbers: Vec<u32> = rest.posts.iter().map(|post| self.number(post)).collect();
        self.lookups.post_of.extend(rest.post_of.iter().map(|&post| numbers[post as usize]));
    }
}

impl Roster {
    /// Builds the roster; the caller has already rejected duplicate ids.
    pub fn new(people: Vec<Person>) -> Roster {
        let people: Vec<Arc<Person>> = people.into_iter().map(Arc::new).collect();
        let mut index = IdIndex::default();
        index.reserve(people.len(), &people);
        for (position, person) in people.iter().enumerate() {
            // A duplicate (which the caller rejected) keeps its first position.
            let _ = index.insert(&person.id, position, &people);
        }
        Roster::with_index(people, index)
    }

    /// A roster of `people` whose index is made already; its lookups are made here.
    pub fn with_index(people: Vec<Arc<Person>>, index: IdIndex) -> Roster {
        let lookups = LookupsBuilder::of(&people);
        Roster::with_lookups(people, index, lookups)
    }

    /// A roster whose index and lookups the reader made as it went (`LookupsBuilder`), in the
    /// order of `people`.
    pub fn with_lookups(people: Vec<Arc<Person>>, index: IdIndex, lookups: LookupsBuilder) -> Roster {
        let lookups = lookups.lookups;
        debug_assert_eq!(lookups.name_ends.len(), people.len(), "a name for each person");
        debug_assert_eq!(lookups.post_of.len(), people.len(), "a post for each person");
        Roster { people, index, id_order: Default::default(), lookups }
    }

    /// Whether the person at `position` is called `name` (`Lookups`).
    pub fn name_is(&self, position: usize, name: &str) -> bool {
        let names = &self.lookups;
        let start = position.checked_sub(1).map_or(0, |before| names.name_ends[before]);
        same_text(&names.names.as_bytes()[start..names.name_ends[position]], name.as_bytes())
    }

    /// The person at `position`'s post, as its index in `posts` (`Lookups`).
    pub fn post_of(&self, position: usize) -> usize {
        self.lookups.post_of[position] as usize
    }

    /// The roster's posts, each once: what `post_of` indexes.
    pub fn posts(&self) -> &[Arc<str>] {
        &self.lookups.posts
    }

    /// Each person's place when everyone is sorted by id: listings that order people by id
    /// compare these numbers instead of the ids themselves (half a million ids, scattered in
    /// memory, are slow to compare over and over).
    pub fn id_order(&self) -> &[u32] {
        self.id_order.get_or_init(|| {
            // Ids of digits in ascending order (the index is their numbers), the first as long
            // as the last and so all of one length: in text order too. No id is then read,
            // where even a sorted roster's one pass reads every id once, all over memory.
            if let Some(keys) = self.index.keys() {
                if keys.first().map(|k| k >> ID_KEY_LENGTH) == keys.last().map(|k| k >> ID_KEY_LENGTH) {
                    return (0..self.people.len() as u32).collect();
                }
            }
            let mut by_id: Vec<usize> = (0..self.people.len()).collect();
            // A roster is usually kept in id order already: then this is one pass.
            by_id.sort_by(|&a, &b| self.people[a].id.cmp(&self.people[b].id));
            let mut place = vec![0u32; self.people.len()];
            for (k, &i) in by_id.iter().enumerate() {
                place[i] = k as u32;
            }
            place
        })
    }

    pub fn get(&self, id: &str) -> Option<&Person> {
        self.position(id).map(|i| &*self.people[i])
    }

    /// A person's position on the roster.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.find(id, &self.people)
    }

    /// `position`, tried first at `guess` and the few people after it: sheets mostly list
    /// people in the roster's order, skipping the few who have no row, and a comparison with
    /// the next person is cheaper than a lookup among half a million.
    pub fn position_near(&self, id: &str, guess: usize) -> Option<usize> {
        let near = guess.min(self.len())..(guess + 4).min(self.len());
        let skipped = match self.index.keys() {
            // A roster of ids in order, digits only: neighbouring numbers, not scattered ids.
            Some(keys) => {
                let key = id_key(id)?;
                keys[near].iter().position(|&k| k == key)
            }
            None => self.people[near].iter().position(|p| *p.id == *id),
        };
        skipped.map(|s| guess + s).or_else(|| self.position(id))
    }

    pub fn contains(&self, id: &str) -> bool {
        self.position(id).is_some()
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }
}

/// One data file's rows, one slot per roster position: a person's row is found by their
/// position, without hashing or comparing ids, and holds only its value and its line.
///
/// A slot is 8 bytes (`Slot`): the row's line and its value packed into 32 bits, which holds
/// any value a sheet gives in practice (a mantissa up to 536,870,910 at up to 7 decimal
/// places); any other value is kept aside, by position. Half a million people's sheets are
/// read a quarter at a time, two quarters in flight: a slot of an `Option<T>` (20 bytes) and a separate first-line
/// list (4 bytes) were 72 MB of fresh memory a quarter, the kernel's page zeroing a quarter of
/// a company's year. The slot also records a row that gave no value (a blank total), so that a
/// second row for the same person is caught (`claim`).
#[derive(Debug, Clone)]
pub struct Sheet<T> {
    pub file: Arc<str>,
    slots: Vec<Slot>,
    /// Values a slot cannot pack, by position.
    aside: FxHashMap<usize, Decimal>,
    /// A points sheet read for a month's bulletin: the item values of the rows that gave them,
    /// by roster position (kept apart: a quarter or a year needs only the totals).
    items: FxHashMap<usize, Vec<(Arc<str>, Decimal)>>,
    row: std::marker::PhantomData<T>,
}

/// What a sheet's slot gives back: a value and the line of its row.
pub trait SheetRow {
    fn from_parts(value: Decimal, line: std::num::NonZeroU32) -> Self;
    fn parts(&self) -> (Decimal, std::num::NonZeroU32);
}

/// A sheet's slot: the row's line (0: no row) and its value, packed (see `Slot::pack`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    line: u32,
    value: u32,
}

impl Slot {
    /// A row that gave no value.
    const NO_VALUE: u32 = u32::MAX;
    /// A value kept in `Sheet::aside`.
    const ASIDE: u32 = u32::MAX - 1;
    /// Packed values are the mantissa above three bits of scale; the largest mantissa keeps
    /// every packed value below the two markers.
    const MAX_MANTISSA: u128 = (1 << 29) - 2;

    /// A value's packed form, when it gives the value back exactly: non-negative (no sign, so
    /// not `-0` either), a mantissa up to `MAX_MANTISSA`, at most 7 places.
    fn pack(value: Decimal) -> Option<u32> {
        let mantissa = u128::try_from(value.mantissa()).ok().filter(|&m| m <= Self::MAX_MANTISSA)?;
        (!value.is_sign_negative() && value.scale() <= 7).then(|| (mantissa as u32) << 3 | value.scale())
    }

    fn unpack(packed: u32) -> Decimal {
        Decimal::new(i64::from(packed >> 3), packed & 7)
    }
}

impl<T: SheetRow> Sheet<T> {
    pub fn new(file: Arc<str>) -> Sheet<T> {
        Sheet::with_people(file, 0)
    }

    /// An empty sheet with a slot for each of `people` roster positions (grown once, not row
    /// by row).
    pub fn with_people(file: Arc<str>, people: usize) -> Sheet<T> {
        Sheet {
            file,
            slots: vec![Slot::default(); people],
            aside: FxHashMap::default(),
            items: FxHashMap::default(),
            row: std::marker::PhantomData,
        }
    }

    /// The item values behind the row at `position` (none when it gave a total, or when the
    /// sheet was read without them).
    pub fn items(&self, position: usize) -> &[(Arc<str>, Decimal)] {
        self.items.get(&position).map_or(&[], Vec::as_slice)
    }

    /// Keeps the item values behind the row at `position`.
    pub fn insert_items(&mut self, position: usize, items: Vec<(Arc<str>, Decimal)>) {
        if !items.is_empty() {
            self.items.insert(position, items);
        }
    }

    /// The row of the person at `position`, if the sheet has one with a value.
    // Inline: returned through memory from a call, the value (a `Decimal` written in pieces
    // and read back whole) held up scoring, which asks each sheet for each person (perf
    // annotate: two fifths of scoring's own time).
    #[inline(always)]
    pub fn get(&self, position: usize) -> Option<T> {
        let slot = *self.slots.get(position)?;
        let line = std::num::NonZeroU32::new(slot.line)?;
        let value = match slot.value {
            Slot::NO_VALUE => return None,
            Slot::ASIDE => self.aside[&position],
            packed => Slot::unpack(packed),
        };
        Some(T::from_parts(value, line))
    }

    pub fn contains(&self, position: usize) -> bool {
        self.get(position).is_some()
    }

    fn slot(&mut self, position: usize) -> &mut Slot {
        if position >= self.slots.len() {
            self.slots.resize(position + 1, Slot::default());
        }
        &mut self.slots[position]
    }

    /// Records a row for the person at `position` on `line`, before its value is known (a row
    /// may give none): the line of the person's first row when they already have one.
    pub fn claim(&mut self, position: usize, line: std::num::NonZeroU32) -> Result<(), std::num::NonZeroU32> {
        let slot = self.slot(position);
        match std::num::NonZeroU32::new(slot.line) {
            Some(first) => Err(first),
            None => {
                *slot = Slot { line: line.get(), value: Slot::NO_VALUE };
                Ok(())
            }
        }
    }

    /// `insert` of `mantissa / 10^scale` on `line`, for a number read as plain digits: packed
    /// straight from its parts, without making a `Decimal` of it when it packs.
    pub fn insert_parts(&mut self, position: usize, mantissa: i64, scale: u32, line: std::num::NonZeroU32) {
        match u32::try_from(mantissa) {
            Ok(m) if u128::from(m) <= Slot::MAX_MANTISSA && scale <= 7 => {
                *self.slot(position) = Slot { line: line.get(), value: m << 3 | scale };
                if !self.aside.is_empty() {
                    self.aside.remove(&position);
                }
            }
            _ => self.insert(position, T::from_parts(Decimal::new(mantissa, scale), line)),
        }
    }

    pub fn insert(&mut self, position: usize, row: T) {
        let (value, line) = row.parts();
        let packed = Slot::pack(value);
        *self.slot(position) = Slot { line: line.get(), value: packed.unwrap_or(Slot::ASIDE) };
        match packed {
            Some(_) if self.aside.is_empty() => {}
            Some(_) => {
                self.aside.remove(&position);
            }
            None => {
                self.aside.insert(position, value);
            }
        }
    }
}

/// Sheets are equal when they have the same file, slots and rows: a slot claimed by a row that
/// gave no value is no row.
impl<T: SheetRow + PartialEq> PartialEq for Sheet<T> {
    fn eq(&self, other: &Sheet<T>) -> bool {
        self.file == other.file
            && self.slots.len() == other.slots.len()
            && self.items == other.items
            && (0..self.slots.len()).all(|p| self.get(p) == other.get(p))
    }
}

/// One person's validated points for one month, as a sheet gives them back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthPoints {
    pub points: Decimal,
    /// The row's line in its sheet (never 0: the header is line 1 at least; 0 marks an empty
    /// slot).
    pub line: std::num::NonZeroU32,
}

impl SheetRow for MonthPoints {
    fn from_parts(points: Decimal, line: std::num::NonZeroU32) -> MonthPoints {
        MonthPoints { points, line }
    }

    fn parts(&self) -> (Decimal, std::num::NonZeroU32) {
        (self.points, self.line)
    }
}

/// One person's line of the monthly bulletin: their points, the item values behind them (in
/// the post table's order; empty when the sheet gave a total) and the row's line.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthEntry {
    pub points: Decimal,
    pub items: Vec<(Arc<str>, Decimal)>,
    pub line: u32,
}

/// One person's KPI value from a monthly or quarterly export.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiValue {
    pub kpi: Decimal,
    /// As `MonthPoints::line`.
    pub line: std::num::NonZeroU32,
}

impl SheetRow for KpiValue {
    fn from_parts(kpi: Decimal, line: std::num::NonZeroU32) -> KpiValue {
        KpiValue { kpi, line }
    }

    fn parts(&self) -> (Decimal, std::num::NonZeroU32) {
        (self.kpi, self.line)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub period: Period,
    pub event: String,
    pub unit: String,
    pub rank: Option<u32>,
    pub note: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CityAwardRow {
    pub period: Period,
    pub id: String,
    pub award: String,
    pub amount: Decimal,
    pub group: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VetoRow {
    pub period: Period,
    pub id: String,
    pub reason: String,
    pub source: Source,
}

// A sheet holds a slot per person per month.
const _: () = assert!(std::mem::size_of::<Slot>() == 8);

/// A monthly points sheet.
pub type PointsSheet = Sheet<MonthPoints>;
/// A KPI export (monthly or quarterly).
pub type KpiSheet = Sheet<KpiValue>;

/// The points and KPI sheets of some months and quarters (one quarter's, for a year that is
/// read a quarter at a time).
#[derive(Debug, Clone, Default)]
pub struct Sheets {
    pub points: BTreeMap<Period, PointsSheet>,
    pub kpi_monthly: BTreeMap<Period, KpiSheet>,
    pub kpi_quarterly: BTreeMap<Period, KpiSheet>,
}

/// Everything the engine needs for a period, already validated against roster and rubric.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Shared: a year reads its next quarter's files against it while scoring this one.
    pub roster: Arc<Roster>,
    /// Monthly points sheets by month; a month without a sheet is absent.
    pub points: BTreeMap<Period, PointsSheet>,
    pub kpi_monthly: BTreeMap<Period, KpiSheet>,
    pub kpi_quarterly: BTreeMap<Period, KpiSheet>,
    pub events: Vec<EventRow>,
    pub city_awards: Vec<CityAwardRow>,
    pub vetoes: Vec<VetoRow>,
}

impl Dataset {
    /// Puts `sheets` in place of the sheets held.
    pub fn put(&mut self, sheets: Sheets) {
        self.points = sheets.points;
        self.kpi_monthly = sheets.kpi_monthly;
        self.kpi_quarterly = sheets.kpi_quarterly;
    }

    /// Lets the sheets go (once everyone is scored, nothing reads them).
    pub fn drop_sheets(&mut self) {
        self.put(Sheets::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Looking a key up where its value puts it finds what a binary search finds, for keys
        /// numbered one after another, with gaps, or scattered, present or not.
        #[test]
        fn find_ascending_is_binary_search(
            steps in proptest::collection::vec(proptest::prop_oneof![proptest::strategy::Just(1u64), 1u64..5, 1u64..1_000_000], 0..300),
            start in 0u64..1000,
            probe in 0u64..2_000_000,
            longer_from in 0usize..400,
        ) {
            // From `longer_from` on, ids one digit longer (`id_key` puts the length at `ID_KEY_LENGTH`).
            let keys: Vec<u64> = steps
                .iter()
                .enumerate()
                .scan(start, |k, (i, step)| { *k += step + if i == longer_from { 1 << ID_KEY_LENGTH } else { 0 }; Some(*k) })
                .collect();
            let mut probes = vec![probe, start, start.wrapping_sub(1)];
            probes.extend(keys.iter().flat_map(|&k| [k, k + 1, k - 1]));
            for key in probes {
                proptest::prop_assert_eq!(find_ascending(&keys, key), keys.binary_search(&key).ok(), "key {}", key);
            }
        }
    }

    /// Any decimal a sheet may be given: small, at the edge of what a slot packs, or huge;
    /// every scale; either sign, zero too.
    fn any_sheet_value() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        let edge = Slot::MAX_MANTISSA as i128;
        let mantissa = prop_oneof![Just(0i128), 0i128..20_000, (edge - 3)..(edge + 3), -(1i128 << 95)..(1i128 << 95)];
        (mantissa, prop_oneof![0u32..=8, 0u32..=28], any::<bool>()).prop_map(|(m, scale, negative)| {
            let mut d = Decimal::from_i128_with_scale(m, scale);
            d.set_sign_negative(negative ^ (m < 0));
            d
        })
    }

    proptest::proptest! {
        /// A sheet gives back exactly what it was given, as a `Decimal` or as a plain number's
        /// parts (equal, and alike to the last bit: scale and the sign of zero show in
        /// reports), packed or kept aside; a claimed row that gave no value is no row but
        /// blocks a second claim, which is told the first line; nothing for anyone else.
        /// Checked against a map, slots grown past the people the sheet was made for.
        #[test]
        fn a_sheet_gives_back_what_it_was_given(
            people in 0usize..20,
            steps in proptest::collection::vec((0usize..40, 1u32..=u32::MAX, proptest::option::of((any_sheet_value(), proptest::bool::ANY))), 0..60),
        ) {
            let mut sheet: Sheet<KpiValue> = Sheet::with_people(Arc::from("k.csv"), people);
            let mut expected: BTreeMap<usize, (u32, Option<Decimal>)> = BTreeMap::new();
            for (position, line, value) in steps {
                let line = std::num::NonZeroU32::new(line).expect("lines from 1");
                match value {
                    None => {
                        let claimed = sheet.claim(position, line).map_err(|first| first.get());
                        let want = match expected.get(&position) {
                            Some(&(first, _)) => Err(first),
                            None => Ok(()),
                        };
                        proptest::prop_assert_eq!(claimed, want);
                        expected.entry(position).or_insert((line.get(), None));
                    }
                    Some((kpi, as_parts)) => {
                        // A plain number's parts: non-negative, its mantissa within an i64.
                        match i64::try_from(kpi.mantissa()) {
                            Ok(m) if as_parts && m >= 0 && !kpi.is_sign_negative() => sheet.insert_parts(position, m, kpi.scale(), line),
                            _ => sheet.insert(position, KpiValue { kpi, line }),
                        }
                        expected.insert(position, (line.get(), Some(kpi)));
                    }
                }
            }
            for position in 0..45 {
                let got = sheet.get(position).map(|v| (v.line.get(), v.kpi.serialize()));
                let want = expected.get(&position).and_then(|&(line, v)| v.map(|v| (line, v.serialize())));
                proptest::prop_assert_eq!(got, want);
                proptest::prop_assert_eq!(sheet.contains(position), want.is_some());
            }
        }
    }

    #[test]
    fn a_slot_packs_only_what_it_gives_back() {
        let edge = Slot::MAX_MANTISSA as i64;
        assert_eq!(Slot::pack(Decimal::new(edge, 7)).map(Slot::unpack), Some(Decimal::new(edge, 7)));
        assert_eq!(Slot::pack(Decimal::new(edge + 1, 0)), None);
        assert_eq!(Slot::pack(Decimal::new(5, 8)), None);
        assert_eq!(Slot::pack(-Decimal::ZERO), None);
        assert_eq!(Slot::pack(Decimal::new(-1, 0)), None);
        assert!(Slot::pack(Decimal::new(edge, 7)).is_some_and(|p| p < Slot::ASIDE));
    }

    #[test]
    fn a_claim_without_a_value_is_no_row_to_equality() {
        let line = std::num::NonZeroU32::new(7).expect("non-zero");
        let mut claimed: Sheet<MonthPoints> = Sheet::with_people(Arc::from("p.csv"), 3);
        claimed.claim(1, line).expect("a first claim");
        assert_eq!(claimed, Sheet::with_people(Arc::from("p.csv"), 3));
        claimed.insert(1, MonthPoints { points: Decimal::new(925, 1), line });
        assert_ne!(claimed, Sheet::with_people(Arc::from("p.csv"), 3));
    }

    proptest::proptest! {
        /// The index finds each id where it was put, grown from nothing one person at a time
        /// (every growth rehashes through the roster), gives a repeated id's first position,
        /// and finds no id that is not there; and so does `Roster::position_near` from any
        /// guess. The ids come in order (the list of numbers, and where it turns into a hash
        /// table part way) or not, with ids of digits only or not, short or too long for a
        /// number.
        #[test]
        fn the_id_index_finds_every_id_at_its_first_position(
            numbers in proptest::collection::vec(0u32..300, 0..400),
            sorted in proptest::prelude::any::<bool>(),
            odd in proptest::collection::vec((0usize..400, 0u8..4), 0..3),
        ) {
            let person = |id: &str| Arc::new(Person {
                id: id.into(), name: "".into(), unit: "".into(), post: "".into(), joined: None, left: None,
                source: Source { file: "roster.csv".into(), line: 2 },
            });
            let mut numbers = numbers;
            if sorted {
                numbers.sort_unstable();
            }
            let mut ids: Vec<String> = numbers.iter().map(|i| format!("{i:04}")).collect();
            // An id the list of numbers cannot hold, somewhere: not digits, 17 digits, or a
            // shorter one (`012` comes after `0299` as a number, before it as text); or one it
            // can hold at the end, but longer (`00000` comes after `0299` as a number, before
            // it as text: the id order is then not the roster's).
            for &(at, kind) in &odd {
                let odd_ids = ["A12".to_string(), "1".repeat(17), "012".to_string(), "00000".to_string()];
                let id = odd_ids[usize::from(kind)].clone();
                ids.insert(at.min(ids.len()), id);
            }
            let (mut people, mut index) = (Vec::new(), IdIndex::default());
            let mut first = std::collections::HashMap::new();
            for id in &ids {
                let got = index.insert(id, people.len(), &people);
                match first.get(id) {
                    Some(&position) => proptest::prop_assert_eq!(got, Err(position)),
                    None => {
                        proptest::prop_assert_eq!(got, Ok(()));
                        first.insert(id.clone(), people.len());
                        people.push(person(id));
                    }
                }
            }
            // Ids in strictly ascending order, digits only, stay a list of numbers.
            let ascending = ids.iter().all(|id| id_key(id).is_some())
                && ids.windows(2).all(|w| id_key(&w[0]) < id_key(&w[1]));
            proptest::prop_assert_eq!(index.keys().is_some(), ascending);
            let roster = Roster::with_index(people.clone(), index.clone());
            // Each person's place in the ids' text order.
            let mut by_text: Vec<usize> = (0..people.len()).collect();
            by_text.sort_by(|&a, &b| people[a].id.cmp(&people[b].id));
            let mut place = vec![0u32; people.len()];
            for (k, &i) in by_text.iter().enumerate() {
                place[i] = k as u32;
            }
            proptest::prop_assert_eq!(roster.id_order(), &place[..]);
            let mut wanted: Vec<String> = (0..300u32).map(|i| format!("{i:04}")).collect();
            wanted.extend(["00001", "A12", "012", "12", "", "0"].map(String::from));
            wanted.push("1".repeat(17));
            for id in &wanted {
                let expected = first.get(id).copied();
                proptest::prop_assert_eq!(index.find(id, &people), expected, "id {}", id);
                for guess in [0, 1, people.len() / 2, people.len().saturating_sub(2), people.len(), people.len() + 3] {
                    proptest::prop_assert_eq!(roster.position_near(id, guess), expected, "id {} guess {}", id, guess);
                }
            }
        }

        /// `same_text` is `==`: whatever the lengths (equal or not, under 4, 4–7, 8–16 and
        /// beyond) and wherever two texts differ (a few bytes, so that most pairs differ in one).
        #[test]
        fn same_text_is_equality(
            a in proptest::collection::vec(0u8..3, 0..20),
            flip in proptest::option::of((0usize..20, 1u8..3)),
            extra in proptest::option::of(0u8..3),
        ) {
            let mut b = a.clone();
            if let Some((at, by)) = flip.filter(|(at, _)| *at < b.len()) {
                b[at] = (b[at] + by) % 3;
            }
            if let Some(byte) = extra {
                b.push(byte);
            }
            proptest::prop_assert_eq!(same_text(&a, &b), a == b);
            proptest::prop_assert_eq!(same_text(&b, &a), a == b);
            proptest::prop_assert!(same_text(&a, &a));
        }

        /// `Limit::admits` is `at_most`, and so comparing decimals, right at its maximum: a
        /// cell of the maximum's own value at 0–5 places and one unit either side, negative
        /// cells, and maxima of up to 28 places or too large for an `i64` at the cell's places.
        #[test]
        fn a_limit_admits_what_at_most_does(
            max_mantissa in proptest::prop_oneof![0i64..1_000, 0i64..1_000_000_000, (i64::MAX / 1000 - 3)..i64::MAX],
            max_scale in 0u32..=28,
            scale in 0u32..=5,
            nudge in -1i64..=1,
            negative in proptest::bool::weighted(0.1),
        ) {
            let max = Decimal::new(max_mantissa, max_scale);
            let limit = Limit::new(max);
            // The maximum at the cell's places when it has a mantissa there, else its own.
            let at = rescale(max.mantissa(), max.scale(), scale).and_then(|m| i64::try_from(m).ok()).unwrap_or(max_mantissa);
            let cell = at.saturating_add(nudge) * if negative { -1 } else { 1 };
            proptest::prop_assert_eq!(limit.admits(cell, scale), at_most(cell.into(), scale, max));
            if let Some(fits) = limit.admits(cell, scale) {
                let value = Decimal::try_from_i128_with_scale(cell.into(), scale).expect("a cell's value");
                proptest::prop_assert_eq!(fits, value <= max);
            }
            proptest::prop_assert_eq!(limit.max(), max);
        }

        /// `rescale` is multiplying by a power of ten, checked: the same as 128-bit arithmetic
        /// whether the product fits 64 bits or not, `None` only when 128 bits overflow or the
        /// scale would fall or grow by more than 18; `at_most` agrees with comparing `Decimal`s.
        #[test]
        fn rescaling_and_comparing_agree_with_wide_arithmetic(
            mantissa in proptest::prop_oneof![
                0i128..1_000_000,
                (i64::MAX as i128 / 1000 - 3)..(i64::MAX as i128 / 1000 + 3),
                (i64::MAX as i128 - 3)..(i64::MAX as i128 + 3),
                0i128..(1i128 << 100),
                -(1i128 << 100)..0,
                -1_000_000i128..0,
                (-(i64::MAX as i128) / 1000 - 3)..(-(i64::MAX as i128) / 1000 + 3),
                (i64::MIN as i128 - 3)..(i64::MIN as i128 + 3),
            ],
            scale in 0u32..=20,
            to in 0u32..=40,
            max in 0i64..1_000_000_000,
            max_scale in 0u32..=8,
        ) {
            let expected = to.checked_sub(scale).filter(|&by| by <= 18).and_then(|by| mantissa.checked_mul(10i128.pow(by)));
            proptest::prop_assert_eq!(rescale(mantissa, scale, to), expected);
            let max = Decimal::new(max, max_scale);
            if let (Ok(value), true) = (Decimal::try_from_i128_with_scale(mantissa, scale), mantissa >= 0) {
                if let Some(fits) = at_most(mantissa, scale, max) {
                    proptest::prop_assert_eq!(fits, value <= max);
                }
                if mantissa < 1 << 62 && scale <= 10 {
                    proptest::prop_assert_eq!(at_most(mantissa, scale, max), Some(value <= max));
                }
                if let Ok(small) = i64::try_from(mantissa) {
                    proptest::prop_assert_eq!(Limit::new(max).admits(small, scale), at_most(mantissa, scale, max));
                }
            }
        }

        /// A roster tells each person's name and post as the person does: a name is only
        /// its own (not a neighbour's, not a prefix or a run across two), and people of the
        /// same post, shared or a separate copy, get the same number, others another (among a
        /// few posts or dozens). Made person by person in two parts (a roster read in halves),
        /// the lookups are those made of the whole roster at once.
        #[test]
        fn a_roster_tells_names_and_posts_as_its_people_have_them(
            people in proptest::collection::vec(("[张王李a]{0,3}", proptest::prop_oneof![0usize..4, 0usize..40], proptest::prelude::any::<bool>()), 0..60),
            cut in 0usize..61,
        ) {
            // A few posts as the reader shares them, or more than `Lookups` keeps pointers for.
            let mut posts: Vec<Arc<str>> = ["营业员", "客服代表", "厅经理", ""].map(Arc::from).to_vec();
            posts.extend((4..40).map(|k| Arc::from(format!("岗位{k}"))));
            let people: Vec<Person> = people
                .iter()
                .enumerate()
                .map(|(i, (name, post, shared))| Person {
                    id: format!("{i:04}").into(),
                    name: name.as_str().into(),
                    unit: "".into(),
                    post: if *shared { posts[*post].clone() } else { Arc::from(&*posts[*post]) },
                    joined: None,
                    left: None,
                    source: Source { file: "roster.csv".into(), line: i as u64 + 2 },
                })
                .collect();
            let roster = Roster::new(people.clone());
            let (mut first, mut second) = (LookupsBuilder::default(), LookupsBuilder::default());
            for (k, person) in people.iter().enumerate() {
                let part = if k < cut { &mut first } else { &mut second };
                part.push(&person.name, &person.post);
            }
            first.append(second);
            proptest::prop_assert_eq!(&first.lookups, &roster.lookups);
            let mut names: Vec<String> = people.iter().map(|p| p.name.to_string()).collect();
            names.extend(["", "张", "张王", "a张", "王李a"].map(String::from));
            for (position, person) in people.iter().enumerate() {
                for name in &names {
                    proptest::prop_assert_eq!(roster.name_is(position, name), *name == *person.name, "{} {}", position, name);
                }
                proptest::prop_assert_eq!(&*roster.posts()[roster.post_of(position)], &*person.post);
                for (other, them) in people.iter().enumerate() {
                    proptest::prop_assert_eq!(roster.post_of(position) == roster.post_of(other), person.post == them.post);
                }
            }
        }

        /// An id's number is one to one with the ids it is given for (digits only, at most 16),
        /// and orders them by length, then by value.
        #[test]
        fn an_id_key_tells_ids_apart_and_orders_them(a in "[0-9]{0,18}|[0-9A]{1,3}", b in "[0-9]{0,18}|[0-9A]{1,3}") {
            let number = |id: &str| (!id.is_empty() && id.len() <= 16 && id.bytes().all(|c| c.is_ascii_digit()))
                .then(|| (id.len(), id.parse::<u64>().unwrap()));
            proptest::prop_assert_eq!(id_key(&a).is_some(), number(&a).is_some());
            if let (Some(ka), Some(kb)) = (id_key(&a), id_key(&b)) {
                proptest::prop_assert_eq!(ka == kb, a == b);
                proptest::prop_assert_eq!(ka.cmp(&kb), number(&a).cmp(&number(&b)));
            }
        }

        /// Being active in a period by months is being active by its first and last days, for
        /// any joining and leaving dates around any month, quarter or year.
        #[test]
        fn active_by_months_is_active_by_days(
            joined in proptest::option::of(0i64..1500), left in proptest::option::of(0i64..1500),
            kind in 0u8..3, year in 2008i32..=2010, n in 1u32..=12,
        ) {
            let day = |k: i64| NaiveDate::from_ymd_opt(2008, 1, 1).and_then(|d| d.checked_add_signed(chrono::Duration::days(k)));
            let period = match kind {
                0 => Period::Month { year, month: n },
                1 => Period::Quarter { year, quarter: n.div_ceil(3) },
                _ => Period::Year(year),
            };
            let person = Person { joined: joined.and_then(day), left: left.and_then(day), ..test_person() };
            let by_days = person.joined.is_none_or(|j| j <= period.last_day()) && person.left.is_none_or(|l| l >= period.first_day());
            proptest::prop_assert_eq!(person.active_in(&period), by_days);
        }

        /// `compare` is `Ord` for any two decimals: signs, zeros, scales 0–28, mantissas up
        /// to the full 96 bits (which take the fallback).
        #[test]
        fn compare_orders_as_ord_does(
            a in proptest::num::i128::ANY, b in proptest::num::i128::ANY,
            small in proptest::bool::ANY, scale_a in 0u32..=28, scale_b in 0u32..=28,
        ) {
            let fit = |m: i128| if small { m % 1_000_000 } else { m % (1i128 << 96) };
            let (a, b) = (Decimal::from_i128_with_scale(fit(a), scale_a), Decimal::from_i128_with_scale(fit(b), scale_b));
            proptest::prop_assert_eq!(compare(a, b), a.cmp(&b));
            proptest::prop_assert_eq!(compare(b, a), b.cmp(&a));
            proptest::prop_assert_eq!(compare(a, a), std::cmp::Ordering::Equal);
            let negative_zero = -Decimal::new(0, scale_a);
            proptest::prop_assert_eq!(compare(negative_zero, b), Decimal::ZERO.cmp(&b));
        }
    }

    #[test]
    fn parses_every_period_spelling() {
        assert_eq!(Period::parse("2009-05").unwrap(), Period::Month { year: 2009, month: 5 });
        assert_eq!(Period::parse("2009q2").unwrap(), Period::Quarter { year: 2009, quarter: 2 });
        assert_eq!(Period::parse("2009Q4").unwrap().to_string(), "2009Q4");
        assert_eq!(Period::parse("2009").unwrap(), Period::Year(2009));
        for bad in ["2009-13", "2009Q5", "09", "2009-5x", "", "２００９"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn period_bounds_and_months() {
        let q = Period::parse("2009Q2").unwrap();
        assert_eq!(q.first_day().to_string(), "2009-04-01");
        assert_eq!(q.last_day().to_string(), "2009-06-30");
        let months: Vec<String> = q.months().iter().map(|m| m.to_string()).collect();
        assert_eq!(months, ["2009-04", "2009-05", "2009-06"]);
        assert_eq!(Period::Year(2009).months().len(), 12);
        assert!(Period::Year(2009).contains(&q));
        assert!(!q.contains(&Period::Year(2009)));
    }

    #[test]
    fn rounding_is_half_up_not_bankers() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(round_half_up(d("2.345"), 2), d("2.35"));
        assert_eq!(round_half_up(d("2.5"), 0), d("3"));
        assert_eq!(format_fixed(d("93.2"), 2), "93.20");
        assert_eq!(format_fixed(d("88"), 2), "88.00");
    }

    fn test_person() -> Person {
        Person {
            id: "1".into(),
            name: "x".into(),
            unit: "u".into(),
            post: "p".into(),
            joined: None,
            left: None,
            source: Source { file: "r".into(), line: 2 },
        }
    }

    #[test]
    fn activity_follows_join_and_leave_dates() {
        let q = Period::parse("2009Q2").unwrap();
        let mut p = Person { joined: NaiveDate::from_ymd_opt(2009, 5, 4), ..test_person() };
        assert!(p.active_in(&q) && p.active_at_end(&q));
        assert!(!p.active_in(&Period::parse("2009-04").unwrap()));
        p.left = NaiveDate::from_ymd_opt(2009, 6, 15);
        assert!(p.active_in(&q) && !p.active_at_end(&q));
        p.left = NaiveDate::from_ymd_opt(2009, 6, 30);
        assert!(p.active_at_end(&q));
    }
}
