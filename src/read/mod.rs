//! The one tolerant reader: bytes in any encoding SPEC § 2 allows → a table of trimmed cells
//! whose columns are matched by canonical name or alias, each row remembering its line.
//! `values` parses cell spellings; `files` turns tables into validated domain rows.

mod cut;
pub mod files;
pub mod sheet;
pub mod values;

use crate::error::Problem;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// Decodes a data file: BOM → UTF-8; else strict UTF-8; else strict GB18030 (a superset of
/// GBK, what Excel and WPS save on Chinese Windows); else an error. Never replaces bytes.
/// The error carries the byte offset of the first byte that fits neither.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), (usize, String)> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(|s| (Cow::Borrowed(s), "UTF-8 with BOM")).map_err(|e| {
            (
                e.valid_up_to() + 3,
                "starts with a UTF-8 BOM but has bytes that are not UTF-8: re-save the file as \"CSV UTF-8\""
                    .to_string(),
            )
        });
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(s), "UTF-8"));
    }
    // Not UTF-8 as a whole. Point at the bad byte of whichever encoding read further: that
    // is the one the file was meant to be in (a GBK pair can pass for UTF-8 by chance).
    let utf8_end = std::str::from_utf8(bytes).err().map_or(bytes.len(), |e| e.valid_up_to());
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    // decode_to_string writes only into spare capacity (one GB18030 byte can become three
    // UTF-8 bytes), so give it what encoding_rs says it may need, and more if it asks.
    let needed = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3);
    let mut text = String::with_capacity(needed);
    let mut consumed = 0;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(&bytes[consumed..], &mut text, true);
        consumed += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok((Cow::Owned(text), "GB18030")),
            encoding_rs::DecoderResult::OutputFull => text.reserve(bytes.len() - consumed + 16),
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                return Err((
                    utf8_end.max(consumed.saturating_sub(bad as usize + after as usize)),
                    "has bytes that are neither UTF-8 nor GBK/GB18030: save it as \"CSV UTF-8\" or \"CSV (逗号分隔)\""
                        .to_string(),
                ))
            }
        }
    }
}

/// Names where an undecodable (or NUL) byte sits: `file:line: column X:` from its byte
/// offset. Reads the file again up to there, keeping only its first line and the current one.
fn encoding_problem(file: &str, open: &Open<'_>, offset: u64, message: &str) -> Problem {
    let (mut line, mut header, mut column) = (1u64, Vec::new(), 0usize);
    // Commas and line breaks inside a quoted cell neither separate columns nor end the row.
    let (mut quoted, mut at_cell_start, mut just_closed) = (false, true, false);
    // A CR that no LF follows ends a line too (old Mac files): known one byte later.
    let mut after_cr = false;
    let mut at = 0u64;
    if let Ok(mut reader) = open() {
        let mut chunk = vec![0u8; 64 * 1024];
        'read: while at < offset {
            let n = match reader.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            for &b in &chunk[..n] {
                if at == offset {
                    break 'read;
                }
                at += 1;
                if after_cr && b != b'\n' {
                    line += 1;
                    if !quoted {
                        column = 0;
                    }
                }
                after_cr = b == b'\r';
                if line == 1 && b != b'\n' {
                    header.push(b);
                }
                if b == b'"' && quoted {
                    quoted = false;
                    just_closed = true;
                } else if b == b'"' && (at_cell_start || just_closed) {
                    // A cell's opening quote, or the second quote of a `""` pair.
                    quoted = true;
                    just_closed = false;
                } else {
                    just_closed = false;
                }
                if b == b'\n' {
                    line += 1;
                }
                if !quoted && b == b',' {
                    column += 1;
                } else if !quoted && b == b'\n' {
                    column = 0;
                }
                at_cell_start = !quoted && matches!(b, b',' | b'\n' | b'\r');
            }
        }
    }
    let header_bytes = header.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&header);
    let header = decode(header_bytes)
        .ok()
        .and_then(|(h, _)| h.split(',').nth(column).map(|c| values::trim(c).to_string()))
        .filter(|h| !h.is_empty() && line > 1)
        .unwrap_or_else(|| format!("{}", column + 1));
    Problem::at(file, line, format!("column {header}: {message}"))
}

/// Opens a data file from its start, as often as needed: reading starts over when a file
/// turns out not to be UTF-8, and an encoding error is located by a second pass. Neither
/// holds the file in memory.
pub type Open<'a> = dyn Fn() -> std::io::Result<Box<dyn Read + 'a>> + 'a;

/// Where a streamed file's rows go.
pub trait Rows {
    /// The header has been read and matched. Called again, with everything before undone by
    /// the caller, when a file read as UTF-8 turns out to be GB18030 further down: start afresh.
    fn start(&mut self, table: &Table);
    /// One data row (blank rows are skipped).
    fn row(&mut self, table: &Table, row: &Row);
}

/// Keeps every row in the table: for workbooks, ingest and tests, where files are small.
struct Keep(Vec<Row>);

impl Rows for Keep {
    fn start(&mut self, _: &Table) {
        self.0.clear();
    }

    fn row(&mut self, _: &Table, row: &Row) {
        self.0.push(row.clone());
    }
}

