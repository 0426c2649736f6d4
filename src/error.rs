//! Errors as values: a `Problem` names where (file:line, file:line:column or a rubric key
//! path) and what to do; an `Error` carries problems and knows its exit code.

use std::fmt;

/// One problem a user can act on: `data/points/2009-05.csv:14: column 积分: "9O" is not a number`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// `file`, `file:line` or a rubric key path such as `rubric.toml: award[2].staff_share`.
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { location: location.into(), message: message.into() }
    }

    pub fn at(file: &str, line: u64, message: impl Into<String>) -> Problem {
        Problem::new(format!("{file}:{line}"), message)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// Sorts problems by file, then line number (numerically), then message; equal ones keep
/// their order.
pub fn sort(problems: &mut Vec<Problem>) {
    // Each problem's key borrows its texts, and the problems are sorted by their places (a
    // key of copied texts was two allocations a problem, and a company's year sorts its tens
    // of thousands of warnings three times).
    fn key((place, p): (usize, &Problem)) -> (&str, u64, &str, usize) {
        let (file, line) = match p.location.rsplit_once(':').map(|(file, line)| (file, line.parse::<u64>())) {
            Some((file, Ok(line))) => (file, line),
            _ => (p.location.as_str(), 0),
        };
        (file, line, p.message.as_str(), place)
    }
    let mut keys: Vec<(&str, u64, &str, usize)> = problems.iter().enumerate().map(key).collect();
    keys.sort_unstable();
    let order: Vec<usize> = keys.into_iter().map(|(.., place)| place).collect();
    let mut taken: Vec<Option<Problem>> = problems.drain(..).map(Some).collect();
    problems.extend(order.into_iter().map(|place| taken[place].take().expect("each place once")));
}

/// The known name closest to a misspelt one (by edit distance), if it is close enough to be
/// a likely typo: for "did you mean …?" hints.
pub fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let distance = |a: &str, b: &str| -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    };
    let close = |d: usize, k: &str| d <= (word.chars().count().max(k.chars().count()) / 2).max(1);
    known.into_iter().map(|k| (distance(word, k), k)).filter(|&(d, k)| close(d, k)).min().map(|(_, k)| k)
}

/// A file-system error in words a user can act on (not "os error 21").
pub fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "does not exist".to_string(),
        PermissionDenied => "cannot be opened: permission denied".to_string(),
        IsADirectory => "is a folder, not a file".to_string(),
        NotADirectory => "cannot be reached: part of its path is a file, not a folder".to_string(),
        _ => format!("cannot be read or written: {e}"),
    }
}

/// `line:column` (1-based) of a byte offset in a text.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Everything that ends a run early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad data, a bad rubric, or a failed read/write: exit 1, one line per problem.
    #[error("{}", join_lines(.0))]
    Problems(Vec<Problem>),
    /// The command line asks for something impossible: exit 2.
    #[error("{0}")]
    Usage(String),
}

fn join_lines(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

impl Error {
    pub fn one(location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Problems(vec![Problem::new(location, message)])
    }

    /// The process exit status SPEC § 5 assigns.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Problems(_) => 1,
            Error::Usage(_) => 2,
        }
    }
}

impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        Error::Problems(vec![p])
    }
}

impl From<Vec<Problem>> for Error {
    fn from(p: Vec<Problem>) -> Error {
        Error::Problems(p)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_known_name() {
        assert_eq!(did_you_mean("points_weigth", ["points_weight", "kpi_weight"]), Some("points_weight"));
        assert_eq!(did_you_mean("暗访", ["暗查暗访", "先进集体"]), Some("暗查暗访"));
        assert_eq!(did_you_mean("zzz", ["points_weight"]), None);
    }

    proptest::proptest! {
        /// `sort` orders as sorting by (file, line as a number, message) and keeping equal
        /// keys in order does: with lines or not, numbers or not, files with colons, and the
        /// same key spelt two ways (`a.csv:3` and `a.csv:03`, `a.csv` and `a.csv:0`).
        #[test]
        fn sorts_as_the_key_says(
            problems in proptest::collection::vec((0usize..4, proptest::option::of((0u64..12, proptest::bool::ANY)), 0usize..3), 0..30),
        ) {
            let files = ["a.csv", "b.csv", "rubric.toml: award[2].x", "a.csv:x"];
            let messages = ["m", "n", "warning: m"];
            let mut problems: Vec<Problem> = problems
                .iter()
                .map(|&(file, line, message)| {
                    let location = match line {
                        None => files[file].to_string(),
                        Some((n, zero)) => format!("{}:{}{n}", files[file], if zero { "0" } else { "" }),
                    };
                    Problem::new(location, messages[message])
                })
                .collect();
            let mut expected = problems.clone();
            expected.sort_by_cached_key(|p| {
                let (file, line) = match p.location.rsplit_once(':') {
                    Some((file, line)) if line.parse::<u64>().is_ok() => (file.to_string(), line.parse::<u64>().unwrap_or(0)),
                    _ => (p.location.clone(), 0),
                };
                (file, line, p.message.clone())
            });
            sort(&mut problems);
            proptest::prop_assert_eq!(problems, expected);
        }
    }

    #[test]
    fn sorts_by_file_then_numeric_line() {
        let mut p = vec![Problem::at("b.csv", 2, "x"), Problem::at("a.csv", 11, "y"), Problem::at("a.csv", 3, "z")];
        sort(&mut p);
        let order: Vec<String> = p.iter().map(|p| p.location.clone()).collect();
        assert_eq!(order, ["a.csv:3", "a.csv:11", "b.csv:2"]);
    }
}
