//! Workbooks (XLSX, XLS, ODS) through calamine → the rows `Table::from_rows` takes, so a
//! worksheet is validated exactly like a CSV file. What real sheets need (ROUNDTRIP.md):
//! title rows above the header (the header is the row naming the most known columns),
//! merged cells (their value is filled down), cached formula values, date cells (any date
//! format, the Chinese built-ins included, either epoch) as `YYYY-MM-DD`, whole numbers
//! without `.0`, and ids a spreadsheet turned into numbers caught before they do harm.

use super::{header_score, Aliases, Column, Table};
use crate::error::Problem;
use crate::model::Roster;
use calamine::{Data, Reader, Sheets};
use rust_decimal::{Decimal, RoundingStrategy};
use std::io::Cursor;
use std::str::FromStr;

/// Excel keeps 15 significant digits; anything past them in a cached value is binary noise
/// (`=0.1+0.2` is stored as 0.30000000000000004 and shown as 0.3).
const EXCEL_DIGITS: u32 = 15;

/// An open workbook.
pub struct Workbook {
    file: String,
    sheets: Sheets<Cursor<Vec<u8>>>,
}

/// What a worksheet is expected to hold: the columns of one file kind.
pub struct Expect<'a> {
    pub columns: &'a [Column],
    pub aliases: &'a Aliases,
    /// More header names that count when looking for the header row (the rubric's items).
    pub extra: &'a [String],
    /// The roster a numeric id is checked against.
    pub roster: &'a Roster,
}

impl Workbook {
    /// Opens a workbook from its bytes; `file` names it in messages.
    pub fn open(file: &str, bytes: Vec<u8>) -> Result<Workbook, Problem> {
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map(|sheets| Workbook { file: file.to_string(), sheets })
            .map_err(|e| {
                Problem::new(
                    file,
                    format!("cannot be read as a workbook (XLSX, XLS or ODS): {e}; save it again from Excel or WPS, or as CSV"),
                )
            })
    }

    /// The worksheet names, in workbook order.
    pub fn names(&self) -> Vec<String> {
        self.sheets.sheet_names()
    }

    /// One worksheet's cells, merged regions filled down, each row with its sheet row number.
    pub fn grid(&mut self, name: &str) -> Result<Grid, Problem> {
        let location = format!("{}[{name}]", self.file);
        let range = self
            .sheets
            .worksheet_range(name)
            .map_err(|e| Problem::new(location.clone(), format!("cannot be read: {e}")))?;
        // Only XLSX and XLS record merged regions; ODS repeats nothing and needs nothing.
        let merged = match &mut self.sheets {
            Sheets::Xlsx(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
            _ => Vec::new(),
        };
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut rows: Vec<(u64, Vec<Data>)> =
            range.rows().enumerate().map(|(i, cells)| (u64::from(top) + i as u64 + 1, cells.to_vec())).collect();
        for region in merged {
            fill_down(&mut rows, region, top, left);
        }
        Ok(Grid { location, sheet: name.to_string(), rows })
    }
}

/// A merged region shows its value once, in its top-left cell; the rows below it inside the
/// region mean the same value (a unit merged over its people), so copy it down that column.
/// Cells to the right stay blank: a value spread across columns is a title, not data.
fn fill_down(rows: &mut [(u64, Vec<Data>)], region: calamine::Dimensions, top: u32, left: u32) {
    let (Some(first), Some(col)) = (region.start.0.checked_sub(top), region.start.1.checked_sub(left)) else {
        return;
    };
    let (first, col) = (first as usize, col as usize);
    let Some(value) = rows.get(first).and_then(|(_, cells)| cells.get(col)).cloned() else {
        return;
    };
    let last = (region.end.0.saturating_sub(top) as usize).min(rows.len().saturating_sub(1));
    for (_, cells) in rows.iter_mut().take(last + 1).skip(first + 1) {
        if let Some(cell @ Data::Empty) = cells.get_mut(col) {
            *cell = value.clone();
        }
    }
}

/// One worksheet, ready to become a table.
pub struct Grid {
    /// `file[sheet]`, for messages.
    pub location: String,
    pub sheet: String,
    rows: Vec<(u64, Vec<Data>)>,
}

impl Grid {
    /// The header row: the first row naming the most known columns, with how many it names;
    /// `None` when no row names any.
    pub fn header_row(&self, expect: &Expect) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize)> = None;
        for (i, (_, cells)) in self.rows.iter().enumerate() {
            let texts: Vec<String> = cells.iter().map(|c| text(c, false)).collect();
            let score = header_score(&texts, expect.columns, expect.aliases, expect.extra);
            if score > 0 && best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        best
    }