const NUL_MESSAGE: &str = "contains a NUL byte (an .xlsx or UTF-16 file renamed to .csv?): export it as \"CSV UTF-8\", or ingest the workbook itself";
const BOM_MESSAGE: &str = "starts with a UTF-8 BOM but has bytes that are not UTF-8: re-save the file as \"CSV UTF-8\"";
const NEITHER_MESSAGE: &str =
    "has bytes that are neither UTF-8 nor GBK/GB18030: save it as \"CSV UTF-8\" or \"CSV (逗号分隔)\"";

/// How much of a file is read, decoded and parsed at a time. Small enough that the block, its
/// decoded text and the passes over them (UTF-8 check, quote scan, cells) stay in the core's
/// own cache: 1 MiB blocks made a company's year 2-4 % slower (docs/performance.md, session 16;
/// 64 and 128 KiB were no faster than 256).
const BLOCK: usize = 1 << 18;

/// How a file is cut for parsing: in blocks of `block` bytes, quote-free ones split by
/// `plain_block` when `split_plain`. Tests compare other cuttings with the tool's own.
#[derive(Clone, Copy)]
struct Cutting {
    block: usize,
    split_plain: bool,
}

/// Why one pass over a file stopped.
enum Pass {
    Done(Table),
    /// Not UTF-8 after all (and no BOM said it was): read it again as GB18030. Holds the
    /// offset of the first byte that is not UTF-8.
    NotUtf8(u64),
    Failed(Vec<Problem>),
}

/// Fills `buf` as far as the reader goes; fewer bytes only at the end of the file.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Tracks whether the text so far ends inside a quoted cell, and where the last one opened.
/// The csv crate would silently take everything up to the end of the file as that cell.
#[derive(Default)]
struct Quotes {
    /// Newlines seen before the scan position.
    lines: u64,
    opened_at: u64,
    quoted: bool,
    at_cell_start: bool,
    /// A `"` ended the last scan inside a quoted cell: it may be the first of a `""` pair.
    pending_quote: bool,
    /// A CR ended the last scan: a line break if no LF follows (then a cut too, when it was
    /// outside quotes), else the first half of a CRLF.
    pending_cr: Option<bool>,
}

impl Quotes {
    fn new() -> Quotes {
        Quotes { at_cell_start: true, ..Quotes::default() }
    }

    /// Scans more text; returns the end of its last line that ends outside a quoted cell
    /// (where the text can be cut into complete records), if any.
    fn scan(&mut self, text: &[u8]) -> Option<usize> {
        let mut cut = None;
        if let Some(outside) = self.pending_cr.take() {
            if text.first().is_some_and(|&b| b != b'\n') {
                self.lines += 1;
                cut = outside.then_some(0);
            }
        }
        // Most files quote nothing: then every line ends outside quotes.
        if !self.quoted && !self.pending_quote && !text.contains(&b'"') {
            // A CR at the very end is undecided until the next byte: CRLF or a lone CR.
            let decided = if text.last() == Some(&b'\r') { text.len() - 1 } else { text.len() };
            self.pending_cr = (decided < text.len()).then_some(true);
            self.lines += count_breaks(text, 0, decided);
            if let Some(&last) = text.last() {
                self.at_cell_start = matches!(last, b',' | b'\n' | b'\r');
            }
            let last_break = (0..decided).rev().find(|&i| is_break(text, i));
            return last_break.map(|p| p + 1).or(cut);
        }
        let mut i = 0;
        if self.pending_quote {
            self.pending_quote = false;
            if text.first() == Some(&b'"') {
                i = 1; // an escaped quote: still inside
            } else {
                self.quoted = false;
            }
        }
        while i < text.len() {
            let b = text[i];
            if self.quoted {
                if b == b'"' {
                    match text.get(i + 1) {
                        Some(b'"') => i += 1,
                        Some(_) => self.quoted = false,
                        None => self.pending_quote = true,
                    }
                }
            } else if b == b'"' && self.at_cell_start {
                self.quoted = true;
                self.opened_at = self.lines + 1;
            }
            if b == b'\r' && i + 1 == text.len() {
                self.pending_cr = Some(!self.quoted && !self.pending_quote);
            } else if is_break(text, i) {
                self.lines += 1;
                if !self.quoted && !self.pending_quote {
                    cut = Some(i + 1);
                }
            }
            self.at_cell_start = !self.quoted && matches!(b, b',' | b'\n' | b'\r');
            i += 1;
        }
        cut
    }

    /// At the end of the text: the line where a quoted cell that never closes opened. A
    /// quote pending at the very end closes its cell (there is no second quote to pair it).
    fn unclosed(&self) -> Option<u64> {
        (self.quoted && !self.pending_quote).then_some(self.opened_at)
    }
}

/// The header and data rows of a stream of CSV text, cut into blocks of whole lines.
struct Records<'s> {
    file: &'s str,
    columns: &'s [Column],
    aliases: &'s Aliases,
    encoding: &'static str,
    /// The line the next block starts on.
    next_line: u64,
    table: Option<Table>,
    row: Row,
    /// The csv crate's record, for blocks it reads (copied into `row`).
    parsed: csv::StringRecord,
    /// Split blocks without a quote at commas and line ends ourselves (see `plain_block`);
    /// off only for tests that compare the two ways.
    split_plain: bool,
}

