//! `cs-score quarter`: the worked example of ../shared/cases (EXPECTED.md) number for
//! number, its GBK twin, the formats, workspace discovery and `init`.

use crate::support::{person, rule, Ws};
use serde_json::json;

/// (rank, id, points, kpi, score, training, payout) from EXPECTED.md.
const EXPECTED: &[(u32, &str, f64, f64, f64, bool, i64)] = &[
    (1, "0003", 95.00, 92.00, 93.20, true, 50),
    (2, "0008", 92.00, 93.00, 92.60, true, 200),
    (3, "0002", 92.00, 91.00, 91.40, false, 300),
    (4, "0001", 91.00, 90.00, 90.40, false, 300),
    (4, "0010", 91.00, 90.00, 90.40, false, 300),
    (6, "0004", 90.00, 90.00, 90.00, false, 200),
    (6, "0005", 90.00, 90.00, 90.00, false, 200),
    (8, "0009", 89.00, 89.00, 89.00, false, 0),
    (9, "0006", 88.00, 88.00, 88.00, false, 0),
    (10, "0007", 86.00, 85.00, 85.40, false, 0),
];

#[test]
fn worked_example_gives_exactly_the_expected_numbers() {
    let r = Ws::case("worked-2009Q2").json(&["quarter", "2009Q2"]);
    assert_eq!(r["period"], "2009Q2");
    assert_eq!(r["policy"], "鹤城区分公司客户服务部业绩管理办法");
    let people = r["people"].as_array().unwrap();
    assert_eq!(people.len(), EXPECTED.len());
    for (p, &(rank, id, points, kpi, score, training, payout)) in people.iter().zip(EXPECTED) {
        assert_eq!(p["id"], id, "listing order is by rank, then id");
        assert_eq!(p["rank"], rank, "{id}");
        assert_eq!(p["points"].as_f64().unwrap(), points, "{id} points");
        assert_eq!(p["kpi"].as_f64().unwrap(), kpi, "{id} kpi");
        assert_eq!(p["score"].as_f64().unwrap(), score, "{id} score");
        assert_eq!(p["training"], training, "{id} training");
        assert_eq!(p["payout"], payout, "{id} payout");
    }
    assert_eq!(person(&r, "0007")["active_at_end"], false);
    assert_eq!(r["total_payout"], 1550);

    let cs = rule(&r, "city_cs_top3");
    assert_eq!((cs["fired"].clone(), cs["quota"].clone(), cs["paid"].clone()), (json!(1), json!(3), json!(1550)));
    assert_eq!(cs["tie"], json!({"rank": 6, "ids": ["0004", "0005"], "included": true}));
    let hall = rule(&r, "hall_mystery_top3");
    assert_eq!((hall["fired"].clone(), hall["quota"].clone(), hall["paid"].clone()), (json!(1), json!(3), json!(0)));
    let agency = rule(&r, "agency_mystery_top3");
    assert_eq!((agency["fired"].clone(), agency["paid"].clone()), (json!(0), json!(0)));
    assert_eq!(r["training"]["place"], 2);
    assert_eq!(r["training"]["quota"], 2);
    assert_eq!(r["training"]["recipients"], 2);
    assert_eq!(r["training"]["share"].as_f64(), Some(0.2));
}

