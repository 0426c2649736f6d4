//! `year`, `month`, `explain` and `check` on hand-computed workspaces, and the cron script.
//!
//! The year case (tests/it/cases/year-2009) by hand: six people, the same values every month;
//! quarter scores 甲 90 (部长), 乙 95, 丙 92, 丁 92, 戊 80, 己 85 (joined 2009-07-01).
//! Annual points are the sum of the quarters: 甲 360, 乙 380, 丙 368, 丁 368, 戊 320, 己 170 (two
//! quarters); scores 198, 209, 202.4, 202.4, 176, 119. Each quarter `q_top` pays 甲 200 and the
//! first half_up(0.5 × headcount) = 3 staff 100 each (乙 丙 丁) — 戊 is vetoed in Q3. The year's
//! `y_top` pays 甲 500 and 乙 丙 丁 300, but 丙 had 200 from the city in group cash: top-up 100.
//! Grades over the 5 candidates (戊 vetoed): 优秀 ends at 0.2 × 5 = 1 (乙); 良好 at 0.4 × 5 = 2,
//! which falls between 丙 and 丁, tied.

use crate::support::{person, rule, Ws};
use serde_json::json;

fn year_case() -> Ws {
    Ws::case("year-2009")
}

#[test]
fn year_scores_ranks_and_payouts_by_hand() {
    let r = year_case().json(&["year", "2009"]);
    let rows: Vec<(String, i64, f64, f64, i64, i64)> = r["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["rank"].as_i64().unwrap(),
                p["points"].as_f64().unwrap(),
                p["score"].as_f64().unwrap(),
                p["payout"].as_i64().unwrap(),
                p["year_payout"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("02", 1, 380.0, 209.0, 300, 700),
        ("03", 2, 368.0, 202.4, 100, 500),
        ("04", 2, 368.0, 202.4, 300, 700),
        ("01", 4, 360.0, 198.0, 500, 1300),
        ("05", 5, 320.0, 176.0, 0, 0),
        ("06", 6, 170.0, 119.0, 0, 0),
    ];
    let expected: Vec<(String, i64, f64, f64, i64, i64)> =
        expected.iter().map(|&(id, rank, p, s, pay, y)| (id.to_string(), rank, p, s, pay, y)).collect();
    assert_eq!(rows, expected);
    assert_eq!(r["total_payout"], 1200);
    assert_eq!(r["year_total_payout"], 3200);
    assert_eq!(r["quarter_totals"], json!({"2009Q1": 500, "2009Q2": 500, "2009Q3": 500, "2009Q4": 500}));
    assert_eq!(
        person(&r, "01")["quarter_payouts"],
        json!({"2009Q1": 200, "2009Q2": 200, "2009Q3": 200, "2009Q4": 200})
    );
    assert_eq!(rule(&r, "y_top")["quota"], 3);
    assert_eq!(rule(&r, "y_top")["paid"], 1200);
}

#[test]
fn year_payout_is_the_quarters_plus_the_year() {
    let ws = year_case();
    let year = ws.json(&["year", "2009"]);
    for p in year["people"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let mut sum = p["payout"].as_i64().unwrap();
        for q in 1..=4 {
            let quarter = ws.json(&["quarter", &format!("2009Q{q}")]);
            let paid = quarter["people"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == id)
                .map_or(0, |x| x["payout"].as_i64().unwrap());
            assert_eq!(p["quarter_payouts"][format!("2009Q{q}")], paid, "{id} Q{q}");
            sum += paid;
        }
        assert_eq!(p["year_payout"], sum, "{id}");
    }
}

#[test]
fn a_person_vetoed_in_one_quarter_gets_no_annual_award_and_no_grade() {
    let r = year_case().json(&["year", "2009"]);
    let wu = person(&r, "05");
    assert_eq!(wu["vetoed"], true);
    assert_eq!(wu["veto_reason"], "破坏团队和谐");
    assert_eq!(wu["rank"], 5, "stays ranked");
    assert_eq!(wu["grade"], serde_json::Value::Null);
    assert_eq!(wu["awards"], json!([]));
    let table = year_case().run(&["year", "2009"]);
    assert!(table.stdout.contains("Vetoes: 05 戊 (2009Q3: 破坏团队和谐)"), "{}", table.stdout);
}

#[test]
fn a_q3_joiner_has_two_quarters_of_points() {
    let r = year_case().json(&["year", "2009"]);
    let ji = person(&r, "06");
    assert_eq!(ji["points"].as_f64(), Some(170.0));
    assert_eq!(ji["quarter_payouts"]["2009Q1"], 0);
    let q1 = year_case().json(&["quarter", "2009Q1"]);
    assert!(q1["people"].as_array().unwrap().iter().all(|p| p["id"] != "06"), "not active in Q1");
}

#[test]
fn annual_points_mean_instead_of_sum() {
    let ws = year_case();
    ws.write("rubric.toml", ws.read("rubric.toml").replace("annual_points = \"sum\"", "annual_points = \"mean\""));
    let r = ws.json(&["year", "2009"]);
    // The mean puts 己 (85) above 戊 (80): two quarters no longer halve her points.
    assert_eq!(person(&r, "06")["points"].as_f64(), Some(85.0));
    assert_eq!(person(&r, "06")["rank"], 5);
    assert_eq!(person(&r, "05")["rank"], 6);
    assert_eq!(person(&r, "03")["score"].as_f64(), Some(92.0));
}

#[test]
fn a_tie_at_a_grade_boundary_under_include_and_exclude() {
    let ws = year_case();
    let include = ws.json(&["year", "2009"]);
    let grades = |r: &serde_json::Value| -> Vec<(String, serde_json::Value)> {
        r["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap().to_string(), p["grade"].clone()))
            .collect()
    };
    assert_eq!(
        grades(&include),
        [
            ("02".to_string(), json!("优秀")),
            ("03".to_string(), json!("良好")),
            ("04".to_string(), json!("良好")),
            ("01".to_string(), json!("合格")),
            ("05".to_string(), json!(null)),
            ("06".to_string(), json!("合格")),
        ]
    );
    assert_eq!(include["grades"], json!({"优秀": 1, "良好": 2, "合格": 2}));
    ws.write("rubric.toml", ws.read("rubric.toml").replace("ties = \"include\"", "ties = \"exclude\""));
    let exclude = ws.json(&["year", "2009"]);
    assert_eq!(exclude["grades"], json!({"优秀": 1, "良好": 0, "合格": 4}));
    assert_eq!(person(&exclude, "03")["grade"], "合格");
    assert_eq!(person(&exclude, "04")["grade"], "合格");
}

#[test]
fn month_bulletin_ranks_by_points_alone() {
    let r = year_case().json(&["month", "2009-05"]);
    let ranks: Vec<(String, i64, f64)> = r["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["rank"].as_i64().unwrap(), p["points"].as_f64().unwrap()))
        .collect();
    let expected: Vec<(String, i64, f64)> =
        [("02", 1, 95.0), ("03", 2, 92.0), ("04", 2, 92.0), ("01", 4, 90.0), ("05", 5, 80.0)]
            .iter()
            .map(|&(i, r, p)| (i.to_string(), r, p))
            .collect();
    assert_eq!(ranks, expected);
    // (95 + 92 + 92 + 90 + 80) / 5 = 89.8
    assert_eq!(r["mean"].as_f64(), Some(89.8));
    assert_eq!(person(&r, "02")["items"], json!({}));
}

#[test]
fn month_by_items_lists_the_items_and_their_sum() {
    let r = Ws::example().json(&["month", "2009-03", "-q"]);
    let li_ting = person(&r, "0202");
    assert_eq!(
        li_ting["items"],
        json!({"服务规范": 29.5, "业务准确": 24.5, "客户满意度": 18.5, "营销指标": 24.5, "好人好事": 0})
    );
    assert_eq!(li_ting["points"].as_f64(), Some(97.0));
    assert_eq!(person(&r, "0101")["items"], json!({}), "management gave a total");
}

#[test]
fn month_warns_about_an_active_person_without_a_row() {
    let r = Ws::example().run(&["month", "2009-05"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("0307 黄磊 is active in 2009-05 but has no points row"), "{}", r.stderr);
}

#[test]
fn masked_bulletin_hides_ids_and_masks_names() {
    let r = year_case().run(&["month", "2009-05", "--mask", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines().skip(1);
    assert_eq!(lines.next().unwrap(), "1,,乙,营业厅,营业员,95");
    let full = Ws::example().run(&["month", "2009-05", "--mask", "-q"]);
    assert!(full.stdout.contains("罗*"), "{}", full.stdout);
    assert!(!full.stdout.contains("0302") && !full.stdout.contains("罗静"));
}

#[test]
fn explain_just_below_the_cut_off_names_the_cut_off() {
    let r = Ws::case("worked-2009Q2").run(&["explain", "2009Q2", "0009", "--lang", "en"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let staff_line = r.stdout.lines().find(|l| l.contains("city_cs_top3.staff_share")).unwrap();
    for needle in [
        "quota 0.3 × 9 = 2.7 → 3 (half_up)",
        "this person is 5th of 6 candidates",
        "the last place taken is 0005 陈静 (rank 6)",
        "0004 刘洋 and 0005 陈静 tie at the cut-off, all included",
        "below the cut-off",
    ] {
        assert!(staff_line.contains(needle), "missing {needle:?} in {staff_line}");
    }
    assert!(r.stdout.contains("points = mean(88, 90, 89) = 89 → 89.00"), "{}", r.stdout);
    assert!(r.stdout.contains("[data/points/2009-04.csv:9]"), "cites file and line:\n{}", r.stdout);
}

#[test]
fn explain_shows_netting_and_training_in_chinese() {
    let r = Ws::case("worked-2009Q2").run(&["explain", "2009Q2", "0003"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "得分 = 95.00 × 0.4 + 92.00 × 0.6 = 93.2 → 93.20",
        "奖励 city_cs_top3 (员工) 200 → 发放 50",
        "奖励 hall_mystery_top3 (员工) 100 → 发放 0: 被 city_cs_top3 取代",
        "市公司奖励: 市公司服务明星 150",
        "培训名额: 部门考评第 2",
        "本期发放 50 元",
    ] {
        assert!(r.stdout.contains(needle), "missing {needle:?} in\n{}", r.stdout);
    }
}

#[test]
fn explain_json_gives_the_same_steps_as_data() {
    let ws = Ws::case("worked-2009Q2");
    let r = ws.json(&["explain", "2009Q2", "0009", "--lang", "en"]);
    assert_eq!((r["id"].clone(), r["name"].clone()), (json!("0009"), json!("周杰")));
    let steps = r["steps"].as_array().unwrap();
    let score = steps.iter().find(|s| s["topic"] == "score").unwrap();
    assert_eq!(score["cite"], json!(["score.points_weight", "score.kpi_weight", "score.decimals"]));
    let text = ws.run(&["explain", "2009Q2", "0009", "--lang", "en"]).stdout;
    assert_eq!(text.lines().count(), steps.len() + 1);
}

#[test]
fn explain_a_year_shows_the_grade_band_and_the_year_total() {
    let r = year_case().run(&["explain", "2009", "04"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("points = sum(92, 92, 92, 92) = 368 → 368.00"), "{}", r.stdout);
    assert!(r.stdout.contains("grade 良好"), "{}", r.stdout);
    assert!(r.stdout.contains("tied at the boundary of 良好: the tied are all included"), "{}", r.stdout);
    assert!(
        r.stdout.contains("year total = 2009Q1 100 + 2009Q2 100 + 2009Q3 100 + 2009Q4 100 + year 300 = 700"),
        "{}",
        r.stdout
    );
}

#[test]
fn explain_a_month_and_an_unknown_id() {
    let ws = year_case();
    let m = ws.run(&["explain", "2009-05", "03"]);
    assert!(
        m.stdout.contains("monthly points 92") && m.stdout.contains("rank 2 / 5 (by points alone); tied with 04 丁"),
        "{}",
        m.stdout
    );
    let missing = ws.run(&["explain", "2009Q2", "99"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("99 is not in the 2009Q2 results"), "{}", missing.stderr);
}

#[test]
fn check_on_the_example_workspace_exits_0() {
    let r = Ws::example().run(&["check"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.ends_with("check: 0 error(s), 1 warning(s) in 26 files\n"), "{}", r.stdout);
    let strict = Ws::example().run(&["check", "--strict"]);
    assert_eq!(strict.code, 1, "--strict fails on the missing-row warning");
    let q3 = Ws::example().run(&["check", "2009Q3"]);
    assert_eq!(q3.code, 0);
    assert!(q3.stdout.contains("check: no problems"), "{}", q3.stdout);
}

#[test]
fn check_reports_every_problem_sorted_with_a_summary() {
    let ws = Ws::case("worked-2009Q2");
    ws.write(
        "data/events.csv",
        ws.read("data/events.csv") + "2009Q2,暗访,营业厅,1,\n2009Q2,市公司客服季度竞赛,客户服务部,x,\n",
    );
    ws.write("data/kpi/2009-05.csv", ws.read("data/kpi/2009-05.csv").replace("0005,90", "0005,9O"));
    ws.write("data/points/2009-06.csv", ws.read("data/points/2009-06.csv").replace("0010,吴婷,90", "0010,吴亭,90"));
    let r = ws.run(&["check"]);
    assert_eq!(r.code, 1);
    // The problems on standard error, as every command's; the summary is the output.
    assert_eq!(r.stdout, "check: 2 error(s), 2 warning(s) in 10 files\n");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "data/events.csv:6: warning: event \"暗访\" is used by no rule or training table: did you mean \"暗查暗访\"?",
            "data/events.csv:7: column rank: \"x\" is not a place: a rank must be a positive whole number (1, 2, 3 …)",
            "data/kpi/2009-05.csv:6: column kpi: \"9O\" is not a number: write a number such as 92.5",
            "data/points/2009-06.csv:11: warning: name \"吴亭\" differs from the roster's \"吴婷\" for id 0010: correct the sheet or the roster",
        ]
    );
    let json = ws.json_any(&["check"]);
    assert_eq!(json["errors"].as_array().unwrap().len(), 2);
    assert_eq!(json["ok"], false);
}

#[test]
fn check_audits_the_rubric_against_the_roster() {
    let ws = Ws::case("worked-2009Q2");
    let rubric = ws
        .read("rubric.toml")
        .replace("staff_share = 0.50", "staff_share = 0.05")
        .replace("kpi_weight = 0.6", "kpi_weight = 0.5");
    ws.write("rubric.toml", rubric.replace("management_scope = \"客服中心\"", "management_scope = \"客服中兴\""));
    let r = ws.run(&["check"]);
    assert_eq!(r.code, 0, "warnings only:\n{}", r.stderr);
    for needle in [
        "rubric.toml: award hall_mystery_top3.staff_share: warning: 0.05 × 5 = 0.25 rounds to 0 places (half_up)",
        "rubric.toml: score.points_weight: warning: points_weight + kpi_weight = 0.9, not 1",
        "rubric.toml: award agency_mystery_top3.management_scope: warning: scope \"客服中兴\" matches no unit on the roster (did you mean 客服中心?)",
    ] {
        assert!(r.stderr.contains(needle), "missing {needle:?} in\n{}", r.stderr);
    }
}

#[test]
fn monthly_report_script_writes_the_bulletin_and_the_quarter() {
    let ws = Ws::example();
    let bin = assert_cmd::cargo::cargo_bin("cs-score");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/monthly-report.sh");
    let run = |month: &str| {
        let mut c = assert_cmd::Command::new("bash");
        c.arg(&script).arg(ws.path()).arg(month).env("CS_SCORE", &bin);
        crate::support::run(c)
    };
    let may = run("2009-05");
    assert_eq!(may.code, 0, "{}", may.stderr);
    let bulletin = std::fs::read_to_string(ws.path().join("reports/2009-05-bulletin.csv")).unwrap();
    assert!(bulletin.starts_with("\u{feff}rank,id,name"), "a file for Excel: UTF-8 with BOM");
    assert!(!ws.path().join("reports/2009Q2-results.csv").exists(), "May does not end a quarter");
    let june = run("2009-06");
    assert_eq!(june.code, 0, "{}", june.stderr);
    let results = std::fs::read_to_string(ws.path().join("reports/2009Q2-results.csv")).unwrap();
    assert!(results.contains("city_cs_top3"));

    ws.write("data/points/2009-07.csv", "id,points\n0101,9O\n");
    let broken = run("2009-07");
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("data/points/2009-07.csv:2: column points: \"9O\" is not a number"),
        "{}",
        broken.stderr
    );
    assert!(broken.stderr.contains("check failed for 2009-07"));
    assert!(!ws.path().join("reports/2009-07-bulletin.csv").exists());
    assert_eq!(run("May").code, 2);
}

/// The training warning is for a quarter none of whose rows gives the place: an unranked
/// monthly row beside the quarter's ranked one is no reason for it, and the slots are there.
#[test]
fn check_warns_of_an_unranked_training_row_only_when_its_quarter_has_no_place() {
    let ws = Ws::case("worked-2009Q2");
    let events = ws.read("data/events.csv");
    ws.write("data/events.csv", format!("{events}2009-05,区分公司部门业绩考评,客户服务部,,月度通报\n"));
    let r = ws.run(&["check"]);
    assert!(!r.stderr.contains("column rank: is blank"), "{}", r.stderr);
    assert_eq!(ws.json(&["quarter", "2009Q2"])["training"]["place"], 2);
    // Without the ranked row the quarter has no place: said, once, at the unranked row.
    let unranked: String = ws
        .read("data/events.csv")
        .lines()
        .filter(|l| !l.starts_with("2009Q2,区分公司部门业绩考评"))
        .map(|l| format!("{l}\n"))
        .collect();
    ws.write("data/events.csv", &unranked);
    let r = ws.run(&["check"]);
    assert_eq!(r.stderr.matches("column rank: is blank: the training table takes").count(), 1, "{}", r.stderr);
    assert!(ws.json(&["quarter", "2009Q2"])["training"].is_null());
}

/// Aliases are named as headers are matched, whatever the case; a column no file has is an
/// error with a hint, not dropped.
#[test]
fn aliases_take_any_case_and_unknown_columns_are_errors() {
    let ws = Ws::case("worked-2009Q2");
    let toml = ws.read("cs-score.toml");
    ws.write("cs-score.toml", format!("{toml}\n[columns.aliases]\nID = [\"员工号\"]\n"));
    let points = ws.read("data/points/2009-05.csv");
    ws.write("data/points/2009-05.csv", points.replacen("id,", "员工号,", 1));
    let with_alias = ws.run(&["quarter", "2009Q2", "--format", "csv"]);
    assert_eq!(with_alias.code, 0, "{}", with_alias.stderr);
    ws.write("cs-score.toml", format!("{toml}\n[columns.aliases]\n\"服务规范\" = [\"服务\"]\n"));
    let r = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("columns.aliases.服务规范: unknown column: aliases are for the columns"), "{}", r.stderr);
    assert!(r.stderr.contains("a rubric item's column takes none"), "{}", r.stderr);
}

/// A quarter without a single points or KPI file follows `missing_month` as a missing month
/// does (SPEC § 4): "zero" counts everyone 0 and ranks them all first, "error" fails, and
/// "mean_of_present" leaves everyone without a score.
#[test]
fn a_quarter_without_any_sheet_follows_missing_month() {
    let ws = Ws::case("worked-2009Q2");
    let rubric = ws.read("rubric.toml");
    let mode = |m: &str| {
        ws.write(
            "rubric.toml",
            rubric.replace("missing_month = \"mean_of_present\"", &format!("missing_month = \"{m}\"")),
        )
    };
    mode("zero");
    let zero = ws.json(&["quarter", "2009Q3"]);
    let people = zero["people"].as_array().unwrap();
    assert!(!people.is_empty());
    assert!(people.iter().all(|p| p["score"] == 0.0 && p["rank"] == 1), "{people:?}");
    mode("error");
    let r = ws.run(&["quarter", "2009Q3"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "data/points: there is no points sheet for any month of 2009Q3 (score.missing_month = \"error\")"
        ),
        "{}",
        r.stderr
    );
    mode("mean_of_present");
    let mean = ws.json(&["quarter", "2009Q3"]);
    assert!(mean["people"].as_array().unwrap().iter().all(|p| p["score"].is_null() && p["rank"].is_null()));
}

/// `check --output FILE` writes the whole report (problems, then the summary) to the file; the
/// problems still go to standard error and nothing to standard output.
#[test]
fn check_output_file_holds_the_problems_and_the_summary() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/kpi/2009-05.csv", ws.read("data/kpi/2009-05.csv").replace("0005,90", "0005,9O"));
    let file = ws.path().join("check.txt");
    let r = ws.run(&["check", "-o", file.to_str().unwrap()]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    let problem = "data/kpi/2009-05.csv:6: column kpi: \"9O\" is not a number: write a number such as 92.5\n";
    assert_eq!(r.stderr, problem);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        format!("{problem}check: 1 error(s), 0 warning(s) in 10 files\n")
    );
}
