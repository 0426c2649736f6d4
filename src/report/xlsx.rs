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
    // In a report, the columns named `id` are IDs.
    let columns: Vec<Vec<ColumnSpec>> = listings
        .iter()
        .map(|(_, l)| l.headers().iter().map(|h| ColumnSpec { id: h == "id", max: None }).collect())
        .collect();
    build(|book| {
        for ((name, listing), columns) in listings.iter().zip(&columns) {
            let rows = listing.rows(0..listing.len());
            book.add(Content { name, headers: listing.headers(), rows, columns, shaded: None })?;
        }
        Ok(())
    })
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
    build(|book| {
        for sheet in sheets {
            let (name, headers, rows) = (&sheet.name, &sheet.flat.headers, sheet.flat.rows.iter());
            book.add(Content { name, headers, rows, columns: &sheet.columns, shaded: Some(&sheet.shaded) })?;
        }
        Ok(())
    })
}

/// The workbook of the sheets `add` puts into a `Book`: written row by row (see `add_sheet`),
/// or, when the temporary folder runs out of room midway, made again in memory, as it was
/// before session 20. rust_xlsxwriter panics when it cannot write a row out (its rows are
/// written with `expect`); that panic is caught here, silently, and no other.
fn build(add: impl Fn(&mut Book) -> Result<(), String>) -> Result<Vec<u8>, String> {
    let make = |row_by_row: bool| {
        let mut book = Book::new(row_by_row);
        add(&mut book)?;
        book.save()
    };
    quiet_panics::install();
    quiet_panics::while_writing(|| match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(true))) {
        Ok(made) => made,
        Err(payload) if quiet_panics::is_row_write_failure(&*payload) => make(false),
        Err(payload) => std::panic::resume_unwind(payload),
    })
}

/// What one worksheet is written from: its name and header, its rows (each made as it is
/// reached), and how to show its columns and cells (see `Sheet`).
struct Content<'s, I> {
    name: &'s str,
    headers: &'s [String],
    rows: I,
    columns: &'s [ColumnSpec],
    shaded: Option<&'s HashSet<(usize, usize)>>,
}

/// A workbook being written, with the formats its sheets share.
struct Book {
    workbook: Workbook,
    formats: Formats,
    /// Whether sheets are written row by row (`add_sheet`), or held in memory.
    row_by_row: bool,
}

impl Book {
    fn new(row_by_row: bool) -> Book {
        let mut workbook = Workbook::new();
        // Level 3 rather than the default 6: saving a company's year took 3.3 s of the 9.3 at
        // 6 and under 1 s at 3, for a file an eighth larger (62 MB against 55; level 1 made it
        // 94 MB); a branch's workbooks are a few kilobytes either way.
        workbook.set_zip_compression_level(3);
        Book { workbook, formats: Formats::new(), row_by_row }
    }

