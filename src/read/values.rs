//! Cell spellings from real spreadsheets: ideographic and no-break spaces, full-width digits,
//! a trailing `分` or `%`, thousands separators, `YYYY/M/D` dates, and the accounting `-`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// Trims ASCII white space and the invisible characters Excel/WPS leave in cells.
pub fn trim(cell: &str) -> &str {
    // Nearly every cell starts and ends with a visible character (an ASCII one, or a Chinese
    // name's), or is empty: then there is nothing to trim, and no need to go through
    // `trim_matches`' general machinery. Decide on bytes where they say it all.
    let bytes = cell.as_bytes();
    // A character of U+4000–U+9FFF (most Chinese ones) starts with one of the bytes E4–E9 and is
    // never invisible; a lead byte three from the end starts the last character.
    let chinese = |lead: u8| (0xE4..=0xE9).contains(&lead);
    let visible_first = |b: u8| b.is_ascii_graphic() || chinese(b);
    let visible_last = || match bytes.last() {
        Some(b) if b.is_ascii_graphic() => true,
        _ => bytes.len() >= 3 && chinese(bytes[bytes.len() - 3]),
    };
    match bytes.first() {
        None => return cell,
        Some(&first) if visible_first(first) && visible_last() => return cell,
        _ => {}
    }
    // No white space lies above U+3000 but the BOM: a Chinese character is decided at once.
    let invisible = |c: char| match c {
        '\u{feff}' => true,
        c if c > '\u{3000}' => false,
        c => c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}',
    };
    let mut chars = cell.chars();
    match (chars.next(), chars.next_back()) {
        (None, _) => cell,
        (Some(first), last) if !invisible(first) && !last.is_some_and(invisible) => cell,
        _ => cell.trim_matches(invisible),
    }
}

/// Full-width ASCII forms (`９２．５`, `Ｑ`, `－`) → ASCII, then trimmed. Plain ASCII (nearly
/// every cell) is returned as it is, without a copy.
pub fn half_width(cell: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = trim(cell);
    if trimmed.is_ascii() {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    let wide: String = trimmed
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            '。' => '.',
            _ => c,
        })
        .collect();
    std::borrow::Cow::Owned(wide.trim().to_string())
}

/// A score or amount: blank → `None`; `９２.５`, `95分`, `95%`, `1,234` accepted.
///
/// Inlined where it is called (a sheet by items reads a dozen cells a row): the plain number
/// and the blank are then made in registers, not written to memory by a call and read back
/// from it at once (which stalled the reading of a points sheet by items; see
/// docs/performance.md). Anything else is read apart.
#[inline(always)]
pub fn number(cell: &str) -> Result<Option<Decimal>, String> {
    if let Some(plain) = plain_number(cell) {
        return Ok(Some(plain));
    }
    // Blank bonus items are common: no need to look for wide digits in them.
    if cell.is_empty() {
        return Ok(None);
    }
    written_number(cell)
}

/// `number` for a cell that is neither blank nor a plain number.
#[inline(never)]
fn written_number(cell: &str) -> Result<Option<Decimal>, String> {
    let text = half_width(cell);
    if text.is_empty() {
        return Ok(None);
    }
    let bare = text.strip_suffix('分').or_else(|| text.strip_suffix('%')).unwrap_or(&text).trim();
    if let Ok(d) = Decimal::from_str(bare) {
        // The common case, a plain number: no copies. Anything else takes the checks below.
        if bare.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
            return Ok(Some(d.normalize()));
        }
    }
    if bare == "-" {
        return Err(format!(
            "\"{}\" is not a number (an accounting-format zero? write 0, or leave the cell blank if there is no value)",
            trim(cell)
        ));
    }
    let plain = if is_grouped(bare) { bare.replace(',', "") } else { bare.to_string() };
    let valid = !plain.is_empty()
        && plain.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        && plain.bytes().any(|b| b.is_ascii_digit());
    match valid.then(|| Decimal::from_str(&plain).ok()).flatten() {
        Some(d) => Ok(Some(d.normalize())),
        None => Err(format!("\"{}\" is not a number", trim(cell))),
    }
}

