//! Spreadsheet round trips: template → filled (GBK CSV, XLSX) → ingest → report; XLSX output read back.

use crate::support::{person, unzip_entry, Run, Ws};
use calamine::{open_workbook, Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, FormatAlign, Formula, Workbook};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MONTHS: [&str; 3] = ["2009-04", "2009-05", "2009-06"];

/// The worked quarter with 周杰's roster name turned into a formula, to prove it stays text.
fn worked() -> Ws {
    let ws = Ws::case("worked-2009Q2");
    for file in ["data/roster.csv", "data/points/2009-04.csv", "data/points/2009-05.csv", "data/points/2009-06.csv"] {
        let text = ws.read(file).replace("0009,周杰", "0009,=1+1");
        ws.write(file, text);
    }
    ws
}

/// `id → value` of one column of a data file.
type Values = BTreeMap<String, String>;

/// `id → value` of a data file's `column`.
fn values(ws: &Ws, relative: &str, column: &str) -> Values {
    let text = ws.read(relative);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = headers.iter().position(|h| h == column).unwrap();
    reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[at].to_string())).collect()
}

/// The original points and KPI of the quarter, by month; the files are then removed so that
/// only the round trip can bring them back.
fn take_quarter(ws: &Ws) -> BTreeMap<&'static str, (Values, Values)> {
    let mut out = BTreeMap::new();
    for m in MONTHS {
        let points = values(ws, &format!("data/points/{m}.csv"), "points");
        let kpi = values(ws, &format!("data/kpi/{m}.csv"), "kpi");
        ws.remove(&format!("data/points/{m}.csv")).remove(&format!("data/kpi/{m}.csv"));
        out.insert(m, (points, kpi));
    }
    out
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every sheet of a workbook: its name and its cells, row by row (absolute positions).
fn workbook(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    book.worksheets()
        .into_iter()
        .map(|(name, range)| {
            let (top, left) = range.start().unwrap_or((0, 0));
            assert_eq!((top, left), (0, 0), "{name} starts at A1");
            (name, range.rows().map(<[Data]>::to_vec).collect())
        })
        .collect()
}

/// The number format code of a cell.
fn num_format(path: &Path, sheet: &str, cell: (u32, u32)) -> String {
    let mut book: Xlsx<_> = open_workbook(path).unwrap();
    let styles = book.worksheet_style(sheet).unwrap();
    styles.get(cell).and_then(|s| s.number_format.clone()).map_or("General".into(), |f| f.format_code)
}

fn text(s: &str) -> Data {
    Data::String(s.to_string())
}

/// A row by the text of its first cell equal to `key` in column `col`.
fn row_by<'a>(rows: &'a [Vec<Data>], col: usize, key: &str) -> &'a [Data] {
    rows.iter().find(|r| r.get(col) == Some(&text(key))).unwrap_or_else(|| panic!("no row {key}"))
}

#[test]
fn gbk_csv_round_trip_gives_the_same_quarter() {
    let ws = worked();
    let expected = ws.json(&["quarter", "2009Q2"]);
    let originals = take_quarter(&ws);
    std::fs::create_dir_all(ws.path().join("in")).unwrap();
    for (month, (points, kpi)) in &originals {
        for (kind, column, values, name) in
            [("points", "积分", points, format!("{month}积分.csv")), ("kpi", "绩效", kpi, format!("绩效{month}.csv"))]
        {
            let template = ws.path().join(format!("in/template-{kind}-{month}.csv"));
            ok(&ws.run(&["template", kind, month, "--output", path_arg(&template)]));
            let bytes = std::fs::read(&template).unwrap();
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a template file is UTF-8 with a BOM");
            let body = String::from_utf8(bytes[3..].to_vec()).unwrap();
            assert!(body.contains(",'=1+1,"), "the formula name is guarded in the CSV template:\n{body}");
            // Fill it as Excel saves "CSV (逗号分隔)" on Chinese Windows: GBK, CRLF.
            let mut reader = csv::Reader::from_reader(body.as_bytes());
            let headers = reader.headers().unwrap().clone();
            assert_eq!(&headers[0], "工号");
            let at = headers.iter().position(|h| h == column).unwrap();
            let mut filled = headers.iter().collect::<Vec<_>>().join(",") + "\r\n";
            for record in reader.records() {
                let mut cells: Vec<String> = record.unwrap().iter().map(String::from).collect();
                cells[at] = values.get(&cells[0]).cloned().unwrap_or_default();
                filled += &(cells.join(",") + "\r\n");
            }
            let (gbk, _, bad) = encoding_rs::GBK.encode(&filled);
            assert!(!bad);
            let source = ws.path().join("in").join(name);
            std::fs::write(&source, &gbk).unwrap();
            let r = ws.run(&["ingest", kind, path_arg(&source)]);
            ok(&r);
            assert!(r.stdout.contains(&format!("data/{kind}/{month}.csv: new file")), "{}", r.stdout);
            assert!(r.stdout.contains("(GB18030)"), "{}", r.stdout);
        }
    }
    assert_eq!(ws.json(&["quarter", "2009Q2"]), expected);
    assert_eq!(ws.read("data/points/2009-05.csv").lines().nth(1), Some("0001,张伟,91,"), "ids keep their zeros");
    assert!(ws.read("data/points/2009-05.csv").contains("\n0009,=1+1,"), "canonical data holds the name as it is");
    let log = ws.read("data/ingest-log.csv");
    assert_eq!(log.lines().count(), 7, "a header and one row per ingest:\n{log}");
    assert!(log.starts_with("time,kind,period,source,sha256,rows,read,file\n"));
}

