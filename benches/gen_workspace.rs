//! Writes a synthetic cs-score workspace (see `support/gen.rs`):
//!
//! ```sh
//! cargo bench --bench gen_workspace -- --people 20000 --out /tmp/ws-20k [--seed 2009]
//! ```
//!
//! A bench target without a harness, so it is built with optimisations and never shipped.
//! Writing it in Rust (rather than Python) lets `benches/engine.rs` generate the same
//! workspace in-process, and writes the 500,000-person year (~11M rows) in seconds.

#[path = "support/gen.rs"]
mod gen;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: gen_workspace --people N --out DIR [--seed S]";

fn main() -> ExitCode {
    let mut people = None;
    let mut out = None;
    let mut seed = 2009u64;
    // `cargo bench` appends `--bench`; ignore it.
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench").peekable();
    if args.peek().is_none() {
        // A plain `cargo bench` runs every bench target: this one has nothing to measure.
        eprintln!("gen_workspace: a generator, not a benchmark; {USAGE}");
        return ExitCode::SUCCESS;
    }
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--people", Some(v)) => people = v.replace('_', "").parse::<usize>().ok(),
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            ("--seed", Some(v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => return fail(&format!("--seed {v}: not a whole number")),
            },
            _ => return fail(&format!("unexpected argument {arg}")),
        }
    }
    let (Some(people), Some(out)) = (people.filter(|&n| n > 0), out) else {
        return fail("--people (a positive whole number) and --out are required");
    };
    let start = Instant::now();
    let plan = gen::Plan::new(people, seed);
    match plan.write(&out) {
        Ok(s) => {
            println!(
                "{}: {people} people, {} files, {} rows, {:.1} MB in {:.1} s (seed {seed})",
                out.display(),
                s.files,
                s.rows,
                s.bytes as f64 / 1e6,
                start.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot write {}: {e}", out.display())),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("gen_workspace: {message}\n{USAGE}");
    ExitCode::from(2)
}
