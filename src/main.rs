//! The `cs-score` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

// A company's year makes and frees millions of small values (cells, lines, names); mimalloc
// does that faster than the system allocator (README "Performance"). It asks the kernel for
// transparent huge pages on its arenas; `cli::small_pages` turns them off, since after a pause
// they cost more than they save.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cs_score::cli::small_pages();
    let cli = match cs_score::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cs_score::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let text = e.to_string();
            if !text.is_empty() {
                // Not `eprintln!`, which panics when standard error is closed: the exit code
                // still says what happened (as warnings to a closed stderr do not fail a run).
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "{text}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
