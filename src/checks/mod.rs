//! The checks: a fixed handful of queries over all processors and the whole range,
//! turned into typed findings. The number of queries never grows with dates,
//! processors or entities, and every query bounds the date column by the range.

pub mod attempts;
pub mod completeness;
pub mod failures;
pub mod reconcile;

use chrono::NaiveDate;
use std::time::{Duration, Instant};

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::warehouse::{Warehouse, check_layout};

pub use attempts::TrippedBreaker;
pub use completeness::{Season, SkipWeek};
pub use failures::FailureCount;
pub use reconcile::{DateRow, DefectKind, StalePair};

/// What to check: a range (none = every game date) and processors (none = all).
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    pub range: Option<DateRange>,
    pub processors: Vec<ProcessorId>,
}

impl CheckRequest {
    /// The processors asked for, in catalog order (all of them when none was named).
    pub fn selected(&self, catalog: &Catalog) -> Vec<ProcessorId> {
        if self.processors.is_empty() {
            return catalog.ids().collect();
        }
        let mut ids = self.processors.clone();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Everything the checks found, for the selected processors.
#[derive(Debug, Clone)]
pub struct Findings {
    pub range: DateRange,
    pub queries: usize,
    pub elapsed: Duration,
    /// The processors reported on, in catalog order.
    pub selected: Vec<ProcessorId>,
    /// One reconciliation row per (processor, date) with expected entities or rows,
    /// ordered by processor (catalog order), then date.
    pub rows: Vec<DateRow>,
    pub stale: Vec<StalePair>,
    pub failures: Vec<FailureCount>,
    pub breakers: Vec<TrippedBreaker>,
    pub seasons: Vec<Season>,
    pub skip_weeks: Vec<SkipWeek>,
}

impl Findings {
    /// Rows with a defect, in contract order.
    pub fn defective_rows(&self) -> impl Iterator<Item = &DateRow> {
        self.rows.iter().filter(|r| r.kind().is_some())
    }

    pub fn rows_of(&self, id: ProcessorId) -> impl Iterator<Item = &DateRow> {
        self.rows.iter().filter(move |r| r.processor == id)
    }

    pub fn is_stale(&self, id: ProcessorId, date: NaiveDate) -> bool {
        self.stale
            .iter()
            .any(|s| s.processor == id && s.date == date)
    }

    /// Findings that make exit 1: real failures, gaps, duplicates, unexpected rows,
    /// stale dates. Expected skips, cascades, band anomalies and breakers never do.
    pub fn has_defects(&self) -> bool {
        self.defective_rows().next().is_some() || !self.stale.is_empty()
    }
}

/// The tables and columns the checks read, from the catalog.
pub fn required_layout(
    catalog: &Catalog,
    ids: &[ProcessorId],
) -> Vec<(crate::catalog::TableName, Vec<String>)> {
    let mut source_columns = vec![
        catalog.source.date_column.clone(),
        catalog.source.season_column.clone(),
    ];
    for &id in ids {
        let column = &catalog.get(id).source_entity_column;
        if !source_columns.contains(column) {
            source_columns.push(column.clone());
        }
    }
    let mut required = vec![(catalog.source.table.clone(), source_columns)];
    for &id in ids {
        let p = catalog.get(id);
        required.push((
            p.table.clone(),
            vec![
                p.date_column.clone(),
                p.entity_column.clone(),
                "processed_at".into(),
            ],
        ));
    }
    required.push((
        catalog.processing.failures.clone(),
        [
            "processor_name",
            "analysis_date",
            "entity_id",
            "failure_category",
            "created_at",
        ]
        .map(String::from)
        .to_vec(),
    ));
    required.push((
        catalog.processing.attempts.clone(),
        [
            "processor_name",
            "entity_id",
            "analysis_date",
            "attempt_count",
            "circuit_breaker_tripped",
        ]
        .map(String::from)
        .to_vec(),
    ));
    required
}

/// Runs every check: at most five queries (layout, seasons, reconcile, failures, breakers).
pub fn run_checks(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    request: &CheckRequest,
) -> Result<Findings, Error> {
    let started = Instant::now();
    let before = warehouse.queries_run();
    let selected = request.selected(catalog);
    // Cascades and staleness look upstream, so upstream processors are queried too.
    let queried = catalog.with_upstream(&selected);

    check_layout(warehouse, &required_layout(catalog, &queried))?;
    let (range, seasons) = completeness::resolve_range(warehouse, catalog, request.range)?;
    let all_rows = reconcile::reconcile(warehouse, catalog, &queried, range)?;
    let stale = reconcile::stale_pairs(catalog, &all_rows);
    let failures = failures::failure_counts(warehouse, catalog, &selected, range)?;
    let breakers = attempts::tripped_breakers(warehouse, catalog, &selected, range)?;

    let rows: Vec<DateRow> = all_rows
        .into_iter()
        .filter(|r| selected.contains(&r.processor))
        .collect();
    let stale = stale
        .into_iter()
        .filter(|s| selected.contains(&s.processor))
        .collect();
    let skip_weeks = completeness::skip_weeks(catalog, &selected, &rows, &seasons);

    Ok(Findings {
        range,
        queries: warehouse.queries_run() - before,
        elapsed: started.elapsed(),
        selected,
        rows,
        stale,
        failures,
        breakers,
        seasons,
        skip_weeks,
    })
}

/// Fills a check's `{{processors}}` fragment and range parameters, runs it, and hands
/// each row with its processor (rows of processors not asked for are skipped).
pub(crate) fn query_per_processor<T>(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    ids: &[ProcessorId],
    range: DateRange,
    query: crate::sql::Query,
    mut each: impl FnMut(ProcessorId, &crate::warehouse::Row<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let rows = warehouse.query(&per_processor_query(catalog, ids, range, query))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        let code = row.text("processor")?;
        if let Some(&processor) = ids.iter().find(|&&id| catalog.code(id) == code) {
            out.push(each(processor, &row)?);
        }
    }
    Ok(out)
}

/// Fills a check's `{{processors}}` fragment and range parameters.
pub(crate) fn per_processor_query(
    catalog: &Catalog,
    ids: &[ProcessorId],
    range: DateRange,
    query: crate::sql::Query,
) -> crate::sql::Query {
    let parts = processor_parts(catalog, ids);
    query
        .repeat(
            "processors",
            crate::sql::text::PART_PROCESSOR,
            &parts,
            crate::sql::text::PART_PROCESSOR,
        )
        .param("start", crate::sql::Param::Date(range.start()))
        .param("end", crate::sql::Param::Date(range.end()))
}

/// The queries `run_checks` sends for `request`, without running them (for dry runs).
/// Without a range, the checks' queries are bounded by every supported date.
pub fn planned_queries(
    catalog: &Catalog,
    request: &CheckRequest,
) -> Result<Vec<crate::sql::Query>, Error> {
    let selected = request.selected(catalog);
    let queried = catalog.with_upstream(&selected);
    let bounds = completeness::season_bounds(request.range)?;
    let range = request.range.unwrap_or(bounds);
    Ok(vec![
        crate::sql::Query::new("layout_columns", crate::sql::text::LAYOUT_COLUMNS)
            .columns_view("columns"),
        completeness::seasons_query(catalog, bounds),
        reconcile::reconcile_query(catalog, &queried, range),
        per_processor_query(catalog, &selected, range, failures::failures_query(catalog)),
        per_processor_query(catalog, &selected, range, attempts::breakers_query(catalog)),
    ])
}

/// The `processors` fragment: one part per processor code.
pub(crate) fn processor_parts(catalog: &Catalog, ids: &[ProcessorId]) -> Vec<crate::sql::Part> {
    ids.iter()
        .map(|&id| {
            crate::sql::Part::new().param("code", crate::sql::Param::Text(catalog.code(id).into()))
        })
        .collect()
}

/// One processor's totals over the range (the `processors` entries of the JSON report).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorSummary {
    pub processor: ProcessorId,
    pub game_dates: usize,
    pub dates_with_rows: usize,
    pub records: i64,
    pub expected: i64,
    pub produced: i64,
    pub expected_skips: i64,
    pub cascades: i64,
    pub real_failures: i64,
    pub unaccounted: i64,
    pub duplicates: i64,
    pub unexpected: i64,
    pub missing_dates: Vec<NaiveDate>,
    pub partial_dates: Vec<NaiveDate>,
    pub stale_dates: Vec<NaiveDate>,
    pub breakers_tripped: usize,
    pub failures_by_category: std::collections::BTreeMap<String, i64>,
}

impl ProcessorSummary {
    /// Real failures over expected entities: expected skips and cascades excluded.
    pub fn true_failure_rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.real_failures as f64 / self.expected as f64
        }
    }
}

