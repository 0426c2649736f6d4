//! The six data files of SPEC § 2: each table → validated domain rows, with every problem
//! collected (not just the first) and warnings kept apart.

use super::{values, Column, Row, Rows, Table};
use crate::error::Problem;
use crate::model::{
    self, CityAwardRow, EventRow, IdIndex, KpiSheet, KpiValue, Limit, LookupsBuilder, MonthPoints, Period, Person,
    PointsSheet, Roster, Sheet, SheetRow, Source, VetoRow,
};
use crate::rubric::Rubric;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const ID: Column = Column::required("id", &["工号", "员工编号", "编号"]);
const NAME: Column = Column::optional("name", &["姓名"]);
const NOTE: Column = Column::optional("note", &["备注"]);
const PERIOD: Column = Column::required("period", &["期间"]);

pub const ROSTER: &[Column] = &[
    ID,
    Column::required("name", &["姓名"]),
    Column::required("unit", &["单位", "班组", "部门"]),
    Column::required("post", &["岗位", "职务"]),
    Column::optional("joined", &["入职日期"]),
    Column::optional("left", &["离职日期"]),
];
pub const POINTS: &[Column] = &[ID, NAME, Column::optional("points", &["积分", "月度积分", "总分"]), NOTE];
pub const KPI: &[Column] = &[ID, NAME, Column::required("kpi", &["绩效", "绩效分", "绩效得分", "考核得分"])];
pub const EVENTS: &[Column] = &[
    PERIOD,
    Column::required("event", &["事项"]),
    Column::optional("unit", &["单位"]),
    Column::optional("rank", &["名次"]),
    NOTE,
];
pub const CITY_AWARDS: &[Column] = &[
    PERIOD,
    ID,
    Column::required("award", &["奖项"]),
    Column::required("amount", &["金额"]),
    Column::optional("group", &["分组"]),
];
pub const VETOES: &[Column] = &[PERIOD, ID, Column::optional("reason", &["原因"])];

/// Problems and warnings gathered while reading.
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
    /// How many files were read.
    pub files: usize,
}

impl Findings {
    fn check<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        result.map_err(|p| self.problems.push(p)).ok()
    }

    /// Takes in what `other` found, after what this found.
    pub fn append(&mut self, other: Findings) {
        self.problems.extend(other.problems);
        self.warnings.extend(other.warnings);
        self.files += other.files;
    }

    /// How many problems and warnings there are now, to go back to with `rewind`.
    pub fn mark(&self) -> (usize, usize) {
        (self.problems.len(), self.warnings.len())
    }

    /// Forgets what was found since `mark` (a file being read again from its start).
    pub fn rewind(&mut self, (problems, warnings): (usize, usize)) {
        self.problems.truncate(problems);
        self.warnings.truncate(warnings);
    }
}

fn source(table: &Table, row: &Row) -> Source {
    Source { file: table.file.clone(), line: row.line }
}

/// Reads the roster; duplicate ids and bad dates are problems.
pub fn roster(table: &Table, found: &mut Findings) -> Roster {
    let mut rows = RosterRows::new(found);
    rows.start(table);
    table.rows.iter().for_each(|row| rows.row(table, row));
    rows.roster()
}

/// `roster`, one row at a time, for `Table::stream`.
pub struct RosterRows<'a> {
    found: &'a mut Findings,
    mark: (usize, usize),
    people: Vec<Arc<Person>>,
    /// Units and posts repeat from person to person: one shared copy of each, which the
    /// engine compares for every person in every rule (a copy per person would be a cache
    /// miss per comparison among half a million).
    shared: rustc_hash::FxHashMap<String, Arc<str>>,
    /// The last row's unit and post: a unit's people stand together on a roster and most
    /// share a post, so the next row's is nearly always the same, found without hashing.
    last: [Option<Arc<str>>; 2],
    /// Each id's position: the roster's index, which also finds duplicates.
    index: IdIndex,
    /// Each person's name and post, as the sheets' rows look for them.
    lookups: LookupsBuilder,
    /// Lines of the file before the part read, added to each row's line (`numbered_after`).
    lines_before: u64,
    /// Where `ROSTER_CELLS` are in the file, looked up once rather than once per row.
    columns: [Option<usize>; 6],
}

/// The most people `RosterRows::reserve_for` makes room for at once (past it, the lists grow).
const MOST_PEOPLE_RESERVED: usize = 10_000_000;

/// The roster's columns, in the order of `RosterRows::columns`.
const ROSTER_CELLS: [&str; 6] = ["id", "name", "unit", "post", "joined", "left"];

impl<'a> RosterRows<'a> {
    pub fn new(found: &'a mut Findings) -> RosterRows<'a> {
        RosterRows {
            mark: found.mark(),
            found,
            people: Vec::new(),
            shared: Default::default(),
            last: Default::default(),
            index: Default::default(),
            lookups: Default::default(),
            lines_before: 0,
            columns: [None; 6],
        }
    }

    /// Room for a roster file of `bytes` at once: a list and an index of half a million grown
    /// by doubling are built again, into fresh memory, at each step. Rows of 48 bytes are
    /// guessed (an id, a name, a unit, a post, two dates): a roster of shorter rows grows once
    /// or twice more. The room is taken for the index as a list of numbers (8 bytes a person,
    /// unused room never touched); should the ids turn out of order, the hash table made then
    /// gets as much (a more generous guess would double that table, whose room is written all
    /// over as it fills: 30 bytes a row took 29 MB more for half a million people).
    pub fn reserve_for(&mut self, bytes: u64) {
        let people = usize::try_from(bytes / 48).unwrap_or(usize::MAX).min(MOST_PEOPLE_RESERVED);
        self.people.reserve(people);
        self.index.reserve(people, &self.people);
        // Names of up to four Chinese characters (unused room is never touched).
        self.lookups.reserve(people, people.saturating_mul(12));
    }

    /// Counts the people's roster lines on by `lines`: the second half of a roster read in
    /// halves is read with the header in front of it, so its rows are numbered from line 2.
    fn numbered_after(&mut self, lines: u64) {
        self.lines_before = lines;
    }

    pub fn roster(self) -> Roster {
        Roster::with_lookups(self.people, self.index, self.lookups)
    }

    /// The shared copy of a unit (`which` 0) or post (1).
    fn share(&mut self, which: usize, text: &str) -> Arc<str> {
        if let Some(last) = self.last[which].as_ref().filter(|last| ***last == *text) {
            return last.clone();
        }
        let shared = match self.shared.get(text) {
            Some(s) => s.clone(),
            None => self.shared.entry(text.to_string()).or_insert_with(|| Arc::from(text)).clone(),
        };
        self.last[which] = Some(shared.clone());
        shared
    }
}

impl Rows for RosterRows<'_> {
    fn start(&mut self, table: &Table) {
        self.found.rewind(self.mark);
        self.people.clear();
        self.index.clear();
        self.lookups.clear();
        self.columns = ROSTER_CELLS.map(|c| table.index(c));
    }

