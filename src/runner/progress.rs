//! Progress of a repair run on stderr: on a terminal a bar with per-processor counts
//! (pairs an earlier run finished included), the running invocations with their elapsed
//! time and attempt, and an ETA once the run has a basis for one; plain one-line events
//! otherwise (starts, retries, ends); or nothing.

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::checkpoint::{PairState, PairStatus};
use crate::catalog::Catalog;
use crate::plan::{PlannedPair, RunPair};
use crate::render::counted;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    Bar,
    Plain,
    None,
}

/// Pairs this run must finish before an ETA is shown: before that, a rate would be a
/// guess (the first pairs of a chain all end at about the same time).
const ETA_BASIS_PAIRS: usize = 3;

/// How many running invocations the bar names; the rest are counted.
const RUNNING_SHOWN: usize = 3;

pub struct Progress {
    mode: ProgressMode,
    /// Processor codes by id, for the lines and the bar.
    codes: Vec<String>,
    bar: OnceLock<ProgressBar>,
    shared: Arc<Mutex<Tally>>,
}

/// What the bar and the plain lines count.
#[derive(Default)]
struct Tally {
    /// (finished, total) per processor id, in catalog order; finished includes the
    /// pairs an earlier run finished.
    per_processor: Vec<(usize, usize)>,
    total: usize,
    finished: usize,
    /// Finished by this run, and since when it runs: the basis of the ETA.
    finished_here: usize,
    began: Option<Instant>,
    /// The invocations running now, by their unit's first plan index.
    running: BTreeMap<usize, Running>,
}

/// An invocation that runs: `PCF 2021-12-04`, since when, which attempt of how many.
struct Running {
    label: String,
    since: Instant,
    attempt: u32,
    max_attempts: u32,
}

impl Tally {
    fn eta(&self) -> Option<Duration> {
        let began = self.began?;
        if self.finished_here < ETA_BASIS_PAIRS {
            return None;
        }
        let left = self.total.saturating_sub(self.finished) as f64;
        let per_pair = began.elapsed().as_secs_f64() / self.finished_here as f64;
        Some(Duration::from_secs((left * per_pair).ceil() as u64))
    }

    /// `TDZA 1/1  PCF 0/3 | ETA 12s | PCF 2021-12-04 0:12 try 2/3`
    fn message(&self, codes: &[String]) -> String {
        let mut out = self
            .per_processor
            .iter()
            .zip(codes)
            .filter(|((_, total), _)| *total > 0)
            .map(|((done, total), code)| format!("{code} {done}/{total}"))
            .collect::<Vec<_>>()
            .join("  ");
        if let Some(eta) = self.eta() {
            let _ = write!(out, " | ETA {}", clock(eta));
        }
        let running: Vec<String> = self
            .running
            .values()
            .take(RUNNING_SHOWN)
            .map(|r| {
                let mut text = format!("{} {}", r.label, clock(r.since.elapsed()));
                if r.max_attempts > 1 && r.attempt > 1 {
                    let _ = write!(text, " try {}/{}", r.attempt, r.max_attempts);
                }
                text
            })
            .collect();
        if !running.is_empty() {
            let _ = write!(out, " | {}", running.join(", "));
            let more = self.running.len().saturating_sub(RUNNING_SHOWN);
            if more > 0 {
                let _ = write!(out, " +{more}");
            }
        }
        out
    }
}

