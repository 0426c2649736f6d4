//! The `cs-score` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use std::process::ExitCode;

// A company's year makes and frees millions of small values (cells, lines, names); mimalloc
// does that faster than the system allocator (README "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process, unless `MIMALLOC_ALLOW_THP` is set (mimalloc's
/// own switch, read before `main`; `=1` keeps them). mimalloc asks the kernel for huge pages on
/// its arenas, and a first touch anywhere in one then makes the kernel zero all 2 MB of it: a
/// company's year zeroed about 550 MB that way, on a virtual machine more system time than
/// the parse floor's whole run. In 4 kB pages only what is touched is zeroed: there, system
/// time 0.70 -> 0.39 s and wall 1.82 -> 1.67 s (median of 9 alternating runs, output
/// identical); a branch's run is too small to tell. Pages faulted before this call stay.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integers only and changes how later page faults
        // are served, not any memory of ours. Should it fail (an old kernel), pages stay huge.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

fn main() -> ExitCode {
    no_huge_pages();
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