    fn row(&mut self, table: &Table, row: &Row) {
        let found = &mut *self.found;
        let columns = self.columns;
        // The cell of `ROSTER_CELLS[k]`, and that column's name (for messages).
        let cell = |k: usize| (columns[k].map_or("", |i| Table::cell_at(row, i)), ROSTER_CELLS[k]);
        let Some(id) = found.check(values::id(cell(0).0).map_err(|m| table.problem(row, "id", m))) else {
            return;
        };
        // One look in the index, which also finds a duplicate.
        if let Err(first) = self.index.insert(&id, self.people.len(), &self.people) {
            let first = self.people[first].source.line;
            found.problems.push(table.problem(
                row,
                "id",
                format!("duplicate id \"{id}\" (first on line {first}): each person once"),
            ));
            return;
        }
        let id: Arc<str> = Arc::from(&*id);
        let mut text = |k: usize| {
            let (v, column) = cell(k);
            if v.is_empty() {
                found.problems.push(table.problem(row, column, format!("is blank: every person needs a {column}")));
            }
            v
        };
        let (name, unit, post) = (text(1), text(2), text(3));
        let mut date = |k: usize| {
            let (v, column) = cell(k);
            found.check(values::date(v).map_err(|m| table.problem(row, column, m))).flatten()
        };
        let (joined, left) = (date(4), date(5));
        if let (Some(j), Some(l)) = (joined, left) {
            if l < j {
                found.problems.push(table.problem(
                    row,
                    "left",
                    format!("{l} is before the joining date {j}: correct one of the two dates"),
                ));
            }
        }
        let person = Person {
            id,
            name: name.into(),
            unit: self.share(0, unit),
            post: self.share(1, post),
            joined,
            left,
            source: Source { line: row.line + self.lines_before, ..source(table, row) },
        };
        self.lookups.push(&person.name, &person.post);
        self.people.push(Arc::new(person));
    }
}

/// A roster file from this size on is read in two halves, the second on another thread (a
/// company's roster of half a million people takes a quarter of a second in one pass, while
/// the other core has nothing to do yet). Debug builds try halves for any roster, so that every
/// test of the tool goes through them.
pub const ROSTER_HALVES_FROM: usize = if cfg!(debug_assertions) { 0 } else { 1 << 20 };

