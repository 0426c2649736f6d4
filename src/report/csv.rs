//! Flat output: one row per person with the same fields as the JSON (award lines as one
//! column per award key holding the amount paid). The same rows, made one at a time
//! (`Listing`), also feed the XLSX writer.

use super::guard_formula;
use crate::engine::awards::LineSource;
use crate::engine::{MonthResult, PeriodResult, Report};
use crate::model::PeriodKind;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::io::Write as _;

/// A cell of flat output: text is guarded against formulas, numbers never are. Text is
/// borrowed from the results where it can be, and numbers are formatted only when written:
/// a company's listing has millions of cells.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    Number(Decimal, Shown),
    Empty,
}

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A score: rounded half-up to exactly this many places (`93.2` → `93.20`).
    Fixed(u32),
    /// As it is, without trailing zeros (`92.50` → `92.5`); also counts.
    Plain,
    /// Whole yuan.
    Yuan,
}

impl<'a> Cell<'a> {
    pub fn text(s: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell::Text(s.into())
    }

    fn score(v: Option<Decimal>, decimals: u32) -> Cell<'a> {
        v.map_or(Cell::Empty, |v| Cell::Number(v, Shown::Fixed(decimals)))
    }

    fn plain(v: Option<Decimal>) -> Cell<'a> {
        v.map_or(Cell::Empty, |v| Cell::Number(v, Shown::Plain))
    }

    fn money(v: Decimal) -> Cell<'a> {
        Cell::Number(v, Shown::Yuan)
    }

    fn count(v: Option<u32>) -> Cell<'a> {
        v.map_or(Cell::Empty, |n| Cell::Number(Decimal::from(n), Shown::Plain))
    }

    fn whole(n: usize) -> Cell<'a> {
        Cell::Number(Decimal::from(n), Shown::Plain)
    }

    fn flag(b: bool) -> Cell<'a> {
        Cell::text(if b { "true" } else { "false" })
    }

    /// A number's text (`None` for text and empty cells).
    pub fn number_text(&self) -> Option<String> {
        matches!(self, Cell::Number(..)).then(|| {
            let mut text = Vec::new();
            self.write_csv(&mut text);
            String::from_utf8(text).expect("a number is written in ASCII")
        })
    }

    /// The cell as CSV text, written into `out` (cleared first). Bytes, not a `String`: they go
    /// to the CSV writer as bytes, and digits need no checking as text on the way.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        out.clear();
        self.append_csv(out);
    }

    /// `write_csv` appending to `out`.
    fn append_csv(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Text(t) => out.extend_from_slice(guard_formula(t).as_bytes()),
            // Most amounts in a company's listing are nothing paid (-0 too is written 0).
            Cell::Number(v, Shown::Yuan) if v.is_zero() => out.push(b'0'),
            // Straight into the buffer: no string per number.
            Cell::Number(v, shown) => {
                let shown = match *shown {
                    // Scores come at their places already, amounts mostly in whole yuan: then
                    // rounding and normalising change nothing (-0 aside, which they make 0).
                    Shown::Fixed(decimals) if v.scale() == decimals => *v,
                    Shown::Yuan if v.scale() == 0 && !v.is_sign_negative() => *v,
                    Shown::Fixed(decimals) => {
                        let mut v = crate::model::round_half_up(*v, decimals);
                        v.rescale(decimals);
                        v
                    }
                    Shown::Plain => v.normalize(),
                    Shown::Yuan => v.round_dp(0).normalize(),
                };
                write_decimal(out, shown);
            }
            Cell::Empty => {}
        }
    }
}

/// Appends `value` as `Display` writes it. Scores and amounts (not negative, a mantissa that
/// fits a `u64`) are written as their whole and fractional digits, without `Decimal`'s general
/// formatting: a company's listing has millions of them.
fn write_decimal(out: &mut Vec<u8>, value: Decimal) {
    let scale = value.scale();
    let digits = u64::try_from(value.mantissa()).ok().zip(10u64.checked_pow(scale));
    match digits {
        Some((mantissa, unit)) if !value.is_sign_negative() => {
            push_digits(out, mantissa / unit, 1);
            if scale > 0 {
                out.push(b'.');
                push_digits(out, mantissa % unit, scale as usize);
            }
        }
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

/// Appends `n` in decimal digits, zero-padded to `width` (at most 20), without the formatting
/// machinery.
fn push_digits(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    while n > 0 || start > digits.len() - width {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&digits[start..]);
}

/// A header row and rows held at once (a fill-in template's).
#[derive(Debug, Clone, PartialEq)]
pub struct Flat<'a> {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell<'a>>>,
}

/// A header and rows, each made when asked for by its place: written as CSV or XLSX, half a
/// million people never exist as cells all at once, and two threads can each format their
/// own stretch.
pub struct Listing<'a> {
    headers: Vec<String>,
    len: usize,
    row: Box<dyn Fn(usize) -> Vec<Cell<'a>> + Sync + 'a>,
}

