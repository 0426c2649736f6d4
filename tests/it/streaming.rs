//! Data files larger than the reader's block: the monthly points and KPI files are read
//! block by block (UTF-8, or GB18030 when a non-UTF-8 byte turns up anywhere), cut at line
//! ends outside quoted cells. Whatever straddles a block end, every message must still name
//! the true 1-based line of the file, and a late GBK byte must give the same result as UTF-8.
//!
//! Expected lines are never taken from the tool: each is counted from the bytes the test wrote
//! (one more than the newlines before the row or byte).

use crate::support::{Run, Ws};

/// A multiple of the reader's block size (`BLOCK` in src/read/mod.rs, 256 KiB; this was it until
/// session 16): every end of one of these is a block end too (every fourth), and the files are
/// laid out around them.
const BLOCK: usize = 1 << 20;
const POINTS: &str = "data/points/2009-05.csv";
const KPI: &str = "data/kpi/2009-05.csv";
/// The roster of the worked-2009Q2 case, in order.
const NAMES: [&str; 10] = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷"];

fn id(i: usize) -> String {
    format!("{i:04}")
}

/// A file being written, which counts the newlines it is given: `line()` is where the next
/// byte will be.
struct File {
    bytes: Vec<u8>,
    newlines: usize,
}

impl File {
    fn new(header: &str) -> File {
        let mut f = File { bytes: Vec::with_capacity(5 * BLOCK), newlines: 0 };
        f.push(header);
        f
    }

    fn push(&mut self, part: impl AsRef<[u8]>) -> &mut File {
        let part = part.as_ref();
        self.newlines += part.iter().filter(|&&b| b == b'\n').count();
        self.bytes.extend_from_slice(part);
        self
    }

    /// `n` bytes of ASCII filler (no newline).
    fn fill(&mut self, n: usize) -> &mut File {
        self.bytes.resize(self.bytes.len() + n, b'x');
        self
    }