impl Records<'_> {
    /// Parses whole lines of text (a block), giving the header to `start` and rows to `row`.
    ///
    /// After the first block, `text` starts with the line break that ended the block before
    /// (`kept`: 1 byte): the csv crate takes a BOM at the very start of its input for the
    /// file's own and drops it, and a line may begin with U+FEFF (files joined with `cat`).
    fn block(&mut self, text: &str, kept: usize, sink: &mut dyn Rows) -> Result<(), Vec<Problem>> {
        if self.split_plain && memchr::memchr(b'"', text.as_bytes()).is_none() {
            return self.plain_block(text, kept, sink);
        }
        let text = text.as_bytes();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
        let mut lines = LineCounter { offset: kept, line: self.next_line - 1 };
        // The csv crate drops a BOM at the start of the text and counts its bytes in every
        // position but the first record's, which it leaves at 0.
        let dropped = if kept == 0 && text.starts_with("\u{FEFF}".as_bytes()) { 3 } else { 0 };
        let offset = |byte: u64| if byte == 0 { dropped } else { byte as usize };
        loop {
            match reader.read_record(&mut self.parsed) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = match e.position() {
                        Some(p) => lines.line_at(text, offset(p.byte())),
                        None => self.next_line,
                    };
                    return Err(vec![Problem::at(self.file, line, format!("cannot read CSV: {}", csv_error_text(&e)))]);
                }
            }
            let line = lines.line_at(text, offset(self.parsed.position().map_or(0, |p| p.byte())));
            self.row.cells.clear();
            self.parsed.iter().for_each(|cell| self.row.cells.push(cell));
            self.record(line, sink)?;
        }
        // The counter has counted the breaks up to its offset: only the rest is left to count.
        self.next_line = lines.line + count_breaks(text, lines.offset, text.len()) + 1;
        Ok(())
    }

    /// `block` for text without a single quote, which is most files: then every line is one
    /// record and every comma ends a cell, so the cells are cut straight out of the text
    /// (`cut::Lines`), which is already known to be UTF-8 (the csv crate would check each
    /// record again). Reads exactly what the csv crate reads: CR, LF and CRLF end lines, empty
    /// lines are no records, and a BOM at the very start of the text is dropped.
    fn plain_block(&mut self, text: &str, kept: usize, sink: &mut dyn Rows) -> Result<(), Vec<Problem>> {
        let mut rest = &text[kept..];
        if kept == 0 {
            rest = rest.strip_prefix('\u{FEFF}').unwrap_or(rest);
        }
        let mut line = self.next_line;
        let mut lines = cut::Lines::new(rest);
        while let Some(ended) = self.row.cells.take_line(&mut lines) {
            self.record(line, sink)?;
            line += u64::from(ended);
        }
        self.next_line = line;
        Ok(())
    }

    /// The record just read, on `line`: the header, or a row for `sink`; blank ones are skipped.
    fn record(&mut self, line: u64, sink: &mut dyn Rows) -> Result<(), Vec<Problem>> {
        if self.row.cells.blank() {
            return Ok(());
        }
        self.row.line = line;
        match &self.table {
            Some(table) => sink.row(table, &self.row),
            None => {
                let headers: Vec<String> = self.row.cells.iter().map(|c| values::trim(c).to_string()).collect();
                let matched = match_header(self.file, self.row.line, &headers, self.columns, self.aliases)?;
                let table = Table {
                    file: Arc::from(self.file),
                    encoding: self.encoding.to_string(),
                    headers,
                    header_line: self.row.line,
                    matched,
                    rows: Vec::new(),
                };
                sink.start(&table);
                self.table = Some(table);
            }
        }
        Ok(())
    }
}

