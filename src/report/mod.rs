//! Rendering: one engine result → table | csv | json (| xlsx). Renderers only format; every
//! number they print was computed by the engine.

pub mod csv;
pub mod explain;
pub mod json;
pub mod table;
pub mod xlsx;

use crate::model::format_fixed;
use rust_decimal::Decimal;

/// The language of table labels (JSON and CSV field names never change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh` or `en` from text such as a `lang` setting or `$LANG` (`en_US.UTF-8` → en).
    pub fn from_setting(text: &str) -> Option<Lang> {
        let t = text.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the Chinese or the English text.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// A score with the rubric's decimals, or "" for none.
pub fn score_text(value: Option<Decimal>, decimals: u32) -> String {
    value.map(|v| format_fixed(v, decimals)).unwrap_or_default()
}

/// A decimal as it is, without trailing zeros (`0.20` → `0.2`, `92.50` → `92.5`).
pub fn plain(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Whole yuan as text.
pub fn yuan(value: Decimal) -> String {
    value.round_dp(0).normalize().to_string()
}

/// Masks a name for a public notice: the middle characters become `*` (张伟 → 张*,
/// 张小伟 → 张*伟, 欧阳小伟 → 欧**伟).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 | 1 => name.to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Prepares a monthly bulletin for the notice board: masked names, no IDs.
pub fn mask_month(m: &mut crate::engine::MonthResult) {
    for p in &mut m.people {
        p.name = mask_name(&p.name).into();
        p.id = "".into();
    }
}

/// First characters that make a spreadsheet read a text cell as a formula (OWASP).
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Guards a text cell that a spreadsheet would read as a formula (OWASP CSV injection):
/// a leading `= + - @`, TAB, CR or their full-width forms gets a `'` in front. A cell that is
/// a plain number (a negative score) is left alone.
pub fn guard_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = match cell.as_bytes().first() {
        // Most cells start with a letter, a digit or a Chinese character: decide on one byte.
        Some(&b) if b.is_ascii() => matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'),
        // The full-width forms (U+FF0B, U+FF0D, U+FF1D, U+FF20) all start with this byte in
        // UTF-8; Chinese text never does.
        Some(0xEF) => cell.starts_with(FORMULA_STARTS),
        Some(_) => false,
        None => false,
    };
    if risky && cell.parse::<Decimal>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Removes exactly one formula guard added by `guard_formula` (for re-import).
pub fn unguard_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_full_width_formula_start_is_guarded_by_its_first_byte() {
        for c in FORMULA_STARTS.into_iter().filter(|c| !c.is_ascii()) {
            assert_eq!(c.to_string().as_bytes()[0], 0xEF, "{c}");
            assert_eq!(guard_formula(&format!("{c}1+1")), format!("'{c}1+1"));
        }
        // Other text beginning with that byte is left alone.
        assert_eq!(guard_formula("（一）"), "（一）");
    }

    #[test]
    fn formula_guard_round_trips_and_leaves_numbers_alone() {
        assert_eq!(guard_formula("=1+1"), "'=1+1");
        assert_eq!(guard_formula("＠SUM(A1)"), "'＠SUM(A1)");
        assert_eq!(guard_formula("-12.5"), "-12.5");
        assert_eq!(guard_formula("张伟"), "张伟");
        assert_eq!(unguard_formula(&guard_formula("=HYPERLINK(\"x\")")), "=HYPERLINK(\"x\")");
        assert_eq!(unguard_formula("'plain"), "'plain");
    }

    #[test]
    fn names_are_masked_for_the_notice_board() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("张小伟"), "张*伟");
        assert_eq!(mask_name("欧阳小伟"), "欧**伟");
        assert_eq!(mask_name("李"), "李");
    }

    #[test]
    fn lang_from_environment_spellings() {
        assert_eq!(Lang::from_setting("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_setting("zh_CN.GBK"), Some(Lang::Zh));
        assert_eq!(Lang::from_setting("C.UTF-8"), None);
    }
}
