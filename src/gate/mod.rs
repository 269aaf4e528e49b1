//! The CI gate: the warehouse's counts per processor and date, compared with a reviewed
//! snapshot file. Equal (or within the tolerances) passes; anything else fails with a
//! diff that names processor, date and count.

pub mod flow;
pub mod render;
pub mod snapshot;
pub mod tolerance;

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, ProcessorId};
use crate::checks::Findings;
use crate::range::DateRange;

pub use flow::{GateRun, GateVerdict};
pub use snapshot::Snapshot;
pub use tolerance::{Limit, Tolerances};

/// The counts of one (processor, date), in the order the snapshot lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Count {
    Expected,
    Records,
    Produced,
    ExpectedSkips,
    Cascades,
    RealFailures,
    Unaccounted,
    Duplicates,
    Unexpected,
}

impl Count {
    pub const ALL: [Count; 9] = [
        Count::Expected,
        Count::Records,
        Count::Produced,
        Count::ExpectedSkips,
        Count::Cascades,
        Count::RealFailures,
        Count::Unaccounted,
        Count::Duplicates,
        Count::Unexpected,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Count::Expected => "expected",
            Count::Records => "records",
            Count::Produced => "produced",
            Count::ExpectedSkips => "expected_skips",
            Count::Cascades => "cascades",
            Count::RealFailures => "real_failures",
            Count::Unaccounted => "unaccounted",
            Count::Duplicates => "duplicates",
            Count::Unexpected => "unexpected",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Anything the gate compares: a per-date count, a processor's game dates, or the
/// failure rows of one category on one date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    GameDates,
    Count(Count),
    Failures(String),
}

/// The snapshot's name for the failure rows by category, per date.
pub const FAILURES_BY_CATEGORY: &str = "failures_by_category";

impl Metric {
    /// The name a tolerance uses; every category shares `failures_by_category`.
    pub fn tolerance_name(&self) -> &str {
        match self {
            Metric::GameDates => "game_dates",
            Metric::Count(c) => c.name(),
            Metric::Failures(_) => FAILURES_BY_CATEGORY,
        }
    }

    /// What a reader sees: `records`, `game_dates`, `failures PROCESSING_ERROR`.
    pub fn label(&self) -> String {
        match self {
            Metric::Failures(category) => format!("failures {category}"),
            other => other.tolerance_name().to_string(),
        }
    }

    /// Every name a tolerance may use.
    pub fn names() -> impl Iterator<Item = &'static str> {
        std::iter::once("game_dates")
            .chain(Count::ALL.iter().map(|c| c.name()))
            .chain(std::iter::once(FAILURES_BY_CATEGORY))
    }
}

/// The counts of one processor on one date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateCounts {
    values: [i64; 9],
    /// Failure rows (every row, of every entity) by category.
    pub failures: BTreeMap<String, i64>,
}

impl DateCounts {
    pub fn get(&self, count: Count) -> i64 {
        self.values[count.index()]
    }

    pub fn set(&mut self, count: Count, value: i64) {
        self.values[count.index()] = value;
    }

    fn failures_of(&self, category: &str) -> i64 {
        self.failures.get(category).copied().unwrap_or(0)
    }

    pub fn is_game_date(&self) -> bool {
        self.get(Count::Expected) > 0
    }

    /// The two identities of DOMAIN.md, or which one does not hold.
    pub fn identity_error(&self) -> Option<String> {
        let g = |c| self.get(c);
        let accounted = g(Count::Produced)
            + g(Count::ExpectedSkips)
            + g(Count::Cascades)
            + g(Count::RealFailures)
            + g(Count::Unaccounted);
        if g(Count::Expected) != accounted {
            return Some(format!(
                "expected {} is not produced + expected_skips + cascades + real_failures + unaccounted = {accounted}",
                g(Count::Expected)
            ));
        }
        let records = g(Count::Produced) + g(Count::Unexpected) + g(Count::Duplicates);
        if g(Count::Records) != records {
            return Some(format!(
                "records {} is not produced + unexpected + duplicates = {records}",
                g(Count::Records)
            ));
        }
        None
    }
}

/// The counts of one processor over the range. A date without an entry has all zeros:
/// no expected entities, no rows, no failure rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessorCounts {
    pub dates: BTreeMap<NaiveDate, DateCounts>,
}

impl ProcessorCounts {
    pub fn game_dates(&self) -> i64 {
        self.dates.values().filter(|d| d.is_game_date()).count() as i64
    }
}

/// The counts of every processor of the catalog, by code, in catalog order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub processors: Vec<(String, ProcessorCounts)>,
}

impl Counts {
    /// What the checks found, as gate counts (every processor of the catalog).
    pub fn from_findings(catalog: &Catalog, findings: &Findings) -> Counts {
        let mut by_id: BTreeMap<ProcessorId, ProcessorCounts> = findings
            .selected
            .iter()
            .map(|&id| (id, ProcessorCounts::default()))
            .collect();
        for r in &findings.rows {
            let Some(p) = by_id.get_mut(&r.processor) else {
                continue;
            };
            let d = p.dates.entry(r.date).or_default();
            for (count, value) in [
                (Count::Expected, r.expected),
                (Count::Records, r.records),
                (Count::Produced, r.produced),
                (Count::ExpectedSkips, r.expected_skips),
                (Count::Cascades, r.cascades),
                (Count::RealFailures, r.real_failures),
                (Count::Unaccounted, r.unaccounted),
                (Count::Duplicates, r.duplicates),
                (Count::Unexpected, r.unexpected),
            ] {
                d.set(count, value);
            }
        }
        for f in &findings.failures {
            if let Some(p) = by_id.get_mut(&f.processor) {
                *p.dates
                    .entry(f.date)
                    .or_default()
                    .failures
                    .entry(f.category.clone())
                    .or_default() += f.rows;
            }
        }
        Counts {
            processors: catalog
                .ids()
                .filter_map(|id| by_id.remove(&id).map(|p| (catalog.code(id).to_string(), p)))
                .collect(),
        }
    }