impl<'a> Listing<'a> {
    fn new(headers: Vec<String>, len: usize, row: impl Fn(usize) -> Vec<Cell<'a>> + Sync + 'a) -> Listing<'a> {
        Listing { headers, len, row: Box::new(row) }
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows at `places`, each made as it is reached.
    pub fn rows(&self, places: std::ops::Range<usize>) -> impl Iterator<Item = Vec<Cell<'a>>> + '_ {
        places.map(|i| (self.row)(i))
    }
}

/// A report's listing: a month's bulletin, or a quarter's or year's ranking.
pub fn listing(report: &Report) -> Listing<'_> {
    match report {
        Report::Month(m) => month(m),
        Report::Period(p) => period(p),
    }
}

/// Writes a report's listing as CSV bytes, row by row.
pub fn write_report(report: &Report, encoding: Encoding) -> Result<Vec<u8>, String> {
    let listing = listing(report);
    write_rows(&listing.headers, listing.rows(0..listing.len), encoding)
}

/// Writes a report's listing as UTF-8 CSV (with a BOM first when asked) to `out`, row by row.
pub fn write_report_to(report: &Report, bom: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let listing = listing(report);
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    write_records(&mut w, &listing.headers, std::iter::empty::<Vec<Cell>>())?;
    out.write_all(&into_bytes(w)?)?;
    // Formatting the cells is the work; the rows go out in stretches, each stretch formatted
    // on its own thread and written in listing order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(STRETCHES_AT_ONCE);
    let mut start = 0;
    while start < listing.len {
        let stretches: Vec<std::ops::Range<usize>> = (0..threads)
            .map(|t| (start + t * STRETCH).min(listing.len)..(start + (t + 1) * STRETCH).min(listing.len))
            .filter(|r| !r.is_empty())
            .collect();
        start = stretches.last().map_or(listing.len, |r| r.end);
        let listing = &listing;
        let texts: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let format = |places: std::ops::Range<usize>| {
                let mut text = Vec::new();
                append_rows(listing.rows(places), &mut text)?;
                Ok(text)
            };
            let (mine, theirs) = stretches.split_first().expect("a stretch");
            let helpers: Vec<_> =
                theirs.iter().map(|r| crate::threads::start(scope, move || format(r.clone()))).collect();
            std::iter::once(format(mine.clone())).chain(helpers.into_iter().map(crate::threads::Job::join)).collect()
        });
        for text in texts {
            out.write_all(&text?)?;
        }
    }
    out.flush()
}

/// People whose rows one thread formats at a time: enough that starting a thread costs
/// nothing against it, few enough that the stretches in hand are a few megabytes. Debug builds
/// use stretches of three, so that every test of the tool writes CSV in stretches too.
const STRETCH: usize = if cfg!(debug_assertions) { 3 } else { 16_384 };
/// Stretches formatted at once (two cores are the machine this is measured on).
const STRETCHES_AT_ONCE: usize = 4;

fn into_bytes(w: ::csv::Writer<Vec<u8>>) -> std::io::Result<Vec<u8>> {
    w.into_inner().map_err(|e| e.into_error())
}

/// The header and the rows, each cell formatted into one reused buffer.
fn write_records<'c, W: std::io::Write, R: AsRef<[Cell<'c>]>>(
    w: &mut ::csv::Writer<W>,
    headers: &[String],
    rows: impl Iterator<Item = R>,
) -> ::csv::Result<()> {
    w.write_record(headers.iter().map(|h| guard_formula(h).as_bytes().to_vec()))?;
    write_cells(w, rows)
}

