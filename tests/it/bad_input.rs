//! Bad input: one test per kind of bad data or rubric (exit 1, a message naming file, line and column or key).
//!
//! Every test starts from a copy of the worked 2009Q2 workspace, breaks one thing, and checks
//! what SPEC § 5 promises for bad input: exit code 1, nothing on stdout, no panic, a stderr
//! line naming the file, line and column (or the rubric key path), and a workspace that is
//! byte for byte what it was before the run.

use crate::support::{Run, Ws};

const QUARTER: &[&str] = &["quarter", "2009Q2"];
const ROSTER: &str = "data/roster.csv";
const POINTS: &str = "data/points/2009-05.csv";
const KPI: &str = "data/kpi/2009-05.csv";
const EVENTS: &str = "data/events.csv";
const CITY: &str = "data/city-awards.csv";
const VETOES: &str = "data/vetoes.csv";
const RUBRIC: &str = "rubric.toml";

/// The worked example: a valid workspace to break.
fn worked() -> Ws {
    Ws::case("worked-2009Q2")
}

/// Replaces `from`, which must occur exactly once, in a workspace file.
fn edit(ws: &Ws, relative: &str, from: &str, to: &str) {
    let text = ws.read(relative);
    assert_eq!(text.matches(from).count(), 1, "{relative}: {from:?} should occur exactly once in:\n{text}");
    ws.write(relative, text.replacen(from, to, 1));
}

/// Appends one line to a workspace file.
fn append(ws: &Ws, relative: &str, line: &str) {
    let mut text = ws.read(relative);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    ws.write(relative, text);
}

/// The worked points sheet for May with its total column headed `积分` (an alias of `points`),
/// so messages must name the column as the user wrote it.
fn points_header_zh(ws: &Ws) {
    edit(ws, POINTS, "id,name,points\n", "id,name,积分\n");
}

/// A rubric variant with a points table for 营业员 (items 60 + 40, bonus 5).
fn with_points_table(ws: &Ws) {
    let mut rubric = ws.read(RUBRIC);
    rubric.push_str(concat!(
        "\n[points]\n",
        "max = 100\n",
        "[[points.table]]\n",
        "posts = [\"营业员\"]\n",
        "items = [ { name = \"服务规范\", max = 60 }, { name = \"业务准确\", max = 40 } ]\n",
        "bonus = [ { name = \"好人好事\", max = 5 } ]\n",
    ));
    ws.write(RUBRIC, rubric);
}

/// Runs `args` and asserts the run was rejected as bad input: no panic, exit 1, nothing on
/// stdout, and every file of the workspace unchanged (none added, none removed).
fn rejects(ws: &Ws, args: &[&str]) -> Run {
    let before = ws.snapshot();
    let r = ws.run(args);
    assert!(!r.stderr.contains("panicked"), "cs-score {args:?} panicked:\n{}", r.stderr);
    assert_eq!(r.code, 1, "cs-score {args:?}: bad input must exit 1; stderr:\n{}", r.stderr);
    assert!(r.stdout.is_empty(), "cs-score {args:?}: nothing may go to stdout on failure, got:\n{}", r.stdout);
    let after = ws.snapshot();
    if before != after {
        let paths = |s: &[(std::path::PathBuf, Vec<u8>)]| s.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        let changed: Vec<_> = before
            .iter()
            .filter(|b| !after.contains(b))
            .map(|(p, _)| p.display().to_string())
            .chain(after.iter().filter(|a| !before.contains(a)).map(|(p, _)| p.display().to_string()))
            .collect();
        panic!(
            "cs-score {args:?} changed the workspace: {changed:?}\nbefore: {:?}\nafter: {:?}",
            paths(&before),
            paths(&after)
        );
    }
    r
}

/// Asserts that one stderr line contains every one of `parts`; returns its index.
fn line_with(r: &Run, parts: &[&str]) -> usize {
    r.stderr
        .lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no stderr line contains all of {parts:?}; stderr:\n{}", r.stderr))
}

