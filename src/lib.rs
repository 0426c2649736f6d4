//! cs-score: turns a customer-service team's monthly points sheets and HR KPI exports into
//! quarterly rankings, bonus allocations and year-end results, by a policy written in TOML.
//!
//! Layers: `read` (tolerant CSV/encoding reader) and `rubric` (policy loader) feed `model`
//! types to the pure `engine`; `report` renders its results; `cli` is the shell around them.

pub mod audit;
pub mod cache;
pub mod cli;
pub mod engine;
pub mod error;
pub mod fuzzing;
pub mod model;
pub mod read;
pub mod report;
pub mod rubric;
pub mod threads;
pub mod workspace;