/// `0:12`, `12:05`, `1:02:03`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
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
            shared: Arc::new(Mutex::new(Tally::default())),
        }
    }

    fn code(&self, pair: &PlannedPair) -> &str {
        self.codes
            .get(pair.processor.0)
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// The run begins: `states` are the stored states of the plan's pairs, those done
    /// finished by an earlier run.
    pub fn begin(&self, plan: &[RunPair], states: &[PairState]) {
        let mut already_done = 0;
        if let Ok(mut c) = self.shared.lock() {
            c.per_processor = vec![(0, 0); self.codes.len()];
            for (i, p) in plan.iter().enumerate() {
                let done = states.get(i).is_some_and(|s| s.status == PairStatus::Done);
                already_done += usize::from(done);
                if let Some(entry) = c.per_processor.get_mut(p.pair.processor.0) {
                    entry.0 += usize::from(done);
                    entry.1 += 1;
                }
            }
            c.total = plan.len();
            c.finished = already_done;
            c.began = Some(Instant::now());
        }
        let earlier = (already_done > 0).then(|| {
            format!(
                "{} done by an earlier run",
                counted(already_done as u64, "pair", "pairs")
            )
        });
        match self.mode {
            ProgressMode::Bar => {
                let shared = self.shared.clone();
                let codes = self.codes.clone();
                let style = ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} pairs {status}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "status",
                    move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                        if let Ok(c) = shared.lock() {
                            let _ = w.write_str(&c.message(&codes));
                        }
                    },
                )
                .progress_chars("=> ");
                let bar = ProgressBar::new(plan.len() as u64);
                bar.set_style(style);
                bar.set_position(already_done as u64);
                if let Some(earlier) = earlier {
                    bar.println(earlier);
                }
                bar.enable_steady_tick(Duration::from_millis(200));
                let _ = self.bar.set(bar);
            }
            ProgressMode::Plain => self.line(&format!(
                "repair: {}{}, {} to run",
                counted(plan.len() as u64, "pair", "pairs"),
                earlier.map(|e| format!(", {e}")).unwrap_or_default(),
                plan.len() - already_done
            )),
            ProgressMode::Auto | ProgressMode::None => {}
        }
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// An attempt of an invocation starts: `key` its unit's first plan index, `label`
    /// `PCF 2021-12-04` (or a span of dates).
    pub fn attempt_started(&self, key: usize, label: &str, attempt: u32, max_attempts: u32) {
        if let Ok(mut c) = self.shared.lock() {
            c.running.insert(
                key,
                Running {
                    label: label.to_string(),
                    since: Instant::now(),
                    attempt,
                    max_attempts,
                },
            );
        }
        if self.mode == ProgressMode::Plain {
            let attempt = if attempt > 1 {
                format!(" (try {attempt}/{max_attempts})")
            } else {
                String::new()
            };
            self.line(&format!("start    {label}{attempt}"));
        }
    }

    /// An attempt failed and another follows after `delay`.
    pub fn retrying(
        &self,
        label: &str,
        attempt: u32,
        max_attempts: u32,
        error: &str,
        delay: Duration,
    ) {
        let text = format!(
            "retry    {label} after try {attempt}/{max_attempts}: {error}; next try in {}",
            humantime::format_duration(delay)
        );
        match self.mode {
            ProgressMode::Bar => {
                if let Some(bar) = self.bar.get() {
                    bar.println(text);
                }
            }
            ProgressMode::Plain => self.line(&text),
            ProgressMode::Auto | ProgressMode::None => {}
        }
    }

    /// A pair ended; `key` the first plan index of its unit (no longer running).
    pub fn finished(&self, key: usize, pair: &PlannedPair, status: PairStatus, took: Duration) {
        let (done_so_far, total) = match self.shared.lock() {
            Ok(mut c) => {
                c.running.remove(&key);
                if let Some(entry) = c.per_processor.get_mut(pair.processor.0) {
                    entry.0 += 1;
                }
                c.finished += 1;
                c.finished_here += 1;
                (c.finished, c.total)
            }
            Err(_) => (0, 0),
        };
        match self.mode {
            ProgressMode::Bar => {
                if let Some(bar) = self.bar.get() {
                    bar.inc(1);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(finished_here: usize, finished: usize, total: usize, ran: Duration) -> Tally {
        Tally {
            per_processor: vec![(finished, total)],
            total,
            finished,
            finished_here,
            began: Instant::now().checked_sub(ran),
            running: BTreeMap::new(),
        }
    }

    #[test]
    fn no_eta_until_the_run_has_finished_enough_pairs_to_have_a_rate() {
        assert_eq!(tally(0, 5, 10, Duration::from_secs(30)).eta(), None);
        assert_eq!(tally(2, 2, 10, Duration::from_secs(30)).eta(), None);
        // 4 pairs in 40 s, 6 left: about a minute.
        let eta = tally(4, 4, 10, Duration::from_secs(40)).eta().unwrap();
        assert!((59..=61).contains(&eta.as_secs()), "{eta:?}");
    }

    #[test]
    fn the_message_names_running_pairs_with_their_time_and_attempt() {
        let mut t = tally(0, 1, 1, Duration::from_secs(1));
        t.per_processor = vec![(1, 1), (0, 3)];
        t.running.insert(
            4,
            Running {
                label: "PCF 2021-12-04".into(),
                since: Instant::now().checked_sub(Duration::from_secs(12)).unwrap(),
                attempt: 2,
                max_attempts: 3,
            },
        );
        let codes = ["TDZA".to_string(), "PCF".to_string()];
        assert_eq!(
            t.message(&codes),
            "TDZA 1/1  PCF 0/3 | PCF 2021-12-04 0:12 try 2/3"
        );
    }

    #[test]
    fn clock_reads_minutes_and_hours() {
        assert_eq!(clock(Duration::from_secs(12)), "0:12");
        assert_eq!(clock(Duration::from_secs(725)), "12:05");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
    }
}