/// Writes a filled quarter workbook the way a team lead's Excel would hold it, through
/// rust_xlsxwriter directly (not cs-score's writer): a merged title row, a blank row, a
/// header with an extra column, units merged down, formulas with cached values and a period
/// column of dates in a Chinese built-in format.
fn filled_workbook(
    path: &Path,
    template: &[(String, Vec<Vec<Data>>)],
    column: &str,
    values: &[BTreeMap<String, String>],
) {
    let mut book = Workbook::new();
    let month_format = Format::new().set_num_format_index(57); // yyyy"年"m"月", zh-CN built-in
    let centered = Format::new().set_align(FormatAlign::Center);
    for ((name, rows), values) in template.iter().zip(values) {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        sheet.merge_range(0, 0, 0, 5, &format!("鹤城区分公司客户服务部 {name} {column}"), &centered).unwrap();
        for (c, h) in ["序号", "工号", "姓名", "单位", column, "期间"].iter().enumerate() {
            sheet.write_string(2, c as u16, *h).unwrap();
        }
        // The first of the sheet's month as an Excel serial (days since 1899-12-30).
        let first = chrono::NaiveDate::parse_from_str(&format!("{name}-01"), "%Y-%m-%d").unwrap();
        let serial = (first - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64;
        let people: Vec<&Vec<Data>> = rows.iter().skip(1).collect();
        let mut r = 3u32;
        let mut unit_start: Option<(u32, String)> = None;
        for (i, person) in people.iter().enumerate() {
            let (Data::String(id), Data::String(name), Data::String(unit)) = (&person[0], &person[1], &person[2])
            else {
                panic!("template ids, names and units are text: {person:?}");
            };
            sheet.write_number(r, 0, (i + 1) as f64).unwrap();
            sheet.write_string(r, 1, id).unwrap();
            sheet.write_string(r, 2, name).unwrap();
            match values.get(id) {
                // Alternate typed numbers and formulas whose cached value is the number.
                Some(v) if i % 2 == 0 => {
                    sheet.write_formula(r, 4, Formula::new(format!("={v}+0")).set_result(v)).unwrap();
                }
                Some(v) => {
                    sheet.write_number(r, 4, v.parse::<f64>().unwrap()).unwrap();
                }
                None => {}
            }
            sheet.write_number_with_format(r, 5, serial, &month_format).unwrap();
            // Units: merged down over consecutive people of the same unit.
            match &unit_start {
                Some((_, u)) if u == unit => {}
                _ => {
                    if let Some((start, u)) = unit_start.take() {
                        merge_unit(sheet, start, r - 1, &u);
                    }
                    unit_start = Some((r, unit.clone()));
                }
            }
            r += 1;
        }
        if let Some((start, u)) = unit_start {
            merge_unit(sheet, start, r - 1, &u);
        }
    }
    book.save(path).unwrap();
}

fn merge_unit(sheet: &mut rust_xlsxwriter::Worksheet, first: u32, last: u32, unit: &str) {
    if first == last {
        sheet.write_string(first, 3, unit).unwrap();
    } else {
        sheet.merge_range(first, 3, last, 3, unit, &Format::new()).unwrap();
    }
}

#[test]
fn xlsx_round_trip_gives_the_same_quarter() {
    let ws = worked();
    let expected = ws.json(&["quarter", "2009Q2"]);
    let originals = take_quarter(&ws);
    std::fs::create_dir_all(ws.path().join("in")).unwrap();
    for (kind, column) in [("points", "积分"), ("kpi", "绩效")] {
        let template_path = ws.path().join(format!("in/{kind}-template.xlsx"));
        let sheets: Vec<(String, Vec<Vec<Data>>)> = if kind == "points" {
            // One workbook with a sheet per month of the quarter.
            ok(&ws.run(&["template", "points", "2009Q2", "--format", "xlsx", "--output", path_arg(&template_path)]));
            workbook(&template_path)
        } else {
            MONTHS
                .iter()
                .flat_map(|m| {
                    ok(&ws.run(&["template", "kpi", m, "--format", "xlsx", "--output", path_arg(&template_path)]));
                    workbook(&template_path)
                })
                .collect()
        };
        let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, MONTHS);
        for (_, rows) in &sheets {
            assert_eq!(rows[0][..4], [text("工号"), text("姓名"), text("单位"), text("岗位")]);
            assert_eq!(rows[0][4], text(column));
            assert_eq!(row_by(rows, 0, "0009")[1], text("=1+1"), "a formula name is a text cell");
            assert_eq!(row_by(rows, 0, "0001")[..2], [text("0001"), text("张伟")], "ids are text cells");
        }
        let last = &workbook(&template_path)[0].0;
        assert_eq!(num_format(&template_path, last, (1, 0)), "@", "the id column is formatted as text");
        let values: Vec<BTreeMap<String, String>> = MONTHS
            .iter()
            .map(|m| if kind == "points" { originals[m].0.clone() } else { originals[m].1.clone() })
            .collect();
        // Named for the quarter, holding its month sheets: the name contains each sheet's period.
        let filled = ws.path().join(format!("in/2009Q2{column}.xlsx"));
        filled_workbook(&filled, &sheets, column, &values);
        let r = ws.run(&["ingest", kind, path_arg(&filled)]);
        ok(&r);
        for m in MONTHS {
            assert!(r.stdout.contains(&format!("data/{kind}/{m}.csv: new file")), "{}", r.stdout);
            assert!(r.stdout.contains(&format!("(sheet {m})")), "{}", r.stdout);
        }
    }
    assert_eq!(ws.json(&["quarter", "2009Q2"]), expected);
    assert!(ws.read("data/kpi/2009-05.csv").starts_with("id,name,kpi\n0001,张伟,90\n"));
}