    /// The 1-based line of the next byte written: one more than the newlines so far.
    fn line(&self) -> usize {
        self.newlines + 1
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Filler up to (not including) file offset `at`: the next byte lands on `at`.
    fn pad_to(&mut self, at: usize) -> &mut File {
        assert!(self.len() <= at, "the layout overran offset {at} (at {})", self.len());
        self.fill(at - self.len())
    }

    /// A row `ID,NAME,POINTS,NOTE` whose note is `note` bytes of filler; returns its line.
    fn row(&mut self, i: usize, name: &str, points: &str, note: usize, eol: &str) -> usize {
        let line = self.line();
        self.push(format!("{},{name},{points},", id(i))).fill(note).push(eol);
        line
    }
}

/// The 1-based line of byte `at`.
fn line_of(bytes: &[u8], at: usize) -> usize {
    bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1
}

fn not_a_number(file: &str, line: usize, column: &str, value: &str) -> String {
    format!("{file}:{line}: column {column}: \"{value}\" is not a number: write a number such as 92.5")
}

fn unclosed(line: usize) -> String {
    format!("{POINTS}:{line}: a quoted cell is not closed: a quote (\") opens here and the file ends inside it")
}

fn nul(line: usize, column: &str) -> String {
    format!("{POINTS}:{line}: column {column}: contains a NUL byte")
}

fn neither(line: usize, column: &str) -> String {
    format!("{POINTS}:{line}: column {column}: has bytes that are neither UTF-8 nor GBK/GB18030")
}

/// Runs `check`, which lists every problem as `file:line: message` on standard error and its
/// summary on standard output.
fn check(ws: &Ws) -> Run {
    let r = ws.run(&["check"]);
    assert!(!r.stderr.contains("panicked") && !r.stdout.contains("panicked"), "{r:?}");
    r
}

/// `check` fails with exactly `errors` (each the start of one line of output) and `warnings`.
fn check_fails(ws: &Ws, errors: &[String], warnings: &[String]) {
    let r = check(ws);
    assert_eq!(r.code, 1, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    for message in errors.iter().chain(warnings) {
        assert!(r.stderr.lines().any(|l| l.starts_with(message.as_str())), "missing {message:?} in:\n{}", r.stderr);
    }
    let summary = format!("check: {} error(s), {} warning(s)", errors.len(), warnings.len());
    assert!(r.stdout.contains(&summary), "expected {summary:?} in:\n{}", r.stdout);
}

/// The filler in a row's note: ten such rows make a file of several MiB.
const NOTE: usize = 400_000;

// A GBK file whose first non-UTF-8 byte lies past 2 MiB: read again from the start as GBK.

/// A points sheet of about 3.6 MiB, in UTF-8 and in GBK: the first 2 MiB are ASCII; row 0009
/// carries a long Chinese note that runs past 3 MiB. Only 0001 differs from the roster (its
/// name is "Zhang"). `extra` filler bytes go into 0008's note. Returns the UTF-8 bytes, the
/// GBK bytes, and where 0009's note starts in the GBK file.
fn late_chinese_sheet(extra: usize) -> (Vec<u8>, Vec<u8>, usize) {
    let mut head = File::new("id,name,points,note\n");
    head.push("0001,Zhang,81,").fill(300_000).push("\n");
    for i in 2..=8 {
        head.row(i, "", &format!("{}", 80 + i), 300_000 + if i == 8 { extra } else { 0 }, "\n");
    }
    // Encoded piece by piece: encoding_rs is slow in a debug build of the tests.
    let gbk = |s: &str| {
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(s);
        assert!(!unmappable);
        bytes.into_owned()
    };
    let note_text = "备注张伟代班";
    let tail = format!("0009,周杰,89,{}\n0010,吴婷,90,备注\n", note_text.repeat(70_000));
    let gbk_tail = [gbk("0009,周杰,89,"), gbk(note_text).repeat(70_000), gbk("\n0010,吴婷,90,备注\n")].concat();
    let note = head.len() + encoding_rs::GBK.encode("0009,周杰,89,").0.len();
    ([&head.bytes[..], tail.as_bytes()].concat(), [&head.bytes[..], &gbk_tail[..]].concat(), note)
}

#[test]
fn a_gbk_file_whose_first_gbk_byte_is_past_2_mib_reads_like_its_utf8_twin() {
    // The note is all 2-byte characters: an odd distance from its start to the third block's
    // end puts that end between the two bytes of a character.
    let (_, _, note) = late_chinese_sheet(0);
    let (utf8, gbk, note) = late_chinese_sheet(usize::from((3 * BLOCK - note) % 2 == 0));
    assert!((3 * BLOCK - note) % 2 == 1 && gbk.len() > 3 * BLOCK);
    let first_non_ascii = gbk.iter().position(|b| !b.is_ascii()).unwrap();
    assert!(first_non_ascii > 2 * BLOCK, "the first GBK byte is at {first_non_ascii}, not past 2 MiB");
    assert!(std::str::from_utf8(&gbk).is_err());

    let ws = Ws::case("worked-2009Q2");
    let mut outputs = Vec::new();
    for bytes in [utf8, gbk] {
        ws.write(POINTS, bytes);
        let quarter = ws.json(&["quarter", "2009Q2"]);
        let month = ws.json(&["month", "2009-05"]);
        // Every row was read (0010 is the last line), the names were decoded right (no warning
        // for 周杰 or 吴婷), and the one warning of the first block was given once.
        let points: Vec<_> = (1..=10).map(|i| crate::support::person(&month, &id(i))["points"].clone()).collect();
        assert_eq!(points, (81..=90).map(serde_json::Value::from).collect::<Vec<_>>());
        let warning = format!(
            "{POINTS}:2: warning: name \"Zhang\" differs from the roster's \"张伟\" for id 0001: correct the sheet or the roster"
        );
        assert_eq!(month["warnings"], serde_json::json!([warning]));
        assert_eq!(quarter["warnings"], serde_json::json!([warning]));
        outputs.push((quarter, month));
    }
    assert_eq!(outputs[0], outputs[1], "GBK differs from UTF-8");
}

#[test]
fn row_problems_found_before_a_late_gbk_byte_are_given_once() {
    let mut f = File::new("id,name,points,note\n");
    f.row(1, "", "81", 1000, "\n");
    let bad = f.row(2, "", "9O", 1000, "\n");
    let renamed = f.row(3, "Li", "83", 1000, "\n");
    for i in 4..=9 {
        f.row(i, "", "90", NOTE, "\n");
    }
    // The only non-ASCII bytes: 吴婷 in GBK, on the last line, past 2 MiB.
    f.push(encoding_rs::GBK.encode("0010,吴婷,90,\n").0);
    assert!(f.bytes.iter().position(|b| !b.is_ascii()).unwrap() > 2 * BLOCK);
    assert!(std::str::from_utf8(&f.bytes).is_err());
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &f.bytes);
    check_fails(
        &ws,
        &[not_a_number(POINTS, bad, "points", "9O")],
        &[format!("{POINTS}:{renamed}: warning: name \"Li\" differs from the roster's \"李娜\"")],
    );
}

#[test]
fn a_gbk_name_that_passes_for_utf8_in_the_first_block_is_read_again_as_gbk() {
    // 郑伟 in GBK (D6 A3 CE B0) is also valid UTF-8 (֣ΰ): the first block reads as UTF-8 and
    // finds a name that differs from the roster's; the GBK byte past 2 MiB restarts the file
    // as GB18030, where the name is right. Nothing of the first reading may remain.
    let ws = Ws::case("worked-2009Q2");
    let roster = ws.read("data/roster.csv").replace("0001,张伟,", "0001,郑伟,");
    ws.write("data/roster.csv", roster);
    let (name, _, _) = encoding_rs::GBK.encode("郑伟");
    assert_eq!(std::str::from_utf8(&name), Ok("\u{5a3}\u{3b0}"));
    let mut f = File::new("id,name,points,note\n");
    f.push("0001,").push(&name).push(",81,\n");
    for i in 2..=9 {
        f.row(i, "", &format!("{}", 80 + i), NOTE, "\n");
    }
    f.push(encoding_rs::GBK.encode("0010,吴婷,90,\n").0);
    let first_non_utf8 = std::str::from_utf8(&f.bytes).unwrap_err().valid_up_to();
    assert!(first_non_utf8 > 2 * BLOCK);
    ws.write(POINTS, &f.bytes);
    let month = ws.json(&["month", "2009-05"]);
    assert_eq!(month["warnings"], serde_json::json!([]));
    assert_eq!(crate::support::person(&month, "0001")["points"], 81);
    assert_eq!(crate::support::person(&month, "0010")["points"], 90);
}

// Quoted multi-line cells across block ends.

#[test]
fn a_multi_line_quoted_cell_across_the_first_block_end_keeps_every_line_true() {
    let body = "first line\nshe said \"fine\"\r\n\n,a,b,\n\"\"\nlast \"word\"";
    let cell = format!("\"{}\"", body.replace('"', "\"\""));
    let row2 = format!("0002,,8O,{cell}\n");
    let open = "0002,,8O,".len();
    let pair = open + 1 + cell[1..].find("\"\"").unwrap();
    let newline = row2.find('\n').unwrap();
    let close = row2.len() - 2;
    assert_eq!(&row2[pair..pair + 2], "\"\"");
    // Which byte of row 0002 is the last of the first block: the comma before the opening quote,
    // the opening quote, the first quote of an escaped pair, a newline inside the cell, the
    // closing quote.
    for last in [open - 1, open, pair, newline, close] {
        let mut f = File::new("id,name,points,note\n");
        f.push("0001,,91,");
        f.pad_to(BLOCK - 2 - last);
        f.push("\n");
        let straddling = f.line();
        let row_start = f.len();
        f.push(&row2);
        assert_eq!(row_start + last, BLOCK - 1);
        assert_eq!(line_of(&f.bytes, row_start), straddling);
        let late = late_bad_row(&mut f, 450_000);
        two_bad_points(&f, straddling, late);
    }
}

/// The file as May's points sheet: exactly its two errors, "8O" on line `first` and "9O" on
/// line `second` — no line of a quoted cell may be read as a row of its own.
fn two_bad_points(f: &File, first: usize, second: usize) {
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[not_a_number(POINTS, first, "points", "8O"), not_a_number(POINTS, second, "points", "9O")], &[]);
}