// ---------------------------------------------------------------------------------------
// 1. An id in a data file that is not on the roster
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_id_in_points() {
    let ws = worked();
    edit(&ws, POINTS, "0002,王芳,90\n", "9999,王芳,90\n");
    for args in [&["month", "2009-05"][..], QUARTER, &["year", "2009"]] {
        let r = rejects(&ws, args);
        line_with(&r, &["data/points/2009-05.csv:3: column id:", "\"9999\"", "roster"]);
    }
}

#[test]
fn unknown_id_in_kpi() {
    let ws = worked();
    edit(&ws, KPI, "0002,91\n", "9999,91\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/kpi/2009-05.csv:3: column id:", "\"9999\"", "roster"]);
}

#[test]
fn unknown_id_in_city_awards() {
    let ws = worked();
    append(&ws, CITY, "2009Q2,9999,市公司服务明星,100,cash");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/city-awards.csv:3: column id:", "\"9999\"", "roster"]);
}

#[test]
fn unknown_id_in_vetoes() {
    let ws = worked();
    append(&ws, VETOES, "2009Q2,9999,服务投诉");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/vetoes.csv:2: column id:", "\"9999\"", "roster"]);
}

#[test]
fn id_that_lost_its_leading_zeros_gets_a_hint() {
    let ws = worked();
    edit(&ws, POINTS, "0001,张伟,91\n", "1,张伟,91\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:2: column id:", "\"1\"", "leading zeros", "\"0001\""]);
}

#[test]
fn id_in_scientific_notation_gets_a_text_format_hint() {
    let ws = worked();
    edit(&ws, POINTS, "0001,张伟,91\n", "2.31E+13,张伟,91\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:2: column id:", "2.31E+13", "scientific notation", "as text"]);
}

// ---------------------------------------------------------------------------------------
// 2. Duplicate ids
// ---------------------------------------------------------------------------------------

#[test]
fn duplicate_id_in_roster() {
    let ws = worked();
    append(&ws, ROSTER, "0003,李娜,营业厅,营业员,2007-02-15,");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/roster.csv:12: column id:", "duplicate", "\"0003\"", "line 4"]);
}

#[test]
fn duplicate_id_in_one_months_points() {
    let ws = worked();
    append(&ws, POINTS, "0003,李娜,90");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:12: column id:", "duplicate", "\"0003\"", "line 4"]);
}

// ---------------------------------------------------------------------------------------
// 3. Values that are not numbers, or out of range
// ---------------------------------------------------------------------------------------

#[test]
fn points_letter_o_for_zero_is_not_a_number() {
    let ws = worked();
    points_header_zh(&ws);
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,9O\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "\"9O\"", "not a number"]);
}

#[test]
fn points_in_chinese_numerals_is_not_a_number() {
    let ws = worked();
    points_header_zh(&ws);
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,九十\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "\"九十\"", "not a number"]);
}

#[test]
fn kpi_not_a_number() {
    let ws = worked();
    edit(&ws, KPI, "id,kpi\n", "id,绩效\n");
    edit(&ws, KPI, "0002,91\n", "0002,9l\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/kpi/2009-05.csv:3: column 绩效:", "\"9l\"", "not a number"]);
}

#[test]
fn points_above_max_without_bonus_items() {
    let ws = worked();
    points_header_zh(&ws);
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,120\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "120", "100"]);
}

#[test]
fn points_above_max_plus_bonus() {
    let ws = worked();
    with_points_table(&ws);
    points_header_zh(&ws);
    // 105 = max 100 + bonus 5 is allowed; 106 is not.
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,106\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "106", "105"]);
}

#[test]
fn kpi_above_max() {
    let ws = worked();
    edit(&ws, KPI, "0002,91\n", "0002,101\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/kpi/2009-05.csv:3: column kpi:", "101", "100"]);
}

#[test]
fn negative_points() {
    let ws = worked();
    points_header_zh(&ws);
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,-5\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "-5"]);
}

#[test]
fn negative_kpi() {
    let ws = worked();
    edit(&ws, KPI, "0002,91\n", "0002,-1\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/kpi/2009-05.csv:3: column kpi:", "-1"]);
}

