//! A deterministic, seeded generator of synthetic cs-score workspaces for benchmarks.
//!
//! `Plan::new(people, seed)` draws a roster of `people` people across many units (the
//! flagship 营业厅 and 客服中心, the department's own office, then units `营业厅NNNN` /
//! `客服中心NNNN` of 25 people each, every unit led by a manager); each file is then drawn
//! from its own random stream, so one sheet can be generated alone (in memory, for the
//! reader benchmark) and comes out byte for byte as in the full workspace.
//!
//! The year 2009: twelve monthly points sheets (the odd months by items: both points tables'
//! item columns, 好人好事, `points` and `note`; staff fill their own table's items, management
//! and posts without a table fill `points`), monthly KPI for Q1, Q2 and Q4 and a quarterly
//! `kpi/2009Q3.csv`, events that fire every rule of the built-in rubric (and per-hall checks
//! that fire none), city awards, vetoes. About 4% join and 4% leave during the year, 0.5%
//! left in 2008, and 0.3% of active person-months have no points row (0.2% no KPI row), so
//! `missing_month` warnings appear. IDs are zero-padded text; every value is an exact
//! decimal with at most one decimal place.
//!
//! Shared by `benches/gen_workspace.rs` (the command-line generator) and
//! `benches/engine.rs` (which generates its workspace in-process).

#![allow(dead_code)] // each bench target uses a different part of this module

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The year every generated file covers.
pub const YEAR: i32 = 2009;
/// The months whose points sheets give items rather than a total.
pub const ITEM_MONTHS: [u32; 6] = [1, 3, 5, 7, 9, 11];
/// The months with a monthly KPI export (Q3 has the quarterly `kpi/2009Q3.csv`).
pub const KPI_MONTHS: [u32; 9] = [1, 2, 3, 4, 5, 6, 10, 11, 12];

const TELLER_ITEMS: [(&str, u32); 4] = [("服务规范", 30), ("业务准确", 25), ("客户满意度", 20), ("营销指标", 25)];
const AGENT_ITEMS: [(&str, u32); 4] = [("通话质量", 30), ("服务态度", 20), ("回访满意度", 25), ("话务指标", 25)];
const BONUS: &str = "好人好事";

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",
    "蒋", "蔡", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞",
    "平", "刚", "桂", "英", "华", "玲", "婷", "建", "国", "晓", "燕", "志", "红", "海", "波", "鹏", "辉", "淑", "芬",
    "兰", "文",
];
const NOTES: &[&str] = &["", "", "", "", "", "", "", "表扬信一封", "暗访扣分", "营销之星", "补录"];
const VETO_REASONS: &[&str] = &["破坏团队和谐", "故意不合作", "恶意诋毁他人"];

