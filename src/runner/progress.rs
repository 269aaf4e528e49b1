//! Progress of a repair run on stderr: a bar with per-processor counts and elapsed/ETA
//! on a terminal, plain one-line events otherwise, or nothing.

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::checkpoint::PairStatus;
use crate::catalog::Catalog;
use crate::plan::PlannedPair;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Plain,
    None,
}

pub struct Progress {
    mode: ProgressMode,
    bar: OnceLock<ProgressBar>,
    counts: Mutex<Tally>,
}

/// What the bar and the plain lines count.
#[derive(Default)]
struct Tally {
    /// processor code -> (finished, total)
    per_processor: BTreeMap<String, (usize, usize)>,
    /// Processor codes in catalog order.
    order: Vec<String>,
    total: usize,
    finished: usize,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        Progress {
            mode,
            bar: OnceLock::new(),
            counts: Mutex::new(Tally::default()),
        }
    }

    pub fn begin(
        &self,
        catalog: &Catalog,
        plan: &[crate::runner::schedule::RunPair],
        already_done: usize,
    ) {
        if let Ok(mut c) = self.counts.lock() {
            c.order = catalog
                .ids()
                .map(|id| catalog.code(id).to_string())
                .collect();
            for p in plan {
                c.per_processor
                    .entry(p.pair.processor.clone())
                    .or_insert((0, 0))
                    .1 += 1;
            }
            c.total = plan.len();
            c.finished = already_done;
        }
        if self.mode == ProgressMode::Bar {
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
        } else if self.mode == ProgressMode::Plain {
            self.line(&format!(
                "repair: {} pairs to run ({} already done)",
                plan.len(),
                already_done
            ));
        }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    fn message(&self) -> String {
        match self.counts.lock() {
            Ok(c) => c
                .order
                .iter()
                .filter_map(|code| {
                    c.per_processor
                        .get(code)
                        .map(|(done, total)| format!("{code} {done}/{total}"))
                })
                .collect::<Vec<_>>()
                .join("  "),
            Err(_) => String::new(),
        }
    }

    pub fn started(&self, pair: &PlannedPair) {
        if self.mode == ProgressMode::Plain {
            self.line(&format!("start    {} {}", pair.processor, pair.date));
        }
    }

    pub fn finished(&self, pair: &PlannedPair, status: PairStatus, took: Duration) {
        let done_so_far = match self.counts.lock() {
            Ok(mut c) => {
                if let Some(entry) = c.per_processor.get_mut(&pair.processor) {
                    entry.0 += 1;
                }
                c.finished += 1;
                c.finished
            }
            Err(_) => 0,
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
                            pair.processor,
                            pair.date
                        ));
                    }
                }
            }
            ProgressMode::Plain => {
                let total = self.counts.lock().map(|c| c.total).unwrap_or(0);
                self.line(&format!(
                    "{:<8} {} {} ({:.1}s) [{done_so_far}/{total}]",
                    status.name(),
                    pair.processor,
                    pair.date,
                    took.as_secs_f64()
                ));
            }
            _ => {}
        }
    }

    pub fn end(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}