#[test]
fn quarter_xlsx_reads_back_with_types_and_values() {
    let ws = worked();
    let out = ws.path().join("q2.xlsx");
    let r = ws.run(&["quarter", "2009Q2", "--format", "xlsx", "--output", path_arg(&out)]);
    ok(&r);
    assert!(r.stdout.is_empty());
    let book = workbook(&out);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ranking", "rules", "lines"]);

    let ranking = &book[0].1;
    assert_eq!(ranking[0][..5], [text("rank"), text("id"), text("name"), text("unit"), text("post")]);
    assert_eq!(ranking.len(), 11);
    let li_na = &ranking[1];
    assert_eq!(li_na[..5], [Data::Float(1.0), text("0003"), text("李娜"), text("营业厅"), text("营业员")]);
    let col = |name: &str| ranking[0].iter().position(|h| h == &text(name)).unwrap();
    assert_eq!(li_na[col("points")], Data::Float(95.0));
    assert_eq!(li_na[col("score")], Data::Float(93.2));
    assert_eq!(li_na[col("training")], text("true"));
    assert_eq!(li_na[col("payout")], Data::Float(50.0));
    assert_eq!(row_by(ranking, 1, "0009")[2], text("=1+1"), "the formula name stays a string");
    assert_eq!(num_format(&out, "ranking", (1, col("score") as u32)), "0.00", "scores with the rubric's decimals");
    assert_eq!(num_format(&out, "ranking", (1, col("payout") as u32)), "0");
    assert_eq!(num_format(&out, "ranking", (1, 1)), "@");
    let mut calamine_book: Xlsx<_> = open_workbook(&out).unwrap();
    let formulas = calamine_book.worksheet_formula("ranking").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()), "no formula anywhere");
    let styles = calamine_book.worksheet_style("ranking").unwrap();
    let header = styles.get((0, 0)).unwrap();
    assert!(header.font.as_ref().is_some_and(|f| f.is_bold()) && header.fill.is_some(), "{header:?}");

    let rules = &book[1].1;
    assert_eq!(rules[0], ["award", "name", "fired", "quota", "recipients", "paid"].map(text).to_vec());
    let recipients = crate::support::rule(&ws.json(&["quarter", "2009Q2"]), "city_cs_top3")["recipients"].as_f64();
    let cs = row_by(rules, 0, "city_cs_top3");
    assert_eq!(
        cs[1..],
        [
            text("市公司客服季度竞赛前三名"),
            Data::Float(1.0),
            Data::Float(3.0),
            Data::Float(recipients.unwrap()),
            Data::Float(1550.0)
        ]
    );
    assert_eq!(row_by(rules, 0, "agency_mystery_top3")[2], Data::Float(0.0));

    let lines = &book[2].1;
    assert_eq!(lines[0], ["id", "name", "award", "source", "amount", "paid", "superseded_by"].map(text).to_vec());
    let li_na_lines: Vec<&Vec<Data>> = lines.iter().filter(|r| r[0] == text("0003")).collect();
    assert_eq!(li_na_lines.len(), 3);
    assert_eq!(
        li_na_lines[1][2..],
        [text("hall_mystery_top3"), text("district"), Data::Float(100.0), Data::Float(0.0), text("city_cs_top3")]
    );
    assert_eq!(li_na_lines[2][3..6], [text("city"), Data::Float(150.0), Data::Float(0.0)]);
    assert_eq!(li_na_lines[0].get(6).cloned().unwrap_or(Data::Empty), Data::Empty, "no superseding line");
}

