//! Entry points for the fuzz targets under `fuzz/` (and for their regression inputs, which
//! `cargo test` replays): arbitrary bytes through the reader and the rubric loader. Each must
//! return normally, whatever the input — an error is fine, a panic is a bug.

use crate::model::{Period, Person, Roster, Source};
use crate::read::{files, Aliases, Table};
use crate::rubric;

/// A fixed roster and rubric for the data readers: ids 0001–0003, one with a points table.
/// Built once: the fuzzer calls the entry points millions of times.
pub(crate) fn fixture() -> &'static (Roster, rubric::Rubric) {
    static FIXTURE: std::sync::OnceLock<(Roster, rubric::Rubric)> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> (Roster, rubric::Rubric) {
    let person = |id: &str, post: &str| Person {
        id: id.into(),
        name: format!("员工{id}").into(),
        unit: "营业厅".into(),
        post: post.into(),
        joined: None,
        left: None,
        source: Source { file: "data/roster.csv".into(), line: 2 },
    };
    let roster = Roster::new(vec![person("0001", "营业员"), person("0002", "客服代表"), person("0003", "厅经理")]);
    (roster, rubric::builtin())
}

/// Feeds bytes to every data-file reader (as roster, points, KPI, events, city awards and
/// vetoes), the way a workspace file would be read.
pub fn read_data_file(bytes: &[u8]) {
    let (roster, rubric) = fixture();
    let aliases = Aliases::new();
    same_in_small_blocks(bytes, &aliases);
    let mut found = files::Findings::default();
    if let Ok(t) = Table::parse("roster.csv", bytes, files::ROSTER, &aliases) {
        files::roster(&t, &mut found);
    }
    if let Ok(t) = Table::parse("points.csv", bytes, files::POINTS, &aliases) {
        files::points(&t, roster, rubric, true, &mut found);
    }
    if let Ok(t) = Table::parse("kpi.csv", bytes, files::KPI, &aliases) {
        files::kpi(&t, roster, rubric, &mut found);
    }
    if let Ok(t) = Table::parse("events.csv", bytes, files::EVENTS, &aliases) {
        files::events(&t, &mut found);
    }
    if let Ok(t) = Table::parse("city-awards.csv", bytes, files::CITY_AWARDS, &aliases) {
        files::city_awards(&t, roster, &mut found);
    }
    if let Ok(t) = Table::parse("vetoes.csv", bytes, files::VETOES, &aliases) {
        files::vetoes(&t, roster, &mut found);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = Period::parse(text);
    }
}

/// Reading in blocks of a few bytes must give what reading in one block gives, and cutting
/// quote-free blocks ourselves what the csv crate gives: the same rows on the same lines, or
/// the same problems.
fn same_in_small_blocks(bytes: &[u8], aliases: &Aliases) {
    for columns in [files::ROSTER, files::POINTS, files::EVENTS] {
        let whole = Table::parse("f.csv", bytes, columns, aliases);
        for (block, split_plain) in [(5, true), (7, true), (64, true), (7, false), (1 << 20, false)] {
            let small = Table::parse_in_blocks("f.csv", bytes, columns, aliases, block, split_plain);
            match (&whole, &small) {
                (Ok(a), Ok(b)) => {
                    let rows = |t: &Table| t.rows.iter().map(|r| (r.line, r.cells.clone())).collect::<Vec<_>>();
                    assert_eq!((&a.headers, a.header_line, &a.encoding), (&b.headers, b.header_line, &b.encoding));
                    assert_eq!(rows(a), rows(b), "blocks of {block} bytes read other rows");
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "blocks of {block} bytes found other problems"),
                (a, b) => {
                    panic!("blocks of {block} bytes: {:?} but one block: {:?}", b.as_ref().err(), a.as_ref().err())
                }
            }
        }
    }
}

/// Feeds bytes to the rubric loader (when they are text).
pub fn load_rubric(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = rubric::load(text, "fuzz.toml");
    }
}
