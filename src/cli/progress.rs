//! A spinner on stderr for runs that take a while (a company's year): which file or quarter
//! is being worked on. Shown only on a terminal, for table output without `-q`, and only once
//! the run has taken a second — a branch's quarter finishes before it would appear.

use super::{Format, Global};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const AFTER: Duration = Duration::from_secs(1);

/// What the run is doing, for the spinner.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: AtomicBool,
    files: AtomicU64,
}

impl Progress {
    /// A spinner when the run may show one (a terminal, table output, not quiet).
    pub fn new(global: &Global) -> Option<Progress> {
        let wanted = global.format == Format::Table && !global.quiet && std::io::stderr().is_terminal();
        wanted.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
                bar.set_style(style);
            }
            Progress { bar, started: Instant::now(), shown: AtomicBool::new(false), files: AtomicU64::new(0) }
        })
    }

    /// A data file is being read (called from the reading threads).
    pub fn file(&self, name: &str) {
        let n = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        self.say(format!("reading {name} ({n} files)"));
    }

    /// A stage of the run begins.
    pub fn stage(&self, what: String) {
        self.say(what);
    }

    fn say(&self, message: String) {
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_message(message);
    }
}

impl Drop for Progress {
    /// Leaves no trace: the report and the warnings follow on a clean line.
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