/// Reads a roster file from its `bytes` (`file` names it in messages), its problems into
/// `found`: in two halves on two threads when the file is at least `halves_from` bytes and the
/// halves surely read as one pass does (see `roster_in_halves`), else in one pass.
pub fn roster_from_bytes(
    file: &str,
    bytes: &[u8],
    aliases: &super::Aliases,
    halves_from: usize,
    found: &mut Findings,
) -> Roster {
    if bytes.len() >= halves_from {
        if let Some(roster) = roster_in_halves(file, bytes, aliases) {
            return roster;
        }
    }
    let mark = found.mark();
    let mut rows = RosterRows::new(found);
    rows.reserve_for(bytes.len() as u64);
    let open = || Ok(Box::new(bytes) as Box<dyn std::io::Read + '_>);
    let read = Table::stream(file, &open, ROSTER, aliases, &mut rows);
    let roster = rows.roster();
    if let Err(problems) = read {
        // The file's own problem says it all.
        found.rewind(mark);
        found.problems.extend(problems);
    }
    roster
}

/// The roster read as two halves, cut after the first line feed past the middle, each half
/// read with the header in front of it: `None` unless that is sure to give what one pass gives,
/// which the caller then makes. It is sure when the header is the file's first line, the file
/// is UTF-8 (one that is not is read as GB18030 throughout, a half alone might not be), holds no
/// quote (a quoted cell may hold the line feed cut at; the half before it would then end inside
/// the cell, which is a problem, but that is not counted on), has no carriage return but before
/// a line feed (the reader ends a line at one alone, and the second half's lines are counted
/// here by line feeds), and neither half finds anything (a problem or a warning, which one pass
/// words and orders) nor an id of the other. The second half's units and posts are its own
/// shared copies (two of each in all, not one).
fn roster_in_halves(file: &str, bytes: &[u8], aliases: &super::Aliases) -> Option<Roster> {
    let lone_return = || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'));
    if memchr::memchr(b'"', bytes).is_some() || simdutf8::basic::from_utf8(bytes).is_err() || lone_return() {
        return None;
    }
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let header_end = bom + memchr::memchr(b'\n', &bytes[bom..])? + 1;
    // The header is the first row that is not blank: the first line, or else the halves are
    // not cut (put in front of the second half, a blank line would make its first row the
    // header; found by review). Without quotes, a line's cells are what lies between commas.
    let first_line = std::str::from_utf8(&bytes[bom..header_end]).ok()?;
    if first_line.split(',').all(|cell| values::trim(cell).is_empty()) {
        return None;
    }
    let middle = header_end + (bytes.len() - header_end) / 2;
    let cut = middle + memchr::memchr(b'\n', &bytes[middle..])? + 1;
    if cut >= bytes.len() {
        return None;
    }
    let (first, second) = bytes.split_at(cut);
    let header = &bytes[bom..header_end];
    // Read with the header in front, the second half's rows are numbered from line 2.
    let shift = memchr::memchr_iter(b'\n', first).count() as u64 - 1;
    let read = |open: &super::Open<'_>, room: usize, lines_before: u64| {
        let mut found = Findings::default();
        let mut rows = RosterRows::new(&mut found);
        rows.reserve_for(room as u64);
        rows.numbered_after(lines_before);
        let read = Table::stream(file, open, ROSTER, aliases, &mut rows);
        let (people, index, lookups) = (rows.people, rows.index, rows.lookups);
        let clean = read.is_ok() && found.problems.is_empty() && found.warnings.is_empty();
        clean.then_some((people, index, lookups))
    };
    let open_second = || Ok(Box::new(std::io::Read::chain(header, second)) as Box<dyn std::io::Read + '_>);
    let open_first = || Ok(Box::new(first) as Box<dyn std::io::Read + '_>);
    let (first, second) = std::thread::scope(|scope| {
        let second = crate::threads::start(scope, || read(&open_second, second.len(), shift));
        // The first half's index gets room for everyone: the second's ids join it.
        (read(&open_first, bytes.len(), 0), second.join())
    });
    // The second half's own index found its duplicates; its ids join the first's.
    let ((mut people, mut index, mut lookups), (second_people, second_index, second_lookups)) = (first?, second?);
    // Ids in order through both halves (the usual roster) join as their numbers, without
    // reading the second half's people again; else one by one, which also finds an id in both.
    if index.append_ascending(&second_index) {
        people.extend(second_people);
    } else {
        people.reserve(second_people.len());
        for person in second_people {
            index.insert(&person.id, people.len(), &people).ok()?;
            people.push(person);
        }
    }
    lookups.append(second_lookups);
    Some(Roster::with_lookups(people, index, lookups))
}

/// The roster position of a row's id (with a hint when leading zeros were lost), tried first
/// at `guess` (see `Roster::position_near`).
fn roster_id(table: &Table, row: &Row, roster: &Roster, guess: usize, found: &mut Findings) -> Option<usize> {
    roster_id_of(table, row, table.cell(row, "id"), roster, guess, found)
}

/// `roster_id` with the id cell already looked up.
fn roster_id_of(
    table: &Table,
    row: &Row,
    cell: &str,
    roster: &Roster,
    guess: usize,
    found: &mut Findings,
) -> Option<usize> {
    let written;
    let id: &str = if values::is_plain_id(cell) {
        cell
    } else {
        written = found.check(values::id(cell).map_err(|m| table.problem(row, "id", m)))?;
        &written
    };
    if let Some(position) = roster.position_near(id, guess) {
        return Some(position);
    }
    let stripped = id.trim_start_matches('0');
    let hint = roster
        .people
        .iter()
        .find(|p| p.id.trim_start_matches('0') == stripped && *p.id != *id)
        .map(|p| {
            let lost = if p.id.len() > id.len() { "this sheet" } else { "roster.csv" };
            format!(
                "; the roster has \"{}\": {lost} lost its leading zeros (format its id column as text and export again)",
                p.id
            )
        })
        .unwrap_or_else(|| ": add the person to roster.csv or correct the id".to_string());
    found.problems.push(table.problem(row, "id", format!("\"{id}\" is not on the roster{hint}")));
    None
}

/// Warns when a sheet's name (`name`, the row's cell) differs from the roster's for the same id.
fn check_name(table: &Table, row: &Row, name: &str, roster: &Roster, position: usize, found: &mut Findings) {
    if !name.is_empty() && !roster.name_is(position, name) {
        let person = &roster.people[position];
        found.warnings.push(Problem::at(
            &table.file,
            row.line,
            format!(
                "warning: name \"{name}\" differs from the roster's \"{}\" for id {}: correct the sheet or the roster",
                person.name, person.id
            ),
        ));
    }
}

/// Rejects a second row for the same person in one sheet; the sheet's slot holds the line of
/// the person's first row.
fn first_row<T: SheetRow>(
    table: &Table,
    row: &Row,
    roster: &Roster,
    position: usize,
    sheet: &mut Sheet<T>,
    found: &mut Findings,
) -> bool {
    match sheet.claim(position, line(row)) {
        Ok(()) => true,
        Err(first) => {
            found.problems.push(table.problem(
                row,
                "id",
                format!("duplicate id \"{}\" (first on line {first}): one row per person", roster.people[position].id),
            ));
            false
        }
    }
}

/// Adds the fix to a "not a number" message.
fn number_fix(message: String) -> String {
    if message.ends_with("is not a number") {
        format!("{message}: write a number such as 92.5")
    } else {
        message
    }
}

/// Inlined where it is called (several times a row, and nearly always in range); the problem
/// is made apart.
#[inline]
fn in_range(table: &Table, row: &Row, column: &str, value: Decimal, max: Decimal, found: &mut Findings) -> bool {
    use std::cmp::Ordering::Greater;
    let negative = value.is_sign_negative() && !value.is_zero();
    if negative || crate::model::compare(value, max) == Greater {
        out_of_range(table, row, column, value, max, found);
        false
    } else {
        true
    }
}

#[cold]
fn out_of_range(table: &Table, row: &Row, column: &str, value: Decimal, max: Decimal, found: &mut Findings) {
    found.problems.push(table.problem(
        row,
        column,
        format!("{value} is outside the allowed range [0, {max}]: correct the value"),
    ));
}

/// Finds the person of each row of a one-row-per-person sheet (points, KPI).
struct PersonRows<'r> {
    roster: &'r Roster,
    /// The position after the last row's person: the likely one.
    next: usize,
    /// The `id` and `name` columns, looked up once per sheet rather than once per row.
    id: Option<usize>,
    name: Option<usize>,
}

impl<'r> PersonRows<'r> {
    fn new(roster: &'r Roster) -> PersonRows<'r> {
        PersonRows { roster, next: 0, id: None, name: None }
    }

    fn start(&mut self, table: &Table) {
        self.next = 0;
        (self.id, self.name) = (table.index("id"), table.index("name"));
    }

    /// The row's roster position when the id is on the roster and the person has no earlier
    /// row in `sheet` (the row is claimed there), with the name checked against the roster.
    /// The person themself is not looked at (`Roster::name_is`).
    fn row<T: SheetRow>(
        &mut self,
        table: &Table,
        row: &Row,
        sheet: &mut Sheet<T>,
        found: &mut Findings,
    ) -> Option<usize> {
        let cell = |index: Option<usize>| index.map_or("", |i| Table::cell_at(row, i));
        let position = roster_id_of(table, row, cell(self.id), self.roster, self.next, found)?;
        self.next = position + 1;
        first_row(table, row, self.roster, position, sheet, found).then(|| {
            check_name(table, row, cell(self.name), self.roster, position, found);
            position
        })
    }
}

/// A row's line as sheets keep it (no data file has four billion lines).
fn line(row: &Row) -> std::num::NonZeroU32 {
    u32::try_from(row.line).ok().and_then(std::num::NonZeroU32::new).unwrap_or(std::num::NonZeroU32::MAX)
}

/// Reads a monthly points sheet: a `points` total and/or the item columns of each person's
/// post table (bonus items included); a row with neither counts as no row.
///
/// Items are validated either way but kept only with `keep_items` (the month bulletin shows
/// them; a quarter or a year of half a million people needs only the totals).
pub fn points(table: &Table, roster: &Roster, rubric: &Rubric, keep_items: bool, found: &mut Findings) -> PointsSheet {
    let mut rows = PointsRows::new(roster, rubric, keep_items, found);
    rows.start(table);
    table.rows.iter().for_each(|row| rows.row(table, row));
    rows.sheet
}

/// `points`, one row at a time, for `Table::stream`.
pub struct PointsRows<'a> {
    roster: &'a Roster,
    rubric: &'a Rubric,
    keep_items: bool,
    found: &'a mut Findings,
    mark: (usize, usize),
    /// Item names, shared by every row (a sheet can hold half a million rows).
    names: HashMap<String, Arc<str>>,
    item_columns: Vec<(Arc<str>, usize)>,
    /// False when the header already failed: rows are not read.
    usable: bool,
    /// Per points table of the rubric, how its items map to the sheet's item columns.
    tables: Vec<TableColumns>,
    /// The current row's value in each item column (reused from row to row).
    given: Given,
    people: PersonRows<'a>,
    /// The `points` column.
    total: Option<usize>,
    /// What each post's first row worked out, by the roster's number for it (posts are few,
    /// rows many).
    posts: Vec<Option<PostFacts>>,
    /// The (points table, item) pairs whose column the sheet lacks, said once, at the first
    /// row giving that table's items (every such row fails the same way).
    absent_said: HashSet<(usize, usize)>,
    pub sheet: PointsSheet,
}

/// How one points table's items sit in a sheet, worked out once from its header.
struct TableColumns {
    /// For each item of the table (regular then bonus), the item column giving it.
    columns: Vec<Option<usize>>,
    /// For each item of the table, whether it is a bonus item (blank means 0).
    bonus: Vec<bool>,
    /// For each item of the table, its maximum.
    maxima: Vec<Limit>,
    /// For each item column, whether the table has that item.
    has: Vec<bool>,
}

impl<'a> PointsRows<'a> {
    pub fn new(roster: &'a Roster, rubric: &'a Rubric, keep_items: bool, found: &'a mut Findings) -> PointsRows<'a> {
        let names = rubric.item_names().into_iter().map(|n| (n.clone(), Arc::from(n))).collect();
        PointsRows {
            mark: found.mark(),
            roster,
            rubric,
            keep_items,
            found,
            names,
            item_columns: Vec::new(),
            usable: false,
            tables: Vec::new(),
            given: Given::default(),
            people: PersonRows::new(roster),
            total: None,
            posts: vec![None; roster.posts().len()],
            absent_said: HashSet::new(),
            sheet: PointsSheet::new(Arc::from("")),
        }
    }
}

impl super::Rows for PointsRows<'_> {
    fn start(&mut self, table: &Table) {
        let found = &mut *self.found;
        found.rewind(self.mark);
        self.sheet = PointsSheet::with_people(table.file.clone(), self.roster.len());
        self.absent_said.clear();
        self.people.start(table);
        self.total = table.index("points");
        let before = found.problems.len();
        self.item_columns = self
            .rubric
            .item_names()
            .iter()
            .filter_map(|name| found.check(table.item_column(name)).flatten().map(|i| (self.names[name].clone(), i)))
            .collect();
        self.usable = found.problems.len() == before;
        let names = &self.item_columns;
        self.tables = self
            .rubric
            .points
            .tables
            .iter()
            .map(|t| TableColumns {
                columns: t.all_items().map(|i| names.iter().position(|(n, _)| **n == *i.name)).collect(),
                bonus: t.all_items().map(|i| t.bonus.iter().any(|b| b.name == i.name)).collect(),
                maxima: t.all_items().map(|i| Limit::new(i.max)).collect(),
                has: names.iter().map(|(n, _)| t.all_items().any(|i| *i.name == **n)).collect(),
            })
            .collect();
        if self.usable && !table.has("points") && self.item_columns.is_empty() {
            found.problems.push(Problem::at(
                &table.file,
                table.header_line,
                "no points column: add `points` (积分) or the item columns of the rubric's points tables",
            ));
            self.usable = false;
        }
    }

    fn row(&mut self, table: &Table, row: &Row) {
        if !self.usable {
            return;
        }
        let (rubric, found) = (self.rubric, &mut *self.found);
        let Some(position) = self.people.row(table, row, &mut self.sheet, found) else {
            return;
        };
        let problems_before = found.problems.len();
        let total_cell = self.total.map_or("", |i| Table::cell_at(row, i));
        // Blank, a plain number (`values::plain_parts`), or neither (`None`).
        let plain_total = if total_cell.is_empty() { Some(None) } else { values::plain_parts(total_cell).map(Some) };
        let total = match plain_total {
            Some(parts) => parts.map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
            None => found
                .check(values::number(total_cell).map_err(|m| table.problem(row, "points", number_fix(m))))
                .flatten(),
        };
        self.given.clear();
        for (name, index) in &self.item_columns {
            let cell = Table::cell_at(row, *index);
            // Most item cells of a sheet by items are blank (another post's items, or a
            // total given instead): no number to look for.
            if cell.is_empty() {
                self.given.push(None);
                continue;
            }
            if let Some((mantissa, scale)) = values::plain_parts(cell) {
                self.given.push_plain(mantissa, scale);
                continue;
            }
            match values::number(cell) {
                Ok(v) => self.given.push(v),
                Err(m) => {
                    self.given.push(None);
                    found.problems.push(table.problem(row, name, number_fix(m)));
                }
            }
        }
        if found.problems.len() > problems_before {
            return;
        }
        let by_items = self.given.any();
        let post = post_facts(&mut self.posts, self.roster, position, rubric);
        if let Some(total) = plain_total.filter(|_| !self.keep_items && self.given.written.is_empty()) {
            if let Some((mantissa, scale)) = plain_points((&self.tables, &self.given), total, by_items, post) {
                self.sheet.insert_parts(position, mantissa, scale, line(row));
                return;
            }
        }
        let (sum, items) = if by_items {
            let post_items =
                PostItems { keep: self.keep_items, names: &self.item_columns, given: &self.given, table: post.table };
            let person = &self.roster.people[position];
            match post_items.read(table, row, person, rubric, &self.tables, &mut self.absent_said, found) {
                Some(read) => read,
                None => return,
            }
        } else {
            (Decimal::ZERO, Vec::new())
        };
        if found.problems.len() > problems_before {
            return;
        }
        let points = match (total, by_items) {
            (None, false) => return,
            (Some(t), false) => t,
            (total, true) => {
                if let Some(t) = total.filter(|t| *t != sum) {
                    found.problems.push(table.problem(
                        row,
                        "points",
                        format!("{t} differs from the sum of the items, {sum}: correct the total or the items"),
                    ));
                    return;
                }
                sum
            }
        };
        if in_range(table, row, "points", points, post.ceiling.max(), found) {
            self.sheet.insert(position, MonthPoints { points, line: line(row) });
            self.sheet.insert_items(position, items);
        }
    }
}

/// A row's points worked out in integers, when every number it gives is plain (`total` and
/// `given`'s) and nothing is wrong with it: the same value, to the same places, as the
/// `Decimal` sum and checks in `PointsRows::row`. `None` leaves the row to those, for
/// the row's problems or a number too large. Items are summed at the most places any of
/// them has, as adding `Decimal`s does (plain numbers carry no trailing zeros, and their
/// zeros no places).
fn plain_points(
    (tables, given): (&[TableColumns], &Given),
    total: Option<(i64, u32)>,
    by_items: bool,
    post: PostFacts,
) -> Option<(i64, u32)> {
    let (mantissa, scale) = if by_items {
        let t = post.table?;
        let columns = &tables[t];
        if given.given.iter().zip(&columns.has).any(|(&given, &has)| given && !has) {
            return None;
        }
        let (mut sum, mut places) = (0i128, 0u32);
        for (k, max) in columns.maxima.iter().enumerate() {
            match columns.columns[k].filter(|&c| given.given[c]) {
                Some(c) => {
                    let (m, s) = given.parts[c];
                    if !max.admits(m, s)? {
                        return None;
                    }
                    if s > places {
                        sum = model::rescale(sum, places, s)?;
                        places = s;
                    }
                    sum = sum.checked_add(model::rescale(m.into(), s, places)?)?;
                }
                None if columns.bonus[k] => {}
                None => return None,
            }
        }
        if let Some((m, s)) = total {
            let common = s.max(places);
            if model::rescale(m.into(), s, common)? != model::rescale(sum, places, common)? {
                return None;
            }
        }
        (i64::try_from(sum).ok()?, places)
    } else {
        total?
    };
    post.ceiling.admits(mantissa, scale)?.then_some((mantissa, scale))
}

/// What a points sheet needs to know of a post: its points ceiling and its points table.
#[derive(Clone, Copy)]
struct PostFacts {
    ceiling: Limit,
    /// The rubric's points table for the post, by index.
    table: Option<usize>,
}

/// The facts of the post of the person at `position`, worked out on the post's first row and
/// kept in `posts`, by the roster's number for the post (`Roster::post_of`).
fn post_facts(posts: &mut [Option<PostFacts>], roster: &Roster, position: usize, rubric: &Rubric) -> PostFacts {
    let index = roster.post_of(position);
    *posts[index].get_or_insert_with(|| {
        let post = &roster.posts()[index];
        PostFacts {
            ceiling: Limit::new(rubric.points_ceiling(post)),
            table: rubric.points.tables.iter().position(|t| t.posts.iter().any(|p| **p == **post)),
        }
    })
}

/// A row's value in each item column, blank or not. A plain number is kept as its mantissa and
/// scale (`values::plain_parts`) and made a `Decimal` when used: a `Decimal` (or an `Option` of
/// one) put together in memory piece by piece and at once read back whole cannot be forwarded
/// by the processor (perf annotate: a quarter, then an eighth, of a points row's own time went
/// to that). Other numbers (`９２`, `95分`, …) are few and kept as they are.
#[derive(Default)]
struct Given {
    /// Per item column: a plain number's mantissa and scale, or `WRITTEN` as the scale.
    parts: Vec<(i64, u32)>,
    given: Vec<bool>,
    /// The other numbers, by item column.
    written: Vec<(usize, Decimal)>,
}

/// The scale in `Given::parts` of a number kept in `Given::written` (a real scale is at most 28).
const WRITTEN: u32 = u32::MAX;

impl Given {
    fn clear(&mut self) {
        self.parts.clear();
        self.given.clear();
        self.written.clear();
    }

    fn push_plain(&mut self, mantissa: i64, scale: u32) {
        self.given.push(true);
        self.parts.push((mantissa, scale));
    }

    fn push(&mut self, value: Option<Decimal>) {
        if let Some(v) = value {
            self.written.push((self.parts.len(), v));
        }
        self.given.push(value.is_some());
        self.parts.push((0, WRITTEN));
    }

    fn get(&self, column: usize) -> Option<Decimal> {
        if !self.given[column] {
            return None;
        }
        match self.parts[column] {
            (_, WRITTEN) => self.written.iter().find(|(c, _)| *c == column).map(|(_, v)| *v),
            (mantissa, scale) => Some(Decimal::new(mantissa, scale)),
        }
    }

    fn any(&self) -> bool {
        self.given.contains(&true)
    }
}

/// A row's items as `PostItems::read` finds them: their sum, and (with `keep`) each by name.
type ItemsRead = (Decimal, Vec<(Arc<str>, Decimal)>);

/// The item values a row gave (`given`, one per item column of `names`).
struct PostItems<'r> {
    /// Whether to return the items themselves (the month bulletin), or only their sum.
    keep: bool,
    names: &'r [(Arc<str>, usize)],
    given: &'r Given,
    /// The person's post's points table in the rubric, by index.
    table: Option<usize>,
}

