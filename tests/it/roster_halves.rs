//! A large roster is read in two halves on two threads (`files::roster_from_bytes`). Whatever
//! the file holds, the result must be what one pass gives: the same people in the same order,
//! each with the line of their row, found by the same ids, and the same problems and warnings.
//! The generated files mix what the halves must hand back to one pass (quotes, a lone carriage
//! return, a GBK byte, duplicate ids, bad dates, blank names) with clean files, which the
//! halves read themselves; BOM, CRLF and blank lines are drawn for both, and ids in order
//! (zero-padded or not) or in reverse.

use cs_score::error::Problem;
use cs_score::model::Person;
use cs_score::read::files::{self, Findings};
use cs_score::read::Aliases;
use proptest::prelude::*;
use proptest::sample::select;
use std::sync::Arc;

const NAMES: [&str; 6] = ["张伟", "王芳", "李娜", "Li Na", "欧阳明月", "陈"];
const UNITS: [&str; 3] = ["营业厅", "客服中心", "客户服务部"];
const POSTS: [&str; 3] = ["营业员", "客服代表", "厅经理"];
/// Joining or leaving dates: blank most often, or in one of two spellings. (A date that is not
/// one is an oddity: any finding sends the file to one pass.)
const DATES: [&str; 5] = ["", "", "", "2009-03-01", "2009/7/15"];

#[derive(Debug, Clone)]
struct RowSpec {
    /// Some(k): the id of row k (mod rows) again, a duplicate.
    again: Option<usize>,
    name: &'static str,
    unit: &'static str,
    post: &'static str,
    joined: &'static str,
    left: &'static str,
    blank_line_after: bool,
}

fn row_spec() -> impl Strategy<Value = RowSpec> {
    (
        proptest::option::weighted(0.003, 0usize..1000),
        proptest::option::weighted(0.998, select(&NAMES[..])),
        select(&UNITS[..]),
        select(&POSTS[..]),
        select(&DATES[..]),
        select(&DATES[..]),
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(again, name, unit, post, joined, left, blank_line_after)| RowSpec {
            again,
            name: name.unwrap_or(""),
            unit,
            post,
            joined,
            left,
            blank_line_after,
        })
}

/// What could make the halves hand the file back to one pass, each drawn rarely.
#[derive(Debug, Clone, Copy)]
struct Oddities {
    bom: bool,
    crlf: bool,
    quote: bool,
    lone_return: bool,
    gbk: bool,
    bad_date: bool,
    /// A blank first line (nothing, spaces, or commas only), and the header again as a row.
    blank_first: Option<&'static str>,
}

fn oddities() -> impl Strategy<Value = Oddities> {
    let rare = || proptest::bool::weighted(0.1);
    let blank_first = proptest::option::weighted(0.1, select(&["", "  ", ",,,,,", " ,\u{3000},"][..]));
    (any::<bool>(), any::<bool>(), rare(), rare(), rare(), rare(), blank_first).prop_map(
        |(bom, crlf, quote, lone_return, gbk, bad_date, blank_first)| Oddities {
            bom,
            crlf,
            quote,
            lone_return,
            gbk,
            bad_date,
            blank_first,
        },
    )
}

/// Row k's id among `rows`: in the file's order zero-padded (as rosters are kept: the index is
/// then a list of numbers), unpadded (`9` before `10`: ascending as numbers, not as text), or
/// in reverse (the index is a hash table from the first row on).
fn id_of(k: usize, rows: usize, style: u8) -> String {
    match style {
        0 => format!("{k:05}"),
        1 => format!("{k}"),
        _ => format!("{:05}", rows - k),
    }
}