/// The common cell, digits with an optional fraction (`92.5`, `88.00`, `7`), read straight into
/// the normalised decimal `number` gives for it (trailing zeros of the fraction dropped);
/// `None` for anything else (a sign, a suffix, a blank), which `number` reads the long way.
/// Half a million people's monthly files hold millions of such cells.
#[inline(always)]
fn plain_number(cell: &str) -> Option<Decimal> {
    plain_parts(cell).map(|(mantissa, scale)| Decimal::new(mantissa, scale))
}

/// `plain_number` as the mantissa and scale `Decimal::new` takes. A reader that holds a row's
/// values a moment before using them keeps these two numbers, not the `Decimal`: one built
/// field by field in memory and at once read back whole cannot be forwarded by the processor
/// (perf annotate: a third of a KPI row's own time, an eighth of a points row's, went to that).
#[inline(always)]
pub fn plain_parts(cell: &str) -> Option<(i64, u32)> {
    let bytes = cell.as_bytes();
    // At most 18 digits and a point: the mantissa fits an i64.
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    let (mut mantissa, mut point) = (0i64, None);
    if bytes.len() == 19 && !bytes.contains(&b'.') {
        return None;
    }
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + i64::from(b - b'0'),
            b'.' if point.is_none() && i > 0 && i + 1 < bytes.len() => point = Some(i),
            _ => return None,
        }
    }
    let mut scale = point.map_or(0, |p| (bytes.len() - p - 1) as u32);
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Some((mantissa, scale))
}

/// `1,234` or `1,234.5`: commas only as thousands separators.
fn is_grouped(text: &str) -> bool {
    let int = text.split('.').next().unwrap_or("");
    let int = int.strip_prefix('-').unwrap_or(int);
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
}

/// A whole, non-negative amount of yuan.
pub fn whole_yuan(cell: &str) -> Result<Option<Decimal>, String> {
    match number(cell.trim_end_matches('元'))? {
        // A billion yuan is far beyond any award and keeps every sum exact.
        Some(d) if d < Decimal::ZERO || !d.fract().is_zero() || d > Decimal::from(1_000_000_000) => {
            Err(format!("\"{}\" is not a whole, non-negative amount", trim(cell)))
        }
        other => Ok(other),
    }
}

/// A place such as `2`, `第2名`: a positive whole number; blank → `None`.
pub fn rank(cell: &str) -> Result<Option<u32>, String> {
    let text = half_width(cell);
    if text.is_empty() {
        return Ok(None);
    }
    let bare = text.trim_start_matches('第').trim_end_matches('名');
    match bare.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(format!("\"{}\" is not a place: a rank must be a positive whole number (1, 2, 3 …)", trim(cell))),
    }
}

/// `2009-05-04`, `2009/5/4`, `2009.5.4` or `2009年5月4日`; blank → `None`.
pub fn date(cell: &str) -> Result<Option<NaiveDate>, String> {
    // The common spelling, `YYYY-MM-DD`, read without copies (half a million roster rows).
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *cell.as_bytes() {
        let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            let year = i32::try_from(n(&digits[..4])).unwrap_or(i32::MAX);
            if let Some(date) = NaiveDate::from_ymd_opt(year, n(&digits[4..6]), n(&digits[6..])) {
                return Ok(Some(date));
            }
        }
    }
    let text = half_width(cell);
    if text.is_empty() {
        return Ok(None);
    }
    let unified: String = text
        .chars()
        .map(|c| match c {
            '/' | '.' | '年' | '月' => '-',
            c => c,
        })
        .filter(|&c| c != '日')
        .collect();
    let parts: Vec<&str> = unified.split('-').collect();
    let parsed = match parts.as_slice() {
        [y, m, d] if y.len() == 4 => match (y.parse(), m.parse(), d.parse()) {
            (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d),
            _ => None,
        },
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| format!("\"{}\" is not a date: write YYYY-MM-DD", trim(cell)))
}

/// An employee id, kept as text. Rejects ids a spreadsheet has already turned into numbers.
pub fn id(cell: &str) -> Result<std::borrow::Cow<'_, str>, String> {
    if is_plain_id(cell) {
        return Ok(std::borrow::Cow::Borrowed(cell));
    }
    let text = half_width(cell);
    if text.is_empty() {
        return Err("the id is blank: give the 工号, or delete the row".to_string());
    }
    if let Some((mantissa, exponent)) = text.split_once(['E', 'e']) {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if digits(mantissa) && digits(exponent.trim_start_matches(['+', '-'])) {
            return Err(format!(
                "id \"{text}\" is in scientific notation: the spreadsheet turned it into a number and lost digits; format the id column as text (@) and export again"
            ));
        }
    }
    Ok(text)
}