impl PostItems<'_> {
    /// Validates the values against the person's post table, in table order, with blank
    /// bonus items as 0: their sum and (with `keep`) the items; `None` when the row fails on
    /// an item column the sheet lacks (said once a sheet, in `absent_said`). Any other problem
    /// is pushed; the result is then not used.
    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        table: &Table,
        row: &Row,
        person: &Person,
        rubric: &Rubric,
        tables: &[TableColumns],
        absent_said: &mut HashSet<(usize, usize)>,
        found: &mut Findings,
    ) -> Option<ItemsRead> {
        let none = Some((Decimal::ZERO, Vec::new()));
        let Some(t) = self.table else {
            found.problems.push(Problem::at(
                &table.file,
                row.line,
                format!(
                    "{} ({}) has no points table in the rubric: give `points` instead of items",
                    person.id, person.post
                ),
            ));
            return none;
        };
        let (post_table, columns) = (&rubric.points.tables[t], &tables[t]);
        for (c, (name, _)) in self.names.iter().enumerate() {
            if self.given.get(c).is_some() && !columns.has[c] {
                found.problems.push(table.problem(
                    row,
                    name,
                    format!("is not an item of the {} table: leave it blank", person.post),
                ));
            }
        }
        let (mut sum, mut items, mut complete) = (Decimal::ZERO, Vec::new(), true);
        for (k, item) in post_table.all_items().enumerate() {
            match columns.columns[k].and_then(|c| self.given.get(c).map(|v| (c, v))) {
                Some((c, v)) => {
                    in_range(table, row, &item.name, v, item.max, found);
                    sum += v;
                    if self.keep {
                        items.push((self.names[c].0.clone(), v));
                    }
                }
                None if columns.bonus[k] => {
                    if self.keep {
                        items.push((Arc::from(item.name.as_str()), Decimal::ZERO));
                    }
                }
                None if columns.columns[k].is_some() => found.problems.push(table.problem(
                    row,
                    &item.name,
                    format!("is blank: give every item of the {} table, or only the total", person.post),
                )),
                // The sheet has no such column: a problem of the sheet, said at the first row
                // that needs it.
                None => {
                    complete = false;
                    if absent_said.insert((t, k)) {
                        found.problems.push(table.problem(
                            row,
                            &item.name,
                            format!(
                                "is not in the sheet: add the column to give every item of the {} table (rows giving them from this one on), or give only the total",
                                person.post
                            ),
                        ));
                    }
                }
            }
        }
        complete.then_some((sum, items))
    }
}