/// Rows 0003 to 0010 (those before 0008 with a note of `note` bytes), 0008's points "9O": its
/// line, checked to be a few MiB into the file.
fn late_bad_row(f: &mut File, note: usize) -> usize {
    let mut late = 0;
    for i in 3..=10 {
        let line = f.row(i, "", if i == 8 { "9O" } else { "90" }, if i < 8 { note } else { 10 }, "\n");
        if i == 8 {
            late = line;
        }
    }
    let late_at = f.bytes.windows(8).position(|w| w == b"0008,,9O").unwrap();
    assert!(late_at > 3 * BLOCK, "the late row is a few MiB in ({late_at})");
    assert_eq!(line_of(&f.bytes, late_at), late);
    late
}

#[test]
fn a_quoted_cell_of_many_lines_longer_than_a_block_keeps_every_line_true() {
    // 0002's note opens on the first byte of the second block (the comma before it is the last
    // byte of the first) and closes in the fourth; it has a line end every 40 bytes or so,
    // escaped quotes and commas, and an escaped pair cut by the second block end. The last line
    // end of the second and of the third block are inside it: no cut may be made there.
    let mut f = File::new("id,name,points,note\n");
    f.push("0001,,91,").pad_to(BLOCK - "\n0002,,8O,".len()).push("\n");
    let straddling = f.line();
    f.push("0002,,8O,\"opens on the first byte of block 2");
    let lines = |f: &mut File, until: usize| {
        while f.len() < until {
            f.push("\nsaid \"\"yes\"\", then \"\"no\"\",,, ok");
        }
    };
    lines(&mut f, 2 * BLOCK - 100);
    f.pad_to(2 * BLOCK - 1).push("\"\"");
    lines(&mut f, 3 * BLOCK + 100);
    f.push("\nlast line\"\n");
    assert_eq!(&f.bytes[BLOCK - 1..BLOCK + 1], b",\"");
    assert_eq!(&f.bytes[2 * BLOCK - 1..2 * BLOCK + 1], b"\"\"");
    assert!(f.line() - straddling > 50_000, "the cell has many lines");
    let late = late_bad_row(&mut f, 10);
    two_bad_points(&f, straddling, late);
}

