//! XLSX output: a report's listings or a template's `Flat` as worksheets, written row by row
//! by one writer.
//! Text and IDs are strings (ID columns formatted as text, `@`, so a typed id keeps its
//! zeros), numbers are numbers shown with the decimals their text has (a score gets the
//! rubric's), the header is bold on a fill, frozen and filtered, and column widths count a
//! CJK character as two. Risky text is written as it is with Excel's quote prefix, which
//! shows it verbatim and never evaluates it, instead of a literal `'` in the cell.

use super::csv::{Cell, Flat};
use super::guard_formula;
use crate::engine::Report;
use rust_decimal::Decimal;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatBorder, Formula, IgnoreError, Workbook, Worksheet,
    XlsxError,
};
use std::collections::{BTreeMap, HashSet};
use unicode_width::UnicodeWidthStr;

/// The last row index Excel has (0-based), for whole-column settings.
const LAST_ROW: u32 = 1_048_575;

/// How one column is shown.
#[derive(Debug, Clone, Default)]
pub struct ColumnSpec {
    /// An identifier: always text, also for what a user types into it later.
    pub id: bool,
    /// A number column to fill in: cells accept only a number in [0, max].
    pub max: Option<Decimal>,
}

/// One worksheet: a name, rows, and how to show its columns and cells.
#[derive(Debug, Clone)]
pub struct Sheet<'a> {
    pub name: String,
    pub flat: Flat<'a>,
    /// Per column, by index; missing entries mean plain.
    pub columns: Vec<ColumnSpec>,
    /// Cells (row index in `flat.rows`, column) that do not apply to their row: greyed.
    pub shaded: HashSet<(usize, usize)>,
}

/// A report as a workbook: the month's bulletin, or a quarter's or year's ranking, award
/// rules and award lines. Each row is made from the results as it is written and let go (a
/// company's year is millions of cells).
pub fn report(report: &Report) -> Result<Vec<u8>, String> {
    let listings = match report {
        Report::Month(_) => vec![("bulletin", super::csv::listing(report))],
        Report::Period(p) => vec![
            ("ranking", super::csv::listing(report)),
            ("rules", super::csv::rules(p)),
            ("lines", super::csv::lines(p)),
        ],
    };
    let mut book = Book::new();
    for (name, listing) in &listings {
        // In a report, the columns named `id` are IDs.
        let columns: Vec<ColumnSpec> =
            listing.headers().iter().map(|h| ColumnSpec { id: h == "id", max: None }).collect();
        let rows = listing.rows(0..listing.len());
        book.add(Content {
            name,
            headers: listing.headers(),
            len: listing.len(),
            rows,
            columns: &columns,
            shaded: None,
        })?;
    }
    book.save()
}

/// The shared formats of a workbook.
struct Formats {
    header: Format,
    quoted: Format,
    id: Format,
    id_quoted: Format,
    shaded: Format,
    /// Number formats by decimals.
    numbers: BTreeMap<usize, Format>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border_bottom(FormatBorder::Thin),
            quoted: Format::new().set_quote_prefix(),
            id: Format::new().set_num_format("@"),
            id_quoted: Format::new().set_num_format("@").set_quote_prefix(),
            shaded: Format::new().set_background_color(Color::RGB(0xD9D9D9)),
            numbers: BTreeMap::new(),
        }
    }

    /// `0`, `0.0`, `0.00` …: as many decimals as the number's text shows.
    fn number(&mut self, decimals: usize) -> &Format {
        self.numbers.entry(decimals).or_insert_with(|| {
            let pattern = if decimals == 0 { "0".to_string() } else { format!("0.{}", "0".repeat(decimals)) };
            Format::new().set_num_format(pattern)
        })
    }
}

/// Writes sheets as one XLSX workbook.
pub fn write(sheets: &[Sheet]) -> Result<Vec<u8>, String> {
    let mut book = Book::new();
    for sheet in sheets {
        let flat = &sheet.flat;
        book.add(Content {
            name: &sheet.name,
            headers: &flat.headers,
            len: flat.rows.len(),
            rows: flat.rows.iter(),
            columns: &sheet.columns,
            shaded: Some(&sheet.shaded),
        })?;
    }
    book.save()
}

/// What one worksheet is written from: its name and header, its rows (`len` of them, each
/// made as it is reached), and how to show its columns and cells (see `Sheet`).
struct Content<'s, I> {
    name: &'s str,
    headers: &'s [String],
    len: usize,
    rows: I,
    columns: &'s [ColumnSpec],
    shaded: Option<&'s HashSet<(usize, usize)>>,
}

/// A workbook being written, with the formats its sheets share.
struct Book {
    workbook: Workbook,
    formats: Formats,
    sheets: usize,
}