#[test]
fn worked_example_award_lines_and_netting() {
    let r = Ws::case("worked-2009Q2").json(&["quarter", "2009Q2"]);
    let li_na = person(&r, "0003");
    assert_eq!(
        li_na["awards"],
        json!([
            {"award": "city_cs_top3", "source": "district", "amount": 200, "paid": 50, "superseded_by": null, "group": "cash"},
            {"award": "hall_mystery_top3", "source": "district", "amount": 100, "paid": 0, "superseded_by": "city_cs_top3", "group": "cash"},
            {"award": "市公司服务明星", "source": "city", "amount": 150, "paid": 0, "superseded_by": null, "group": "cash"}
        ])
    );
    let wang_fang = person(&r, "0002");
    let lines: Vec<(String, i64, i64)> = wang_fang["awards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["award"].as_str().unwrap().to_string(), l["amount"].as_i64().unwrap(), l["paid"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("city_cs_top3".to_string(), 300, 300), ("hall_mystery_top3".to_string(), 300, 0)]);
    assert_eq!(wang_fang["management"], true);
    for id in ["0004", "0005"] {
        assert_eq!(person(&r, id)["awards"][0]["paid"], 200, "{id}: tied at the cut-off, included");
        assert_eq!(person(&r, id)["awards"][1]["superseded_by"], "city_cs_top3");
    }
    assert_eq!(person(&r, "0009")["awards"], json!([]), "周杰 ranks below the cut-off");
    assert_eq!(person(&r, "0007")["awards"], json!([]), "赵磊 left: no award");
}

#[test]
fn ties_exclude_takes_none_of_the_tied() {
    let ws = Ws::case("worked-2009Q2");
    let rubric = ws.read("rubric.toml").replace("ties = \"include\"", "ties = \"exclude\"");
    ws.write("rubric.toml", rubric);
    let r = ws.json(&["quarter", "2009Q2"]);
    let cs = rule(&r, "city_cs_top3");
    assert_eq!(cs["tie"]["included"], false);
    // 刘洋 and 陈静 lose the 200 but keep the hall's 100 (no tie at that rule's cut-off).
    for id in ["0004", "0005"] {
        assert_eq!(person(&r, id)["awards"][0]["award"], "hall_mystery_top3");
        assert_eq!(person(&r, id)["payout"], 100);
    }
    // 李娜 50 + 黄敏 200 + three managers 900.
    assert_eq!(cs["paid"], 1150);
    assert_eq!(rule(&r, "hall_mystery_top3")["paid"], 200);
}

#[test]
fn skip_netting_pays_nothing_when_the_city_paid_more() {
    let ws = Ws::case("worked-2009Q2");
    let rubric = ws.read("rubric.toml").replace("city = \"top_up\"", "city = \"skip\"");
    ws.write("rubric.toml", rubric);
    ws.write("data/city-awards.csv", "period,id,award,amount,group\n2009Q2,0003,市公司服务明星,250,cash\n");
    let r = ws.json(&["quarter", "2009Q2"]);
    let li_na = person(&r, "0003");
    assert_eq!(li_na["payout"], 0);
    assert_eq!(li_na["awards"][0]["superseded_by"], "市公司服务明星");
}

/// Re-encodes the worked example as Excel on Chinese Windows saves it: GBK, CRLF, Chinese
/// headers, spaces and full-width digits in cells.
fn gbk_twin() -> Ws {
    let ws = Ws::case("worked-2009Q2");
    let headers = [
        ("id,name,unit,post,joined,left", "工号,姓名,单位,岗位,入职日期,离职日期"),
        ("id,name,points", "工号,姓名,积分"),
        ("id,kpi", "员工编号,绩效得分"),
        ("period,event,unit,rank,note", "期间,事项,单位,名次,备注"),
        ("period,id,award,amount,group", "期间,工号,奖项,金额,分组"),
        ("period,id,reason", "期间,工号,原因"),
    ];
    for entry in walk(ws.path()) {
        if entry.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let text = std::fs::read_to_string(&entry).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        if let Some((_, zh)) = headers.iter().find(|(en, _)| *en == lines[0]) {
            lines[0] = zh.to_string();
        }
        let body: Vec<String> =
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        l.clone()
                    } else {
                        l.split(',').map(spreadsheet_spelling).collect::<Vec<_>>().join(",")
                    }
                })
                .collect();
        let crlf = body.join("\r\n") + "\r\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(&crlf);
        assert!(!unmappable);
        std::fs::write(&entry, bytes).unwrap();
    }
    ws
}