/// The common id, digits only (`0001234`): `id` gives it as it is (nothing to convert, no
/// exponent to look for). A reader that checks this first keeps the cell as it is, instead of
/// taking the `Cow` that `id` returns: returned from a call, that is written to memory field by
/// field and read back whole at once, which stalled every row's roster lookup (perf annotate).
#[inline(always)]
pub fn is_plain_id(cell: &str) -> bool {
    !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `trim`'s shortcut gives what trimming every invisible character off both ends gives.
        #[test]
        fn trim_takes_off_exactly_the_invisible_ends(pieces in proptest::collection::vec(proptest::sample::select(vec![
            "a", "9", "张", "三", "丁", "阿", "ぁ", "…", "é", " ", "\t", "\u{3000}", "\u{a0}", "\u{feff}", "\u{2003}",
            "\u{200b}", "\u{1680}", "\u{2028}", "\u{85}", "-", "\r",
        ]), 0..8)) {
            let cell: String = pieces.concat();
            let invisible = |c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{a0}' || c == '\u{feff}';
            proptest::prop_assert_eq!(trim(&cell), cell.trim_matches(invisible));
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_in_every_spreadsheet_spelling() {
        assert_eq!(number("９２．５").unwrap(), Some(d("92.5")));
        assert_eq!(number(" 95分 ").unwrap(), Some(d("95")));
        assert_eq!(number("95%").unwrap(), Some(d("95")));
        assert_eq!(number("1,234").unwrap(), Some(d("1234")));
        assert_eq!(number("\u{3000}").unwrap(), None);
        assert_eq!(number("88.00").unwrap(), Some(d("88")));
        assert_eq!(number("9O").unwrap_err(), "\"9O\" is not a number");
        assert_eq!(number("九十").unwrap_err(), "\"九十\" is not a number");
        assert!(number("-").unwrap_err().contains("accounting-format zero"));
        assert!(number("1,23").is_err());
        assert!(number("1e3").is_err());
    }

    #[test]
    fn plain_numbers_read_as_the_general_path_reads_them() {
        for cell in ["0", "00", "0.0", "7", "007", "92.5", "88.00", "100.10", "0.05", "123456789012345678", "1.5"] {
            let general = Decimal::from_str(cell).unwrap().normalize();
            let plain = plain_number(cell).unwrap();
            assert_eq!((plain, plain.to_string()), (general, general.to_string()), "{cell}");
            assert_eq!(number(cell).unwrap(), Some(general));
        }
        for cell in [
            "",
            ".5",
            "5.",
            "1.2.3",
            "-1",
            "+1",
            "1,234",
            "95分",
            "1e3",
            "1234567890123456789",
            "9999999999999999999",
            " 1",
        ] {
            assert_eq!(plain_number(cell), None, "{cell}");
        }
    }

    #[test]
    fn ranks_dates_and_ids() {
        assert_eq!(rank("第2名").unwrap(), Some(2));
        assert_eq!(rank("").unwrap(), None);
        assert!(rank("0").is_err() && rank("2.5").is_err() && rank("-1").is_err());
        assert_eq!(date("2009/5/4").unwrap().unwrap().to_string(), "2009-05-04");
        assert_eq!(date("2009年5月4日").unwrap().unwrap().to_string(), "2009-05-04");
        assert!(date("2009-02-30").is_err());
        assert_eq!(date("2009-05-04").unwrap().unwrap().to_string(), "2009-05-04");
        assert_eq!(date("2009-5-4").unwrap().unwrap().to_string(), "2009-05-04");
        assert!(date("2009-13-01").unwrap_err().contains("is not a date"));
        assert_eq!(id(" 00123 ").unwrap(), "00123");
        assert_eq!(id("００１２").unwrap(), "0012");
        assert!(id("2.31E+13").unwrap_err().contains("scientific notation"));
        assert_eq!(whole_yuan("150元").unwrap(), Some(d("150")));
        assert!(whole_yuan("150.5").is_err());
    }
}