impl Book {
    fn new() -> Book {
        let mut workbook = Workbook::new();
        // Level 3 rather than the default 6: saving a company's year took 3.3 s of the 9.3 at
        // 6 and under 1 s at 3, for a file an eighth larger (62 MB against 55; level 1 made it
        // 94 MB); a branch's workbooks are a few kilobytes either way.
        workbook.set_zip_compression_level(3);
        Book { workbook, formats: Formats::new(), sheets: 0 }
    }

    fn add<'c, R: AsRef<[Cell<'c>]>>(&mut self, content: Content<'_, impl Iterator<Item = R>>) -> Result<(), String> {
        let name = content.name;
        let worksheet = add_sheet(&mut self.workbook, self.sheets).map_err(|e| e.to_string())?;
        self.sheets += 1;
        fill(worksheet, content, &mut self.formats).map_err(|e| format!("sheet {name}: {e}"))
    }

    fn save(mut self) -> Result<Vec<u8>, String> {
        save(&mut self.workbook)
    }
}

/// A new worksheet (the workbook's `index`th) in rust_xlsxwriter's "low memory" mode: each row
/// is written out, to a temporary file, once the next one starts, instead of every cell being
/// held until the workbook is saved. Kept as cells, a company's year took 3.6 GB
/// (docs/performance.md, What changed in session 20). The file (`tempfile::tempfile_in`, in
/// `TMPDIR`) has no name, so nothing is left behind even if the process is killed. The sheet's
/// XML is what the in-memory writer makes but for the rows' optional `spans`; the strings are
/// still shared (its "constant memory" mode writes them into each cell: a second faster for the
/// year, but a file an eighth larger, in a form fewer programs read). Where no temporary file
/// can be made, the sheet is held in memory as before.
fn add_sheet(workbook: &mut Workbook, index: usize) -> Result<&mut Worksheet, XlsxError> {
    if workbook.add_worksheet_with_low_memory().is_err() {
        workbook.add_worksheet();
    }
    workbook.worksheet_from_index(index)
}

/// The workbook's bytes. rust_xlsxwriter assembles each worksheet on a thread of its own and
/// panics, on the thread saving, when the system refuses one (a tight process or memory limit):
/// that is an error here, one line like any other, not a panic and its backtrace. Any other
/// panic goes on as it was, message and all.
fn save(workbook: &mut Workbook) -> Result<Vec<u8>, String> {
    quiet_spawn_failures::install();
    let saved = quiet_spawn_failures::while_saving(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| workbook.save_to_buffer()))
    });
    match saved {
        Ok(bytes) => bytes.map_err(|e| e.to_string()),
        Err(payload) if quiet_spawn_failures::is_spawn_failure(&*payload) => {
            Err("the system refused a thread to put the workbook together (a process or memory limit): \
             try again with fewer programs running, or write --format csv"
                .into())
        }
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// A panic hook, installed once in front of the one there was, that stays silent for a failed
/// thread spawn on a thread saving a workbook and hands every other panic on: the hook is the
/// whole process's, so it is never swapped back and forth (two threads doing that at once could
/// leave the wrong one in place).
mod quiet_spawn_failures {
    use std::cell::Cell;
    use std::sync::Once;

    /// The text the standard library's scoped `spawn` panics with.
    const SPAWN_FAILED: &str = "failed to spawn thread";

    thread_local! {
        static SAVING: Cell<bool> = const { Cell::new(false) };
    }

    pub fn install() {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let before = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if !(SAVING.with(Cell::get) && info.to_string().contains(SPAWN_FAILED)) {
                    before(info);
                }
            }));
        });
    }

    /// `save` with this thread marked as saving a workbook.
    pub fn while_saving<R>(save: impl FnOnce() -> R) -> R {
        SAVING.with(|s| s.set(true));
        let saved = save();
        SAVING.with(|s| s.set(false));
        saved
    }

    /// Whether a caught panic is a failed thread spawn.
    pub fn is_spawn_failure(payload: &(dyn std::any::Any + Send)) -> bool {
        let text =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        text.is_some_and(|t| t.contains(SPAWN_FAILED))
    }
}