fn roster_file(rows: &[RowSpec], odd: Oddities, at: usize, style: u8) -> Vec<u8> {
    let end = if odd.crlf { "\r\n" } else { "\n" };
    let mut text = String::new();
    if odd.bom {
        text.push('\u{feff}');
    }
    if let Some(blank) = odd.blank_first {
        text.push_str(blank);
        text.push_str(end);
    }
    text.push_str("id,name,unit,post,joined,left");
    text.push_str(end);
    // An odd cell lands at row `at`, in the first or the second half, or (half the time) in
    // the middle row, where the halves would be cut.
    let odd_row = if at % 2 == 0 { rows.len() / 2 } else { at % rows.len() };
    for (i, r) in rows.iter().enumerate() {
        let id = id_of(r.again.map_or(i, |k| k % rows.len()), rows.len(), style);
        let name = if i == odd_row && odd.quote {
            // A quoted name across lines, longer than the rest of the file: the middle byte
            // falls in it.
            format!("\"{}{}\"", r.name, "\n".repeat(rows.len() * 40))
        } else {
            r.name.to_string()
        };
        let joined = if i == odd_row && odd.bad_date { "2009-13-01" } else { r.joined };
        text.push_str(&format!("{id},{name},{},{},{joined},{}{end}", r.unit, r.post, r.left));
        if i == odd_row && odd.blank_first.is_some() {
            // The header again (two rosters joined): after a blank first line, one the halves
            // could take for the second half's header.
            text.push_str("id,name,unit,post,joined,left");
            text.push_str(end);
        }
        if i == odd_row && odd.lone_return && !odd.quote {
            // A line of its own ended by a carriage return alone: blank, so no finding, but
            // a line to count.
            text.push('\r');
        }
        if r.blank_line_after {
            text.push_str(end);
        }
    }
    let mut bytes = text.into_bytes();
    if odd.gbk {
        // 张 in GBK, in front of the last row's unit: the file is then GB18030 throughout.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let unit = UNITS.iter().filter_map(|u| text.rfind(&format!(",{u},"))).max().expect("a row") + 1;
        bytes.splice(unit..unit, [0xD5, 0xC5]);
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_roster_read_in_halves_is_the_roster_read_in_one_pass(
        rows in proptest::collection::vec(row_spec(), 1..120),
        odd in oddities(),
        at in 0usize..1000,
        style in 0u8..3,
    ) {
        let bytes = roster_file(&rows, odd, at, style);
        let aliases = Aliases::new();
        let read = |halves_from: usize| {
            let mut found = Findings::default();
            let roster = files::roster_from_bytes("data/roster.csv", &bytes, &aliases, halves_from, &mut found);
            (roster, found)
        };
        let ((halves, in_halves), (one_pass, in_one_pass)) = (read(0), read(usize::MAX));
        prop_assert_eq!(&halves.people, &one_pass.people);
        for i in 0..=rows.len() {
            let id = id_of(i, rows.len(), style);
            prop_assert_eq!(halves.position(&id), one_pass.position(&id), "id {}", id);
        }
        // And each is found where it is (a roster's ids are distinct: a repeated one is a problem).
        for (k, person) in halves.people.iter().enumerate() {
            prop_assert_eq!(halves.position(&person.id), Some(k), "id {}", person.id);
        }
        // And the names and posts that sheets' rows are checked against (`Lookups`): in release
        // builds no command-line test reads its roster in halves, so only this checks them there.
        let posts = |r: &cs_score::model::Roster| r.posts().iter().map(|p| p.to_string()).collect::<Vec<_>>();
        prop_assert_eq!(posts(&halves), posts(&one_pass));
        for (k, person) in one_pass.people.iter().enumerate() {
            prop_assert_eq!(halves.post_of(k), one_pass.post_of(k));
            prop_assert!(halves.name_is(k, &person.name));
            let other = format!("{}x", person.name);
            prop_assert!(!halves.name_is(k, &other));
        }
        prop_assert_eq!(in_halves.problems, in_one_pass.problems);
        prop_assert_eq!(in_halves.warnings, in_one_pass.warnings);
    }
}

/// A clean roster of a few thousand people read in halves: every person's line is the line of
/// their row, counted here from the bytes written (blank lines and a BOM included).
#[test]
fn people_read_in_the_second_half_keep_the_lines_of_their_rows() {
    let mut text = String::from("\u{feff}id,name,unit,post\n");
    let mut lines = Vec::new();
    for i in 0..3000 {
        if i % 7 == 0 {
            text.push('\n');
        }
        lines.push(text.matches('\n').count() as u64 + 1);
        text.push_str(&format!("{i:05},{},营业厅,营业员\n", NAMES[i % NAMES.len()]));
    }
    let mut found = Findings::default();
    let roster = files::roster_from_bytes("data/roster.csv", text.as_bytes(), &Aliases::new(), 0, &mut found);
    assert!(found.problems.is_empty() && found.warnings.is_empty());
    assert_eq!(roster.len(), 3000);
    for (i, (person, line)) in roster.people.iter().zip(&lines).enumerate() {
        assert_eq!((&*person.id, person.source.line), (format!("{i:05}").as_str(), *line));
        assert_eq!(roster.position(&person.id), Some(i));
    }
}

/// A file whose first half is UTF-8 and whose second half holds one GBK character is GB18030
/// throughout, as one pass reads it: its first half's names then read as other characters
/// (UTF-8 李娜 is valid GB18030 too). Halves that each decided their own encoding would keep
/// 李娜; the halves must hand such a file to one pass.
#[test]
fn a_gbk_byte_in_the_second_half_makes_the_whole_roster_gb18030() {
    let mut bytes = b"id,name,unit,post\n".to_vec();
    for i in 0..200 {
        bytes.extend_from_slice(format!("{i:05},李娜,客服中心,客服代表\n").as_bytes());
    }
    for i in 200..400 {
        bytes.extend_from_slice(format!("{i:05},Wang,hall,clerk\n").as_bytes());
    }
    bytes.extend_from_slice(b"00400,\xD5\xC5,hall,clerk\n");
    let read = |halves_from: usize| {
        let mut found = Findings::default();
        let roster = files::roster_from_bytes("data/roster.csv", &bytes, &Aliases::new(), halves_from, &mut found);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        roster
    };
    let (halves, one_pass) = (read(0), read(usize::MAX));
    assert!(one_pass.people[0].name.starts_with("鏉庡"), "李娜's UTF-8 bytes read as GB18030");
    assert_eq!(&*one_pass.people[400].name, "张");
    assert_eq!(halves.people, one_pass.people);
}

/// Found by review: a roster whose first line is blank has its header on line 2. Put in front
/// of the second half, the blank line would make the second half's first row its header, and a
/// row that reads as a header (two rosters joined) would vanish without a problem. The halves
/// must hand such a file to one pass, which finds that row's bad dates.
#[test]
fn a_blank_first_line_sends_the_roster_to_one_pass() {
    let joined = "\nid,name,unit,post,joined,left\n0101,A,营业厅,营业员,,\n0102,B,营业厅,营业员,,\nid,name,unit,post,joined,left\n0103,C,营业厅,营业员,,\n";
    for bytes in [joined.to_string(), joined.replacen('\n', ",,\n", 1)] {
        let [halves, one_pass] = people_and_problems(bytes.as_bytes());
        assert_eq!(one_pass.1.len(), 2, "the joined header's dates: {:?}", one_pass.1);
        assert_eq!(halves, one_pass);
    }
}

/// An id repeated on either side of where the halves are cut (the first half's last row and the
/// second half's first): each half alone is in order and clean, and their ids join as lists of
/// numbers only when the second half begins above the first's end; here it begins at it, so
/// the halves must hand the file to one pass, which finds the duplicate. Each row next to the
/// middle is tried as the repeat, so that one of them is the second half's first row.
#[test]
fn an_id_repeated_across_the_cut_is_a_duplicate() {
    let rows = 40;
    for repeat in rows / 2 - 3..rows / 2 + 4 {
        let mut text = String::from("id,name,unit,post\n");
        for i in 0..rows {
            let id = if i == repeat { i - 1 } else { i };
            text.push_str(&format!("{id:05},张伟,营业厅,营业员\n"));
        }
        let [halves, one_pass] = people_and_problems(text.as_bytes());
        assert_eq!(one_pass.1.len(), 1, "the duplicate of row {repeat}: {:?}", one_pass.1);
        assert_eq!(halves, one_pass, "the duplicate at row {repeat}");
    }
}

/// The people and the problems of a roster file read in halves (when it can be), then in one
/// pass.
fn people_and_problems(bytes: &[u8]) -> [(Vec<Arc<Person>>, Vec<Problem>); 2] {
    [0, usize::MAX].map(|halves_from| {
        let mut found = Findings::default();
        let roster = files::roster_from_bytes("data/roster.csv", bytes, &Aliases::new(), halves_from, &mut found);
        (roster.people, found.problems)
    })
}

/// Two rosters kept in id order, one after the other (found by review): each half is ascending,
/// and the second begins below the first's end, above it, just above it or at it (a duplicate).
/// Only a second half that begins above the first's end joins as numbers; the others join one
/// by one, as one pass reads them.
#[test]
fn two_rosters_in_id_order_one_after_the_other_read_as_one_pass() {
    for (a, b) in [(0..40, 100..140), (100..140, 0..40), (0..40, 30..70), (0..40, 41..80), (0..40, 40..80)] {
        let mut text = String::from("id,name,unit,post\n");
        for i in a.clone().chain(b.clone()) {
            text.push_str(&format!("{i:05},张伟{i},营业厅,营业员\n"));
        }
        let read = |halves_from: usize| {
            let mut found = Findings::default();
            files::roster_from_bytes("data/roster.csv", text.as_bytes(), &Aliases::new(), halves_from, &mut found)
        };
        let (halves, one_pass) = (read(0), read(usize::MAX));
        assert_eq!(halves.people, one_pass.people, "{a:?} then {b:?}");
        for i in 0..150 {
            let id = format!("{i:05}");
            assert_eq!(halves.position(&id), one_pass.position(&id), "{a:?} then {b:?}: id {id}");
        }
        assert_eq!(halves.id_order(), one_pass.id_order(), "{a:?} then {b:?}");
    }
}

/// Found by review: a roster longer than one read block whose GBK byte comes late is read first
/// as UTF-8, then again as GB18030, its rows given again from the first: the names and posts
/// the sheets' rows are checked against are those of its people, each once.
#[test]
fn a_roster_read_again_as_gb18030_has_the_lookups_of_its_people_once() {
    let mut bytes = b"id,name,unit,post\n".to_vec();
    let posts = ["clerk", "agent", "lead", "x"];
    for i in 0..15000 {
        bytes.extend_from_slice(format!("{i:06},Wang{},hall,{}\n", i % 7, posts[i % 4]).as_bytes());
    }
    assert!(bytes.len() > 300_000, "past one read block");
    bytes.extend_from_slice(b"015000,\xD5\xC5,hall,new\n");
    for halves_from in [0, usize::MAX] {
        let mut found = Findings::default();
        let roster = files::roster_from_bytes("data/roster.csv", &bytes, &Aliases::new(), halves_from, &mut found);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        assert_eq!(roster.len(), 15001);
        assert_eq!(&*roster.people[15000].name, "张");
        let in_order: Vec<&str> = ["clerk", "agent", "lead", "x", "new"].to_vec();
        assert_eq!(roster.posts().iter().map(|p| &**p).collect::<Vec<_>>(), in_order);
        for (k, person) in roster.people.iter().enumerate() {
            assert_eq!(&*roster.posts()[roster.post_of(k)], &*person.post, "post of {k}");
            assert!(roster.name_is(k, &person.name) && !roster.name_is(k, &format!("{}x", person.name)), "name of {k}");
        }
    }
}