/// The rows, each cell formatted into one reused buffer.
fn write_cells<'c, W: std::io::Write, R: AsRef<[Cell<'c>]>>(
    w: &mut ::csv::Writer<W>,
    rows: impl Iterator<Item = R>,
) -> ::csv::Result<()> {
    let mut text = Vec::new();
    for row in rows {
        for cell in row.as_ref() {
            // Text goes straight to the writer; only numbers need writing out first.
            match cell {
                Cell::Text(t) => w.write_field(guard_formula(t).as_bytes())?,
                cell => {
                    cell.write_csv(&mut text);
                    w.write_field(&text)?;
                }
            }
        }
        w.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// The rows as CSV appended to `out`, byte for byte what the csv crate writes for them.
///
/// A row none of whose cells needs quoting (no comma, quote or line break in its text: nearly
/// every row) is written here as its cells joined by commas, which is all the csv crate makes
/// of it; any other row is written by the csv crate. Going through the crate cell by cell was
/// 40 % of formatting a company's listing (callgrind: its per-field machinery, ~130
/// instructions a cell), and formatting is most of writing it. `fast_rows_are_written_as_
/// the_csv_crate_writes_them` holds the two to each other.
fn append_rows<'c, R: AsRef<[Cell<'c>]>>(rows: impl Iterator<Item = R>, out: &mut Vec<u8>) -> std::io::Result<()> {
    for row in rows {
        let row = row.as_ref();
        let start = out.len();
        // The crate writes a row of one empty cell as `""`, so only rows of two cells or more.
        let mut plain = row.len() > 1;
        for (k, cell) in row.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            match cell {
                Cell::Text(t) => {
                    let text = guard_formula(t);
                    plain &= !text.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
                    out.extend_from_slice(text.as_bytes());
                }
                cell => cell.append_csv(out),
            }
            if !plain {
                break;
            }
        }
        if plain {
            out.push(b'\n');
        } else {
            out.truncate(start);
            let mut w = ::csv::WriterBuilder::new().has_headers(false).from_writer(std::mem::take(out));
            write_cells(&mut w, std::iter::once(row))?;
            *out = into_bytes(w)?;
        }
    }
    Ok(())
}

/// The cells every listing starts with: rank, id, name, unit, post.
/// `width` is the whole row's: room for every cell at once, not regrown cell by cell.
fn identity(rank: Option<u32>, texts: [&str; 4], width: usize) -> Vec<Cell<'_>> {
    let mut row = Vec::with_capacity(width);
    row.push(Cell::count(rank));
    row.extend(texts.into_iter().map(Cell::text));
    row
}

fn month(m: &MonthResult) -> Listing<'_> {
    let mut headers: Vec<String> = ["rank", "id", "name", "unit", "post"].map(String::from).to_vec();
    headers.extend(m.item_names.iter().cloned());
    headers.push("points".into());
    let width = headers.len();
    Listing::new(headers, m.people.len(), move |i| {
        let p = &m.people[i];
        let mut row = identity(p.rank, [&p.id, &p.name, &p.unit, &p.post].map(|t| &**t), width);
        for item in &m.item_names {
            let value = p.entry.as_ref().and_then(|e| e.items.iter().find(|(n, _)| **n == **item)).map(|(_, v)| *v);
            row.push(Cell::plain(value));
        }
        row.push(Cell::plain(p.entry.as_ref().map(|e| e.points)));
        row
    })
}

fn period(r: &PeriodResult) -> Listing<'_> {
    let year = r.period.kind() == PeriodKind::Year;
    let mut headers: Vec<String> = [
        "rank",
        "id",
        "name",
        "unit",
        "post",
        "management",
        "active_at_end",
        "vetoed",
        "points",
        "kpi",
        "score",
        "training",
    ]
    .map(String::from)
    .to_vec();
    if year {
        headers.push("grade".into());
    }
    headers.extend(r.rules.iter().map(|rule| rule.key.clone()));
    headers.push("payout".into());
    if !r.people.is_empty() {
        headers.extend(r.quarter_totals.iter().map(|(q, _)| q.to_string()));
    }
    if year {
        headers.push("year_payout".into());
    }
    let width = headers.len();
    Listing::new(headers, r.people.len(), move |i| {
        // Each person's id, name and unit lie apart from the results, and a year's quarter
        // payouts in lists by roster position: fetched ahead, the person first, then what it
        // points at. (A unit is shared by its 25 people, but a company has 20,000 of them,
        // met in rank order: the unit's text too was a wait, writing 500,000 people ~70 ->
        // ~65 ms.)
        if let Some(far) = r.people.get(i + crate::cache::FAR) {
            crate::cache::prefetch(std::sync::Arc::as_ptr(&far.person));
            r.prefetch_quarter_payouts(far);
        }
        if let Some(near) = r.people.get(i + crate::cache::NEAR) {
            crate::cache::prefetch(near.person.id.as_ptr());
            crate::cache::prefetch(near.person.name.as_ptr());
            crate::cache::prefetch(near.person.unit.as_ptr());
        }
        let p = &r.people[i];
        let mut row =
            identity(p.rank, [&p.person.id, &p.person.name, &p.person.unit, &p.person.post].map(|t| &**t), width);
        row.extend([
            Cell::flag(p.management),
            Cell::flag(p.active_at_end),
            Cell::flag(p.veto.is_some()),
            Cell::score(p.scored.points, r.decimals),
            Cell::score(p.scored.kpi, r.decimals),
            Cell::score(p.scored.score, r.decimals),
            Cell::flag(p.training),
        ]);
        if year {
            row.push(p.grade.as_deref().map_or(Cell::Empty, Cell::text));
        }
        for rule in &r.rules {
            let paid: Decimal = p
                .awards
                .iter()
                .filter(|l| l.source == LineSource::District && *l.award == *rule.key)
                .map(|l| l.paid)
                .sum();
            row.push(Cell::money(paid));
        }
        row.push(Cell::money(p.payout));
        row.extend(r.quarter_payouts(p).map(|(_, v)| Cell::money(v)));
        if let Some(y) = r.year_payout(p) {
            row.push(Cell::money(y));
        }
        row
    })
}