/// SplitMix64: small, fast and good enough for synthetic data; no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// An independent stream per (seed, stream).
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n < 2^32).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_100k` / 100,000.
    pub fn chance(&mut self, per_100k: u32) -> bool {
        self.below(100_000) < per_100k
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u32) as usize]
    }
}

/// A date as (year, month, day); the tuple order is the date order.
pub type Date = (i32, u32, u32);

fn date_text((y, m, d): Date) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    Head,
    Deputy,
    /// 综合管理员: staff without a points table (gives `points` even in item months).
    Clerk,
    HallManager,
    Teller,
    CentreDirector,
    Agent,
}

impl Post {
    pub fn name(self) -> &'static str {
        match self {
            Post::Head => "部长",
            Post::Deputy => "副部长",
            Post::Clerk => "综合管理员",
            Post::HallManager => "厅经理",
            Post::Teller => "营业员",
            Post::CentreDirector => "中心主任",
            Post::Agent => "客服代表",
        }
    }

    /// The post's item table (the built-in rubric's), if it has one.
    fn items(self) -> Option<&'static [(&'static str, u32); 4]> {
        match self {
            Post::Teller => Some(&TELLER_ITEMS),
            Post::Agent => Some(&AGENT_ITEMS),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub post: Post,
    pub joined: Date,
    pub left: Option<Date>,
    /// 0..1000: how good the person is, so months correlate and rankings mean something.
    skill: u32,
}

impl Person {
    /// Active in the months `first..=last` of YEAR (SPEC § 4 "Activity").
    pub fn active_in_months(&self, first: u32, last: u32) -> bool {
        self.joined <= (YEAR, last, 31) && self.left.is_none_or(|l| l >= (YEAR, first, 1))
    }
}

/// What was written: files, data rows (headers excluded) and bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub files: usize,
    pub rows: usize,
    pub bytes: u64,
}

/// A generated population; files are drawn from it on demand.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub people: Vec<Person>,
    /// The `营业厅NNNN` units (for the per-hall check events).
    halls: Vec<String>,
}

/// A value in tenths as text with at most one decimal place (`925` → `92.5`, `880` → `88`).
fn tenths(v: u32) -> String {
    if v % 10 == 0 {
        (v / 10).to_string()
    } else {
        format!("{}.{}", v / 10, v % 10)
    }
}

impl Plan {
    pub fn new(people: usize, seed: u64) -> Plan {
        let mut rng = Rng::new(seed, 1);
        let width = 7.max(people.to_string().len());
        let mut slots: Vec<(String, Post)> = Vec::with_capacity(people);
        let mut halls = Vec::new();
        // The department office, the flagship hall and centre, then units of 25.
        let office = [Post::Head, Post::Deputy, Post::Deputy, Post::Clerk, Post::Clerk];
        slots.extend(office.iter().map(|p| ("客户服务部".to_string(), *p)));
        let flagship = if people >= 100 { 22 } else { 3.max(people / 5) };
        slots.push(("营业厅".into(), Post::HallManager));
        slots.extend((1..flagship).map(|_| ("营业厅".to_string(), Post::Teller)));
        slots.push(("客服中心".into(), Post::CentreDirector));
        slots.extend((1..flagship).map(|_| ("客服中心".to_string(), Post::Agent)));
        let mut unit = 0;
        while slots.len() < people {
            unit += 1;
            let hall = unit % 2 == 1;
            let name = format!("{}{unit:04}", if hall { "营业厅" } else { "客服中心" });
            if hall {
                halls.push(name.clone());
            }
            let (boss, staff) =
                if hall { (Post::HallManager, Post::Teller) } else { (Post::CentreDirector, Post::Agent) };
            slots.push((name.clone(), boss));
            slots.extend((1..25).map(|_| (name.clone(), staff)));
        }
        slots.truncate(people);
        let people = slots
            .into_iter()
            .enumerate()
            .map(|(i, (unit, post))| {
                let name = format!(
                    "{}{}{}",
                    rng.pick(SURNAMES),
                    rng.pick(GIVEN),
                    if rng.chance(60_000) { rng.pick(GIVEN) } else { "" }
                );
                let mut joined = (rng.range(1995, 2008) as i32, rng.range(1, 12), rng.range(1, 28));
                let mut left = None;
                let fate = rng.below(1000);
                if fate < 40 {
                    joined = (YEAR, rng.range(2, 11), rng.range(1, 28)); // joins during the year
                } else if fate < 80 {
                    left = Some((YEAR, rng.range(1, 12), rng.range(1, 28))); // leaves during the year
                } else if fate < 85 {
                    left = Some((YEAR - 1, rng.range(1, 12), rng.range(1, 28)));
                    // gone before 2009
                }
                if left.is_some_and(|l| l < joined) {
                    joined = (1995, 1, 1);
                }
                Person { id: format!("{:0width$}", i + 1), name, unit, post, joined, left, skill: rng.below(1000) }
            })
            .collect();
        Plan { seed, people, halls }
    }

    fn rng(&self, stream: u64) -> Rng {
        Rng::new(self.seed, stream)
    }

    /// `roster.csv`.
    pub fn roster(&self, w: &mut impl Write) -> io::Result<usize> {
        writeln!(w, "id,name,unit,post,joined,left")?;
        for p in &self.people {
            let left = p.left.map(date_text).unwrap_or_default();
            writeln!(w, "{},{},{},{},{},{left}", p.id, p.name, p.unit, p.post.name(), date_text(p.joined))?;
        }
        Ok(self.people.len())
    }

    /// A monthly value in tenths, 60.0..=100.0, leaning on the person's skill.
    fn monthly(p: &Person, rng: &mut Rng) -> u32 {
        (600 + p.skill * 3 / 10 + rng.below(101)).min(1000)
    }

    /// `points/2009-MM.csv`: by items in ITEM_MONTHS, else by total.
    pub fn points(&self, month: u32, w: &mut impl Write) -> io::Result<usize> {
        let mut rng = self.rng(100 + u64::from(month));
        let by_items = ITEM_MONTHS.contains(&month);
        if by_items {
            let items: Vec<&str> = TELLER_ITEMS.iter().chain(&AGENT_ITEMS).map(|(n, _)| *n).collect();
            writeln!(w, "id,name,{},{BONUS},points,note", items.join(","))?;
        } else {
            writeln!(w, "id,name,points,note")?;
        }
        let mut rows = 0;
        for p in &self.people {
            if !p.active_in_months(month, month) || rng.chance(300) {
                continue;
            }
            let note = rng.pick(NOTES);
            match (by_items, p.post.items()) {
                (true, Some(items)) => {
                    let mut cells = Vec::with_capacity(11);
                    let first = if p.post == Post::Agent { 4 } else { 0 };
                    cells.extend(std::iter::repeat_n(String::new(), first));
                    for (_, max) in items {
                        // 60%..100% of the item's maximum, leaning on skill.
                        let frac = (p.skill * 6 + rng.below(1000) * 4) / 10; // 0..1000
                        cells.push(tenths(max * 6 + max * 4 * frac / 1000));
                    }
                    cells.extend(std::iter::repeat_n(String::new(), 4 - first));
                    cells.push(if rng.chance(10_000) { rng.range(1, 5).to_string() } else { String::new() });
                    writeln!(w, "{},{},{},,{note}", p.id, p.name, cells.join(","))?;
                }
                (true, None) => {
                    writeln!(w, "{},{},,,,,,,,,,{},{note}", p.id, p.name, tenths(Self::monthly(p, &mut rng)))?
                }
                (false, _) => writeln!(w, "{},{},{},{note}", p.id, p.name, tenths(Self::monthly(p, &mut rng)))?,
            }
            rows += 1;
        }
        Ok(rows)
    }

    /// `kpi/2009-MM.csv` (`quarter: None`) or `kpi/2009Qn.csv`.
    pub fn kpi(&self, month: Option<u32>, quarter: Option<u32>, w: &mut impl Write) -> io::Result<usize> {
        let (first, last, stream) = match (month, quarter) {
            (Some(m), _) => (m, m, 200 + u64::from(m)),
            (None, Some(q)) => (q * 3 - 2, q * 3, 300 + u64::from(q)),
            (None, None) => unreachable!("a KPI file is for a month or a quarter"),
        };
        let mut rng = self.rng(stream);
        writeln!(w, "id,name,kpi")?;
        let mut rows = 0;
        for p in &self.people {
            if !p.active_in_months(first, last) || rng.chance(200) {
                continue;
            }
            writeln!(w, "{},{},{}", p.id, p.name, tenths(Self::monthly(p, &mut rng)))?;
            rows += 1;
        }
        Ok(rows)
    }

    /// `events.csv`: rows that fire every rule of the built-in rubric and the training table,
    /// plus one 暗查暗访 row per `营业厅NNNN` unit and quarter (their unit fires no rule).
    pub fn events(&self, w: &mut impl Write) -> io::Result<usize> {
        let mut rng = self.rng(400);
        let fixed = [
            "2009Q1,市公司客服季度竞赛,客户服务部,5,未进前三",
            "2009Q1,暗查暗访,营业厅,2,3月暗访",
            "2009Q1,区分公司部门业绩考评,客户服务部,3,",
            "2009Q2,市公司客服季度竞赛,客户服务部,3,",
            "2009Q2,暗查暗访,营业厅,5,5月暗访 未进前三",
            "2009Q2,暗查暗访,代办渠道,1,",
            "2009Q2,区分公司部门业绩考评,客户服务部,1,",
            "2009-07,暗查暗访,营业厅,1,7月暗访",
            "2009-09,暗查暗访,营业厅,3,9月暗访",
            "2009Q3,区分公司部门业绩考评,客户服务部,4,",
            "2009Q4,市公司客服季度竞赛,客户服务部,1,",
            "2009Q4,暗查暗访,代办渠道,4,",
            "2009Q4,区分公司部门业绩考评,客户服务部,2,",
            "2009,年度先进集体,客户服务部,,",
            "2009,市公司年度服务竞赛,营业厅,2,",
        ];
        writeln!(w, "period,event,unit,rank,note")?;
        for row in fixed {
            writeln!(w, "{row}")?;
        }
        let mut rows = fixed.len();
        for q in 1..=4 {
            for hall in &self.halls {
                writeln!(w, "{YEAR}Q{q},暗查暗访,{hall},{},", rng.range(1, 30))?;
                rows += 1;
            }
        }
        Ok(rows)
    }

    /// `city-awards.csv`: about 0.2% of people per quarter, 0.1% for the year.
    pub fn city_awards(&self, w: &mut impl Write) -> io::Result<usize> {
        let mut rng = self.rng(500);
        writeln!(w, "period,id,award,amount,group")?;
        let mut rows = 0;
        for (period, per_100k) in [("2009Q1", 200), ("2009Q2", 200), ("2009Q3", 200), ("2009Q4", 200), ("2009", 100)] {
            for p in &self.people {
                if !rng.chance(per_100k) {
                    continue;
                }
                let (award, amount) = match (period, rng.below(2)) {
                    ("2009", _) => ("市公司年度服务明星", 400),
                    (_, 0) => ("市公司服务明星", 150),
                    _ => ("市公司优秀客服代表", 300),
                };
                let group = if rng.below(2) == 0 { "cash" } else { "" };
                writeln!(w, "{period},{},{award},{amount},{group}", p.id)?;
                rows += 1;
            }
        }
        Ok(rows)
    }

    /// `vetoes.csv`: about 0.05% of people per quarter, 0.02% for the year.
    pub fn vetoes(&self, w: &mut impl Write) -> io::Result<usize> {
        let mut rng = self.rng(600);
        writeln!(w, "period,id,reason")?;
        let mut rows = 0;
        for (period, per_100k) in [("2009Q1", 50), ("2009Q2", 50), ("2009Q3", 50), ("2009Q4", 50), ("2009", 20)] {
            for p in &self.people {
                if rng.chance(per_100k) {
                    writeln!(w, "{period},{},{}", p.id, rng.pick(VETO_REASONS))?;
                    rows += 1;
                }
            }
        }
        Ok(rows)
    }

    /// Writes the whole workspace into `dir` (created if needed): `cs-score.toml` and `data/`.
    pub fn write(&self, dir: &Path) -> io::Result<Stats> {
        let data = dir.join("data");
        fs::create_dir_all(data.join("points"))?;
        fs::create_dir_all(data.join("kpi"))?;
        fs::write(dir.join("cs-score.toml"), "rubric = \"builtin:hecheng-2009\"\ndata = \"data\"\n")?;
        let mut stats = Stats::default();
        let mut file = |relative: String, fill: &dyn Fn(&mut BufWriter<fs::File>) -> io::Result<usize>| {
            let path = data.join(relative);
            let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
            stats.rows += fill(&mut w)?;
            w.flush()?;
            stats.files += 1;
            stats.bytes += fs::metadata(&path)?.len();
            io::Result::Ok(())
        };
        file("roster.csv".into(), &|w| self.roster(w))?;
        for m in 1..=12 {
            file(format!("points/{YEAR}-{m:02}.csv"), &|w| self.points(m, w))?;
        }
        for m in KPI_MONTHS {
            file(format!("kpi/{YEAR}-{m:02}.csv"), &|w| self.kpi(Some(m), None, w))?;
        }
        file(format!("kpi/{YEAR}Q3.csv"), &|w| self.kpi(None, Some(3), w))?;
        file("events.csv".into(), &|w| self.events(w))?;
        file("city-awards.csv".into(), &|w| self.city_awards(w))?;
        file("vetoes.csv".into(), &|w| self.vetoes(w))?;
        Ok(stats)
    }
}