    /// The worksheet as a table of text cells, read as `sheet NAME`.
    pub fn table(&self, expect: &Expect) -> Result<Table, Vec<Problem>> {
        let Some((header_at, _)) = self.header_row(expect) else {
            let names: Vec<&str> = expect.columns.iter().filter(|c| c.required).map(|c| c.name).collect();
            return Err(vec![Problem::new(
                self.location.clone(),
                format!(
                    "no header row: no row names a known column (such as {}); pick the right sheet with --sheet",
                    names.join(", ")
                ),
            )]);
        };
        let (header_line, header_cells) = &self.rows[header_at];
        let headers: Vec<String> = header_cells.iter().map(|c| text(c, false)).collect();
        // What each column is, from its header: the id column (numbers there are suspect),
        // the period column (a date there is a month), any known column (an error value there
        // is a problem; elsewhere it is ignored like the column).
        let names = |h: &String, columns: &[Column], extra: &[String]| {
            header_score(std::slice::from_ref(h), columns, expect.aliases, extra) > 0
        };
        let only = |name: &str| expect.columns.iter().filter(|c| c.name == name).copied().collect::<Vec<_>>();
        let (id_column, period_column) = (only("id"), only("period"));
        let is_id: Vec<bool> = headers.iter().map(|h| names(h, &id_column, &[])).collect();
        let is_period: Vec<bool> = headers.iter().map(|h| names(h, &period_column, &[])).collect();
        let known: Vec<bool> = headers.iter().map(|h| names(h, expect.columns, expect.extra)).collect();
        let flag = |v: &[bool], j: usize| v.get(j).copied().unwrap_or(false);
        let mut problems = Vec::new();
        let mut rows = vec![(*header_line, headers.clone())];
        for (line, cells) in &self.rows[header_at + 1..] {
            let mut out = Vec::with_capacity(cells.len());
            for (j, cell) in cells.iter().enumerate() {
                let header = headers.get(j).map_or("", String::as_str);
                let at = |message: String| {
                    let column = if header.is_empty() { (j + 1).to_string() } else { header.to_string() };
                    Problem::at(&self.location, *line, format!("column {column}: {message}"))
                };
                match cell {
                    Data::Float(_) | Data::Int(_) if flag(&is_id, j) => match numeric_id(cell, expect.roster) {
                        Ok(id) => out.push(id),
                        Err(m) => {
                            problems.push(at(m));
                            out.push(String::new());
                        }
                    },
                    Data::Error(e) if flag(&known, j) => {
                        problems
                            .push(at(format!("the cell shows the error {e}: correct the formula or type the value")));
                        out.push(String::new());
                    }
                    _ => out.push(text(cell, flag(&is_period, j))),
                }
            }
            rows.push((*line, out));
        }
        let table =
            Table::from_rows(&self.location, format!("sheet {}", self.sheet), rows, expect.columns, expect.aliases);
        match table {
            Ok(t) if problems.is_empty() => Ok(t),
            Ok(_) => Err(problems),
            Err(mut p) => {
                p.append(&mut problems);
                Err(p)
            }
        }
    }
}