// ---------------------------------------------------------------------------------------
// 4. Items and a different total
// ---------------------------------------------------------------------------------------

#[test]
fn items_and_a_different_points_total() {
    let ws = worked();
    with_points_table(&ws);
    ws.write(POINTS, "id,服务规范,业务准确,好人好事,points\n0003,55,38,2,95\n0004,50,35,,80\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3: column points:", "80", "85"]);
    assert!(!r.stderr.contains("2009-05.csv:2:"), "line 2 agrees with its items:\n{}", r.stderr);
}

#[test]
fn item_that_is_not_a_number_is_not_also_called_blank() {
    let ws = worked();
    with_points_table(&ws);
    ws.write(POINTS, "id,服务规范,业务准确,好人好事,points\n0003,6x,38,2,\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:2: column 服务规范:", "\"6x\"", "not a number"]);
    assert!(
        !r.stderr.contains("blank"),
        "the item is not blank, it is not a number; a second, contradicting message misleads:\n{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// 5. Monthly and quarterly KPI for one quarter
// ---------------------------------------------------------------------------------------

#[test]
fn monthly_and_quarterly_kpi_for_the_same_quarter() {
    let ws = worked();
    ws.write("data/kpi/2009Q2.csv", ws.read("data/kpi/2009-04.csv"));
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/kpi/2009Q2.csv", "2009Q2", "data/kpi/2009-04.csv"]);
}

// ---------------------------------------------------------------------------------------
// 6. Unparseable dates and periods
// ---------------------------------------------------------------------------------------

#[test]
fn roster_joined_is_not_a_real_date() {
    let ws = worked();
    edit(&ws, ROSTER, "2007-02-15", "2009-02-30");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/roster.csv:4: column joined:", "\"2009-02-30\"", "YYYY-MM-DD"]);
}

#[test]
fn roster_left_is_not_a_date() {
    let ws = worked();
    edit(&ws, ROSTER, "id,name,unit,post,joined,left\n", "id,name,unit,post,joined,离职日期\n");
    edit(&ws, ROSTER, "2009-06-15", "yesterday");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/roster.csv:8: column 离职日期:", "\"yesterday\"", "YYYY-MM-DD"]);
}

#[test]
fn events_period_is_not_a_period() {
    let ws = worked();
    edit(&ws, EVENTS, "2009Q2,暗查暗访,营业厅,1,", "2009Q5,暗查暗访,营业厅,1,");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/events.csv:3: column period:", "\"2009Q5\"", "YYYYQn"]);
}

#[test]
fn vetoes_period_is_not_a_period() {
    let ws = worked();
    ws.write(VETOES, "期间,id,reason\n2009Q5,0003,服务投诉\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/vetoes.csv:2: column 期间:", "\"2009Q5\"", "YYYYQn"]);
}

// ---------------------------------------------------------------------------------------
// 7. Ranks that are not positive integers
// ---------------------------------------------------------------------------------------

#[test]
fn event_rank_that_is_not_a_positive_integer() {
    for bad in ["0", "2.5", "first"] {
        let ws = worked();
        edit(
            &ws,
            EVENTS,
            "2009Q2,市公司客服季度竞赛,客户服务部,2,",
            &format!("2009Q2,市公司客服季度竞赛,客户服务部,{bad},"),
        );
        let r = rejects(&ws, QUARTER);
        line_with(&r, &["data/events.csv:2: column rank:", &format!("\"{bad}\""), "positive"]);
    }
}

// ---------------------------------------------------------------------------------------
// 8. Neither UTF-8 nor GB18030
// ---------------------------------------------------------------------------------------

/// May's sheet with the 积分 cell of line 3 holding bytes no encoding SPEC § 2 allows.
fn undecodable_points(bom: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice("id,name,积分\n0001,张伟,91\n0002,王芳,".as_bytes());
    bytes.extend_from_slice(b"\x81\x20\xFF");
    bytes.extend_from_slice("\n0003,李娜,96\n".as_bytes());
    bytes
}