/// Reads a KPI export (monthly or quarterly).
pub fn kpi(table: &Table, roster: &Roster, rubric: &Rubric, found: &mut Findings) -> KpiSheet {
    let mut rows = KpiRows::new(roster, rubric, found);
    rows.start(table);
    table.rows.iter().for_each(|row| rows.row(table, row));
    rows.sheet
}

/// `kpi`, one row at a time, for `Table::stream`.
pub struct KpiRows<'a> {
    found: &'a mut Findings,
    mark: (usize, usize),
    people: PersonRows<'a>,
    /// The `kpi` column.
    kpi: Option<usize>,
    /// The rubric's `kpi_max`.
    max: Limit,
    pub sheet: KpiSheet,
}

impl<'a> KpiRows<'a> {
    pub fn new(roster: &'a Roster, rubric: &'a Rubric, found: &'a mut Findings) -> KpiRows<'a> {
        let sheet = KpiSheet::new(Arc::from(""));
        let max = Limit::new(rubric.kpi_max);
        KpiRows { mark: found.mark(), found, people: PersonRows::new(roster), kpi: None, max, sheet }
    }
}

impl super::Rows for KpiRows<'_> {
    fn start(&mut self, table: &Table) {
        self.found.rewind(self.mark);
        self.sheet = KpiSheet::with_people(table.file.clone(), self.people.roster.len());
        self.people.start(table);
        self.kpi = table.index("kpi");
    }