// CRLF line endings and blank lines.

/// A CRLF file of ten rows with runs of blank lines (spaces only, commas only, empty) before
/// the header, between rows and across block ends, and a CRLF pair split by the first block
/// end. Row `bad` gets `value` in its third column, row `renamed` the name "Wu"; returns the
/// bytes and those two rows' lines.
fn crlf_file(header: &str, bad: usize, value: &str, renamed: Option<usize>) -> (Vec<u8>, usize, usize) {
    let blanks = "   \r\n , ,\r\n\r\n,,,\r\n\r\n".repeat(2_000);
    let mut f = File::new("\r\n\r\n");
    f.push(header);
    let (mut bad_line, mut renamed_line) = (0, 0);
    for i in 1..=10 {
        f.push(&blanks);
        let name = if renamed == Some(i) { "Wu" } else { "" };
        let cell = if i == bad { value.to_string() } else { format!("{}", 80 + i) };
        let line = f.line();
        f.push(format!("{},{name},{cell},", id(i)));
        if i == 3 {
            // The row's CR is the last byte of the first block, its LF the first of the second.
            f.pad_to(BLOCK - 1);
        } else if i == 6 {
            // The second block ends inside the blank lines after this row.
            f.pad_to(2 * BLOCK - 30_000);
        } else {
            f.fill(if i < 6 { 300_000 } else { 500_000 });
        }
        f.push("\r\n");
        if i == 3 {
            assert_eq!(&f.bytes[BLOCK - 1..BLOCK + 1], b"\r\n");
        }
        if i == bad {
            bad_line = line;
        }
        if renamed == Some(i) {
            renamed_line = line;
        }
    }
    f.push(&blanks);
    (f.bytes, bad_line, renamed_line)
}