#[test]
fn month_and_year_xlsx_read_back_with_types_and_values() {
    let ws = Ws::example();
    let month = ws.path().join("m.xlsx");
    ok(&ws.run(&["month", "2009-03", "--format", "xlsx", "--output", path_arg(&month)]));
    let book = workbook(&month);
    assert_eq!(book.len(), 1);
    assert_eq!(book[0].0, "bulletin");
    let rows = &book[0].1;
    let json = ws.json(&["month", "2009-03"]);
    let first = &json["people"][0];
    let col = |name: &str| rows[0].iter().position(|h| h == &text(name)).unwrap();
    assert_eq!(rows[1][col("id")], text(first["id"].as_str().unwrap()));
    assert_eq!(rows[1][col("points")], Data::Float(first["points"].as_f64().unwrap()));
    assert_eq!(rows[1][col("rank")], Data::Float(1.0));
    assert_eq!(rows.len(), json["people"].as_array().unwrap().len() + 1);

    let year = ws.path().join("y.xlsx");
    ok(&ws.run(&["year", "2009", "--format", "xlsx", "--output", path_arg(&year)]));
    let book = workbook(&year);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ranking", "rules", "lines"]);
    let json = ws.json(&["year", "2009"]);
    let ranking = &book[0].1;
    let col = |name: &str| ranking[0].iter().position(|h| h == &text(name)).unwrap();
    for p in json["people"].as_array().unwrap() {
        let row = row_by(ranking, col("id"), p["id"].as_str().unwrap());
        let number = |v: &serde_json::Value| v.as_f64().map_or(Data::Empty, Data::Float);
        assert_eq!(row[col("score")], number(&p["score"]), "{}", p["id"]);
        assert_eq!(row[col("year_payout")], number(&p["year_payout"]), "{}", p["id"]);
        assert_eq!(row[col("grade")], p["grade"].as_str().map_or(Data::Empty, text), "{}", p["id"]);
    }
    // Both in the JSON's order: people by listing, each person's lines in turn.
    let people = json["people"].as_array().unwrap();
    let ids: Vec<Data> = people.iter().map(|p| text(p["id"].as_str().unwrap())).collect();
    assert_eq!(ranking[1..].iter().map(|r| r[col("id")].clone()).collect::<Vec<_>>(), ids);
    let lines: Vec<[Data; 2]> = people
        .iter()
        .flat_map(|p| {
            let id = p["id"].as_str().unwrap();
            p["awards"].as_array().unwrap().iter().map(move |l| [text(id), text(l["award"].as_str().unwrap())])
        })
        .collect();
    assert!(!lines.is_empty());
    let sheet: Vec<[Data; 2]> = book[2].1[1..].iter().map(|r| [r[0].clone(), r[2].clone()]).collect();
    assert_eq!(sheet, lines);
    let rules: Vec<Data> =
        json["awards"].as_array().unwrap().iter().map(|a| text(a["award"].as_str().unwrap())).collect();
    assert!(rules.len() > 1);
    assert_eq!(book[1].1[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), rules);
    // The filter reaches the last row of each sheet.
    for (sheet, (_, rows)) in book.iter().enumerate() {
        let xml = unzip_entry(&year, &format!("xl/worksheets/sheet{}.xml", sheet + 1));
        let last_col = char::from(b'A' + rows[0].len() as u8 - 1);
        assert!(xml.contains(&format!(r#"<autoFilter ref="A1:{last_col}{}"/>"#, rows.len())), "sheet {sheet}");
    }
}

#[test]
fn xlsx_needs_an_output_file() {
    let ws = worked();
    for args in [&["quarter", "2009Q2", "--format", "xlsx"][..], &["template", "points", "2009-05", "--format", "xlsx"]]
    {
        let r = ws.run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("--output"), "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

/// With the system refusing every new thread (a stack no machine can give), the tool's own work
/// is done on the calling thread and comes out the same, workbooks too: their sheets are written
/// row by row through a temporary file, which needs no thread. Where no temporary file can be
/// made either, a workbook is put together in memory, which rust_xlsxwriter does on threads of
/// its own: that fails with one line (exit 1, no file, no panic), not a backtrace.
#[test]
fn refused_threads_give_the_same_reports_and_workbooks() {
    let ws = worked();
    let refused = |args: &[&str], tmpdir: Option<&Path>| {
        let mut env = vec![("RUST_MIN_STACK", "1000000000000000".as_ref())];
        env.extend(tmpdir.map(|dir| ("TMPDIR", dir.as_os_str())));
        ws.run_with(args, &env)
    };
    let no_folder = ws.path().join("no-such-folder");
    for period in [&["quarter", "2009Q2"][..], &["year", "2009"]] {
        let csv = [period, &["--format", "csv"]].concat();
        let (usual, alone) = (ws.run(&csv), refused(&csv, None));
        assert_eq!((alone.code, &alone.stdout, &alone.stderr), (usual.code, &usual.stdout, &usual.stderr), "{csv:?}");
        fn xlsx<'a>(period: &[&'a str], out: &'a Path) -> Vec<&'a str> {
            [period, &["--format", "xlsx", "--output", path_arg(out)]].concat()
        }
        let (usual_out, out) = (ws.path().join("usual.xlsx"), ws.path().join("refused.xlsx"));
        ok(&ws.run(&xlsx(period, &usual_out)));
        ok(&refused(&xlsx(period, &out), None));
        assert_eq!(workbook(&out), workbook(&usual_out), "{period:?}");
        let out = ws.path().join("refused-in-memory.xlsx");
        let r = refused(&xlsx(period, &out), Some(&no_folder));
        assert_eq!(r.code, 1, "{period:?}: {}", r.stderr);
        assert!(r.stderr.contains("xlsx output: the system refused a thread"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(!out.exists(), "no workbook is left behind");
    }
}

/// Without a temporary folder to write a sheet's rows through, a workbook is put together in
/// memory instead: the same cells, formats, widths, panes and filters (the sheets' XML differs
/// only in the rows' optional `spans`, which the row-by-row writer leaves out).
#[test]
fn xlsx_without_a_temporary_folder_is_written_in_memory_alike() {
    let ws = worked();
    let no_folder = ws.path().join("no-such-folder");
    let runs: [&[&str]; 5] = [
        &["quarter", "2009Q2"],
        &["year", "2009"],
        &["month", "2009-05"],
        &["template", "points", "2009Q3"],
        &["template", "roster"],
    ];
    for period in runs {
        let (usual_out, out) = (ws.path().join("usual.xlsx"), ws.path().join("in-memory.xlsx"));
        ok(&ws.run(&[period, &["--format", "xlsx", "--output", path_arg(&usual_out)]].concat()));
        let args = [period, &["--format", "xlsx", "--output", path_arg(&out)]].concat();
        ok(&ws.run_with(&args, &[("TMPDIR", no_folder.as_os_str())]));
        assert_eq!(workbook(&out), workbook(&usual_out), "{period:?}");
        let without_spans = |xml: String| {
            let mut out = String::new();
            let mut rest = xml.as_str();
            while let Some(at) = rest.find(" spans=\"") {
                out.push_str(&rest[..at]);
                let after = &rest[at + " spans=\"".len()..];
                rest = &after[after.find('"').expect("a closing quote") + 1..];
            }
            out + rest
        };
        let sheets = workbook(&out).len();
        assert!(sheets >= 1);
        for sheet in 1..=sheets {
            let entry = format!("xl/worksheets/sheet{sheet}.xml");
            let (in_memory, usual) = (unzip_entry(&out, &entry), unzip_entry(&usual_out, &entry));
            assert!(in_memory.contains(" spans=\""), "{entry}: written in memory");
            assert!(!usual.contains(" spans=\""), "{entry}: written row by row");
            assert_eq!(without_spans(in_memory), usual, "{period:?} {entry}");
        }
    }
}

#[test]
fn template_xlsx_has_validation_widths_and_shaded_items() {
    let ws = Ws::example();
    let out = ws.path().join("t.xlsx");
    ok(&ws.run(&["template", "points", "2009-05", "--format", "xlsx", "--output", path_arg(&out)]));
    let book = workbook(&out);
    assert_eq!(book[0].0, "2009-05");
    let rows = &book[0].1;
    let header: Vec<String> = rows[0].iter().map(|d| d.to_string()).collect();
    assert_eq!(header[..5], ["工号", "姓名", "单位", "岗位", "服务规范"]);
    assert_eq!(header[header.len() - 2..], ["积分", "备注"]);
    assert!(rows[1..].iter().all(|r| matches!(&r[0], Data::String(id) if id.starts_with('0'))));
    assert!(rows[1..].iter().all(|r| r[4..].iter().all(|c| *c == Data::Empty)), "the columns to fill are empty");
    // The sheet's XML: validation from the rubric's maxima, frozen header, filter, widths.
    let xml = unzip_entry(&out, "xl/worksheets/sheet1.xml");
    assert!(xml.contains("<formula1>0</formula1><formula2>30</formula2>"), "服务规范 max 30");
    assert!(xml.contains("<formula1>0</formula1><formula2>105</formula2>"), "points max 100 + bonus 5");
    assert!(xml.contains(r#"state="frozen""#) && xml.contains("<autoFilter"));
    // Rows 2-4 are managers' (0101, 0102, 0201): a total, no items, so every item cell is greyed
    // (a blank with the shaded format); row 5 (0202, 营业员) leaves its own table's items plain
    // and greys the other table's.
    let styles = unzip_entry(&out, "xl/styles.xml");
    assert!(styles.contains(r#"rgb="FFD9D9D9""#), "the grey fill");
    assert!(xml.contains(r#"<c r="E4" s="3"/>"#) && xml.contains(r#"<c r="M4" s="3"/>"#), "a manager's items greyed");
    assert!(!xml.contains(r#"<c r="E5""#) && xml.contains(r#"<c r="J5" s="3"/>"#), "a clerk's own items plain");
}

#[test]
fn roster_name_that_is_a_formula_stays_text_in_every_output() {
    let ws = worked();
    let csv_out = ws.path().join("q.csv");
    ok(&ws.run(&["quarter", "2009Q2", "--format", "csv", "--output", path_arg(&csv_out)]));
    assert!(std::fs::read_to_string(&csv_out).unwrap().contains(",'=1+1,"));
    assert_eq!(person(&ws.json(&["quarter", "2009Q2"]), "0009")["name"], "=1+1");
    let table = ws.run(&["quarter", "2009Q2"]);
    ok(&table);
    assert!(table.stdout.contains("=1+1"));
    // Roster out as a template and back in: unchanged, the name still the text "=1+1".
    let template = ws.path().join("roster.xlsx");
    ok(&ws.run(&["template", "roster", "--format", "xlsx", "--output", path_arg(&template)]));
    let rows = &workbook(&template)[0].1;
    assert_eq!(row_by(rows, 0, "0009")[1], text("=1+1"));
    assert_eq!(row_by(rows, 0, "0007")[5], text("2009-06-15"));
    let before = ws.read("data/roster.csv");
    let r = ws.run(&["ingest", "roster", path_arg(&template)]);
    ok(&r);
    assert!(r.stdout.contains("data/roster.csv: unchanged"), "{}", r.stdout);
    assert_eq!(ws.read("data/roster.csv"), before);
    // A CSV template keeps the guard on the way out and loses exactly one on the way in.
    let csv_template = ws.path().join("roster.csv");
    ok(&ws.run(&["template", "roster", "--output", path_arg(&csv_template)]));
    assert!(std::fs::read_to_string(&csv_template).unwrap().contains("0009,'=1+1,"));
    let r = ws.run(&["ingest", "roster", path_arg(&csv_template)]);
    ok(&r);
    assert!(r.stdout.contains("unchanged"), "{}", r.stdout);
}

#[test]
fn replace_lists_exactly_the_changed_cells_and_keeps_the_old_file() {
    let ws = worked();
    let source = ws.path().join("2009-05积分.csv");
    let changed = ws
        .read("data/points/2009-05.csv")
        .replace("0003,李娜,96", "0003,李娜,97")
        .replace("0008,黄敏,91", "0008,黄敏,90.5");
    std::fs::write(&source, &changed).unwrap();
    let old = std::fs::read(ws.path().join("data/points/2009-05.csv")).unwrap();
    let before = ws.snapshot();

    let r = ws.run(&["ingest", "points", path_arg(&source)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("already exists and differs in 2 place(s)") && r.stderr.contains("--replace"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("data/points/2009-05.csv:4: column points: 96 → 97 (0003 李娜)"), "{}", r.stderr);
    assert_eq!(ws.snapshot(), before, "a refused ingest changes nothing");

    let r = ws.run(&["ingest", "points", path_arg(&source), "--dry-run"]);
    ok(&r);
    assert!(r.stdout.contains("dry run: nothing was written"));
    assert_eq!(ws.snapshot(), before, "a dry run changes nothing");

    let r = ws.run(&["ingest", "points", path_arg(&source), "--replace"]);
    ok(&r);
    let changes: Vec<&str> = r.stdout.lines().filter(|l| l.contains(" → ")).collect();
    assert_eq!(
        changes,
        [
            "data/points/2009-05.csv:4: column points: 96 → 97 (0003 李娜)",
            "data/points/2009-05.csv:9: column points: 91 → 90.5 (0008 黄敏)",
        ]
    );
    let history: Vec<PathBuf> =
        std::fs::read_dir(ws.path().join("data/.history")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(history.len(), 1);
    let kept = history[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(kept.starts_with("points-2009-05.csv."), "{kept}");
    assert!(r.stdout.contains(&format!("the old file is data/.history/{kept}")), "{}", r.stdout);
    assert_eq!(std::fs::read(&history[0]).unwrap(), old, "the old bytes are kept");
    let canonical: String = changed
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 { "id,name,points,note\n".to_string() } else { format!("{l},\n") })
        .collect();
    assert_eq!(ws.read("data/points/2009-05.csv"), canonical, "the new file in canonical form");
    let log = ws.read("data/ingest-log.csv");
    let row: Vec<&str> = log.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[1..3], ["points", "2009-05"]);
    assert!(row[3].ends_with("2009-05积分.csv"));
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(changed.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(row[4], sha);
    assert_eq!(row[5..], ["10", "UTF-8", "data/points/2009-05.csv"]);
    // The same file again: nothing to replace.
    let r = ws.run(&["ingest", "points", path_arg(&source)]);
    ok(&r);
    assert!(r.stdout.contains("unchanged"), "{}", r.stdout);
}

/// Runs an ingest that must fail with exit `code`, leave the workspace byte-identical and
/// say every one of `needles` on stderr.
fn refused(ws: &Ws, args: &[&str], code: i32, needles: &[&str]) {
    let before = ws.snapshot();
    let mut all = vec!["ingest"];
    all.extend(args);
    let r = ws.run(&all);
    assert_eq!(r.code, code, "{args:?}\nstdout: {}\nstderr: {}", r.stdout, r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "{args:?}: no {n:?} in:\n{}", r.stderr);
    }
    assert_eq!(ws.snapshot(), before, "{args:?} changed the workspace");
}

#[test]
fn a_failed_ingest_leaves_the_data_folder_byte_identical() {
    let ws = worked();
    let file = |name: &str, content: &[u8]| {
        let path = ws.path().join("in").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    };
    let bad_number = file("2009-07积分.csv", "工号,积分\n0001,9O\n0002,200\n".as_bytes());
    refused(
        &ws,
        &["points", &bad_number],
        1,
        &["2009-07积分.csv:2: column 积分: \"9O\" is not a number", ":3: column 积分: 200 is outside"],
    );
    let lost_zeros = file("2009-07.csv", b"id,points\n3,90\n");
    refused(&ws, &["points", &lost_zeros], 1, &["2009-07.csv:2: column id: \"3\" is not on the roster; the roster has \"0003\": this sheet lost its leading zeros"]);
    let scientific = file("2009-07b.csv", b"id,kpi\n2.31E+13,90\n");
    refused(
        &ws,
        &["kpi", &scientific, "--period", "2009-07"],
        1,
        &["column id: id \"2.31E+13\" is in scientific notation"],
    );
    let duplicate = file("2009-07c.csv", b"id,kpi\n0001,90\n0001,91\n");
    refused(&ws, &["kpi", &duplicate, "--period", "2009-07"], 1, &[":3: column id: duplicate id \"0001\""]);
    // The period: from --period, a period column, the sheet or the file name — never two.
    let named = file("2009-07积分d.csv", b"id,points\n0001,90\n");
    refused(
        &ws,
        &["points", &named, "--period", "2009-08"],
        1,
        &["conflicting periods: --period says 2009-08, the file name says 2009-07"],
    );
    let column = file("2009-07e.csv", "期间,id,points\n2009-07,0001,90\n2009-08,0002,91\n".as_bytes());
    refused(&ws, &["points", &column], 1, &[":3: column 期间: 2009-08 differs from 2009-07 on line 2"]);
    let nameless = file("points.csv", b"id,points\n0001,90\n");
    refused(&ws, &["points", &nameless], 1, &["which period is this points sheet for? give --period"]);
    refused(&ws, &["points", &nameless, "--period", "2009Q3"], 2, &["a points sheet is for a month"]);
    // A quarterly KPI export next to monthly ones: the reports would reject the workspace.
    let quarterly = file("kpi.csv", b"id,kpi\n0001,90\n");
    refused(
        &ws,
        &["kpi", &quarterly, "--period", "2009Q2"],
        1,
        &["data/kpi/2009Q2.csv: 2009Q2 has both", "data/kpi/2009-04.csv", "nothing was written"],
    );
    // A roster that drops someone who has points rows.
    let roster = ws.read("data/roster.csv").lines().filter(|l| !l.starts_with("0008")).collect::<Vec<_>>().join("\n");
    let roster = file("roster.csv", roster.as_bytes());
    refused(&ws, &["roster", &roster, "--replace"], 1, &["data/points/2009-04.csv:", "\"0008\" is not on the roster"]);
    // An existing file without --replace; a missing sheet; not a workbook at all.
    let same_month = file("2009-05积分f.csv", b"id,points\n0001,90\n");
    refused(&ws, &["points", &same_month], 1, &["already exists and differs", "row removed: 0002 王芳"]);
    let book = ws.path().join("in/book.xlsx");
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("积分").unwrap().write_string(0, 0, "工号").unwrap();
    wb.save(&book).unwrap();
    refused(
        &ws,
        &["points", path_arg(&book), "--sheet", "nope"],
        2,
        &["has no sheet \"nope\"; its sheets are: \"积分\""],
    );
    let broken = file("broken.xlsx", b"PK\x03\x04 not really a zip");
    refused(&ws, &["points", &broken, "--period", "2009-07"], 1, &["cannot be read as a workbook"]);
}

#[test]
fn xlsx_ids_stored_as_numbers_are_errors_with_a_hint() {
    let ws = worked();
    let path = ws.path().join("2009-07积分.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["工号", "姓名", "积分"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 3.0).unwrap(); // was 0003
    sheet.write_number(1, 2, 90.0).unwrap();
    sheet.write_number(2, 0, 23123456789012345.0).unwrap();
    sheet.write_number(2, 2, 90.0).unwrap();
    sheet.write_string(3, 0, "0004").unwrap();
    sheet.write_number(3, 2, 90.0).unwrap();
    book.save(&path).unwrap();
    refused(
        &ws,
        &["points", path_arg(&path)],
        1,
        &[
            "2009-07积分.xlsx[Sheet1]:2: column 工号: id 3 is stored as a number; the roster has \"0003\": the spreadsheet dropped its leading zeros",
            "2009-07积分.xlsx[Sheet1]:3: column 工号: id 23123456789012344 is a number in the sheet (shown as 2.3123456789012344E+16)",
        ],
    );
}

#[test]
fn events_for_one_period_replace_only_that_periods_rows() {
    let ws = worked();
    ws.write("data/events.csv", ws.read("data/events.csv") + "2009Q1,暗查暗访,营业厅,2,\n");
    let source = ws.path().join("events.csv");
    std::fs::write(&source, "期间,事项,单位,名次\n2009q2,市公司客服季度竞赛,客户服务部,第1名\n").unwrap();
    // Without --period the whole file would go: refused, with the hint.
    refused(&ws, &["events", path_arg(&source)], 1, &["row removed: 2009Q1 暗查暗访 营业厅", "give --period"]);
    let r = ws.run(&["ingest", "events", path_arg(&source), "--period", "2009Q2", "--replace"]);
    ok(&r);
    assert_eq!(
        ws.read("data/events.csv"),
        "period,event,unit,rank,note\n2009Q1,暗查暗访,营业厅,2,\n2009Q2,市公司客服季度竞赛,客户服务部,1,\n"
    );
    assert!(r.stdout.contains("column rank: 2 → 1 (2009Q2 市公司客服季度竞赛 客户服务部)"), "{}", r.stdout);
    assert!(r.stdout.contains("row removed: 2009Q2 暗查暗访 营业厅"), "{}", r.stdout);
    let outside = ws.path().join("q3.csv");
    std::fs::write(&outside, "period,event\n2009Q3,暗查暗访\n").unwrap();
    refused(&ws, &["events", path_arg(&outside), "--period", "2009Q2"], 1, &["2009Q3 is outside --period 2009Q2"]);
}

#[test]
fn template_honours_the_encoding_and_the_language() {
    let ws = worked();
    let r = ws.run(&["template", "points", "2009-05", "--encoding", "gbk"]);
    ok(&r);
    let (text, _, bad) = encoding_rs::GBK.decode(&r.stdout_bytes);
    assert!(!bad && text.starts_with("工号,姓名,单位,岗位,积分,备注\n"), "{text}");
    assert!(text.contains("\n0003,李娜,营业厅,营业员,,\n"));
    let r = ws.run(&["template", "kpi", "2009Q2", "--lang", "en"]);
    ok(&r);
    assert!(r.stdout.starts_with("id,name,unit,post,kpi\n0001,张伟,"), "{}", r.stdout);
    assert!(!r.stdout.starts_with('\u{feff}'), "standard output is plain UTF-8");
    // 杨帆 joined on 2009-05-04: listed from May on, not in April.
    let may = ws.run(&["template", "points", "2009-05", "--lang", "en"]);
    assert!(may.stdout.starts_with("id,name,unit,post,points,note\n") && may.stdout.contains("\n0006,杨帆,"));
    let april = ws.run(&["template", "points", "2009-04"]);
    assert!(!april.stdout.contains("0006,"), "{}", april.stdout);
    assert_eq!(ws.run(&["template", "events", "2009Q2"]).code, 2);
    assert_eq!(ws.run(&["template", "points", "2009Q2"]).code, 2, "a quarter of points needs a workbook");
}

#[test]
fn item_columns_round_trip_through_a_workbook() {
    let ws = Ws::example();
    let month = ws.json(&["month", "2009-03"]);
    let quarter = ws.json(&["quarter", "2009Q1"]);
    let original = ws.read("data/points/2009-03.csv");
    ws.remove("data/points/2009-03.csv");
    let template = ws.path().join("t.xlsx");
    ok(&ws.run(&["template", "points", "2009-03", "--format", "xlsx", "--output", path_arg(&template)]));
    let rows = &workbook(&template)[0].1;

    // id → header → value, from the original sheet.
    let mut reader = csv::Reader::from_reader(original.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let values: BTreeMap<String, BTreeMap<String, String>> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), headers.iter().map(String::from).zip(r.iter().map(String::from)).collect()))
        .collect();
    let filled = ws.path().join("filled.xlsx");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("2009-03").unwrap();
    for (c, h) in rows[0].iter().enumerate() {
        sheet.write_string(0, c as u16, h.to_string()).unwrap();
    }
    for (r, row) in rows.iter().enumerate().skip(1) {
        let Data::String(id) = &row[0] else { panic!("{row:?}") };
        for (c, cell) in row.iter().enumerate() {
            let header = rows[0][c].to_string();
            let key = match header.as_str() {
                "积分" => "points",
                "备注" => "note",
                other => other,
            };
            let (r, c) = (r as u32, c as u16);
            match (c, values[id].get(key).map(String::as_str)) {
                (0..=3, _) => {
                    sheet.write_string(r, c, cell.to_string()).unwrap();
                }
                (_, None | Some("")) => {}
                (_, Some(v)) if key == "note" => {
                    sheet.write_string(r, c, v).unwrap();
                }
                (_, Some(v)) => {
                    sheet.write_number(r, c, v.parse::<f64>().unwrap()).unwrap();
                }
            }
        }
    }
    book.save(&filled).unwrap();
    let r = ws.run(&["ingest", "points", path_arg(&filled)]);
    ok(&r);
    assert!(r.stdout.contains("data/points/2009-03.csv: new file, 24 rows"), "{}", r.stdout);
    assert_eq!(ws.json(&["month", "2009-03"]), month);
    assert_eq!(ws.json(&["quarter", "2009Q1"]), quarter);
    let canonical = ws.read("data/points/2009-03.csv");
    assert!(canonical.starts_with("id,name,服务规范,业务准确,客户满意度,营销指标,好人好事,通话质量,"), "{canonical}");
    assert!(canonical.contains("\n0207,唐琳,27.5,22.5,18,22,3,,,,,,帮助老年客户办理业务\n"), "{canonical}");
}

#[test]
fn a_new_workspace_takes_its_first_roster_without_replace() {
    let ws = Ws::empty();
    ok(&ws.run_in(ws.path(), &["init", "."]));
    let source = ws.path().join("花名册.xlsx");
    ok(&Ws::example().run(&["template", "roster", "--format", "xlsx", "--output", path_arg(&source)]));
    let r = ws.run(&["ingest", "roster", path_arg(&source)]);
    ok(&r);
    assert!(r.stdout.starts_with("data/roster.csv: new file, 25 rows from "), "{}", r.stdout);
    assert!(!ws.path().join("data/.history").exists(), "init's header-only roster had nothing to keep");
    assert_eq!(ws.read("data/roster.csv"), Ws::example().read("data/roster.csv"));
    let r = ws.run(&["template", "points", "2009-09", "--lang", "en"]);
    ok(&r);
    assert!(r.stdout.contains("\n0214,田甜,营业厅,营业员,"), "{}", r.stdout);
}

#[test]
fn a_write_that_fails_half_way_is_undone() {
    let ws = worked();
    // The log cannot be written (a folder is in its place): by then the history copy and the
    // new points file are written, and both must be taken back.
    std::fs::create_dir(ws.path().join("data/ingest-log.csv")).unwrap();
    let source = ws.path().join("2009-05积分.csv");
    std::fs::write(&source, ws.read("data/points/2009-05.csv").replace("0003,李娜,96", "0003,李娜,97")).unwrap();
    let before = ws.snapshot();
    let r = ws.run(&["ingest", "points", path_arg(&source), "--replace"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("data/ingest-log.csv"), "{}", r.stderr);
    assert_eq!(ws.snapshot(), before, "the data folder is byte-identical");
    assert!(!ws.path().join("data/.history").exists(), "the history folder it made is gone too");
}

#[test]
fn a_kpi_export_for_an_existing_month_replaces_it_whole() {
    let ws = worked();
    let export = ws.path().join("绩效导出.csv");
    let text = ws.read("data/kpi/2009-05.csv").replace("0004,90", "0004,91").replace("id,kpi", "员工编号,考核得分");
    std::fs::write(&export, text).unwrap();
    let r = ws.run(&["ingest", "kpi", path_arg(&export), "--period", "2009-05", "--replace"]);
    ok(&r);
    let changes: Vec<&str> = r.stdout.lines().filter(|l| l.contains(" → ")).collect();
    assert_eq!(changes, ["data/kpi/2009-05.csv:5: column kpi: 90 → 91 (0004 刘洋)"]);
    let kpi = ws.read("data/kpi/2009-05.csv");
    assert_eq!(kpi.lines().count(), 11, "{kpi}");
    assert!(kpi.starts_with("id,name,kpi\n0001,张伟,90\n"));
}

#[test]
fn a_quarter_workbook_is_filled_and_ingested_month_by_month() {
    let ws = worked();
    let template = ws.path().join("template.xlsx");
    ok(&ws.run(&["template", "points", "2009Q3", "--format", "xlsx", "--output", path_arg(&template)]));
    let sheets = workbook(&template);
    let july: Values = [("0001", "90"), ("0003", "95.5")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let book = ws.path().join("2009Q3积分.xlsx");
    filled_workbook(&book, &sheets, "积分", &[july.clone(), Values::new(), Values::new()]);
    let r = ws.run(&["ingest", "points", path_arg(&book)]);
    ok(&r);
    assert!(r.stdout.contains("2009Q3积分.xlsx[2009-08]: skipped: nothing is filled in yet"), "{}", r.stdout);
    assert!(r.stdout.contains("data/points/2009-07.csv: new file, 2 rows"), "{}", r.stdout);
    assert!(!ws.path().join("data/points/2009-08.csv").exists());
    assert_eq!(ws.read("data/points/2009-07.csv"), "id,name,points,note\n0001,张伟,90,\n0003,李娜,95.5,\n");
    // August filled in the same workbook: July is unchanged, August is new.
    let august: Values = [("0002", "88")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    filled_workbook(&book, &sheets, "积分", &[july, august, Values::new()]);
    let r = ws.run(&["ingest", "points", path_arg(&book)]);
    ok(&r);
    assert!(r.stdout.contains("data/points/2009-07.csv: unchanged"), "{}", r.stdout);
    assert!(r.stdout.contains("data/points/2009-08.csv: new file, 1 row from"), "{}", r.stdout);
    // Nothing filled in anywhere: an error, not a silent success.
    filled_workbook(&book, &sheets, "积分", &[Values::new(), Values::new(), Values::new()]);
    refused(&ws, &["points", path_arg(&book)], 1, &["has no values in any sheet"]);
}

/// Re-saves a workspace file as Excel's "CSV (逗号分隔)" on Chinese Windows would: GBK.
fn save_as_gbk(ws: &Ws, relative: &str) {
    let text = ws.read(relative);
    let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad, "{relative} has a character GBK lacks");
    ws.write(relative, gbk.as_ref());
}

/// `--verbose` says how each file was decoded (ROUNDTRIP.md: "say which encoding was used when
/// asked"), on standard error, once a file, by file; the report itself is as without it.
#[test]
fn verbose_names_each_files_encoding() {
    let ws = Ws::example();
    save_as_gbk(&ws, "data/kpi/2009-05.csv");
    ws.write(
        "data/points/2009-05.csv",
        [b"\xEF\xBB\xBF".as_slice(), ws.read("data/points/2009-05.csv").as_bytes()].concat(),
    );
    let plain = ws.run(&["quarter", "2009Q2", "-q"]);
    let verbose = ws.run(&["quarter", "2009Q2", "-q", "--verbose"]);
    assert_eq!((verbose.code, &verbose.stdout), (0, &plain.stdout));
    let lines: Vec<&str> = verbose.stderr.lines().collect();
    for line in [
        "data/kpi/2009-05.csv: read as GB18030",
        "data/points/2009-05.csv: read as UTF-8 with BOM",
        "data/kpi/2009-04.csv: read as UTF-8",
        "data/roster.csv: read as UTF-8",
    ] {
        assert_eq!(lines.iter().filter(|l| **l == line).count(), 1, "{line:?} once in:\n{}", verbose.stderr);
    }
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted, "by file");
    assert!(plain.stderr.is_empty(), "{}", plain.stderr);
    let check = ws.run(&["check", "-v"]);
    assert!(check.stderr.contains("data/kpi/2009-05.csv: read as GB18030\n"), "{}", check.stderr);
}

/// `--verbose` names a GBK roster as such, and says what it read before a run's problems too.
#[test]
fn verbose_names_a_gbk_roster_and_speaks_before_a_failure() {
    let ws = Ws::example();
    save_as_gbk(&ws, "data/roster.csv");
    let kpi = ws.read("data/kpi/2009-05.csv");
    let mut lines: Vec<&str> = kpi.lines().collect();
    let broken = format!("{},9O", lines[1].rsplit_once(',').unwrap().0);
    lines[1] = &broken;
    ws.write("data/kpi/2009-05.csv", lines.join("\n") + "\n");
    for period in [["quarter", "2009Q2"], ["year", "2009"]] {
        let r = ws.run(&[period[0], period[1], "-v"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let said = r.stderr.find("data/roster.csv: read as GB18030\n").expect(&r.stderr);
        let problem = r.stderr.find("data/kpi/2009-05.csv:2: column kpi:").expect(&r.stderr);
        assert!(said < problem, "the encodings first:\n{}", r.stderr);
    }
}