    fn row(&mut self, table: &Table, row: &Row) {
        let found = &mut *self.found;
        let Some(position) = self.people.row(table, row, &mut self.sheet, found) else {
            return;
        };
        let cell = self.kpi.map_or("", |i| Table::cell_at(row, i));
        let kpi = match values::plain_parts(cell) {
            // A plain number in range goes into the sheet as its parts: a `Decimal` made here
            // and read back whole at once stalled the processor (perf annotate: a sixth of this
            // function's time; see `Given`).
            Some((mantissa, scale)) if self.max.admits(mantissa, scale) == Some(true) => {
                self.sheet.insert_parts(position, mantissa, scale, line(row));
                return;
            }
            Some((mantissa, scale)) => Decimal::new(mantissa, scale),
            None => {
                let value = values::number(cell).map_err(|m| table.problem(row, "kpi", number_fix(m)));
                let Some(kpi) = found.check(value).flatten() else { return };
                kpi
            }
        };
        if in_range(table, row, "kpi", kpi, self.max.max(), found) {
            self.sheet.insert(position, KpiValue { kpi, line: line(row) });
        }
    }
}

fn period(table: &Table, row: &Row, found: &mut Findings) -> Option<Period> {
    found.check(Period::parse(table.cell(row, "period")).map_err(|m| table.problem(row, "period", m)))
}