#[test]
fn crlf_and_blank_lines_in_a_multi_mib_points_file_keep_late_lines_true() {
    let (bytes, bad, renamed) = crlf_file("id,name,points,note\r\n", 9, "9O", Some(10));
    let late_at = bytes.windows(8).position(|w| w == b"0009,,9O").unwrap();
    assert!(late_at > 3 * BLOCK, "the bad row is at {late_at}");
    assert_eq!(line_of(&bytes, late_at), bad);
    assert!(bad > 80_000, "blank lines are counted: line {bad}");
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &bytes);
    check_fails(
        &ws,
        &[not_a_number(POINTS, bad, "points", "9O")],
        &[format!(
            "{POINTS}:{renamed}: warning: name \"Wu\" differs from the roster's \"吴婷\" for id 0010: correct the sheet or the roster"
        )],
    );
    // The quarter stops on the same problem.
    let r = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&not_a_number(POINTS, bad, "points", "9O")), "{}", r.stderr);
}

#[test]
fn crlf_and_blank_lines_in_a_multi_mib_kpi_file_keep_late_lines_true() {
    let (bytes, bad, _) = crlf_file("id,name,kpi,note\r\n", 8, "8S", None);
    let at = bytes.windows(8).position(|w| w == b"0008,,8S").unwrap();
    assert!(at > 2 * BLOCK);
    assert_eq!(line_of(&bytes, at), bad);
    let ws = Ws::case("worked-2009Q2");
    ws.write(KPI, &bytes);
    check_fails(&ws, &[not_a_number(KPI, bad, "kpi", "8S")], &[]);
}

// A file that ends inside a quoted cell.

#[test]
fn a_multi_mib_file_that_ends_inside_a_quoted_cell_names_the_line_it_opened_on() {
    // Opened on line 3, in the first block; the rest of the file (rows and all) is that cell.
    let mut f = File::new("id,name,points,note\n");
    f.row(1, "", "91", 10, "\n");
    let opened = f.line();
    f.push("0002,,90,\"never closed\n");
    for i in 3..=10 {
        f.row(i, "", "90", NOTE, "\n");
    }
    assert!(f.len() > 3 * BLOCK);
    assert_eq!(opened, 3);
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[unclosed(opened)], &[]);

    // Opened past 3 MiB, after a closed multi-line cell and an escaped pair split by the first
    // block end; the file ends in an escaped quote (`""`), still inside the cell.
    let mut f = File::new("id,name,points,note\n");
    f.push("0001,,91,\"a \"\"quoted\"\"\nmulti-line\n\nnote\"\n");
    f.push("0002,,90,\"");
    f.pad_to(BLOCK - 1);
    f.push("\"\"\n\"\n"); // `""` split by the block end, then the cell closes
    for i in 3..=9 {
        f.row(i, "", "90", NOTE, "\n");
    }
    let opened = f.line();
    let open_at = f.len() + "0010,,90,".len();
    f.push("0010,,90,\"left open\n");
    f.push("x,y,z\n".repeat(50_000));
    f.push("the end \"\"");
    assert!(open_at > 3 * BLOCK);
    assert_eq!(line_of(&f.bytes, open_at), opened);
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[unclosed(opened)], &[]);
    let r = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(&unclosed(opened)), "{}", r.stderr);
}

#[test]
fn a_multi_mib_file_whose_last_byte_closes_a_quoted_cell_is_read() {
    let mut f = File::new("id,name,points,note\n");
    for i in 1..=9 {
        f.row(i, "", &format!("{}", 80 + i), NOTE, "\n");
    }
    f.push("0010,,90,\"the last note\"");
    assert!(f.len() > 3 * BLOCK);
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &f.bytes);
    let r = check(&ws);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The same in a tiny file (read in one block): also rejected.
    ws.write(POINTS, "id,points\n0001,91\n0002,\"90\"");
    let r = check(&ws);
    assert!(!r.stderr.contains("not closed"), "{}", r.stderr);
}