#[test]
fn file_neither_utf8_nor_gb18030_names_line_and_column() {
    let ws = worked();
    ws.write(POINTS, undecodable_points(false));
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3:", "column 积分", "UTF-8", "GB18030"]);
}

#[test]
fn file_with_utf8_bom_and_bad_bytes_names_line_and_column() {
    let ws = worked();
    ws.write(POINTS, undecodable_points(true));
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/points/2009-05.csv:3:", "column 积分", "UTF-8"]);
}

// ---------------------------------------------------------------------------------------
// 9. A roster without an id column
// ---------------------------------------------------------------------------------------

#[test]
fn roster_without_id_column() {
    let ws = worked();
    edit(&ws, ROSTER, "id,name,unit,post,joined,left\n", "code,name,unit,post,joined,left\n");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["data/roster.csv:1:", "`id`", "工号"]);
}

// ---------------------------------------------------------------------------------------
// 10. Bad rubrics
// ---------------------------------------------------------------------------------------

#[test]
fn rubric_negative_weight() {
    let ws = worked();
    edit(&ws, RUBRIC, "points_weight = 0.4", "points_weight = -0.4");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["rubric.toml: score.points_weight:", "-0.4"]);
}

#[test]
fn rubric_share_above_one() {
    let ws = worked();
    edit(&ws, RUBRIC, "staff_share = 0.30", "staff_share = 1.5");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["rubric.toml: award[1]", ".staff_share:", "1.5"]);
}

#[test]
fn rubric_duplicate_award_key() {
    let ws = worked();
    edit(&ws, RUBRIC, "key = \"hall_mystery_top3\"", "key = \"city_cs_top3\"");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["rubric.toml: award[2]", ".key:", "duplicate", "\"city_cs_top3\""]);
}

#[test]
fn rubric_unknown_enum_value_names_the_allowed_values() {
    let ws = worked();
    edit(&ws, RUBRIC, "rounding = \"half_up\"", "rounding = \"nearest\"");
    let r = rejects(&ws, QUARTER);
    line_with(&r, &["rubric.toml: quota.rounding:", "\"nearest\"", "\"half_up\", \"floor\", \"ceil\""]);
}

