//! The policy as TOML → a validated `Rubric`. Every key has the SPEC § 3 default, every
//! problem is reported at once with its key path, and TOML numbers become exact decimals by
//! their shortest text (`0.3` is 0.3, never 0.2999…).

use crate::error::Problem;
use crate::model::PeriodKind;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use toml::{Table, Value};

/// The shipped default policy, compiled in as `builtin:hecheng-2009`.
pub const BUILTIN_HECHENG_2009: &str = include_str!("../rubrics/hecheng-2009.toml");
pub const BUILTIN_NAME: &str = "builtin:hecheng-2009";

#[derive(Debug, Clone, PartialEq)]
pub struct Rubric {
    pub policy_name: String,
    pub effective: Option<NaiveDate>,
    pub department: String,
    pub management_posts: Vec<String>,
    pub score: ScoreRules,
    pub points: PointsRules,
    pub kpi_max: Decimal,
    pub tie_break: Vec<TieKey>,
    pub quota: QuotaRules,
    pub awards: Vec<AwardRule>,
    pub training: Option<Training>,
    pub grades: Vec<Grade>,
    pub city_netting: CityNetting,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRules {
    pub points_weight: Decimal,
    pub kpi_weight: Decimal,
    pub decimals: u32,
    pub annual_points: AnnualPoints,
    pub missing_month: MissingMonth,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PointsRules {
    pub max: Decimal,
    pub tables: Vec<PointsTable>,
}

/// The items of one post's points evaluation table (积分评定表).
#[derive(Debug, Clone, PartialEq)]
pub struct PointsTable {
    pub posts: Vec<String>,
    pub items: Vec<Item>,
    pub bonus: Vec<Item>,
}

impl PointsTable {
    /// Regular items then bonus items, in sheet order.
    pub fn all_items(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().chain(self.bonus.iter())
    }

    pub fn bonus_max(&self) -> Decimal {
        self.bonus.iter().map(|b| b.max).sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub max: Decimal,
    pub method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnualPoints {
    Sum,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingMonth {
    MeanOfPresent,
    Zero,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TieKey {
    Kpi,
    Points,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    HalfUp,
    Floor,
    Ceil,
}

impl Rounding {
    /// Rounds a non-negative product (share × base) to a whole count.
    pub fn apply(self, value: Decimal) -> Decimal {
        match self {
            Rounding::HalfUp => crate::model::round_half_up(value, 0),
            Rounding::Floor => value.floor(),
            Rounding::Ceil => value.ceil(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::Floor => "floor",
            Rounding::Ceil => "ceil",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaBase {
    Headcount,
    Staff,
    Eligible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    Include,
    Exclude,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuotaRules {
    pub rounding: Rounding,
    pub base: QuotaBase,
    pub ties: Ties,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    Once,
    PerOccurrence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityNetting {
    TopUp,
    Skip,
}

/// A unit, the department name (everyone), or a list of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope(pub Vec<String>);

impl Scope {
    pub fn includes(&self, unit: &str, department: &str) -> bool {
        self.includes_in(department)(unit)
    }

    /// `includes` for many people of one department: whether the scope names the department
    /// (and so takes in everyone) is found once, not for each person.
    pub fn includes_in<'s>(&'s self, department: &str) -> impl Fn(&str) -> bool + 's {
        let everyone = self.0.iter().any(|s| s == department);
        move |unit| everyone || self.0.iter().any(|s| s == unit)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwardRule {
    pub key: String,
    pub name: String,
    pub period: PeriodKind,
    pub event: String,
    pub unit: Option<String>,
    pub rank_at_most: Option<u32>,
    pub repeat: Repeat,
    pub management: Option<ManagementPart>,
    pub staff: Option<StaffPart>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ManagementPart {
    pub scope: Scope,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffPart {
    pub scope: Scope,
    pub share: Decimal,
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    pub event: String,
    pub unit: String,
    pub scope: Scope,
    pub shares: Vec<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    pub name: String,
    pub share: Decimal,
}

impl Rubric {
    pub fn is_management(&self, post: &str) -> bool {
        self.management_posts.iter().any(|p| p == post)
    }

    /// The points table for a post, if the rubric has one.
    pub fn table_for(&self, post: &str) -> Option<&PointsTable> {
        self.points.tables.iter().find(|t| t.posts.iter().any(|p| p == post))
    }

    /// Every item name of every table (bonus included), first occurrence order.
    pub fn item_names(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.points
            .tables
            .iter()
            .flat_map(|t| t.all_items())
            .filter(|i| seen.insert(i.name.clone()))
            .map(|i| i.name.clone())
            .collect()
    }

    /// The highest a `points` value may be for a post: `points.max` plus the bonus maxima of
    /// its table, or of the most generous table for a post without one.
    pub fn points_ceiling(&self, post: &str) -> Decimal {
        let bonus = match self.table_for(post) {
            Some(t) => t.bonus_max(),
            None => self.points.tables.iter().map(|t| t.bonus_max()).max().unwrap_or_default(),
        };
        self.points.max + bonus
    }
}

/// Parses and validates rubric text; `origin` names it in messages (a path or `builtin:…`).
pub fn load(text: &str, origin: &str) -> Result<Rubric, Vec<Problem>> {
    let root: Table = text.parse::<Table>().map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let (line, col) = crate::error::line_column(text, s.start);
                format!("{origin}:{line}:{col}")
            })
            .unwrap_or_else(|| origin.to_string());
        vec![Problem::new(at, format!("not valid TOML: {}", e.message().trim().replace('\n', "; ")))]
    })?;
    let mut v = Check { origin, problems: Vec::new() };
    let rubric = v.rubric(&root);
    if v.problems.is_empty() {
        Ok(rubric)
    } else {
        Err(v.problems)
    }
}

/// The built-in default rubric; a bug if it does not load.
pub fn builtin() -> Rubric {
    load(BUILTIN_HECHENG_2009, BUILTIN_NAME).expect("the built-in rubric is valid")
}

/// Walks the TOML tree, collecting every problem instead of stopping at the first.
struct Check<'a> {
    origin: &'a str,
    problems: Vec<Problem>,
}

const ENUM_HINT: &str = "allowed values";

/// Upper bounds that keep every sum and product far inside exact decimal range (no policy
/// comes near them): a score scale, a weight, an amount of yuan.
const MAX_SCALE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
const MAX_WEIGHT: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);
const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

impl Check<'_> {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem::new(format!("{}: {path}", self.origin), message));
    }

    /// An unknown key is an error: a misspelt `staff_share` would silently drop a payout.
    fn known_keys(&mut self, table: &Table, path: &str, allowed: &[&str]) {
        for key in table.keys() {
            if !allowed.contains(&key.as_str()) {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let hint = match crate::error::did_you_mean(key, allowed.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("known keys here: {}", allowed.join(", ")),
                };
                self.problem(&at, format!("unknown key: {hint}"));
            }
        }
    }

    fn sub<'t>(&mut self, table: &'t Table, key: &str, path: &str) -> Option<&'t Table> {
        match table.get(key) {
            None => None,
            Some(Value::Table(t)) => Some(t),
            Some(other) => {
                let at = join(path, key);
                self.problem(
                    &at,
                    format!("must be a table, got {other}: write [{at}] on a line of its own, then its keys"),
                );
                None
            }
        }
    }

    fn string(&mut self, table: &Table, key: &str, path: &str) -> Option<String> {
        match table.get(key) {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(_) => {
                self.problem(&join(path, key), "must be a non-empty text in quotes");
                None
            }
        }
    }

    fn required_string(&mut self, table: &Table, key: &str, path: &str) -> String {
        if !table.contains_key(key) {
            self.problem(&join(path, key), format!("is required: add {key} = \"…\""));
        }
        self.string(table, key, path).unwrap_or_default()
    }

    fn strings(&mut self, table: &Table, key: &str, path: &str) -> Option<Vec<String>> {
        match table.get(key) {
            None => None,
            Some(Value::String(s)) => Some(vec![s.trim().to_string()]),
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push(s.trim().to_string()),
                        None => self.problem(
                            &format!("{}[{}]", join(path, key), i + 1),
                            format!("must be a text in quotes, got {item}"),
                        ),
                    }
                }
                (out.len() == items.len()).then_some(out)
            }
            Some(_) => {
                self.problem(&join(path, key), "must be a text or a list of texts");
                None
            }
        }
    }

    fn decimal(&mut self, table: &Table, key: &str, path: &str) -> Option<Decimal> {
        let value = table.get(key)?;
        match to_decimal(value) {
            Some(d) => Some(d),
            None => {
                self.problem(&join(path, key), format!("must be a number such as 0.6 (no quotes, no %), got {value}"));
                None
            }
        }
    }

    /// A decimal that must lie in [min, max] (max optional).
    fn bounded(&mut self, table: &Table, key: &str, path: &str, default: Decimal, max: Option<Decimal>) -> Decimal {
        let Some(d) = self.decimal(table, key, path) else {
            return default;
        };
        if d < Decimal::ZERO {
            self.problem(&join(path, key), format!("must be ≥ 0, got {d}"));
        } else if let Some(m) = max.filter(|m| d > *m) {
            self.problem(&join(path, key), format!("must be between 0 and {m}, got {d}"));
        }
        d
    }

    fn amount(&mut self, table: &Table, key: &str, path: &str) -> Option<Decimal> {
        let d = self.decimal(table, key, path)?;
        if d < Decimal::ZERO {
            self.problem(&join(path, key), format!("must be ≥ 0 whole yuan, got {d}"));
        } else if !d.fract().is_zero() {
            self.problem(&join(path, key), format!("must be whole yuan, got {d}"));
        } else if d > MAX_AMOUNT {
            self.problem(&join(path, key), format!("must be at most {MAX_AMOUNT} yuan, got {d}"));
        }
        Some(d)
    }

    fn choice<T: Copy>(&mut self, table: &Table, key: &str, path: &str, options: &[(&str, T)], default: T) -> T {
        let Some(value) = table.get(key) else {
            return default;
        };
        let text = value.as_str().unwrap_or_default();
        match options.iter().find(|(name, _)| *name == text) {
            Some((_, v)) => *v,
            None => {
                let names: Vec<String> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                self.problem(&join(path, key), format!("unknown value {value}; {ENUM_HINT}: {}", names.join(", ")));
                default
            }
        }
    }

    fn rubric(&mut self, root: &Table) -> Rubric {
        self.known_keys(
            root,
            "",
            &[
                "policy",
                "org",
                "score",
                "points",
                "kpi",
                "ranking",
                "quota",
                "award",
                "training",
                "grade",
                "highest_only",
            ],
        );
        let empty = Table::new();
        let policy = self.sub(root, "policy", "").unwrap_or(&empty);
        if !root.contains_key("policy") {
            self.problem("policy.name", "is required: add [policy] with name = \"…\"");
        }
        self.known_keys(policy, "policy", &["name", "effective"]);
        let policy_name =
            if root.contains_key("policy") { self.required_string(policy, "name", "policy") } else { String::new() };
        let effective = self.string(policy, "effective", "policy").and_then(|s| {
            let d = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok();
            if d.is_none() {
                self.problem("policy.effective", format!("\"{s}\" is not a date YYYY-MM-DD"));
            }
            d
        });

        let org = self.sub(root, "org", "").unwrap_or(&empty);
        self.known_keys(org, "org", &["department", "management_posts"]);
        let department = self.string(org, "department", "org").unwrap_or_else(|| "客户服务部".to_string());
        let management_posts = self
            .strings(org, "management_posts", "org")
            .unwrap_or_else(|| ["部长", "副部长", "中心主任", "厅经理"].map(String::from).to_vec());

        let score_t = self.sub_or(root, "score", &empty);
        let score = self.score(score_t);
        let points_t = self.sub_or(root, "points", &empty);
        let points = self.points(points_t);
        let kpi = self.sub_or(root, "kpi", &empty);
        self.known_keys(kpi, "kpi", &["max"]);
        let kpi_max = self.bounded(kpi, "max", "kpi", Decimal::from(100), Some(MAX_SCALE));

        let ranking = self.sub_or(root, "ranking", &empty);
        self.known_keys(ranking, "ranking", &["tie_break"]);
        let tie_break = match self.strings(ranking, "tie_break", "ranking") {
            None => vec![TieKey::Kpi, TieKey::Points],
            Some(keys) => keys
                .iter()
                .filter_map(|k| match k.as_str() {
                    "kpi" => Some(TieKey::Kpi),
                    "points" => Some(TieKey::Points),
                    other => {
                        self.problem(
                            "ranking.tie_break",
                            format!("unknown value \"{other}\"; {ENUM_HINT}: \"kpi\", \"points\""),
                        );
                        None
                    }
                })
                .collect(),
        };

        let quota_t = self.sub_or(root, "quota", &empty);
        self.known_keys(quota_t, "quota", &["rounding", "base", "ties"]);
        let quota = QuotaRules {
            rounding: self.choice(
                quota_t,
                "rounding",
                "quota",
                &[("half_up", Rounding::HalfUp), ("floor", Rounding::Floor), ("ceil", Rounding::Ceil)],
                Rounding::HalfUp,
            ),
            base: self.choice(
                quota_t,
                "base",
                "quota",
                &[("headcount", QuotaBase::Headcount), ("staff", QuotaBase::Staff), ("eligible", QuotaBase::Eligible)],
                QuotaBase::Headcount,
            ),
            ties: self.choice(
                quota_t,
                "ties",
                "quota",
                &[("include", Ties::Include), ("exclude", Ties::Exclude)],
                Ties::Include,
            ),
        };

        let awards = self.awards(root, &department);
        let training = self.sub(root, "training", "").map(|t| self.training(t, &department));
        let grades = self.grades(root);

        let hi = self.sub_or(root, "highest_only", &empty);
        self.known_keys(hi, "highest_only", &["city"]);
        let city_netting = self.choice(
            hi,
            "city",
            "highest_only",
            &[("top_up", CityNetting::TopUp), ("skip", CityNetting::Skip)],
            CityNetting::TopUp,
        );

        Rubric {
            policy_name,
            effective,
            department,
            management_posts,
            score,
            points,
            kpi_max,
            tie_break,
            quota,
            awards,
            training,
            grades,
            city_netting,
        }
    }

    fn sub_or<'t>(&mut self, root: &'t Table, key: &str, empty: &'t Table) -> &'t Table {
        self.sub(root, key, "").unwrap_or(empty)
    }

    fn score(&mut self, t: &Table) -> ScoreRules {
        self.known_keys(t, "score", &["points_weight", "kpi_weight", "decimals", "annual_points", "missing_month"]);
        let decimals = match t.get("decimals") {
            None => 2,
            Some(Value::Integer(n)) if (0..=10).contains(n) => *n as u32,
            Some(other) => {
                self.problem("score.decimals", format!("must be a whole number 0 to 10, got {other}"));
                2
            }
        };
        ScoreRules {
            points_weight: self.bounded(t, "points_weight", "score", Decimal::new(4, 1), Some(MAX_WEIGHT)),
            kpi_weight: self.bounded(t, "kpi_weight", "score", Decimal::new(6, 1), Some(MAX_WEIGHT)),
            decimals,
            annual_points: self.choice(
                t,
                "annual_points",
                "score",
                &[("sum", AnnualPoints::Sum), ("mean", AnnualPoints::Mean)],
                AnnualPoints::Sum,
            ),
            missing_month: self.choice(
                t,
                "missing_month",
                "score",
                &[
                    ("mean_of_present", MissingMonth::MeanOfPresent),
                    ("zero", MissingMonth::Zero),
                    ("error", MissingMonth::Error),
                ],
                MissingMonth::MeanOfPresent,
            ),
        }
    }

    fn points(&mut self, t: &Table) -> PointsRules {
        self.known_keys(t, "points", &["max", "table"]);
        let max = self.bounded(t, "max", "points", Decimal::from(100), Some(MAX_SCALE));
        let mut tables = Vec::new();
        let mut posts_seen: HashMap<String, usize> = HashMap::new();
        for (i, table) in self.array_of_tables(t, "table", "points.table").into_iter().enumerate() {
            let path = format!("points.table[{}]", i + 1);
            self.known_keys(table, &path, &["posts", "items", "bonus"]);
            let posts = self.strings(table, "posts", &path).unwrap_or_default();
            if posts.is_empty() {
                self.problem(&join(&path, "posts"), "is required: the posts this table scores");
            }
            for post in &posts {
                if let Some(first) = posts_seen.insert(post.clone(), i + 1) {
                    self.problem(
                        &join(&path, "posts"),
                        format!("post \"{post}\" is already in points.table[{first}]: list each post in one table"),
                    );
                }
            }
            let items = self.items(table, "items", &path);
            let bonus = self.items(table, "bonus", &path);
            let mut names = HashMap::new();
            let positions = items
                .iter()
                .enumerate()
                .map(|(j, item)| (item, format!("items[{}]", j + 1)))
                .chain(bonus.iter().enumerate().map(|(j, item)| (item, format!("bonus[{}]", j + 1))));
            for (item, at) in positions {
                if let Some(first) = names.insert(item.name.clone(), at.clone()) {
                    self.problem(
                        &format!("{path}.{at}.name"),
                        format!("item \"{}\" is already {first}: give each item its own name", item.name),
                    );
                }
            }
            tables.push(PointsTable { posts, items, bonus });
        }
        PointsRules { max, tables }
    }

    fn items(&mut self, table: &Table, key: &str, path: &str) -> Vec<Item> {
        let list = match table.get(key) {
            None => return Vec::new(),
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.problem(&join(path, key), "must be a list of { name = …, max = … }");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let at = format!("{path}.{key}[{}]", i + 1);
            let Some(item) = v.as_table() else {
                self.problem(&at, "must be { name = …, max = … }");
                continue;
            };
            self.known_keys(item, &at, &["name", "max", "method"]);
            let name = self.required_string(item, "name", &at);
            if !item.contains_key("max") {
                self.problem(&join(&at, "max"), "is required: the item's full marks, e.g. max = 30");
            }
            let max = self.bounded(item, "max", &at, Decimal::ZERO, Some(MAX_SCALE));
            let method = self.string(item, "method", &at);
            out.push(Item { name, max, method });
        }
        out
    }

    fn array_of_tables<'t>(&mut self, root: &'t Table, key: &str, path: &str) -> Vec<&'t Table> {
        match root.get(key) {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let t = v.as_table();
                    if t.is_none() {
                        self.problem(&format!("{path}[{}]", i + 1), "must be a table");
                    }
                    t
                })
                .collect(),
            Some(_) => {
                self.problem(path, format!("must be written as [[{path}]] tables"));
                Vec::new()
            }
        }
    }

    fn scope(&mut self, t: &Table, key: &str, path: &str) -> Option<Scope> {
        self.strings(t, key, path).map(Scope)
    }

    fn awards(&mut self, root: &Table, department: &str) -> Vec<AwardRule> {
        let mut keys = HashSet::new();
        let mut out = Vec::new();
        for (i, t) in self.array_of_tables(root, "award", "award").into_iter().enumerate() {
            let key_text = t.get("key").and_then(Value::as_str).map(str::trim).unwrap_or("");
            let path = if key_text.is_empty() {
                format!("award[{}]", i + 1)
            } else {
                format!("award[{}] ({key_text})", i + 1)
            };
            self.known_keys(
                t,
                &path,
                &[
                    "key",
                    "name",
                    "period",
                    "event",
                    "unit",
                    "rank_at_most",
                    "repeat",
                    "management_scope",
                    "management_amount",
                    "staff_scope",
                    "staff_share",
                    "staff_amount",
                    "group",
                ],
            );
            let key = self.required_string(t, "key", &path);
            if !key.is_empty() && !keys.insert(key.clone()) {
                self.problem(&join(&path, "key"), format!("duplicate award key \"{key}\": keys must be unique"));
            }
            let name = self.required_string(t, "name", &path);
            if !t.contains_key("period") {
                self.problem(&join(&path, "period"), "is required: \"quarter\" or \"year\"");
            }
            let period = self.choice(
                t,
                "period",
                &path,
                &[("quarter", PeriodKind::Quarter), ("year", PeriodKind::Year)],
                PeriodKind::Quarter,
            );
            let event = self.required_string(t, "event", &path);
            let unit = self.string(t, "unit", &path);
            let rank_at_most = match t.get("rank_at_most") {
                None => None,
                Some(Value::Integer(n)) if *n >= 1 && *n <= u32::MAX as i64 => Some(*n as u32),
                Some(other) => {
                    self.problem(&join(&path, "rank_at_most"), format!("must be a positive whole number, got {other}"));
                    None
                }
            };
            let repeat = self.choice(
                t,
                "repeat",
                &path,
                &[("once", Repeat::Once), ("per_occurrence", Repeat::PerOccurrence)],
                Repeat::Once,
            );
            let department_scope = || Scope(vec![department.to_string()]);
            let management = self.amount(t, "management_amount", &path).map(|amount| ManagementPart {
                scope: self.scope(t, "management_scope", &path).unwrap_or_else(department_scope),
                amount,
            });
            let share = t
                .contains_key("staff_share")
                .then(|| self.bounded(t, "staff_share", &path, Decimal::ZERO, Some(Decimal::ONE)));
            let staff_amount = self.amount(t, "staff_amount", &path);
            let staff = match (share, staff_amount) {
                (Some(share), Some(amount)) => Some(StaffPart {
                    scope: self.scope(t, "staff_scope", &path).unwrap_or_else(department_scope),
                    share,
                    amount,
                }),
                (None, None) => None,
                (Some(_), None) => {
                    self.problem(&join(&path, "staff_amount"), "is required with staff_share");
                    None
                }
                (None, Some(_)) => {
                    self.problem(&join(&path, "staff_share"), "is required with staff_amount");
                    None
                }
            };
            let group = self.string(t, "group", &path);
            out.push(AwardRule { key, name, period, event, unit, rank_at_most, repeat, management, staff, group });
        }
        out
    }

    fn training(&mut self, t: &Table, department: &str) -> Training {
        self.known_keys(t, "training", &["event", "unit", "scope", "shares"]);
        let event = self.required_string(t, "event", "training");
        let unit = self.string(t, "unit", "training").unwrap_or_else(|| department.to_string());
        let scope = self.scope(t, "scope", "training").unwrap_or_else(|| Scope(vec![department.to_string()]));
        let mut shares = Vec::new();
        match t.get("shares") {
            None => {}
            Some(Value::Array(list)) => {
                for (i, v) in list.iter().enumerate() {
                    let at = format!("training.shares[{}]", i + 1);
                    match to_decimal(v) {
                        Some(d) if d >= Decimal::ZERO && d <= Decimal::ONE => shares.push(d),
                        Some(d) => self.problem(&at, format!("a share must be between 0 and 1, got {d}")),
                        None => self.problem(&at, format!("must be a number such as 0.2, got {v}")),
                    }
                }
            }
            Some(_) => self.problem("training.shares", "must be a list of shares, e.g. [0.30, 0.20]"),
        }
        Training { event, unit, scope, shares }
    }

    fn grades(&mut self, root: &Table) -> Vec<Grade> {
        let mut out = Vec::new();
        for (i, t) in self.array_of_tables(root, "grade", "grade").into_iter().enumerate() {
            let path = format!("grade[{}]", i + 1);
            self.known_keys(t, &path, &["name", "share"]);
            let name = self.required_string(t, "name", &path);
            let share = self.bounded(t, "share", &path, Decimal::ZERO, Some(Decimal::ONE));
            // A year's `grades` counts people by band name: two bands of one name would merge.
            if !name.is_empty() && out.iter().any(|g: &Grade| g.name == name) {
                self.problem(&join(&path, "name"), format!("duplicate grade name \"{name}\": each band needs its own"));
            }
            out.push(Grade { name, share });
        }
        let total: Decimal = out.iter().take(out.len().saturating_sub(1)).map(|g| g.share).sum();
        if total > Decimal::ONE {
            self.problem(
                "grade",
                format!("the shares of the bands before the last add up to {total}, over 1: lower them (the last band takes the rest)"),
            );
        }
        out
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A TOML number as an exact decimal: integers as they are, floats by their shortest text.
pub fn to_decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Integer(i) => Some(Decimal::from(*i)),
        // Rust prints an f64 as the shortest text that reads back to it, so `0.3` → "0.3".
        Value::Float(f) if f.is_finite() => Decimal::from_str(&f.to_string()).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A scope asked once for a department answers for every unit as SPEC reads: a person is
        /// in scope when it names the department (everyone on the roster) or their unit, whatever
        /// else it names (an empty name, other units).
        #[test]
        fn includes_in_is_includes(names in proptest::collection::vec(0usize..4, 0..4), unit in 0usize..4) {
            let texts = ["客户服务部", "营业厅0001", "", "客服中心0002"];
            let scope = Scope(names.iter().map(|&n| texts[n].to_string()).collect());
            let includes = scope.includes_in(texts[0]);
            let named = scope.0.iter().any(|s| s == texts[0] || s == texts[unit]);
            proptest::prop_assert_eq!(includes(texts[unit]), named);
            proptest::prop_assert_eq!(scope.includes(texts[unit], texts[0]), named);
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn builtin_rubric_loads() {
        let r = builtin();
        assert_eq!(r.score.points_weight, d("0.4"));
        assert!(!r.awards.is_empty());
    }

    #[test]
    fn toml_floats_become_their_shortest_decimal() {
        assert_eq!(to_decimal(&Value::Float(0.3)), Some(d("0.3")));
        assert_eq!(to_decimal(&Value::Float(0.1 + 0.2)), Some(d("0.30000000000000004")));
        assert_eq!(to_decimal(&Value::Integer(7)), Some(d("7")));
    }

    #[test]
    fn defaults_fill_every_missing_key() {
        let r = load("[policy]\nname = \"x\"\n", "r.toml").unwrap();
        assert_eq!(r.department, "客户服务部");
        assert_eq!(r.score.decimals, 2);
        assert_eq!(r.score.kpi_weight, d("0.6"));
        assert_eq!(r.quota.rounding, Rounding::HalfUp);
        assert_eq!(r.tie_break, vec![TieKey::Kpi, TieKey::Points]);
        assert_eq!(r.city_netting, CityNetting::TopUp);
        assert!(r.training.is_none() && r.grades.is_empty() && r.points.tables.is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_key_path() {
        let text = r#"
[policy]
name = "x"
[score]
points_weight = -0.4
[quota]
rounding = "nearest"
[[award]]
key = "a"
name = "A"
period = "quarter"
event = "e"
staff_share = 1.5
staff_amount = 100
[[award]]
key = "a"
name = "B"
period = "month"
event = "e"
"#;
        let problems = load(text, "r.toml").err().unwrap();
        let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let all = lines.join("\n");
        assert!(all.contains("r.toml: score.points_weight: must be ≥ 0, got -0.4"), "{all}");
        assert!(
            all.contains(
                "r.toml: quota.rounding: unknown value \"nearest\"; allowed values: \"half_up\", \"floor\", \"ceil\""
            ),
            "{all}"
        );
        assert!(all.contains("award[1] (a).staff_share: must be between 0 and 1, got 1.5"), "{all}");
        assert!(all.contains("award[2] (a).key: duplicate award key \"a\""), "{all}");
        assert!(all.contains("award[2] (a).period: unknown value \"month\""), "{all}");
        assert_eq!(lines.len(), 5, "{all}");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let problems = load("[policy]\nname = \n", "r.toml").err().unwrap();
        assert!(problems[0].location.starts_with("r.toml:2:"), "{:?}", problems);
    }

    #[test]
    fn rounding_modes() {
        assert_eq!(Rounding::HalfUp.apply(d("2.5")), d("3"));
        assert_eq!(Rounding::HalfUp.apply(d("2.7")), d("3"));
        assert_eq!(Rounding::Floor.apply(d("2.7")), d("2"));
        assert_eq!(Rounding::Ceil.apply(d("2.1")), d("3"));
        assert_eq!(Rounding::Floor.apply(d("0.3") * d("10")), d("3"));
    }
}