impl Findings {
    pub fn summary(&self, id: ProcessorId) -> ProcessorSummary {
        let mut s = ProcessorSummary {
            processor: id,
            game_dates: 0,
            dates_with_rows: 0,
            records: 0,
            expected: 0,
            produced: 0,
            expected_skips: 0,
            cascades: 0,
            real_failures: 0,
            unaccounted: 0,
            duplicates: 0,
            unexpected: 0,
            missing_dates: Vec::new(),
            partial_dates: Vec::new(),
            stale_dates: Vec::new(),
            breakers_tripped: self.breakers.iter().filter(|b| b.processor == id).count(),
            failures_by_category: Default::default(),
        };
        for r in self.rows_of(id) {
            s.game_dates += usize::from(r.is_game_date());
            s.dates_with_rows += usize::from(r.records > 0);
            s.records += r.records;
            s.expected += r.expected;
            s.produced += r.produced;
            s.expected_skips += r.expected_skips;
            s.cascades += r.cascades;
            s.real_failures += r.real_failures;
            s.unaccounted += r.unaccounted;
            s.duplicates += r.duplicates;
            s.unexpected += r.unexpected;
            match r.kind() {
                Some(DefectKind::Missing) => s.missing_dates.push(r.date),
                Some(DefectKind::Partial) => s.partial_dates.push(r.date),
                _ => {}
            }
        }
        s.stale_dates = self
            .stale
            .iter()
            .filter(|p| p.processor == id)
            .map(|p| p.date)
            .collect();
        for f in self.failures.iter().filter(|f| f.processor == id) {
            *s.failures_by_category
                .entry(f.category.clone())
                .or_default() += f.rows;
        }
        s
    }

    pub fn summaries(&self) -> Vec<ProcessorSummary> {
        self.selected.iter().map(|&id| self.summary(id)).collect()
    }
}