// A NUL byte after the first block.

#[test]
fn a_nul_byte_after_the_first_mib_is_located() {
    let ws = Ws::case("worked-2009Q2");
    let cases: [(usize, &str); 3] = [
        // In the points of row 0004, in the second block.
        (4, "points"),
        // The very first byte of the second block, in a note.
        (2, "note"),
        // In the note of row 0009, past 3 MiB.
        (9, "note"),
    ];
    for (row, column) in cases {
        let mut f = File::new("id,name,points,note\n");
        let mut nul_at = 0;
        let mut expected = 0;
        for i in 1..=10 {
            let line = f.line();
            if i != row {
                f.row(i, "", "90", NOTE, "\n");
                continue;
            }
            expected = line;
            match (row, column) {
                (2, _) => {
                    f.push("0002,,90,");
                    f.pad_to(BLOCK);
                    nul_at = f.len();
                    f.push("\0tail\n");
                }
                (_, "points") => {
                    f.push(format!("{},,9", id(i)));
                    nul_at = f.len();
                    f.push("\x000,note\n");
                }
                _ => {
                    f.push(format!("{},,90,", id(i))).fill(1000);
                    nul_at = f.len();
                    f.push("\0\n");
                }
            }
        }
        assert!(nul_at >= BLOCK, "the NUL is at {nul_at}");
        assert_eq!(line_of(&f.bytes, nul_at), expected);
        ws.write(POINTS, &f.bytes);
        check_fails(&ws, &[nul(expected, column)], &[]);
    }
}

#[test]
fn a_bad_byte_inside_a_quoted_cell_names_its_column() {
    let ws = Ws::case("worked-2009Q2");
    // A NUL on the second line of 0005's multi-line note, past the first block.
    let mut f = File::new("id,name,points,note\n");
    for i in 1..=4 {
        f.row(i, "", "90", NOTE, "\n");
    }
    f.push("0005,,90,\"first line\nsecond ");
    let nul_at = f.len();
    f.push("\0 line\"\n");
    for i in 6..=10 {
        f.row(i, "", "90", 10, "\n");
    }
    assert!(nul_at > BLOCK);
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[nul(line_of(&f.bytes, nul_at), "note")], &[]);
    // A NUL in the points, after a note that holds a comma.
    let mut f = File::new("id,name,note,points\n");
    for i in 1..=4 {
        f.push(format!("{},,", id(i))).fill(NOTE).push(",90\n");
    }
    let line = f.line();
    f.push("0005,,\"a, b\",9\x000\n");
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[nul(line, "points")], &[]);
}

// Bytes that are neither UTF-8 nor GBK, far into the file.