/// One pass over a file: decode block by block (UTF-8, or GB18030 with `gb18030`), cut the
/// text at line ends outside quotes, parse each block. Memory holds a block, not the file.
///
/// `gb18030` holds, when reading as GB18030, where UTF-8 failed: an undecodable byte is
/// reported at whichever encoding read further (a GBK pair can pass for UTF-8 by chance).
fn pass(
    file: &str,
    open: &Open<'_>,
    gb18030: Option<u64>,
    columns: &[Column],
    aliases: &Aliases,
    sink: &mut dyn Rows,
    Cutting { block, split_plain }: Cutting,
) -> Pass {
    let one = |line: u64, message: String| Pass::Failed(vec![Problem::at(file, line, message)]);
    let mut reader = match open() {
        Ok(r) => r,
        Err(e) => return Pass::Failed(vec![Problem::new(file, crate::error::io_text(&e))]),
    };
    let mut raw = vec![0u8; block];
    let mut carry = 0; // bytes of a UTF-8 sequence cut by the block's end, moved to raw's start
    let mut offset = 0u64; // of raw[0] in the file
    let mut bom = false;
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    // Always UTF-8: what was checked to be, or what the GB18030 decoder wrote.
    let mut text = String::with_capacity(block + block / 2);
    let mut scanned = 0;
    // Bytes at the start of `text` already parsed with the block before (see `Records::block`).
    let mut kept = 0;
    // A problem found part way is given only once the whole file is decoded (a byte that is not
    // UTF-8, or a NUL, further on is the file's first problem); the rows are not read further.
    let (mut failed, mut nul): (Option<Vec<Problem>>, Option<u64>) = (None, None);
    let mut quotes = Quotes::new();
    let mut records = Records {
        file,
        columns,
        aliases,
        encoding: if gb18030.is_some() { "GB18030" } else { "UTF-8" },
        next_line: 1,
        table: None,
        row: Row { line: 0, cells: Cells::default() },
        parsed: csv::StringRecord::new(),
        split_plain,
    };
    let mut first = true;
    loop {
        let n = match read_full(&mut reader, &mut raw[carry..]) {
            Ok(n) => n,
            Err(e) => return Pass::Failed(vec![Problem::new(file, crate::error::io_text(&e))]),
        };
        let total = carry + n;
        let eof = total < raw.len();
        let chunk = &raw[..total];
        let mut start = 0;
        if first {
            first = false;
            if gb18030.is_none() && chunk.starts_with(b"\xEF\xBB\xBF") {
                bom = true;
                records.encoding = "UTF-8 with BOM";
                start = 3;
            }
        }
        let consumed = match gb18030 {
            Some(utf8_end) => {
                let mut input = &chunk[start..];
                let mut next = offset + start as u64; // the file offset of input[0]
                loop {
                    // The decoder writes only into spare capacity: room for the worst case.
                    let room = decoder.max_utf8_buffer_length_without_replacement(input.len());
                    text.reserve(room.unwrap_or(input.len() * 3).max(16));
                    let (result, read) = decoder.decode_to_string_without_replacement(input, &mut text, eof);
                    input = &input[read..];
                    next += read as u64;
                    match result {
                        encoding_rs::DecoderResult::InputEmpty => break,
                        encoding_rs::DecoderResult::OutputFull => {}
                        encoding_rs::DecoderResult::Malformed(bad, after) => {
                            let at = utf8_end.max(next - u64::from(bad) - u64::from(after));
                            return Pass::Failed(vec![encoding_problem(file, open, at, NEITHER_MESSAGE)]);
                        }
                    }
                }
                total
            }
            None => {
                // simdutf8 gives the same answers as `std::str::from_utf8`, several times faster
                // on text where Chinese names break up the ASCII (std's fast path is for ASCII).
                let valid = match simdutf8::compat::from_utf8(&chunk[start..]) {
                    Ok(valid) => valid,
                    // A sequence cut by the block's end: finish it with the next block.
                    Err(e) if e.error_len().is_none() && !eof => {
                        simdutf8::compat::from_utf8(&chunk[start..start + e.valid_up_to()])
                            .expect("the bytes before the cut sequence were found to be UTF-8")
                    }
                    Err(e) => {
                        let at = offset + (start + e.valid_up_to()) as u64;
                        if bom {
                            return Pass::Failed(vec![encoding_problem(file, open, at, BOM_MESSAGE)]);
                        }
                        return Pass::NotUtf8(at);
                    }
                };
                text.push_str(valid);
                start + valid.len()
            }
        };
        if nul.is_none() {
            nul = memchr::memchr(0, &chunk[..consumed]).map(|at| offset + at as u64);
        }
        raw.copy_within(consumed..total, 0);
        carry = total - consumed;
        offset += consumed as u64;
        // Parse the whole lines decoded so far; keep the rest for the next block.
        let cut = if eof { Some(text.len()) } else { quotes.scan(&text.as_bytes()[scanned..]).map(|c| scanned + c) };
        if eof {
            quotes.scan(&text.as_bytes()[scanned..]);
        }
        if let Some(cut) = cut {
            if failed.is_none() && nul.is_none() {
                if let Err(p) = records.block(&text[..cut], kept, sink) {
                    failed = Some(p);
                }
            }
            if eof {
                break;
            }
            // Keep the line break that ends the block: the next block starts with it.
            text.drain(..cut - 1);
            kept = 1;
        }
        scanned = text.len();
        if eof {
            break;
        }
    }
    // The whole file is decoded: its problems in the order a reading of the whole file would
    // find them, wherever the blocks fell — bytes, then quotes, then rows.
    if let Some(at) = nul {
        return Pass::Failed(vec![encoding_problem(file, open, at, NUL_MESSAGE)]);
    }
    if let Some(line) = quotes.unclosed() {
        return one(line, "a quoted cell is not closed: a quote (\") opens here and the file ends inside it (truncated?): close it or remove it".to_string());
    }
    if let Some(problems) = failed {
        return Pass::Failed(problems);
    }
    match records.table {
        Some(table) => Pass::Done(table),
        None => Pass::Failed(vec![Problem::new(file, "is empty: it needs a header row")]),
    }
}

/// A column a file kind knows: its canonical name and built-in aliases.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str, aliases: &'static [&'static str]) -> Column {
        Column { name, aliases, required: true }
    }

    pub const fn optional(name: &'static str, aliases: &'static [&'static str]) -> Column {
        Column { name, aliases, required: false }
    }
}

/// Extra header aliases from the workspace's `[columns.aliases]`: canonical → aliases.
pub type Aliases = HashMap<String, Vec<String>>;

/// One data row: its 1-based line in the file and its cells, in one buffer (trimmed when read).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub(crate) cells: Cells,
}

/// A record's cells in one buffer: their text joined by commas, and where each ends. A line
/// without quotes is taken as it is, in one copy (its commas are the separators); cells with
/// quotes are pushed one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cells {
    text: String,
    ends: Vec<usize>,
}