    fn add<'c, R: AsRef<[Cell<'c>]>>(&mut self, content: Content<'_, impl Iterator<Item = R>>) -> Result<(), String> {
        let name = content.name;
        let worksheet = add_sheet(&mut self.workbook, self.row_by_row);
        fill(worksheet, content, &mut self.formats).map_err(|e| format!("sheet {name}: {e}"))
    }

    /// The workbook's bytes. rust_xlsxwriter puts each sheet held in memory together on a
    /// thread of its own (a sheet written row by row needs none) and panics, on the thread
    /// saving, when the system refuses one (a tight process or memory limit): that is an error
    /// here, one line like any other, not a panic and its backtrace. Any other panic goes on.
    fn save(mut self) -> Result<Vec<u8>, String> {
        let saved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.workbook.save_to_buffer()));
        match saved {
            Ok(bytes) => bytes.map_err(|e| e.to_string()),
            Err(payload) if quiet_panics::is_spawn_failure(&*payload) => {
                Err("the system refused a thread to put the workbook together in memory (a process or memory \
                 limit), and its rows could not go through the temporary folder instead: set TMPDIR to a \
                 folder with room, or write --format csv"
                    .into())
            }
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

/// A new worksheet, written row by row when `row_by_row` and a temporary file can be had:
/// rust_xlsxwriter's "low memory" mode writes each row out, to the file, once the next one
/// starts, instead of holding every cell until the workbook is saved. Held as cells, a
/// company's year took 3.6 GB (docs/performance.md, What changed in session 20). The file
/// (`tempfile::tempfile_in`, in `TMPDIR`, about 0.9 KB a person for a year) is made without a
/// name where the file system allows, else named and removed at once, before anything is
/// written to it: nothing of it is left behind. The sheet's XML is what the in-memory writer
/// makes but for the rows' optional `spans`; the strings are still shared (its "constant
/// memory" mode writes them into each cell: a second faster for the year, but a file an eighth
/// larger, in a form fewer programs read). Otherwise the sheet is held in memory.
fn add_sheet(workbook: &mut Workbook, row_by_row: bool) -> &mut Worksheet {
    // Made first, then taken as the last sheet: a sheet returned from one branch and made
    // again in the other is more than the borrow checker can follow.
    if !row_by_row || workbook.add_worksheet_with_low_memory().is_err() {
        workbook.add_worksheet();
    }
    let last = workbook.worksheets_mut().len() - 1;
    &mut workbook.worksheets_mut()[last]
}

/// A panic hook, installed once in front of the one there was, that stays silent, on a thread
/// writing a workbook, for the two panics `build` and `Book::save` turn into something else (a
/// row that could not be written out, a thread refused) and hands every other panic on: the
/// hook is the whole process's, so it is never swapped back and forth (two threads doing that
/// at once could leave the wrong one in place).
mod quiet_panics {
    use std::cell::Cell;
    use std::sync::Once;

    /// The text the standard library's scoped `spawn` panics with.
    const SPAWN_FAILED: &str = "failed to spawn thread";
    /// The text rust_xlsxwriter panics with when it cannot write a row out (`XML_WRITE_ERROR`).
    const ROW_NOT_WRITTEN: &str = "Couldn't write to xml file";

    thread_local! {
        static WRITING: Cell<bool> = const { Cell::new(false) };
    }

    pub fn install() {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let before = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let text = info.to_string();
                let quiet = text.contains(SPAWN_FAILED) || text.contains(ROW_NOT_WRITTEN);
                if !(WRITING.with(Cell::get) && quiet) {
                    before(info);
                }
            }));
        });
    }

    /// `write` with this thread marked as writing a workbook (unmarked however it ends, a
    /// panic passed on too).
    pub fn while_writing<R>(write: impl FnOnce() -> R) -> R {
        struct Unmark;
        impl Drop for Unmark {
            fn drop(&mut self) {
                WRITING.with(|s| s.set(false));
            }
        }
        WRITING.with(|s| s.set(true));
        let _unmark = Unmark;
        write()
    }

    fn text(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
        payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied())
    }

    /// Whether a caught panic is a failed thread spawn.
    pub fn is_spawn_failure(payload: &(dyn std::any::Any + Send)) -> bool {
        text(payload).is_some_and(|t| t.contains(SPAWN_FAILED))
    }

    /// Whether a caught panic is rust_xlsxwriter's failure to write a row out.
    pub fn is_row_write_failure(payload: &(dyn std::any::Any + Send)) -> bool {
        text(payload).is_some_and(|t| t.contains(ROW_NOT_WRITTEN))
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
    // The last row written: the filter and the validations reach down to it.
    let mut last_row = 0;
    for (i, row) in sheet.rows.enumerate() {
        let r = row_num(i + 1)?;
        last_row = r;
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
        if let (Some(max), true) = (spec(col).max, last_row > 0) {
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

    /// Only a failed thread spawn, or a row not written out, is taken for one; any other panic
    /// is not (it goes on as it was).
    #[test]
    fn only_a_failed_spawn_or_row_is_caught_as_one() {
        let caught = |panic: fn()| std::panic::catch_unwind(panic).expect_err("it panics");
        quiet_panics::install();
        let (spawn, row) = quiet_panics::while_writing(|| {
            let spawn =
                caught(|| panic!("failed to spawn thread: {:?}", std::io::Error::from(std::io::ErrorKind::WouldBlock)));
            (spawn, caught(|| panic!("Couldn't write to xml file: StorageFull")))
        });
        assert!(quiet_panics::is_spawn_failure(&*spawn) && !quiet_panics::is_row_write_failure(&*spawn));
        assert!(quiet_panics::is_row_write_failure(&*row) && !quiet_panics::is_spawn_failure(&*row));
        for other in [caught(|| panic!("index out of bounds")), caught(|| std::panic::panic_any(7))] {
            assert!(!quiet_panics::is_spawn_failure(&*other) && !quiet_panics::is_row_write_failure(&*other));
        }
    }

    /// A workbook whose rows cannot be written out midway (a full temporary folder: the
    /// panic rust_xlsxwriter makes then) is made again in memory, the same workbook; any other
    /// panic goes on.
    #[test]
    fn a_row_not_written_out_makes_the_workbook_in_memory() {
        let flat = |rows: usize| Flat {
            headers: vec!["id".into(), "n".into()],
            rows: (0..rows)
                .map(|i| vec![Cell::text(format!("{i:04}")), Cell::Number(i.into(), super::super::csv::Shown::Plain)])
                .collect(),
        };
        let sheets = [Sheet { name: "s".into(), flat: flat(3), columns: Vec::new(), shaded: HashSet::new() }];
        let usual = write(&sheets).unwrap();
        let tries = std::sync::atomic::AtomicUsize::new(0);
        let failing_once = |book: &mut Book| {
            if tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                assert!(book.row_by_row, "row by row first");
                panic!("Couldn't write to xml file: No space left on device");
            }
            assert!(!book.row_by_row, "then in memory");
            let sheet = &sheets[0];
            let rows = sheet.flat.rows.iter();
            book.add(Content { name: &sheet.name, headers: &sheet.flat.headers, rows, columns: &[], shaded: None })
        };
        let again = build(failing_once).unwrap();
        assert_eq!(tries.into_inner(), 2);
        let cells = |bytes: Vec<u8>| {
            use calamine::Reader;
            let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
            let range = book.worksheet_range("s").unwrap();
            range.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>()).collect::<Vec<_>>()
        };
        let (again, usual) = (cells(again), cells(usual));
        assert_eq!(again, usual);
        assert_eq!(usual[3], ["0002", "2"]);
        let other = std::panic::catch_unwind(|| build(|_: &mut Book| panic!("index out of bounds")));
        assert!(other.is_err(), "any other panic goes on");
    }

    #[test]
    fn risky_text_is_what_the_csv_guard_guards() {
        assert!(is_risky("=1+1") && is_risky("＠x") && !is_risky("-12.5") && !is_risky("张伟"));
    }
}