#[test]
fn an_invalid_gbk_sequence_past_2_mib_is_located() {
    let ws = Ws::case("worked-2009Q2");
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();

    // (a) GBK from line 2 on (so UTF-8 fails in the first block); 0xFF in 0008's note.
    let mut f = File::new("id,name,points,note\n");
    let mut expected = 0;
    let mut bad_at = 0;
    for i in 1..=10 {
        let name = if i <= 2 || i == 10 { NAMES[i - 1] } else { "" };
        if i == 8 {
            expected = f.line();
            f.push(gbk(&format!("{},{name},90,备注", id(i))));
            bad_at = f.len();
            f.push(b"\xFF\xFE\n");
        } else {
            f.push(gbk(&format!("{},{name},90,备注", id(i)))).fill(NOTE).push("\n");
        }
    }
    assert!(bad_at > 2 * BLOCK);
    assert_eq!(line_of(&f.bytes, bad_at), expected);
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[neither(expected, "note")], &[]);

    // (b) ASCII up to 2.5 MiB, then GBK names, then a stray 0xFF in the points past 3 MiB.
    let mut f = File::new("id,name,points,note\n");
    for i in 1..=6 {
        f.row(i, "", "90", NOTE, "\n");
    }
    f.push(gbk("0007,赵磊,90,备注\n"));
    f.push(gbk("0008,黄敏,90,")).push(gbk("备注").repeat(200_000)).push("\n");
    let expected = f.line();
    f.push("0009,,9");
    let bad_at = f.len();
    f.push(b"\xFF0,x\n");
    f.push(gbk("0010,吴婷,90,\n"));
    assert!(f.bytes.iter().position(|b| !b.is_ascii()).unwrap() > 2 * BLOCK);
    assert!(bad_at > 3 * BLOCK);
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[neither(expected, "points")], &[]);

    // (c) An invalid pair (lead byte 0x81, then a space) split by the end of the second block.
    let mut f = File::new("id,name,points,note\n");
    f.push(gbk("0001,张伟,91,备注\n"));
    for i in 2..=5 {
        f.row(i, "", "90", NOTE, "\n");
    }
    let expected = f.line();
    f.push("0006,,90,");
    f.pad_to(2 * BLOCK - 1);
    f.push(b"\x81 tail\n");
    for i in 7..=10 {
        f.row(i, "", "90", NOTE, "\n");
    }
    assert_eq!(f.bytes[2 * BLOCK - 1], 0x81);
    assert_eq!(line_of(&f.bytes, 2 * BLOCK - 1), expected);
    ws.write(POINTS, &f.bytes);
    check_fails(&ws, &[neither(expected, "note")], &[]);
}

#[test]
fn a_stray_byte_past_2_mib_in_a_utf8_file_is_located() {
    let ws = Ws::case("worked-2009Q2");
    // UTF-8 with Chinese names from line 2 on and one stray byte in 0007's note.
    for bom in [false, true] {
        let mut f = File::new(if bom { "\u{feff}id,name,points,note\n" } else { "id,name,points,note\n" });
        let mut expected = 0;
        let mut bad_at = 0;
        for i in 1..=10 {
            if i == 7 {
                expected = f.line();
                f.push(format!("0007,{},90,备注", NAMES[6]));
                bad_at = f.len();
                f.push(b"\xFF\n");
            } else {
                f.push(format!("{},{},90,备注", id(i), NAMES[i - 1])).fill(NOTE).push("\n");
            }
        }
        assert!(bad_at > 2 * BLOCK);
        assert_eq!(line_of(&f.bytes, bad_at), expected);
        ws.write(POINTS, &f.bytes);
        let message = if bom {
            format!("{POINTS}:{expected}: column note: starts with a UTF-8 BOM but has bytes that are not UTF-8")
        } else {
            neither(expected, "note")
        };
        check_fails(&ws, &[message], &[]);
    }
}

// UTF-8 characters cut by a block end.

#[test]
fn utf8_characters_cut_by_block_ends_are_read_whole() {
    let ws = Ws::case("worked-2009Q2");
    // 陈静's name (6 bytes) cut inside each of its characters by the first block end, with and
    // without a BOM; 0009's long Chinese note crosses the second and third block ends.
    for (bom, cuts) in [(false, &[1, 2, 4, 5][..]), (true, &[2, 4][..])] {
        for &cut in cuts {
            let mut f = File::new(if bom { "\u{feff}id,name,points,note\n" } else { "id,name,points,note\n" });
            for i in 1..=3 {
                f.push(format!("{},{},{},", id(i), NAMES[i - 1], 80 + i)).fill(1000).push("\n");
            }
            f.push("0004,刘洋,84,");
            f.pad_to(BLOCK - "0005,".len() - cut - 1);
            f.push("\n");
            let row5 = f.len();
            f.push("0005,陈静,85,\n");
            assert_eq!(&f.bytes[row5 + 5..row5 + 11], "陈静".as_bytes());
            assert_eq!(row5 + 5 + cut, BLOCK);
            for i in 6..=8 {
                f.push(format!("{},{},{},", id(i), NAMES[i - 1], 80 + i)).fill(200_000).push("\n");
            }
            let note = f.len() + "0009,周杰,89,".len();
            f.push(format!("0009,周杰,89,{}\n", "备".repeat(600_000)));
            assert!(note < 2 * BLOCK && f.len() > 3 * BLOCK);
            f.push("0010,吴婷,90,\n");
            ws.write(POINTS, &f.bytes);
            let month = ws.json(&["month", "2009-05"]);
            assert_eq!(month["warnings"], serde_json::json!([]), "bom {bom}, cut {cut}");
            let points: Vec<_> = (1..=10).map(|i| crate::support::person(&month, &id(i))["points"].clone()).collect();
            assert_eq!(points, (81..=90).map(serde_json::Value::from).collect::<Vec<_>>());
        }
    }
}