impl Cells {
    /// Cell `i`, if the record has it.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        // Cells start and end at commas or the ends of the text: always on a character boundary.
        self.text.get(start..end)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether every cell is blank once trimmed. A record starting with a visible ASCII
    /// character (nearly every one: an id) is decided on that byte.
    fn blank(&self) -> bool {
        let starts_visible = self.text.as_bytes().first().is_some_and(|&b| b.is_ascii_graphic() && b != b',');
        !starts_visible && self.iter().all(|c| values::trim(c).is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn push(&mut self, cell: &str) {
        if !self.ends.is_empty() {
            self.text.push(',');
        }
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    /// The next line of quote-free text as the record: its text, and where `lines` found its
    /// cells end (every comma ends a cell; commas are ASCII, so the cells are whole UTF-8).
    /// `None` at the text's end, else whether a line end followed the line.
    fn take_line(&mut self, lines: &mut cut::Lines<'_>) -> Option<bool> {
        let line = lines.next_line(&mut self.ends)?;
        self.text.clear();
        self.text.push_str(line.text);
        Some(line.ended)
    }
}

impl<S: AsRef<str>> FromIterator<S> for Cells {
    fn from_iter<I: IntoIterator<Item = S>>(cells: I) -> Cells {
        let mut out = Cells::default();
        cells.into_iter().for_each(|cell| out.push(cell.as_ref()));
        out
    }
}

/// A decoded file (CSV, or one worksheet of a workbook) with its header matched against a
/// kind's columns.
#[derive(Debug)]
pub struct Table {
    pub file: Arc<str>,
    /// How the cells were read: the text encoding of a CSV file, or `sheet NAME`.
    pub encoding: String,
    /// Headers as written in the file (trimmed), for messages.
    pub headers: Vec<String>,
    /// The line of the header row.
    pub header_line: u64,
    /// Canonical column → header index; a handful, so a list beats hashing on every cell.
    matched: Vec<(&'static str, usize)>,
    pub rows: Vec<Row>,
}

/// The header spellings a column accepts: its name, its built-in aliases, the workspace's.
fn accepted<'a>(column: &'a Column, aliases: &'a Aliases) -> Vec<&'a str> {
    let extra = aliases.get(column.name).map(Vec::as_slice).unwrap_or_default();
    std::iter::once(column.name).chain(column.aliases.iter().copied()).chain(extra.iter().map(String::as_str)).collect()
}

fn same_header(accepted: &str, header: &str) -> bool {
    accepted.trim().eq_ignore_ascii_case(values::trim(header))
}

/// How many cells of a row name a known column (or one of `extra`, such as the rubric's
/// item names): a worksheet's header is the row that names the most.
pub fn header_score(cells: &[String], columns: &[Column], aliases: &Aliases, extra: &[String]) -> usize {
    let known: Vec<&str> =
        columns.iter().flat_map(|c| accepted(c, aliases)).chain(extra.iter().map(String::as_str)).collect();
    cells.iter().filter(|cell| known.iter().any(|k| same_header(k, cell))).count()
}

/// Matches a header row against a kind's columns: each column found at most once; a missing
/// required column or two cells meaning the same column is a problem on the header's line.
fn match_header(
    file: &str,
    line: u64,
    headers: &[String],
    columns: &[Column],
    aliases: &Aliases,
) -> Result<Vec<(&'static str, usize)>, Vec<Problem>> {
    let mut matched = Vec::new();
    let mut problems = Vec::new();
    for column in columns {
        let accepted = accepted(column, aliases);
        match hits(headers, &accepted).as_slice() {
            [] if column.required => problems.push(Problem::at(
                file,
                line,
                format!("no `{}` column: name one of the header cells {}", column.name, accepted.join(", ")),
            )),
            [] => {}
            [i] => {
                matched.push((column.name, *i));
            }
            [first, second, ..] => problems.push(both_mean(file, line, headers, *first, *second, column.name)),
        }
    }
    if problems.is_empty() {
        Ok(matched)
    } else {
        Err(problems)
    }
}

/// The header positions that spell one of the accepted names.
fn hits(headers: &[String], accepted: &[&str]) -> Vec<usize> {
    headers.iter().enumerate().filter(|(_, h)| accepted.iter().any(|a| same_header(a, h))).map(|(i, _)| i).collect()
}

fn both_mean(file: &str, line: u64, headers: &[String], first: usize, second: usize, name: &str) -> Problem {
    Problem::at(
        file,
        line,
        format!("columns \"{}\" and \"{}\" both mean `{name}`: keep one", headers[first], headers[second]),
    )
}

impl Table {
    /// Parses `bytes` as CSV, keeping every row; the first non-blank record is the header.
    pub fn parse(file: &str, bytes: &[u8], columns: &[Column], aliases: &Aliases) -> Result<Table, Vec<Problem>> {
        Table::parse_in_blocks(file, bytes, columns, aliases, BLOCK, true)
    }

    /// `parse`, reading `block` bytes at a time (the fuzz target compares small blocks with
    /// the real size: every cut between blocks must read the same rows), and with
    /// `split_plain` off, every block by the csv crate (which must read the same rows too).
    pub(crate) fn parse_in_blocks(
        file: &str,
        bytes: &[u8],
        columns: &[Column],
        aliases: &Aliases,
        block: usize,
        split_plain: bool,
    ) -> Result<Table, Vec<Problem>> {
        let open = || Ok(Box::new(bytes) as Box<dyn Read + '_>);
        let mut keep = Keep(Vec::new());
        let mut table =
            Table::stream_in_blocks(file, &open, columns, aliases, &mut keep, Cutting { block, split_plain })?;
        table.rows = keep.0;
        Ok(table)
    }

    /// Reads a CSV file block by block, giving its rows to `sink` as they are parsed (the
    /// returned table holds the header, no rows): memory holds a block, never the file.
    /// UTF-8 (with or without BOM) is tried first; a file that is not UTF-8 is read again as
    /// GB18030, and `sink` starts afresh.
    pub fn stream(
        file: &str,
        open: &Open<'_>,
        columns: &[Column],
        aliases: &Aliases,
        sink: &mut dyn Rows,
    ) -> Result<Table, Vec<Problem>> {
        Table::stream_in_blocks(file, open, columns, aliases, sink, Cutting { block: BLOCK, split_plain: true })
    }

    fn stream_in_blocks(
        file: &str,
        open: &Open<'_>,
        columns: &[Column],
        aliases: &Aliases,
        sink: &mut dyn Rows,
        cutting: Cutting,
    ) -> Result<Table, Vec<Problem>> {
        // A block holds at least the end of a UTF-8 or GB18030 character cut by the block
        // before (up to three bytes carried over) and one byte more: a smaller one would
        // never read on.
        let cutting = Cutting { block: cutting.block.max(4), ..cutting };
        let mut utf8_end = None;
        loop {
            match pass(file, open, utf8_end, columns, aliases, sink, cutting) {
                Pass::Done(table) => return Ok(table),
                Pass::Failed(problems) => return Err(problems),
                Pass::NotUtf8(at) if utf8_end.is_none() => utf8_end = Some(at),
                Pass::NotUtf8(_) => unreachable!("a GB18030 pass never asks for another"),
            }
        }
    }

    /// Builds a table from rows already split into cells (each with its 1-based line), such
    /// as a worksheet's: cells are trimmed, blank rows skipped, and the first row left is the
    /// header. `encoding` says how the rows were read (`GB18030`, `sheet 2009-05`).
    pub fn from_rows(
        file: &str,
        encoding: impl Into<String>,
        rows: Vec<(u64, Vec<String>)>,
        columns: &[Column],
        aliases: &Aliases,
    ) -> Result<Table, Vec<Problem>> {
        let rows = rows.into_iter().map(|(line, cells)| Row { line, cells: cells.into_iter().collect() }).collect();
        Table::build(file, encoding, rows, columns, aliases)
    }

    /// The shared second half of `parse` and `from_rows`: blank rows skipped, the first row
    /// left is the header, matched against the columns.
    fn build(
        file: &str,
        encoding: impl Into<String>,
        rows: Vec<Row>,
        columns: &[Column],
        aliases: &Aliases,
    ) -> Result<Table, Vec<Problem>> {
        let file: Arc<str> = Arc::from(file);
        let mut rows = rows.into_iter().filter(|row| !row.cells.iter().all(|c| values::trim(c).is_empty()));
        let header =
            rows.next().ok_or_else(|| vec![Problem::new(file.to_string(), "is empty: it needs a header row")])?;
        let headers: Vec<String> = header.cells.iter().map(|c| values::trim(c).to_string()).collect();
        let matched = match_header(&file, header.line, &headers, columns, aliases)?;
        Ok(Table { file, encoding: encoding.into(), headers, header_line: header.line, matched, rows: rows.collect() })
    }

    /// Rewrites every data cell through `f`, e.g. to take off the formula guard a spreadsheet
    /// export put on text (ingest does; the data folder itself is read as written).
    pub fn map_cells(&mut self, f: impl Fn(&str) -> &str) {
        for row in &mut self.rows {
            row.cells = row.cells.iter().map(|cell| f(values::trim(cell))).collect();
        }
    }

    fn column_index(&self, column: &str) -> Option<usize> {
        self.matched.iter().find(|(name, _)| *name == column).map(|&(_, i)| i)
    }

    /// The header index a canonical column was matched to.
    pub fn index(&self, column: &str) -> Option<usize> {
        self.column_index(column)
    }

    pub fn has(&self, column: &str) -> bool {
        self.column_index(column).is_some()
    }

    /// The header text the file used for a canonical column (for messages).
    pub fn header<'a>(&'a self, column: &'a str) -> &'a str {
        self.column_index(column).map_or(column, |i| self.headers[i].as_str())
    }

    /// A row's cell for a canonical column; "" when the column or the cell is absent.
    pub fn cell<'r>(&self, row: &'r Row, column: &str) -> &'r str {
        self.column_index(column).and_then(|i| row.cells.get(i)).map_or("", values::trim)
    }

    /// A row's cell by header index.
    pub fn cell_at(row: &Row, index: usize) -> &str {
        row.cells.get(index).map_or("", values::trim)
    }

    /// Index of the header that spells `name` (as the header matcher compares).
    pub fn find_header(&self, name: &str) -> Option<usize> {
        hits(&self.headers, &[name]).first().copied()
    }

    /// The column of a rubric item (a name not known in advance), or a problem when two
    /// header cells spell it — exactly as for the fixed columns.
    pub fn item_column(&self, name: &str) -> Result<Option<usize>, Problem> {
        match hits(&self.headers, &[name]).as_slice() {
            [] => Ok(None),
            [i] => Ok(Some(*i)),
            [first, second, ..] => Err(both_mean(&self.file, self.header_line, &self.headers, *first, *second, name)),
        }
    }

    /// A `file:line: column X: message` problem.
    pub fn problem(&self, row: &Row, column: &str, message: impl std::fmt::Display) -> Problem {
        Problem::at(&self.file, row.line, format!("column {}: {message}", self.header(column)))
    }
}

/// Whether a line ends at `text[i]`: an LF, or a CR that no LF follows (old Mac files end
/// lines with a lone CR; Excel on Windows with CRLF, counted once, at the LF). A CR at the
/// end of `text` counts: callers give whole lines, or the end of the file.
fn is_break(text: &[u8], i: usize) -> bool {
    match text[i] {
        b'\n' => true,
        b'\r' => text.get(i + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// How many lines end in `text[from..to]` (see `is_break`).
fn count_breaks(text: &[u8], from: usize, to: usize) -> u64 {
    // A record's stretch (a line or so) in one pass; memchr pays off over whole blocks.
    if to - from < 256 {
        return (from..to).filter(|&i| is_break(text, i)).count() as u64;
    }
    let span = &text[from..to];
    let lf = memchr::memchr_iter(b'\n', span).count();
    // CRLF files have a CR on every line: count only the lone ones.
    let lone_cr = memchr::memchr_iter(b'\r', span).filter(|&i| is_break(text, from + i)).count();
    (lf + lone_cr) as u64
}

/// Turns a record's byte offset into its 1-based line. The csv crate's own line count is
/// wrong after CRLF endings (what Excel writes) and blank lines, and its offset points at the
/// line break before the record, so skip those and count newlines, incrementally.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: usize) -> u64 {
        let start = offset + text[offset.min(text.len())..].iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let start = start.min(text.len());
        if start >= self.offset {
            self.line += count_breaks(text, self.offset, start);
            self.offset = start;
        }
        self.line + 1
    }
}

fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "a cell is not valid text".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: &[Column] = &[Column::required("id", &["工号"]), Column::optional("points", &["积分"])];

    #[test]
    fn decodes_bom_utf8_and_gbk() {
        assert_eq!(decode(b"\xEF\xBB\xBFid").unwrap(), (Cow::Borrowed("id"), "UTF-8 with BOM"));
        let (gbk, _, _) = encoding_rs::GBK.encode("工号,积分");
        let (text, enc) = decode(&gbk).unwrap();
        assert_eq!((text.as_ref(), enc), ("工号,积分", "GB18030"));
        assert_eq!(decode(b"ab\xff\xfe\xff").unwrap_err().0, 2);
    }

    #[test]
    fn matches_aliases_and_trims_headers_and_cells() {
        let bytes = " 工号 ,\u{3000}积分\r\n\r\n0001 , ９２\r\n".as_bytes();
        let t = Table::parse("p.csv", bytes, COLS, &Aliases::new()).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.cell(&t.rows[0], "id"), "0001");
        assert_eq!(t.header("points"), "积分");
    }

    #[test]
    fn undecodable_bytes_are_located_by_line_and_column() {
        let bytes = b"id,points\r\n0001,90\r\n0002,\x81\x20\xff\r\n";
        let err = Table::parse("p.csv", bytes, COLS, &Aliases::new()).unwrap_err();
        assert!(err[0].to_string().starts_with("p.csv:3: column points: has bytes"), "{}", err[0]);
    }

    fn unclosed_quote(text: &[u8], split: usize) -> Option<u64> {
        let mut q = Quotes::new();
        q.scan(&text[..split]);
        q.scan(&text[split..]);
        q.unclosed()
    }

    #[test]
    fn an_unclosed_quote_is_found_where_it_opens() {
        let open = b"id,note\n1,\"a \"\"b\"\" c\"\n2,\"open\n3,x\n";
        let closed = b"id,note\n1,\"multi\nline\"\n2,5\"inch\n";
        // Wherever the text is cut into blocks, even between the two quotes of a pair.
        for split in 0..closed.len() {
            assert_eq!(unclosed_quote(open, split.min(open.len())), Some(3), "split at {split}");
            assert_eq!(unclosed_quote(closed, split), None, "split at {split}");
        }
    }

    #[test]
    fn lone_cr_ends_a_line_and_crlf_counts_once_wherever_the_text_is_cut() {
        // Lines: 1 header, 2 a, 3-4 a quoted cell over a lone CR, 5 (CRLF) b, 6 c.
        let text = b"id\ra\r\"x\ry\"\r\nb\rc\r";
        for split in 0..=text.len() {
            let mut q = Quotes::new();
            let first = q.scan(&text[..split]);
            let second = q.scan(&text[split..]);
            assert_eq!(q.lines, 5, "split at {split}: the final CR stays undecided");
            // A cut is only ever made at a line end outside quotes, never inside the CRLF.
            for cut in first.into_iter().chain(second.map(|c| split + c)) {
                assert!(cut != 11 && ![6, 8].contains(&cut), "split at {split}: cut at {cut}");
            }
        }
        assert_eq!(count_breaks(text, 0, text.len()), 6);
        let t = Table::parse("p.csv", b"id\r1\r\r2\r\n3\n", COLS, &Aliases::new()).unwrap();
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 5]);
    }