/// An id the spreadsheet stored as a number. It is only trusted when it is exactly a roster
/// id: a number has no leading zeros to keep, and past 15 digits it has lost some already.
fn numeric_id(cell: &Data, roster: &Roster) -> Result<String, String> {
    let text = text(cell, false);
    let whole = Decimal::from_str(&text).ok().filter(|d| d.fract().is_zero() && d.abs() < Decimal::from(10u64.pow(15)));
    let Some(whole) = whole else {
        return Err(format!(
            "id {text} is a number in the sheet (shown as {}): the spreadsheet has already lost its digits; format the id column as text (@), type the ids again and save",
            scientific(cell)
        ));
    };
    let id = whole.normalize().to_string();
    if roster.contains(&id) {
        return Ok(id);
    }
    let padded = roster.people.iter().find(|p| p.id.trim_start_matches('0') == id.trim_start_matches('0'));
    let hint = match padded {
        Some(p) => format!("the roster has \"{}\": the spreadsheet dropped its leading zeros", p.id),
        None => "it is not on the roster, and a number may have lost leading zeros".to_string(),
    };
    Err(format!("id {id} is stored as a number; {hint}; format the id column as text (@), type the ids again and save"))
}

/// How Excel shows a big number in a General cell (`2.31E+13`), for the message.
fn scientific(cell: &Data) -> String {
    match cell {
        Data::Float(f) => format!("{f:E}").replace('E', "E+").replace("E+-", "E-"),
        other => text(other, false),
    }
}

/// A cell as the text a CSV export of it would hold. `period`: the cell is in a period
/// column, where Excel turns a typed `2009-05` into the date 2009-05-01.
fn text(cell: &Data, period: bool) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if dt.is_duration() => number_text(dt.as_f64()),
        Data::DateTime(dt) => {
            // calamine counts from the workbook's own epoch (1900 or 1904).
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            date_text(y.into(), m.into(), d.into(), period)
        }
        Data::DateTimeIso(s) => {
            let parts: Vec<u32> = s.get(..10).unwrap_or("").split('-').filter_map(|p| p.parse().ok()).collect();
            match parts.as_slice() {
                [y, m, d] => date_text(*y, *m, *d, period),
                _ => s.clone(),
            }
        }
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

