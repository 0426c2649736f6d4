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