/// One row per award rule of a quarter or year: what it did (the XLSX "rules" sheet).
pub fn rules(r: &PeriodResult) -> Listing<'_> {
    let headers = ["award", "name", "fired", "quota", "recipients", "paid"].map(String::from).to_vec();
    Listing::new(headers, r.rules.len(), move |i| {
        let rule = &r.rules[i];
        vec![
            Cell::text(&rule.key),
            Cell::text(&rule.name),
            Cell::whole(rule.fired),
            rule.cut.as_ref().map_or(Cell::Empty, |c| Cell::whole(c.quota)),
            Cell::whole(rule.recipients),
            Cell::money(rule.paid),
        ]
    })
}

/// One row per award line, people in listing order (the XLSX "lines" sheet).
pub fn lines(r: &PeriodResult) -> Listing<'_> {
    let headers = ["id", "name", "award", "source", "amount", "paid", "superseded_by"].map(String::from).to_vec();
    // Each row's person and line, found by place (8 bytes a line, not the line's cells).
    let at: Vec<(u32, u32)> = (0..)
        .zip(&r.people)
        .flat_map(|(person, p)| (0..p.awards.len() as u32).map(move |line| (person, line)))
        .collect();
    Listing::new(headers, at.len(), move |i| {
        let (person, line) = at[i];
        let p = &r.people[person as usize];
        let l = &p.awards[line as usize];
        vec![
            Cell::text(&*p.person.id),
            Cell::text(&*p.person.name),
            Cell::text(&*l.award),
            Cell::text(match l.source {
                LineSource::District => "district",
                LineSource::City => "city",
            }),
            Cell::money(l.amount),
            Cell::money(l.paid),
            l.superseded_by.as_deref().map_or(Cell::Empty, Cell::text),
        ]
    })
}

/// The byte encoding of CSV output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// Plain UTF-8 (for scripts).
    Utf8,
    /// UTF-8 with a BOM, so Excel/WPS open it without mojibake.
    Utf8Bom,
    /// GBK, for older Chinese spreadsheet tools.
    Gbk,
}

/// Writes flat rows as CSV bytes in the given encoding.
pub fn write(flat: &Flat, encoding: Encoding) -> Result<Vec<u8>, String> {
    write_rows(&flat.headers, flat.rows.iter(), encoding)
}