fn fill<'c, R: AsRef<[Cell<'c>]>>(
    ws: &mut Worksheet,
    sheet: Content<'_, impl Iterator<Item = R>>,
    formats: &mut Formats,
) -> Result<(), XlsxError> {
    ws.set_name(sheet.name)?;
    let spec = |col: usize| sheet.columns.get(col).cloned().unwrap_or_default();
    let shaded = |row: usize, col: usize| sheet.shaded.is_some_and(|s| s.contains(&(row, col)));
    let last_col = col_num(sheet.headers.len().saturating_sub(1))?;
    let last_row = row_num(sheet.len)?;
    let mut widths: Vec<usize> = sheet.headers.iter().map(|h| h.width() + 2).collect();
    for (col, header) in sheet.headers.iter().enumerate() {
        let c = col_num(col)?;
        let risky = is_risky(header);
        let format = if risky { formats.header.clone().set_quote_prefix() } else { formats.header.clone() };
        ws.write_string_with_format(0, c, header, &format)?;
        if spec(col).id {
            // New ids typed into the column stay text, and Excel does not flag them.
            ws.set_column_format(c, &formats.id)?;
            ws.ignore_error_range(1, c, LAST_ROW, c, IgnoreError::NumberStoredAsText)?;
        }
    }
    for (i, row) in sheet.rows.enumerate() {
        let r = row_num(i + 1)?;
        for (col, cell) in row.as_ref().iter().enumerate() {
            let c = col_num(col)?;
            let id = spec(col).id;
            match cell {
                Cell::Text(t) if !t.is_empty() => {
                    let format = match (id, is_risky(t)) {
                        (true, true) => &formats.id_quoted,
                        (true, false) => &formats.id,
                        (false, true) => &formats.quoted,
                        (false, false) => {
                            ws.write_string(r, c, t.as_ref())?;
                            widen(&mut widths, col, t);
                            continue;
                        }
                    };
                    ws.write_string_with_format(r, c, t.as_ref(), format)?;
                    widen(&mut widths, col, t);
                }
                Cell::Number(..) => {
                    let text = cell.number_text().unwrap_or_default();
                    let text = &text;
                    // The cell's text is the exact decimal; a spreadsheet number is a double.
                    let value: f64 = text.parse().map_err(|_| XlsxError::ParameterError(format!("\"{text}\"")))?;
                    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                    ws.write_number_with_format(r, c, value, formats.number(decimals))?;
                    widen(&mut widths, col, text);
                }
                _ if shaded(i, col) => {
                    ws.write_blank(r, c, &formats.shaded)?;
                }
                _ => {}
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        ws.set_column_width(col_num(col)?, (*width).clamp(6, 60) as f64)?;
        if let (Some(max), true) = (spec(col).max, sheet.len > 0) {
            ws.add_data_validation(1, col_num(col)?, last_row, col_num(col)?, &validation(max)?)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, last_row, last_col)?;
    Ok(())
}

/// Accepts a number in [0, max] (given as the rubric's exact text), or a blank cell.
fn validation(max: Decimal) -> Result<DataValidation, XlsxError> {
    let max = super::plain(max);
    DataValidation::new()
        .allow_decimal_number_formula(DataValidationRule::Between(Formula::new("0"), Formula::new(&max)))
        .set_error_title("0 – ".to_string() + &max)?
        .set_error_message(format!("请填写 0 到 {max} 之间的数 (a number from 0 to {max})"))
}

/// Text a spreadsheet would take for a formula (the same test the CSV guard uses).
fn is_risky(text: &str) -> bool {
    matches!(guard_formula(text), std::borrow::Cow::Owned(_))
}

/// Column widths in Excel's units (about one digit each): CJK counts two, plus padding.
fn widen(widths: &mut [usize], col: usize, text: &str) {
    if let Some(w) = widths.get_mut(col) {
        *w = (*w).max(text.width() + 2);
    }
}

fn row_num(i: usize) -> Result<u32, XlsxError> {
    u32::try_from(i).ok().filter(|&r| r <= LAST_ROW).ok_or(XlsxError::RowColumnLimitError)
}

fn col_num(i: usize) -> Result<u16, XlsxError> {
    u16::try_from(i).ok().filter(|&c| c < 16_384).ok_or(XlsxError::RowColumnLimitError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_as_two() {
        let mut w = vec![4];
        widen(&mut w, 0, "营业厅");
        assert_eq!(w, [8]);
    }

    /// Only a failed thread spawn becomes the one-line error; any other panic is not taken
    /// for one (it goes on as it was).
    #[test]
    fn only_a_failed_spawn_is_caught_as_one() {
        let caught = |panic: fn()| std::panic::catch_unwind(panic).expect_err("it panics");
        quiet_spawn_failures::install();
        let spawn = quiet_spawn_failures::while_saving(|| {
            caught(|| panic!("failed to spawn thread: {:?}", std::io::Error::from(std::io::ErrorKind::WouldBlock)))
        });
        assert!(quiet_spawn_failures::is_spawn_failure(&*spawn));
        assert!(!quiet_spawn_failures::is_spawn_failure(&*caught(|| panic!("index out of bounds"))));
        assert!(!quiet_spawn_failures::is_spawn_failure(&*caught(|| std::panic::panic_any(7))));
    }

    #[test]
    fn risky_text_is_what_the_csv_guard_guards() {
        assert!(is_risky("=1+1") && is_risky("＠x") && !is_risky("-12.5") && !is_risky("张伟"));
    }
}