pub fn events(table: &Table, found: &mut Findings) -> Vec<EventRow> {
    let mut out = Vec::new();
    for row in &table.rows {
        let period = period(table, row, found);
        let rank = found.check(values::rank(table.cell(row, "rank")).map_err(|m| table.problem(row, "rank", m)));
        let event = table.cell(row, "event").to_string();
        if event.is_empty() {
            found.problems.push(table.problem(row, "event", "is blank: name the competition or check"));
        }
        if let (Some(period), Some(rank)) = (period, rank) {
            out.push(EventRow {
                period,
                event,
                unit: table.cell(row, "unit").to_string(),
                rank,
                note: table.cell(row, "note").to_string(),
                source: source(table, row),
            });
        }
    }
    out
}

pub fn city_awards(table: &Table, roster: &Roster, found: &mut Findings) -> Vec<CityAwardRow> {
    let mut out = Vec::new();
    for row in &table.rows {
        let period = period(table, row, found);
        let person = roster_id(table, row, roster, 0, found).map(|i| &roster.people[i]);
        let amount = found.check(
            values::whole_yuan(table.cell(row, "amount"))
                .map_err(|m| table.problem(row, "amount", format!("{m}: write whole yuan in digits, e.g. 150"))),
        );
        let amount = match amount {
            Some(None) => {
                found.problems.push(table.problem(row, "amount", "is blank: give the amount in whole yuan"));
                None
            }
            other => other.flatten(),
        };
        let award = table.cell(row, "award");
        if award.is_empty() {
            found.problems.push(table.problem(row, "award", "is blank: name the city award"));
        }
        let group = match table.cell(row, "group") {
            "" => "cash".to_string(),
            g => g.to_string(),
        };
        if let (Some(period), Some(person), Some(amount), false) = (period, person, amount, award.is_empty()) {
            out.push(CityAwardRow {
                period,
                id: person.id.to_string(),
                award: award.to_string(),
                amount,
                group,
                source: source(table, row),
            });
        }
    }
    out
}

