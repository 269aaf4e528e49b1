//! Progress of a repair run on stderr: a bar with per-processor counts and elapsed/ETA
//! on a terminal, plain one-line events otherwise, or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::checkpoint::PairStatus;
use crate::catalog::Catalog;
use crate::plan::{PlannedPair, RunPair};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Plain,
    None,
}

pub struct Progress {
    mode: ProgressMode,
    /// Processor codes by id, for the lines and the bar.
    codes: Vec<String>,
    bar: OnceLock<ProgressBar>,
    counts: Mutex<Tally>,
}

/// What the bar and the plain lines count.
#[derive(Default)]
struct Tally {
    /// (finished, total) per processor id, in catalog order.
    per_processor: Vec<(usize, usize)>,
    total: usize,
    finished: usize,
}

impl Progress {
    pub fn new(mode: ProgressMode, catalog: &Catalog) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        Progress {
            mode,
            codes: catalog
                .ids()
                .map(|id| catalog.code(id).to_string())
                .collect(),
            bar: OnceLock::new(),
            counts: Mutex::new(Tally::default()),
        }
    }

    fn code(&self, pair: &PlannedPair) -> &str {
        self.codes
            .get(pair.processor.0)
            .map(String::as_str)
            .unwrap_or("?")
    }

    pub fn begin(&self, plan: &[RunPair], already_done: usize) {
        if let Ok(mut c) = self.counts.lock() {
            c.per_processor = vec![(0, 0); self.codes.len()];
            for p in plan {
                if let Some(entry) = c.per_processor.get_mut(p.pair.processor.0) {
                    entry.1 += 1;
                }
            }
            c.total = plan.len();
            c.finished = already_done;
        }
        match self.mode {
            ProgressMode::Bar => {
                let bar = ProgressBar::new(plan.len() as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{elapsed_precise} [{bar:30}] {pos}/{len} pairs, ETA {eta} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_position(already_done as u64);
                bar.enable_steady_tick(Duration::from_millis(200));
                let _ = self.bar.set(bar);
            }
            ProgressMode::Plain => self.line(&format!(
                "repair: {} to run ({} already done)",
                crate::render::counted(plan.len() as u64, "pair", "pairs"),
                already_done
            )),
            ProgressMode::Auto | ProgressMode::None => {}
        }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    fn message(&self) -> String {
        match self.counts.lock() {
            Ok(c) => c
                .per_processor
                .iter()
                .zip(&self.codes)
                .filter(|((_, total), _)| *total > 0)
                .map(|((done, total), code)| format!("{code} {done}/{total}"))
                .collect::<Vec<_>>()
                .join("  "),
            Err(_) => String::new(),
        }
    }

    pub fn started(&self, pair: &PlannedPair) {
        if self.mode == ProgressMode::Plain {
            self.line(&format!("start    {} {}", self.code(pair), pair.date));
        }
    }

    pub fn finished(&self, pair: &PlannedPair, status: PairStatus, took: Duration) {
        let (done_so_far, total) = match self.counts.lock() {
            Ok(mut c) => {
                if let Some(entry) = c.per_processor.get_mut(pair.processor.0) {
                    entry.0 += 1;
                }
                c.finished += 1;
                (c.finished, c.total)
            }
            Err(_) => (0, 0),
        };
        match self.mode {
            ProgressMode::Bar => {
                if let Some(bar) = self.bar.get() {
                    bar.inc(1);
                    bar.set_message(self.message());
                    if status != PairStatus::Done {
                        bar.println(format!(
                            "{:<11} {} {}",
                            status.name(),
                            self.code(pair),
                            pair.date
                        ));
                    }
                }
            }
            ProgressMode::Plain => self.line(&format!(
                "{:<8} {} {} ({:.1}s) [{done_so_far}/{total}]",
                status.name(),
                self.code(pair),
                pair.date,
                took.as_secs_f64()
            )),
            ProgressMode::Auto | ProgressMode::None => {}
        }
    }

    pub fn end(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