// Several large files in one run (monthly files are read in parallel).

#[test]
fn problems_in_several_large_files_each_name_their_own_file_and_line() {
    let ws = Ws::case("worked-2009Q2");
    let mut expected = Vec::new();
    // April: UTF-8, a bad value in row 0008.
    let mut f = File::new("id,name,points,note\n");
    for i in 1..=10 {
        let line = f.row(i, "", if i == 8 { "9O" } else { "90" }, 250_000, "\n");
        if i == 8 {
            expected.push(not_a_number("data/points/2009-04.csv", line, "points", "9O"));
        }
    }
    ws.write("data/points/2009-04.csv", &f.bytes);
    // May: read again as GBK for its last line; a bad value in row 0001, found by both readings.
    let mut f = File::new("id,name,points,note\n");
    let line = f.row(1, "", "8O", 10, "\n");
    expected.push(not_a_number(POINTS, line, "points", "8O"));
    for i in 2..=9 {
        f.row(i, "", "90", 250_000, "\n");
    }
    f.push(encoding_rs::GBK.encode("0010,吴婷,90,\n").0);
    ws.write(POINTS, &f.bytes);
    // June: a quote opened on row 0003 is never closed.
    let mut f = File::new("id,name,points,note\n");
    for i in 1..=10 {
        if i == 3 {
            expected.push(format!("data/points/2009-06.csv:{}: a quoted cell is not closed", f.line()));
            f.push("0003,,90,\"open\n");
        } else {
            f.row(i, "", "90", 250_000, "\n");
        }
    }
    ws.write("data/points/2009-06.csv", &f.bytes);
    // May's KPI: CRLF, a bad value in row 0009.
    let mut f = File::new("id,name,kpi,note\r\n");
    for i in 1..=10 {
        let line = f.row(i, "", if i == 9 { "8S" } else { "90" }, 250_000, "\r\n");
        if i == 9 {
            expected.push(not_a_number(KPI, line, "kpi", "8S"));
        }
    }
    ws.write(KPI, &f.bytes);
    check_fails(&ws, &expected, &[]);
    for args in [["quarter", "2009Q2"], ["year", "2009"]] {
        let r = ws.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        for message in &expected {
            assert!(
                r.stderr.lines().any(|l| l.starts_with(message.as_str())),
                "{args:?}: no {message:?} in:\n{}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_multi_mib_file_with_lone_cr_line_ends_keeps_late_lines_true() {
    // Excel for Mac's "CSV (Macintosh)" ends lines with a lone CR. The same layout as an LF
    // file, every LF made a CR (a quoted two-line note included): the lines must be the same.
    let mut f = File::new("id,name,points,note\n");
    f.row(1, "", "91", 300_000, "\n");
    f.push("0002,,90,\"a note\non two lines\"\n");
    let early = f.row(3, "", "8O", 10, "\n");
    for i in 4..=7 {
        f.row(i, "", "90", 500_000, "\n");
    }
    let late = f.row(8, "", "9O", 10, "\n");
    f.row(9, "", "90", 10, "\n");
    assert!(f.len() > 2 * BLOCK);
    let bytes: Vec<u8> = f.bytes.iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect();
    let ws = Ws::case("worked-2009Q2");
    ws.write(POINTS, &bytes);
    check_fails(&ws, &[not_a_number(POINTS, early, "points", "8O"), not_a_number(POINTS, late, "points", "9O")], &[]);
}