/// A two-digit score as a spreadsheet user might type it: full-width, padded, with 分.
fn spreadsheet_spelling(cell: &str) -> String {
    if cell.len() == 2 && cell.bytes().all(|b| b.is_ascii_digit()) {
        let wide: String = cell.chars().map(|c| char::from_u32(c as u32 + 0xfee0).unwrap()).collect();
        format!(" {wide}分\u{3000}")
    } else {
        cell.to_string()
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn gbk_resave_with_chinese_headers_gives_byte_identical_json() {
    let plain = Ws::case("worked-2009Q2").run(&["quarter", "2009Q2", "--format", "json"]);
    let twin = gbk_twin();
    assert!(std::str::from_utf8(&std::fs::read(twin.path().join("data/roster.csv")).unwrap()).is_err(), "really GBK");
    let gbk = twin.run(&["quarter", "2009Q2", "--format", "json"]);
    assert_eq!(gbk.code, 0, "{}", gbk.stderr);
    assert_eq!(plain.stdout, gbk.stdout);
}

#[test]
fn rerun_is_byte_identical_in_every_format() {
    let ws = Ws::example();
    for format in ["table", "csv", "json"] {
        let a = ws.run(&["quarter", "2009Q2", "--format", format]);
        let b = ws.run(&["quarter", "2009Q2", "--format", format]);
        assert_eq!(a.code, 0, "{}", a.stderr);
        assert_eq!(a.stdout_bytes, b.stdout_bytes, "{format}");
    }
}

#[test]
fn table_shows_ranking_rules_training_and_total() {
    let zh = Ws::case("worked-2009Q2").run(&["quarter", "2009Q2", "--lang", "zh"]);
    assert_eq!(zh.code, 0, "{}", zh.stderr);
    for needle in [
        "名次",
        "李娜",
        "93.20",
        "city_cs_top3 200→50",
        "0.3 × 9 = 2.7 → 3 (half_up)",
        "合计发放: 1550 元",
        "0004, 0005",
    ] {
        assert!(zh.stdout.contains(needle), "missing {needle:?} in\n{}", zh.stdout);
    }
    let en = Ws::case("worked-2009Q2").run(&["quarter", "2009Q2", "--lang", "en"]);
    for needle in ["Rank", "Total payout: 1550 yuan", "tie at the cut-off, all included"] {
        assert!(en.stdout.contains(needle), "missing {needle:?} in\n{}", en.stdout);
    }
}

#[test]
fn csv_has_one_row_per_person_and_a_column_per_award() {
    let r = Ws::case("worked-2009Q2").run(&["quarter", "2009Q2", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "rank,id,name,unit,post,management,active_at_end,vetoed,points,kpi,score,training,city_cs_top3,hall_mystery_top3,agency_mystery_top3,payout"
    );
    assert_eq!(lines.next().unwrap(), "1,0003,李娜,营业厅,营业员,false,true,false,95.00,92.00,93.20,true,50,0,0,50");
    assert_eq!(r.stdout.lines().count(), 11);
    assert!(!r.stdout.starts_with('\u{feff}'), "stdout CSV is plain UTF-8 for scripts");
}

#[test]
fn csv_written_to_a_file_has_a_bom_and_guards_formulas() {
    let ws = Ws::case("worked-2009Q2");
    let roster = ws.read("data/roster.csv").replace("0009,周杰", "0009,=1+1");
    ws.write("data/roster.csv", roster);
    let out = ws.path().join("q2.csv");
    let r = ws.run(&["quarter", "2009Q2", "--format", "csv", "--output", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(",'=1+1,"), "{text}");
    // 1,0003 … stays numeric; no stray temp files are left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(ws.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn gbk_encoding_on_request() {
    let r = Ws::case("worked-2009Q2").run(&["quarter", "2009Q2", "--format", "csv", "--encoding", "gbk"]);
    let (text, _, bad) = encoding_rs::GBK.decode(&r.stdout_bytes);
    assert!(!bad && text.contains("李娜"));
}

#[test]
fn a_failed_run_leaves_an_existing_output_file_untouched() {
    let ws = Ws::case("worked-2009Q2");
    let out = ws.path().join("report.json");
    std::fs::write(&out, "previous report").unwrap();
    ws.write("data/points/2009-05.csv", "id,points\n0001,9O\n");
    let r = ws.run(&["quarter", "2009Q2", "--format", "json", "--output", out.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous report");
}

#[test]
fn workspace_is_found_from_env_and_parent_folders() {
    let ws = Ws::case("worked-2009Q2");
    let sub = ws.path().join("data/points");
    let r = ws.run_in(&sub, &["quarter", "2009Q2", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut cmd = assert_cmd::Command::cargo_bin("cs-score").unwrap();
    cmd.current_dir(std::env::temp_dir()).env("CS_SCORE_DIR", ws.path()).args(["quarter", "2009Q2", "-q"]);
    let via_env = crate::support::run(cmd);
    assert_eq!(via_env.code, 0, "{}", via_env.stderr);
    assert!(via_env.stdout.contains("李娜"));
}

#[test]
fn no_workspace_says_how_to_make_one() {
    let empty = Ws::empty();
    let r = empty.run_in(empty.path(), &["quarter", "2009Q2"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cs-score init"), "{}", r.stderr);
}

#[test]
fn bad_usage_exits_2() {
    let ws = Ws::case("worked-2009Q2");
    assert_eq!(ws.run(&["quarter", "2009-05"]).code, 2);
    assert_eq!(ws.run(&["quarter", "2009Q5"]).code, 2);
    assert_eq!(ws.run(&["quarter"]).code, 2);
    assert_eq!(ws.run(&["quarter", "2009Q2", "--format", "pdf"]).code, 2);
    assert_eq!(ws.run(&["--help"]).code, 0);
}

#[test]
fn strict_turns_warnings_into_errors_and_quiet_hides_them() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/points/2009-06.csv", ws.read("data/points/2009-06.csv").replace("0009,周杰,89\n", ""));
    let normal = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(normal.code, 0);
    assert!(
        normal.stderr.contains("data/points/2009-06.csv: warning: 0009 周杰 has no points row for 2009-06"),
        "{}",
        normal.stderr
    );
    let quiet = ws.run(&["quarter", "2009Q2", "-q"]);
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""));
    let strict = ws.run(&["quarter", "2009Q2", "--strict"]);
    assert_eq!(strict.code, 1);
    assert!(strict.stdout.is_empty());
    let json = ws.json(&["quarter", "2009Q2", "-q"]);
    assert_eq!(json["warnings"].as_array().unwrap().len(), 1);
    // mean of the two present months: (90 + 88) / 2 = 89.
    assert_eq!(person(&json, "0009")["points"].as_f64(), Some(89.0));
}

#[test]
fn missing_month_zero_and_error() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/points/2009-06.csv", ws.read("data/points/2009-06.csv").replace("0009,周杰,89\n", ""));
    let rubric = ws.read("rubric.toml");
    ws.write("rubric.toml", rubric.replace("missing_month = \"mean_of_present\"", "missing_month = \"zero\""));
    let zero = ws.json(&["quarter", "2009Q2", "-q"]);
    // (88 + 90 + 0) / 3 = 59.333… → 59.33
    assert_eq!(person(&zero, "0009")["points"].as_f64(), Some(59.33));
    ws.write("rubric.toml", rubric.replace("missing_month = \"mean_of_present\"", "missing_month = \"error\""));
    let err = ws.run(&["quarter", "2009Q2"]);
    assert_eq!(err.code, 1);
    assert!(err.stderr.contains("data/points/2009-06.csv: 0009 周杰 has no points row for 2009-06"), "{}", err.stderr);
}

#[test]
fn quarterly_kpi_export_replaces_the_monthly_mean() {
    let ws = Ws::case("worked-2009Q2");
    for m in ["04", "05", "06"] {
        ws.remove(&format!("data/kpi/2009-{m}.csv"));
    }
    ws.write(
        "data/kpi/2009Q2.csv",
        "id,kpi\n0001,90\n0002,91\n0003,92.005\n0004,90\n0005,90\n0006,88\n0007,85\n0008,93\n0009,89\n0010,90\n",
    );
    let r = ws.json(&["quarter", "2009Q2"]);
    // 92.005 rounds half-up to 92.01; score = 95 × 0.4 + 92.01 × 0.6 = 93.206 → 93.21.
    assert_eq!(person(&r, "0003")["kpi"].as_f64(), Some(92.01));
    assert_eq!(person(&r, "0003")["score"].as_f64(), Some(93.21));
}

#[test]
fn a_vetoed_person_stays_ranked_but_gets_nothing() {
    let ws = Ws::case("worked-2009Q2");
    ws.write("data/vetoes.csv", "period,id,reason\n2009Q2,0003,破坏团队和谐\n");
    let r = ws.json(&["quarter", "2009Q2"]);
    let li_na = person(&r, "0003");
    assert_eq!(
        (li_na["rank"].clone(), li_na["vetoed"].clone(), li_na["payout"].clone()),
        (json!(1), json!(true), json!(0))
    );
    assert_eq!(li_na["training"], false);
    assert_eq!(li_na["veto_reason"], "破坏团队和谐");
    // The next candidates move up: 黄敏, 刘洋, 陈静 fill the 3 staff places; 周杰 is 4th.
    assert_eq!(person(&r, "0009")["payout"], 0);
    assert_eq!(person(&r, "0004")["payout"], 200);
    // Training slots go to the next two: 黄敏 and 王芳.
    assert_eq!(person(&r, "0002")["training"], true);
}

#[test]
fn init_example_makes_a_workspace_that_reports_at_once() {
    let empty = Ws::empty();
    let target = empty.path().join("team");
    let made = crate::support::run({
        let mut c = assert_cmd::Command::cargo_bin("cs-score").unwrap();
        c.args(["init", target.to_str().unwrap(), "--example"]);
        c
    });
    assert_eq!(made.code, 0, "{}", made.stderr);
    let shipped = Ws::example().run(&["quarter", "2009Q2", "--format", "json"]);
    let mut c = assert_cmd::Command::cargo_bin("cs-score").unwrap();
    c.args(["--dir", target.to_str().unwrap(), "quarter", "2009Q2", "--format", "json"]);
    let from_init = crate::support::run(c);
    assert_eq!(from_init.code, 0, "{}", from_init.stderr);
    assert_eq!(from_init.stdout, shipped.stdout, "init --example writes the shipped workspace");
    let again = crate::support::run({
        let mut c = assert_cmd::Command::cargo_bin("cs-score").unwrap();
        c.args(["init", target.to_str().unwrap()]);
        c
    });
    assert_eq!(again.code, 1, "never overwrites a workspace");
}

#[test]
fn example_workspace_fires_every_quarterly_rule_across_the_year() {
    let ws = Ws::example();
    let mut fired = std::collections::BTreeMap::new();
    for q in 1..=4 {
        let r = ws.json(&["quarter", &format!("2009Q{q}"), "-q"]);
        for rule in r["awards"].as_array().unwrap() {
            *fired.entry(rule["award"].as_str().unwrap().to_string()).or_insert(0) += rule["fired"].as_u64().unwrap();
        }
    }
    assert!(fired.values().all(|&n| n > 0), "{fired:?}");
    assert_eq!(fired.len(), 3);
}
