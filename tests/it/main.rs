//! The one integration-test binary: every command driven through the real `cs-score`
//! executable on temporary workspaces (see `support`).

mod bad_input;
mod commands;
mod errors;
mod fuzz_regressions;
mod golden;
mod hardening;
mod properties;
mod quarter;
mod roster_halves;
mod spreadsheets;
mod streaming;
mod support;