pub fn vetoes(table: &Table, roster: &Roster, found: &mut Findings) -> Vec<VetoRow> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for row in &table.rows {
        let period = period(table, row, found);
        let person = roster_id(table, row, roster, 0, found).map(|i| &roster.people[i]);
        if let (Some(period), Some(person)) = (period, person) {
            if seen.insert((period, person.id.clone())) {
                out.push(VetoRow {
                    period,
                    id: person.id.to_string(),
                    reason: table.cell(row, "reason").to_string(),
                    source: source(table, row),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A value in hundredths, spelled as a spreadsheet may give it: plain (`12.5`), with the
    /// zeros its format shows (`12.50`), in full-width digits (`１２．５`), with a suffix
    /// (`12.5分`), or padded with spaces.
    fn spelled(hundredths: u32, how: u8) -> String {
        let shown = Decimal::new(i64::from(hundredths), 2);
        let plain = shown.normalize().to_string();
        match how % 5 {
            0 => plain,
            1 => shown.to_string(),
            2 => wide(&plain),
            3 => format!("{plain}分"),
            _ => format!(" {plain} "),
        }
    }

    /// ASCII text in full-width characters (`12.5` → `１２．５`).
    fn wide(text: &str) -> String {
        text.chars().map(|c| char::from_u32(c as u32 + 0xfee0).unwrap_or(c)).collect()
    }

    /// The header of a points sheet giving both item tables of the built-in rubric, its bonus
    /// item and the total.
    const POINTS_HEADER: &str =
        "工号,姓名,服务规范,业务准确,客户满意度,营销指标,通话质量,服务态度,回访满意度,话务指标,好人好事,积分";

    /// A cell: blank, or a value in hundredths and how to spell it.
    type Given = Option<(u32, u8)>;

    /// The sheet's text, every given value spelled plainly or as `how` says.
    fn sheet_text(header: &str, rows: &[Vec<Given>], as_written: bool) -> String {
        let mut text = format!("{header}\n");
        for (i, cells) in rows.iter().enumerate() {
            let id = format!("{:04}", i % 3 + 1);
            // Every other row's id in full-width digits, which `values::id` reads the long way.
            let given_id = if as_written && i % 2 == 1 { wide(&id) } else { id.clone() };
            text.push_str(&format!("{given_id},员工{id}"));
            for cell in cells {
                let value = cell.map_or(String::new(), |(v, how)| spelled(v, if as_written { how } else { 0 }));
                text.push_str(&format!(",{value}"));
            }
            text.push('\n');
        }
        text
    }

    /// What reading gave: the sheet and every problem and warning, as text.
    fn read(text: &str, kind: &str) -> String {
        let (roster, rubric) = crate::fuzzing::fixture();
        let mut found = Findings::default();
        let aliases = super::super::Aliases::new();
        let read = if kind == "points" {
            Table::parse("p.csv", text.as_bytes(), POINTS, &aliases)
                .map(|t| format!("{:?}", points(&t, roster, rubric, true, &mut found)))
        } else {
            Table::parse("k.csv", text.as_bytes(), KPI, &aliases)
                .map(|t| format!("{:?}", kpi(&t, roster, rubric, &mut found)))
        };
        format!("{read:?}\n{:?}\n{:?}", found.problems, found.warnings)
    }

    fn cell() -> impl Strategy<Value = Given> {
        proptest::option::weighted(0.7, (0u32..3200, any::<u8>()))
    }

    /// A sheet's slots and findings, for comparing two readings of one sheet.
    fn slots_and_findings(sheet: &PointsSheet, found: &Findings) -> String {
        let slots: Vec<_> = (0..4).map(|p| sheet.get(p).map(|v| (v.line, v.points.serialize()))).collect();
        format!("{slots:?}\n{:?}\n{:?}", found.problems, found.warnings)
    }

    /// A generated points row: the person's position, each item column's value (mantissa,
    /// scale) if given, how the items and total are given, and a total that need not add up.
    type PointsRowCase = (usize, Vec<Option<(u32, u32)>>, u8, (u32, u32));

    /// A points row: the person (0001–0003, the last without a points table), each item
    /// column blank or a value `m / 10^s` (mostly hundredths, so mostly within the items'
    /// maxima), which items are given (the person's table's and the bonus item, none, or
    /// any), and how the total is given (blank, the items' sum, or any value).
    fn points_row() -> impl Strategy<Value = PointsRowCase> {
        let value = (0u32..3000, prop_oneof![3 => Just(2u32), 1 => 0u32..=9]);
        let items = proptest::collection::vec(proptest::option::weighted(0.9, value.clone()), 9);
        (0usize..3, items, any::<u8>(), value).prop_map(|(person, mut items, how, total)| {
            // The header's item columns: 营业员's four, 客服代表's four, the bonus item.
            let table = if person == 1 { 4..8 } else { 0..4 };
            match how / 3 % 3 {
                0 => items
                    .iter_mut()
                    .enumerate()
                    .filter(|(c, _)| !table.contains(c) && *c != 8)
                    .for_each(|(_, v)| *v = None),
                1 => items.iter_mut().for_each(|v| *v = None),
                _ => {}
            }
            (person, items, how, total)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// A row whose numbers are all plain is worked out in integers (`plain_points`), unless
        /// its items are kept (the month bulletin): the two ways give the same points, to the
        /// same places, and the same problems, on rows right and wrong (items out of range,
        /// blank, outside the post's table; totals that differ; a post without a table).
        #[test]
        fn plain_rows_read_the_same_in_integers_as_in_decimals(
            rows in proptest::collection::vec(points_row(), 1..8),
        ) {
            let mut text = format!("{POINTS_HEADER}\n");
            for (person, items, how, any_total) in &rows {
                let value = |(m, s): (u32, u32)| Decimal::new(i64::from(m), s);
                let sum: Decimal = items.iter().flatten().map(|&v| value(v)).sum();
                let total = match how % 3 {
                    0 => String::new(),
                    1 => sum.to_string(),
                    _ => value(*any_total).to_string(),
                };
                let cells: Vec<String> = items.iter().map(|v| v.map_or(String::new(), |v| value(v).to_string())).collect();
                text.push_str(&format!("{:04},员工{:04},{},{total}\n", person + 1, person + 1, cells.join(",")));
            }
            let (roster, rubric) = crate::fuzzing::fixture();
            let table = Table::parse("p.csv", text.as_bytes(), POINTS, &super::super::Aliases::new()).expect("a table");
            let read = |keep: bool| {
                let mut found = Findings::default();
                let sheet = points(&table, roster, rubric, keep, &mut found);
                slots_and_findings(&sheet, &found)
            };
            prop_assert_eq!(read(false), read(true));
        }

        /// Plain numbers are kept as mantissa and scale while a row is read, the others as
        /// decimals (`Given`): a sheet reads the same, sums, items, problems and all, whichever
        /// way each of its numbers is spelled.
        #[test]
        fn a_points_sheet_reads_the_same_whichever_way_its_numbers_are_written(
            rows in proptest::collection::vec(proptest::collection::vec(cell(), 10), 1..7),
            totals in proptest::collection::vec(cell(), 7),
        ) {
            let rows: Vec<Vec<Given>> = rows.into_iter().zip(totals).map(|(mut r, t)| { r.push(t); r }).collect();
            prop_assert_eq!(read(&sheet_text(POINTS_HEADER, &rows, true), "points"), read(&sheet_text(POINTS_HEADER, &rows, false), "points"));
        }

        #[test]
        fn a_kpi_sheet_reads_the_same_whichever_way_its_numbers_are_written(
            rows in proptest::collection::vec(proptest::collection::vec((0u32..11_000, any::<u8>()).prop_map(Some), 1), 1..7),
        ) {
            prop_assert_eq!(read(&sheet_text("工号,姓名,绩效", &rows, true), "kpi"), read(&sheet_text("工号,姓名,绩效", &rows, false), "kpi"));
        }
    }
}