    /// Text that starts with a BOM after the file's own (two BOMs in UTF-8, or GB18030's one,
    /// which the decoder keeps): the csv crate drops it and counts its bytes in every position
    /// but the first; short records after a quote (so the csv crate reads the block) once
    /// came out a line late.
    #[test]
    fn a_bom_in_the_text_keeps_true_line_numbers() {
        let text = "\u{FEFF}id,name,points,note\n0101,x,\"92\",\n0,,\n0201,y,92,\n";
        let utf8 = format!("\u{FEFF}{text}").into_bytes();
        let (gb18030, _, _) = encoding_rs::GB18030.encode(text);
        for bytes in [&utf8[..], &gb18030[..]] {
            for split_plain in [true, false] {
                let t = Table::parse_in_blocks("p.csv", bytes, files::POINTS, &Aliases::new(), 1 << 20, split_plain)
                    .unwrap();
                assert_eq!(t.header_line, 1);
                assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
            }
        }
    }

    /// Any block size reads what the tool's own reads, the smallest (one to three bytes, less
    /// than a cut character carried over) included: they once never ended.
    #[test]
    fn every_block_size_reads_the_same_rows() {
        let text = "id,name,points\n0001,张伟,92.5\n\n0002,\"李,娜\",88\n0003,王芳,\n";
        let (gb18030, _, _) = encoding_rs::GB18030.encode(text);
        for bytes in [text.as_bytes(), &gb18030[..], "\u{feff}id,name\n1,陈\n".as_bytes()] {
            let whole = Table::parse("p.csv", bytes, files::POINTS, &Aliases::new()).unwrap();
            for block in 1..=9 {
                for split_plain in [true, false] {
                    let t = Table::parse_in_blocks("p.csv", bytes, files::POINTS, &Aliases::new(), block, split_plain)
                        .unwrap();
                    let rows = |t: &Table| t.rows.iter().map(|r| (r.line, r.cells.clone())).collect::<Vec<_>>();
                    assert_eq!((&t.headers, &t.encoding), (&whole.headers, &whole.encoding), "block {block}");
                    assert_eq!(rows(&t), rows(&whole), "block {block}");
                }
            }
        }
    }