    pub fn get(&self, code: &str) -> Option<&ProcessorCounts> {
        self.processors
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, p)| p)
    }

    /// (processor, date) entries over all processors.
    pub fn entries(&self) -> usize {
        self.processors.iter().map(|(_, p)| p.dates.len()).sum()
    }
}

/// One count that differs between the snapshot and the warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub processor: String,
    /// None for a processor's game dates.
    pub date: Option<NaiveDate>,
    pub metric: Metric,
    pub snapshot: i64,
    pub actual: i64,
    /// Within its tolerance: reported, but the gate passes.
    pub tolerated: bool,
}

impl Change {
    pub fn delta(&self) -> i64 {
        self.actual - self.snapshot
    }

    /// `+1`, `-3 (-0.4%)`: the change, and its share of the snapshot's value.
    pub fn describe_delta(&self) -> String {
        let delta = self.delta();
        if self.snapshot == 0 {
            format!("{delta:+}")
        } else {
            format!(
                "{delta:+} ({:+.1}%)",
                delta as f64 * 100.0 / self.snapshot as f64
            )
        }
    }
}

/// The outcome of comparing the warehouse with a snapshot.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub range: DateRange,
    /// Processor codes compared, in catalog order.
    pub processors: Vec<String>,
    /// (processor, date) entries compared (the union of both sides).
    pub entries: usize,
    /// In catalog order, then date (game dates first), then metric.
    pub changes: Vec<Change>,
    pub tolerances: Tolerances,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.changes.iter().all(|c| c.tolerated)
    }

    pub fn failing(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.tolerated)
    }

    /// Distinct (processor, date) entries among `changes`.
    pub fn changed_entries<'a>(
        changes: impl Iterator<Item = &'a Change>,
    ) -> BTreeSet<(&'a str, Option<NaiveDate>)> {
        changes.map(|c| (c.processor.as_str(), c.date)).collect()
    }

    /// Failing changes, largest first (by size, then catalog order and date).
    pub fn largest_first(&self) -> Vec<&Change> {
        let mut failing: Vec<(usize, &Change)> = self.failing().enumerate().collect();
        failing.sort_by_key(|(i, c)| (std::cmp::Reverse(c.delta().unsigned_abs()), *i));
        failing.into_iter().map(|(_, c)| c).collect()
    }

    /// `2 counts changed on 1 date of 1 processor (PSZA)`.
    pub fn summary(&self) -> String {
        let failing: Vec<&Change> = self.failing().collect();
        let entries = Self::changed_entries(failing.iter().copied());
        let dates: BTreeSet<_> = entries.iter().filter_map(|(_, d)| *d).collect();
        let processors: Vec<&str> = self
            .processors
            .iter()
            .map(String::as_str)
            .filter(|p| entries.iter().any(|(q, _)| q == p))
            .collect();
        format!(
            "{} {} changed on {} {} of {} {} ({})",
            failing.len(),
            plural(failing.len(), "count", "counts"),
            dates.len(),
            plural(dates.len(), "date", "dates"),
            processors.len(),
            plural(processors.len(), "processor", "processors"),
            processors.join(", ")
        )
    }
}

pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Compares `actual` with `expected` count by count; a side without a date has zeros.
pub fn compare(
    expected: &Counts,
    actual: &Counts,
    range: DateRange,
    tolerances: Tolerances,
) -> Comparison {
    let empty = ProcessorCounts::default();
    let zero = DateCounts::default();
    let mut changes = Vec::new();
    let mut entries = 0;
    let mut processors = Vec::new();
    for (code, now) in &actual.processors {
        processors.push(code.clone());
        let before = expected.get(code).unwrap_or(&empty);
        let mut push = |date, metric: Metric, snapshot: i64, actual: i64| {
            if snapshot != actual {
                changes.push(Change {
                    processor: code.clone(),
                    date,
                    tolerated: tolerances.allows(&metric, snapshot, actual),
                    metric,
                    snapshot,
                    actual,
                });
            }
        };
        push(
            None,
            Metric::GameDates,
            before.game_dates(),
            now.game_dates(),
        );
        let dates: BTreeSet<NaiveDate> = before
            .dates
            .keys()
            .chain(now.dates.keys())
            .copied()
            .collect();
        entries += dates.len();
        for date in dates {
            let b = before.dates.get(&date).unwrap_or(&zero);
            let a = now.dates.get(&date).unwrap_or(&zero);
            for count in Count::ALL {
                push(Some(date), Metric::Count(count), b.get(count), a.get(count));
            }
            let categories: BTreeSet<&String> =
                b.failures.keys().chain(a.failures.keys()).collect();
            for category in categories {
                push(
                    Some(date),
                    Metric::Failures(category.clone()),
                    b.failures_of(category),
                    a.failures_of(category),
                );
            }
        }
    }
    Comparison {
        range,
        processors,
        entries,
        changes,
        tolerances,
    }
}