fn write_rows<'c, R: AsRef<[Cell<'c>]>>(
    headers: &[String],
    rows: impl Iterator<Item = R>,
    encoding: Encoding,
) -> Result<Vec<u8>, String> {
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::new());
    write_records(&mut w, headers, rows).map_err(|e| e.to_string())?;
    let utf8 = w.into_inner().map_err(|e| e.to_string())?;
    match encoding {
        Encoding::Utf8 => Ok(utf8),
        Encoding::Utf8Bom => Ok([b"\xEF\xBB\xBF".as_slice(), &utf8].concat()),
        Encoding::Gbk => {
            let text = String::from_utf8(utf8).map_err(|e| e.to_string())?;
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
            if unmappable {
                return Err("some text has no GBK form: write UTF-8 instead (--encoding utf8-bom)".to_string());
            }
            Ok(bytes.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `write_decimal` writes what `Display` writes, for any sign, scale and mantissa.
        #[test]
        fn decimals_are_written_as_display_writes_them(
            mantissa in proptest::num::i64::ANY, wide in proptest::bool::weighted(0.1), scale in 0u32..=28,
        ) {
            let mantissa = if wide { i128::from(mantissa) << 30 } else { i128::from(mantissa) };
            let value = Decimal::from_i128_with_scale(mantissa, scale);
            // Everyday amounts too: a few digits, leading zeros after the point (0.05).
            let small = Decimal::from_i128_with_scale(mantissa % 1000, scale);
            for value in [value, -value, value.normalize(), small, Decimal::new(0, scale), -Decimal::new(0, scale)] {
                let mut out = Vec::new();
                write_decimal(&mut out, value);
                proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
            }
        }

        /// A score cell is written as the score rounded half-up and shown at its places, an
        /// amount as the amount rounded to whole yuan and normalised: the shortcuts for scores
        /// already at their places and amounts already whole change nothing.
        #[test]
        fn scores_and_yuan_are_written_rounded(mantissa in proptest::num::i64::ANY, scale in 0u32..=6, decimals in 0u32..=4) {
            let value = Decimal::new(mantissa % 10_000_000, scale);
            for value in [value, -value, Decimal::new(0, scale), -Decimal::new(0, scale)] {
                let written = |shown| {
                    let mut out = Vec::new();
                    Cell::Number(value, shown).write_csv(&mut out);
                    String::from_utf8(out).unwrap()
                };
                let mut fixed = crate::model::round_half_up(value, decimals);
                fixed.rescale(decimals);
                proptest::prop_assert_eq!(written(Shown::Fixed(decimals)), fixed.to_string());
                proptest::prop_assert_eq!(written(Shown::Yuan), value.round_dp(0).normalize().to_string());
            }
        }
    }
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// Rows written by `append_rows` are byte for byte what the csv crate writes: text
        /// with and without commas, quotes, line breaks, formula starts and Chinese, numbers of
        /// every kind, empty cells, rows of one cell.
        #[test]
        fn fast_rows_are_written_as_the_csv_crate_writes_them(
            rows in (1usize..6).prop_flat_map(|width| {
                let cell = proptest::prop_oneof![
                    "[a-z张伟,\"\r\n =+@＝ -]{0,6}".prop_map(Cell::text),
                    (proptest::num::i64::ANY, 0u32..6, 0usize..3).prop_map(|(m, scale, k)| {
                        let shown = [Shown::Fixed(2), Shown::Plain, Shown::Yuan][k];
                        Cell::Number(Decimal::new(m % 1_000_000, scale), shown)
                    }),
                    proptest::strategy::Just(Cell::Empty),
                ];
                // One width for all rows, as in a listing (the crate refuses rows of another).
                proptest::collection::vec(proptest::collection::vec(cell, width), 0..6)
            }),
        ) {
            let mut fast = b"before\n".to_vec();
            append_rows(rows.iter(), &mut fast).unwrap();
            let mut w = ::csv::WriterBuilder::new().has_headers(false).from_writer(b"before\n".to_vec());
            write_cells(&mut w, rows.iter()).unwrap();
            let by_crate = into_bytes(w).unwrap();
            proptest::prop_assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&by_crate));
        }
    }

    use crate::engine::{MonthPerson, MonthResult};
    use crate::model::{MonthEntry, Period};

    /// Written in stretches on several threads, a listing longer than a few stretches is byte
    /// for byte the listing written row by row on one.
    #[test]
    fn stretches_written_on_threads_read_as_one_listing() {
        let people = (0..2 * STRETCH * STRETCHES_AT_ONCE + 7)
            .map(|i| MonthPerson {
                id: format!("{i:07}").into(),
                // Quotes, line breaks and formula starts: cells that need quoting or a guard.
                name: ["张\"伟\n", "=SUM(A1)", "李娜"][i % 3].into(),
                unit: "营业厅".into(),
                post: "营业员".into(),
                entry: (i % 5 != 0).then(|| MonthEntry {
                    points: Decimal::new(i as i64 % 1000, 1),
                    items: Vec::new(),
                    line: 2,
                }),
                rank: (i % 5 != 0).then_some(i as u32),
            })
            .collect();
        let report = Report::Month(MonthResult {
            period: Period::parse("2009-05").unwrap(),
            file: None,
            policy: "p".into(),
            decimals: 2,
            people,
            mean: None,
            item_names: Vec::new(),
            warnings: Vec::new(),
        });
        for (bom, encoding) in [(false, Encoding::Utf8), (true, Encoding::Utf8Bom)] {
            let mut threaded = Vec::new();
            write_report_to(&report, bom, &mut threaded).unwrap();
            let one_by_one = write_report(&report, encoding).unwrap();
            assert_eq!(threaded.len(), one_by_one.len());
            assert!(threaded == one_by_one, "bom {bom}: the outputs differ");
        }
    }
}