fn date_text(y: u32, m: u32, d: u32, period: bool) -> String {
    if period && d == 1 {
        format!("{y:04}-{m:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// A float cell as decimal text: its shortest round-trip form (never an exponent), cut to
/// Excel's 15 significant digits, without a trailing `.0`.
fn number_text(f: f64) -> String {
    let shortest = format!("{f}");
    let Ok(d) = Decimal::from_str(&shortest) else {
        return shortest;
    };
    let digits = d.mantissa().unsigned_abs().checked_ilog10().map_or(1, |l| l + 1);
    let d = match digits.checked_sub(EXCEL_DIGITS) {
        Some(extra) if extra > 0 && d.scale() >= extra => {
            d.round_dp_with_strategy(d.scale() - extra, RoundingStrategy::MidpointAwayFromZero)
        }
        _ => d,
    };
    d.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    #[test]
    fn floats_print_like_a_spreadsheet_shows_them() {
        assert_eq!(number_text(92.0), "92");
        assert_eq!(number_text(92.5), "92.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(55.300000000000004), "55.3");
        assert_eq!(number_text(-3.25), "-3.25");
        assert_eq!(number_text(1e20), "100000000000000000000");
    }

    #[test]
    fn dates_in_either_epoch_and_periods() {
        let date = |serial, is_1904| Data::DateTime(ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904));
        // 2009-05-04 is serial 39937 from 1900 and 38475 from 1904.
        assert_eq!(text(&date(39937.0, false), false), "2009-05-04");
        assert_eq!(text(&date(38475.0, true), false), "2009-05-04");
        assert_eq!(text(&date(39934.0, false), true), "2009-05");
        assert_eq!(text(&Data::DateTimeIso("2009-05-04T00:00:00".into()), false), "2009-05-04");
    }

    /// A roster person with just an id.
    fn person(id: &str) -> crate::model::Person {
        crate::model::Person {
            id: id.into(),
            name: "x".into(),
            unit: "u".into(),
            post: "p".into(),
            joined: None,
            left: None,
            source: crate::model::Source { file: "r".into(), line: 2 },
        }
    }

    #[test]
    fn numeric_ids_are_trusted_only_when_on_the_roster() {
        let roster = Roster::new(vec![person("1001"), person("00123")]);
        assert_eq!(numeric_id(&Data::Float(1001.0), &roster).unwrap(), "1001");
        assert_eq!(numeric_id(&Data::Int(1001), &roster).unwrap(), "1001");
        assert!(numeric_id(&Data::Float(123.0), &roster).unwrap_err().contains("the roster has \"00123\""));
        let big = numeric_id(&Data::Float(23123456789012345.0), &roster).unwrap_err();
        assert!(big.contains("2.3123456789012344E+16") && big.contains("lost its digits"), "{big}");
        assert!(numeric_id(&Data::Float(12.5), &roster).is_err());
    }

    #[test]
    fn a_worksheet_becomes_a_table_below_its_best_header_row() {
        const COLS: &[Column] = &[
            Column::required("id", &["工号"]),
            Column::optional("points", &["积分"]),
            Column::optional("period", &["期间"]),
        ];
        let s = |t: &str| Data::String(t.into());
        let roster = Roster::new(vec![person("1001")]);
        let may = Data::DateTime(ExcelDateTime::new(39934.0, ExcelDateTimeType::DateTime, false));
        let grid = Grid {
            location: "b.xlsx[S]".into(),
            sheet: "S".into(),
            rows: vec![
                (2, vec![s("工号 title"), Data::Empty, Data::Empty, Data::Empty]),
                (3, vec![s("序号"), s("工号"), s("积分"), s("期间")]),
                (4, vec![Data::Float(1.0), Data::Float(1001.0), Data::Float(92.5), may.clone()]),
                (5, vec![Data::Float(2.0), s("1001"), Data::Error(calamine::CellErrorType::Div0), may]),
                (6, vec![s("#N/A is fine here"), Data::Float(7.0), Data::Int(90), Data::Empty]),
            ],
        };
        let expect = Expect { columns: COLS, aliases: &Aliases::new(), extra: &[], roster: &roster };
        assert_eq!(grid.header_row(&expect), Some((1, 3)));
        let problems = grid.table(&expect).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("b.xlsx[S]:5: column 积分: the cell shows the error #DIV/0!"), "{text:?}");
        assert!(text[1].starts_with("b.xlsx[S]:6: column 工号: id 7 is stored as a number"), "{text:?}");
        let fine = Grid { rows: grid.rows[..3].to_vec(), ..grid };
        let table = fine.table(&expect).unwrap();
        assert_eq!(table.encoding, "sheet S");
        assert_eq!(table.rows[0].line, 4);
        let row = &table.rows[0];
        assert_eq!(
            (table.cell(row, "id"), table.cell(row, "points"), table.cell(row, "period")),
            ("1001", "92.5", "2009-05")
        );
    }

    #[test]
    fn merged_cells_fill_down_their_first_column() {
        let mut rows = vec![
            (1, vec![Data::String("营业厅".into()), Data::String("a".into())]),
            (2, vec![Data::Empty, Data::Empty]),
            (3, vec![Data::Empty, Data::Empty]),
        ];
        fill_down(&mut rows, calamine::Dimensions::new((0, 0), (1, 1)), 0, 0);
        assert_eq!(rows[1].1, [Data::String("营业厅".into()), Data::Empty]);
        assert_eq!(rows[2].1[0], Data::Empty);
    }
}
