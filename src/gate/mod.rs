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
    /// The fingerprint of a date's values, compared only when its counts are equal.
    Content,
}

/// The snapshot's name for the failure rows by category, per date.
pub const FAILURES_BY_CATEGORY: &str = "failures_by_category";

/// The name `--allow` gives content changes (a fingerprint matches or not: no limit).
pub const CONTENT: &str = "content";

impl Metric {
    /// The name a tolerance uses; every category shares `failures_by_category`.
    pub fn tolerance_name(&self) -> &str {
        match self {
            Metric::GameDates => "game_dates",
            Metric::Count(c) => c.name(),
            Metric::Failures(_) => FAILURES_BY_CATEGORY,
            Metric::Content => CONTENT,
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
            .chain([FAILURES_BY_CATEGORY, CONTENT])
    }
}

/// The counts of one processor on one date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateCounts {
    values: [i64; 9],
    /// Failure rows (every row, of every entity) by category.
    pub failures: BTreeMap<String, i64>,
    /// The fingerprint of the rows' values (`None`: no row with an entity, or a snapshot
    /// taken before fingerprints were recorded).
    pub fingerprint: Option<String>,
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
    /// The hash the fingerprints were made with (`None`: no fingerprints).
    pub hash_kind: Option<String>,
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
        for f in &findings.content.fingerprints {
            if let Some(p) = by_id.get_mut(&f.processor) {
                p.dates.entry(f.date).or_default().fingerprint = Some(f.hash.clone());
            }
        }
        let hash_kind = &findings.content.hash_kind;
        Counts {
            processors: catalog
                .ids()
                .filter_map(|id| by_id.remove(&id).map(|p| (catalog.code(id).to_string(), p)))
                .collect(),
            hash_kind: (!hash_kind.is_empty()).then(|| hash_kind.clone()),
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
    /// A content change's fingerprints, the snapshot's then the warehouse's; its
    /// `snapshot` and `actual` are the date's records, equal on both sides.
    pub fingerprints: Option<(String, String)>,
}

impl Change {
    pub fn is_content(&self) -> bool {
        self.metric == Metric::Content
    }

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
    /// Whether fingerprints were compared (both sides have them, made by the same hash).
    pub content_compared: bool,
    /// Said once: why content was not compared.
    pub notes: Vec<String>,
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

    /// `2 counts changed on 1 date of 1 processor (PSZA)`; content changes as
    /// `content changed on 1 date of 1 processor (PSZA)`, or after the counts
    /// (`2 counts changed on 1 date and content on 1 date, of 2 processors (PSZA, ML)`).
    pub fn summary(&self) -> String {
        let failing: Vec<&Change> = self.failing().collect();
        let entries = Self::changed_entries(failing.iter().copied());
        let processors: Vec<&str> = self
            .processors
            .iter()
            .map(String::as_str)
            .filter(|p| entries.iter().any(|(q, _)| q == p))
            .collect();
        let dates_of = |content: bool| -> usize {
            failing
                .iter()
                .filter(|c| c.is_content() == content)
                .filter_map(|c| c.date)
                .collect::<BTreeSet<_>>()
                .len()
        };
        let counts = failing.iter().filter(|c| !c.is_content()).count();
        let contents = dates_of(true);
        let dates = |n: usize| format!("{n} {}", plural(n, "date", "dates"));
        let scope = format!(
            "{} {} ({})",
            processors.len(),
            plural(processors.len(), "processor", "processors"),
            processors.join(", ")
        );
        match (counts, contents) {
            (_, 0) => format!(
                "{counts} {} changed on {} of {scope}",
                plural(counts, "count", "counts"),
                dates(dates_of(false))
            ),
            (0, _) => format!("content changed on {} of {scope}", dates(contents)),
            _ => format!(
                "{counts} {} changed on {} and content on {}, of {scope}",
                plural(counts, "count", "counts"),
                dates(dates_of(false)),
                dates(contents)
            ),
        }
    }
}

pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// Whether the fingerprints of two sides can be compared, and if not, why (said once).
fn content_comparable(expected: &Counts, actual: &Counts) -> (bool, Option<String>) {
    match (&expected.hash_kind, &actual.hash_kind) {
        (Some(before), Some(now)) if before == now => (true, None),
        (Some(before), Some(now)) => (
            false,
            Some(format!(
                "content not compared: the snapshot's fingerprints were made with {before}, the warehouse's with {now} (another engine's hash), so only counts are compared"
            )),
        ),
        (None, Some(_)) => (
            false,
            Some(
                "content not compared: the snapshot has no fingerprints (rewrite it with --update to record them)"
                    .to_string(),
            ),
        ),
        (_, None) => (false, None),
    }
}

/// Compares `actual` with `expected` count by count; a side without a date has zeros.
/// A date whose counts are all equal but whose fingerprint is not is a content change
/// (fingerprints of the same hash only).
pub fn compare(
    expected: &Counts,
    actual: &Counts,
    range: DateRange,
    tolerances: Tolerances,
) -> Comparison {
    let empty = ProcessorCounts::default();
    let zero = DateCounts::default();
    let (content_compared, note) = content_comparable(expected, actual);
    let content_allowed = tolerances.limit(&Metric::Content) == Some(Limit::Any);
    let mut changes = Vec::new();
    let mut entries = 0;
    let mut processors = Vec::new();
    for (code, now) in &actual.processors {
        processors.push(code.clone());
        let before = expected.get(code).unwrap_or(&empty);
        let push = |changes: &mut Vec<Change>, date, metric: Metric, snapshot: i64, actual: i64| {
            if snapshot != actual {
                changes.push(Change {
                    processor: code.clone(),
                    date,
                    tolerated: tolerances.allows(&metric, snapshot, actual),
                    metric,
                    snapshot,
                    actual,
                    fingerprints: None,
                });
            }
        };
        push(
            &mut changes,
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
                push(
                    &mut changes,
                    Some(date),
                    Metric::Count(count),
                    b.get(count),
                    a.get(count),
                );
            }
            let categories: BTreeSet<&String> =
                b.failures.keys().chain(a.failures.keys()).collect();
            for category in categories {
                push(
                    &mut changes,
                    Some(date),
                    Metric::Failures(category.clone()),
                    b.failures_of(category),
                    a.failures_of(category),
                );
            }
            let counts_equal =
                Count::ALL.iter().all(|&c| b.get(c) == a.get(c)) && b.failures == a.failures;
            if content_compared && counts_equal && b.fingerprint != a.fingerprint {
                let records = a.get(Count::Records);
                changes.push(Change {
                    processor: code.clone(),
                    date: Some(date),
                    metric: Metric::Content,
                    snapshot: records,
                    actual: records,
                    tolerated: content_allowed,
                    fingerprints: Some((
                        b.fingerprint.clone().unwrap_or_default(),
                        a.fingerprint.clone().unwrap_or_default(),
                    )),
                });
            }
        }
    }
    Comparison {
        range,
        processors,
        entries,
        changes,
        tolerances,
        content_compared,
        notes: note.into_iter().collect(),
    }
}