    #[test]
    fn crlf_files_keep_true_line_numbers() {
        let t = Table::parse("p.csv", b"id\r\n1\r\n2\r\n3\r\n", COLS, &Aliases::new()).unwrap();
        assert_eq!(t.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn workspace_aliases_extend_the_builtin_ones() {
        let mut aliases = Aliases::new();
        aliases.insert("id".into(), vec!["员工号".into()]);
        let t = Table::parse("p.csv", "员工号\n7\n".as_bytes(), COLS, &aliases).unwrap();
        assert_eq!(t.cell(&t.rows[0], "id"), "7");
    }

    /// Rows (line and cells) or problems, as text for comparing.
    fn read_as(bytes: &[u8], block: usize, split_plain: bool) -> String {
        match Table::parse_in_blocks("p.csv", bytes, files::POINTS, &Aliases::new(), block, split_plain) {
            Ok(t) => format!(
                "{} {:?} {:?}",
                t.header_line,
                t.headers,
                t.rows.iter().map(|r| (r.line, r.cells.iter().collect::<Vec<_>>())).collect::<Vec<_>>()
            ),
            Err(problems) => format!("{problems:?}"),
        }
    }

    proptest::proptest! {
        /// A record is blank, as the shortcut on its first byte decides too, exactly when every
        /// cell is blank once trimmed (a cell may hold a comma or a quote when it was quoted).
        #[test]
        fn a_record_is_blank_when_every_cell_trims_to_nothing(cells in proptest::collection::vec(
            proptest::sample::select(vec!["", " ", "\u{3000}", "\u{feff}", "a", "0", "-", "张", ",", "\"", " a"]), 1..4,
        )) {
            let record: Cells = cells.iter().collect();
            proptest::prop_assert_eq!(record.blank(), cells.iter().all(|c| values::trim(c).is_empty()));
        }

        /// Quote-free text is cut into cells by `plain_block`, not the csv crate: any mix of
        /// line ends (CR, LF, CRLF, blank lines), BOMs, spaces and cells must read as the csv
        /// crate reads it, in whatever blocks the text comes.
        #[test]
        fn quote_free_text_reads_as_the_csv_crate_reads_it(
            header in proptest::sample::select(vec![
                "", "工号,姓名,积分\n", "\u{FEFF}工号,姓名,积分\r\n", "\u{FEFF}\u{FEFF}工号,姓名,积分\n",
                "\u{FEFF}\u{FEFF}\n\r\n工号,姓名,积分\r", "\u{FEFF}\u{FEFF}工号\n0\n,\n",
            ]),
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "0001", "张三", "12.5", "0", ",", ",", "\n", "\n", "\r", "\r\n", "\r\n", " ", "\t", "\u{FEFF}", "\u{3000}", "",
            ]), 0..80),
            block in 5usize..40,
        ) {
            let mut text = String::from(header);
            text.extend(pieces);
            let by_csv_crate = read_as(text.as_bytes(), 1 << 20, false);
            proptest::prop_assert_eq!(read_as(text.as_bytes(), 1 << 20, true), by_csv_crate.as_str());
            proptest::prop_assert_eq!(read_as(text.as_bytes(), block, true), by_csv_crate.as_str());
            // Blocks longer than the 64 bytes `cut::Lines` takes at a time, as well as shorter.
            proptest::prop_assert_eq!(read_as(text.as_bytes(), block + 64, true), by_csv_crate.as_str());
        }
    }

    #[test]
    fn missing_required_column_is_named() {
        let err = Table::parse("r.csv", b"name\nx\n", COLS, &Aliases::new()).unwrap_err();
        assert_eq!(err[0].to_string(), "r.csv:1: no `id` column: name one of the header cells id, 工号");
    }
}