#[test]
fn rubric_with_several_problems_reports_all_one_line_each() {
    let ws = worked();
    edit(&ws, RUBRIC, "points_weight = 0.4", "points_weight = -0.4");
    edit(&ws, RUBRIC, "rounding = \"half_up\"", "rounding = \"nearest\"");
    edit(&ws, RUBRIC, "staff_share = 0.50", "staff_share = 1.5");
    edit(&ws, RUBRIC, "key = \"agency_mystery_top3\"", "key = \"city_cs_top3\"");
    edit(&ws, RUBRIC, "city = \"top_up\"", "city = \"max\"");
    let r = rejects(&ws, QUARTER);
    let lines = [
        line_with(&r, &["rubric.toml: score.points_weight:", "-0.4"]),
        line_with(&r, &["rubric.toml: quota.rounding:", "\"nearest\"", "\"half_up\""]),
        line_with(&r, &["rubric.toml: award[2]", ".staff_share:", "1.5"]),
        line_with(&r, &["rubric.toml: award[3]", ".key:", "duplicate"]),
        line_with(&r, &["rubric.toml: highest_only.city:", "\"max\"", "\"top_up\", \"skip\""]),
    ];
    let mut distinct = lines.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "one line per problem:\n{}", r.stderr);
    assert_eq!(
        r.stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        5,
        "exactly the five problems, one line each:\n{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Several problems in one file; --output on a failing run
// ---------------------------------------------------------------------------------------

#[test]
fn problems_in_one_file_are_listed_in_line_order() {
    let ws = worked();
    points_header_zh(&ws);
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,9O\n");
    edit(&ws, POINTS, "0010,吴婷,92\n", "0010,吴婷,x\n");
    let r = rejects(&ws, QUARTER);
    let third = line_with(&r, &["data/points/2009-05.csv:3: column 积分:", "\"9O\""]);
    let eleventh = line_with(&r, &["data/points/2009-05.csv:11: column 积分:", "\"x\""]);
    assert!(third < eleventh, "line 3 must be reported before line 11 (numeric, not text, order):\n{}", r.stderr);
}

#[test]
fn failing_run_does_not_create_the_output_file() {
    for format in ["csv", "json", "xlsx"] {
        let ws = worked();
        edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,9O\n");
        let out = ws.path().join(format!("report.{format}"));
        let out_arg = out.to_str().unwrap();
        let r = rejects(&ws, &["quarter", "2009Q2", "--format", format, "--output", out_arg]);
        line_with(&r, &["data/points/2009-05.csv:3: column points:", "\"9O\""]);
        assert!(!out.exists(), "--format {format}: {} was created", out.display());
    }
}

#[test]
fn failing_run_leaves_an_existing_output_file_untouched() {
    let ws = worked();
    edit(&ws, POINTS, "0002,王芳,90\n", "0002,王芳,9O\n");
    ws.write("report.json", "last month's report\n");
    let out = ws.path().join("report.json");
    let r = rejects(&ws, &["quarter", "2009Q2", "--format", "json", "--output", out.to_str().unwrap()]);
    line_with(&r, &["data/points/2009-05.csv:3: column points:", "\"9O\""]);
    assert_eq!(ws.read("report.json"), "last month's report\n");
}

#[test]
fn a_year_gives_every_files_problems_at_once_like_a_quarter() {
    // A bad event row and a bad points value: the year (which reads its monthly files a
    // quarter at a time) names both, as the quarter does — not only the first file's.
    let ws = Ws::example();
    edit(
        &ws,
        "data/events.csv",
        "2009Q2,市公司客服季度竞赛,客户服务部,3,\n",
        "2009Q2,市公司客服季度竞赛,客户服务部,x,\n",
    );
    edit(&ws, POINTS, "0102,刘淑芬,85.5,", "0102,刘淑芬,8x5.5,");
    let quarter = rejects(&ws, QUARTER);
    let year = rejects(&ws, &["year", "2009"]);
    for r in [&quarter, &year] {
        line_with(r, &["data/events.csv:", "column rank:", "\"x\""]);
        line_with(r, &["data/points/2009-05.csv:3: column points:", "\"8x5.5\""]);
    }
}

#[test]
fn a_folder_problem_is_given_once_by_check() {
    // `check` reads a quarter's files at a time, listing each folder again for each quarter:
    // a folder's problem is still said once, and counted once.
    let ws = Ws::example();
    ws.write("data/points/2009-5.csv", ws.read(POINTS));
    let kpi_as_file = Ws::example();
    std::fs::remove_dir_all(kpi_as_file.path().join("data/kpi")).unwrap();
    kpi_as_file.write("data/kpi", "not a folder\n");
    for (ws, said) in [(&ws, "keep one file per period"), (&kpi_as_file, "data/kpi:")] {
        for args in [&["check"][..], &["check", "2009"], &["--format", "json", "check"]] {
            let r = ws.run(args);
            assert_eq!(r.code, 1, "cs-score {args:?}; stderr:\n{}", r.stderr);
            assert_eq!(r.stderr.lines().filter(|l| l.contains(said)).count(), 1, "cs-score {args:?}:\n{}", r.stderr);
            let counted = match serde_json::from_str::<serde_json::Value>(&r.stdout) {
                Ok(json) => json["errors"].as_array().map(Vec::len) == Some(1),
                Err(_) => r.stdout.contains("check: 1 error(s), 0 warning(s) in "),
            };
            assert!(counted, "cs-score {args:?}:\n{}", r.stdout);
        }
    }
}

#[test]
fn a_folder_problem_is_given_once_by_a_year() {
    // Two files for one month: said once, although the year reads the folder for each quarter.
    let ws = Ws::example();
    ws.write("data/points/2009-5.csv", ws.read(POINTS));
    let r = rejects(&ws, &["year", "2009"]);
    let said = r.stderr.lines().filter(|l| l.contains("keep one file per period")).count();
    assert_eq!(said, 1, "stderr:\n{}", r.stderr);
}
