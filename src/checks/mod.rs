//! The checks: a fixed handful of queries over all processors and the whole range,
//! turned into typed findings. The number of queries never grows with dates,
//! processors or entities, and every query bounds the date column by the range.

pub mod attempts;
pub mod completeness;
pub mod content;
pub mod explain;
pub mod failures;
pub mod reconcile;
pub mod roots;

use chrono::NaiveDate;
use std::time::{Duration, Instant};

use crate::catalog::{Catalog, ProcessorId, TableName};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Part, Query};
use crate::warehouse::{
    ColumnType, RequiredLayout, Row, Rows, Warehouse, check_layout, layout_from_rows,
};

pub use attempts::TrippedBreaker;
pub use completeness::{Season, SkipWeek};
pub use content::{Content, Freshness};
pub use failures::FailureCount;
pub use reconcile::{DateRow, DefectKind, StalePair};
pub use roots::{Attribution, Role, RootCause};

/// What to check: a range (none = every game date) and processors (none = all).
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    pub range: Option<DateRange>,
    pub processors: Vec<ProcessorId>,
    /// A processor more game dates behind the source than this is a finding.
    pub max_lag: Option<usize>,
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
    /// The rows of the processors upstream of those, which the checks also count
    /// (cascades, staleness and root causes look upstream).
    pub upstream_rows: Vec<DateRow>,
    pub stale: Vec<StalePair>,
    pub failures: Vec<FailureCount>,
    pub breakers: Vec<TrippedBreaker>,
    pub seasons: Vec<Season>,
    pub skip_weeks: Vec<SkipWeek>,
    /// The role of every defective pair, upstream processors' included.
    pub attribution: Attribution,
    /// Fingerprints, NULL keys, invariant violations and the source's sanity.
    pub content: Content,
    /// Each selected processor's latest date with rows against the source's.
    pub freshness: Vec<Freshness>,
    /// `--max-lag`: a lag beyond it is a finding.
    pub max_lag: Option<usize>,
    /// When the range has no game date: the warehouse's first to last game date (`None`
    /// when it has none at all, or the range has game dates).
    pub warehouse_span: Option<DateRange>,
}

impl Findings {
    /// Root or consequence, for a defective row.
    pub fn role(&self, row: &DateRow) -> Option<&Role> {
        self.attribution.role(row.processor, row.date)
    }

    /// The roots behind the defective rows, each with the consequences it explains.
    pub fn roots(&self) -> Vec<RootCause> {
        let shown: Vec<(ProcessorId, NaiveDate)> = self
            .defective_rows()
            .map(|r| (r.processor, r.date))
            .collect();
        self.attribution.roots_of(&shown)
    }

    /// Rows with a defect, in contract order.
    pub fn defective_rows(&self) -> impl Iterator<Item = &DateRow> {
        self.rows.iter().filter(|r| r.kind().is_some())
    }

    /// Rows a ROW list shows: the defective ones and those with rows without a key.
    pub fn shown_rows(&self) -> impl Iterator<Item = &DateRow> {
        self.rows.iter().filter(|r| r.is_shown())
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
    /// Does the range hold a game date of a selected processor?
    pub fn has_game_dates(&self) -> bool {
        self.rows.iter().any(|r| r.is_game_date())
    }

    /// Count defects: what a repair fixes.
    pub fn has_defects(&self) -> bool {
        self.defective_rows().next().is_some() || !self.stale.is_empty()
    }

    /// Processors further behind the source than `--max-lag` game dates.
    pub fn lagging(&self) -> impl Iterator<Item = &Freshness> {
        self.freshness
            .iter()
            .filter(|f| self.max_lag.is_some_and(|max| f.lag > max))
    }

    /// Whether the source (Phase 3) has an issue on `date`: a rerun of Phase 4 cannot
    /// fix what it finds there until Phase 3 is fixed.
    pub fn source_broken_on(&self, date: NaiveDate) -> bool {
        !self.source_issues_on(date).is_empty()
    }

    /// The kinds of the source's issues on `date` (`one_team_game`...), each once, sorted.
    pub fn source_issues_on(&self, date: NaiveDate) -> Vec<&'static str> {
        let kinds: std::collections::BTreeSet<&'static str> = self
            .content
            .source
            .iter()
            .filter(|i| i.date() == date)
            .map(|i| i.kind())
            .collect();
        kinds.into_iter().collect()
    }

    /// Defective or stale pairs on days whose source is fine: what a rerun can fix.
    pub fn repairable_left(&self) -> usize {
        self.defective_rows()
            .map(|r| r.date)
            .chain(self.stale.iter().map(|s| s.date))
            .filter(|&d| !self.source_broken_on(d))
            .count()
    }

    /// Everything that makes exit 1: count defects, content findings (NULL keys,
    /// invariant violations, the source's sanity) and a lag beyond `--max-lag`.
    pub fn has_findings(&self) -> bool {
        self.has_defects() || self.content.has_findings() || self.lagging().next().is_some()
    }
}

/// The checks, in the order they run: one query each, over every processor and the
/// whole range. `report` runs this list and `--estimate` prices it, so a check cannot be
/// run without being priced, nor priced without being run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Every table and column the checks read exists.
    Layout,
    /// The seasons and game dates of the source (and the range when none was given).
    Seasons,
    /// The reconciliation identity per (processor, date); staleness.
    Reconcile,
    /// Failure rows by category.
    Failures,
    /// Tripped circuit breakers.
    Breakers,
    /// Fingerprints, NULL keys, invariants, the source's sanity.
    Content,
}

impl Check {
    pub const ALL: [Check; 6] = [
        Check::Layout,
        Check::Seasons,
        Check::Reconcile,
        Check::Failures,
        Check::Breakers,
        Check::Content,
    ];

    /// Does the check read the range (which, without `--range`, the seasons check finds)?
    pub fn reads_range(self) -> bool {
        match self {
            Check::Layout | Check::Seasons => false,
            Check::Reconcile | Check::Failures | Check::Breakers | Check::Content => true,
        }
    }

    /// The check's query over `scope`.
    pub fn query(self, catalog: &Catalog, scope: &Scope) -> Query {
        match self {
            Check::Layout => crate::warehouse::layout_query(&required_layout(catalog)),
            Check::Seasons => completeness::seasons_query(catalog, scope.bounds),
            Check::Reconcile => reconcile::reconcile_query(catalog, &scope.queried, scope.range),
            Check::Failures => per_processor_query(
                catalog,
                &scope.selected,
                scope.range,
                failures::failures_query(catalog),
            ),
            Check::Breakers => per_processor_query(
                catalog,
                &scope.selected,
                scope.range,
                attempts::breakers_query(catalog),
            ),
            Check::Content => content::content_query(catalog, &scope.selected, scope.range),
        }
    }
}

/// What one run of the checks covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The processors reported on, in catalog order.
    pub selected: Vec<ProcessorId>,
    /// Those and their upstream (cascades and staleness look upstream), in catalog order.
    pub queried: Vec<ProcessorId>,
    /// The dates the seasons query reads: back to July 1 of the range's first season.
    pub bounds: DateRange,
    /// The range the other checks read: the one asked for, or (until the seasons check
    /// has found the warehouse's game dates, and in a dry run) every supported date.
    pub range: DateRange,
}

impl Scope {
    pub fn new(catalog: &Catalog, request: &CheckRequest) -> Result<Scope, Error> {
        let selected = request.selected(catalog);
        let queried = catalog.with_upstream(&selected);
        let bounds = completeness::season_bounds(request.range)?;
        Ok(Scope {
            selected,
            queried,
            bounds,
            range: request.range.unwrap_or(bounds),
        })
    }
}

/// The tables and columns the checks read, with their kinds, for every processor of the
/// catalog: every command checks the same layout, whichever processors it reports on.
pub fn required_layout(catalog: &Catalog) -> RequiredLayout {
    use ColumnType::*;
    let named = |columns: &[(&str, ColumnType)]| -> Vec<(String, ColumnType)> {
        columns.iter().map(|&(c, t)| (c.to_string(), t)).collect()
    };
    let mut source_columns = vec![
        (catalog.source.date_column.clone(), Date),
        (catalog.source.season_column.clone(), Integer),
    ];
    let entity_columns = catalog
        .processors()
        .map(|(_, p)| p.source_entity_column.as_str())
        .chain(catalog.mapping_columns());
    for column in entity_columns {
        // Pushed even when the column is required as another type (a mapping naming the
        // date column): the layout check then refuses it, naming the column.
        if !source_columns
            .iter()
            .any(|(c, t)| c == column && *t == Text)
        {
            source_columns.push((column.to_string(), Text));
        }
    }
    if let Some(s) = &catalog.source.sanity {
        for column in [&s.game_column, &s.team_column, &s.player_column] {
            if !source_columns.iter().any(|(c, _)| c == column) {
                source_columns.push((column.clone(), Text));
            }
        }
    }
    let mut required = vec![(catalog.source.table.clone(), source_columns)];
    for (_, p) in catalog.processors() {
        let mut columns = vec![
            (p.date_column.clone(), Date),
            (p.entity_column.clone(), Text),
            ("processed_at".into(), Timestamp),
        ];
        let mut add = |column: &str, kind: ColumnType| {
            if !columns.iter().any(|(c, _)| c == column) {
                columns.push((column.to_string(), kind));
            }
        };
        for invariant in &p.invariants {
            match invariant {
                crate::catalog::Invariant::NotNull(c) => add(c, Any),
                crate::catalog::Invariant::Range { column, .. } => add(column, Float),
                crate::catalog::Invariant::ArrayLength { array, length } => {
                    add(array, Any);
                    add(length, Integer);
                }
            }
        }
        for c in &p.value_columns {
            add(c, Any);
        }
        required.push((p.table.clone(), columns));
    }
    required.push((
        catalog.processing.failures.clone(),
        named(&[
            ("processor_name", Text),
            ("analysis_date", Date),
            ("entity_id", Text),
            ("failure_category", Text),
            ("failure_reason", Text),
            ("created_at", Timestamp),
        ]),
    ));
    required.push((
        catalog.processing.attempts.clone(),
        named(&[
            ("processor_name", Text),
            ("entity_id", Text),
            ("analysis_date", Date),
            ("attempt_count", Integer),
            ("circuit_breaker_tripped", Boolean),
        ]),
    ));
    required
}

/// Runs every check of [`Check::ALL`], one query each.
pub fn run_checks(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    request: &CheckRequest,
) -> Result<Findings, Error> {
    let started = Instant::now();
    let before = warehouse.queries_run();
    let mut scope = Scope::new(catalog, request)?;
    let mut seasons = Vec::new();
    let mut all_rows = Vec::new();
    let mut failures = Vec::new();
    let mut breakers = Vec::new();
    let mut content = Content::default();
    // Queries that do not wait on one another go together (BigQuery overlaps them): all
    // five with a range; without one, the checks that settle the range first, then the
    // checks that read it. Results are taken in check order, so a layout problem is
    // named before the failure it causes in a later query.
    let batches: Vec<Vec<Check>> = if request.range.is_some() {
        vec![Check::ALL.to_vec()]
    } else {
        let (settle, read): (Vec<Check>, Vec<Check>) =
            Check::ALL.into_iter().partition(|c| !c.reads_range());
        vec![settle, read]
    };
    for batch in batches {
        let queries: Vec<Query> = batch.iter().map(|c| c.query(catalog, &scope)).collect();
        let mut results = warehouse.query_all(&queries).into_iter();
        for check in batch {
            let rows = results.next().ok_or_else(|| {
                Error::internal(format!("no result for the {check:?} check's query"))
            })??;
            match check {
                Check::Layout => {
                    let required = required_layout(catalog);
                    let tables: Vec<TableName> = required.iter().map(|(t, _)| t.clone()).collect();
                    let layout = layout_from_rows(&rows, &tables, warehouse.dialect())?;
                    check_layout(&warehouse.describe(), &layout, &required)?;
                }
                Check::Seasons => {
                    seasons = completeness::seasons_from_rows(&rows)?;
                    // No range: the seasons' game dates; without any, every supported
                    // date (nothing is expected, and any row is unexpected).
                    if request.range.is_none()
                        && let Some(range) = completeness::range_of_seasons(&seasons)
                    {
                        scope.range = range;
                    }
                }
                Check::Reconcile => {
                    all_rows = reconcile::rows_from(catalog, &scope.queried, &rows)?
                }
                Check::Failures => {
                    failures = failures::counts_from(catalog, &scope.selected, &rows)?
                }
                Check::Breakers => {
                    breakers = attempts::breakers_from(catalog, &scope.selected, &rows)?
                }
                Check::Content => {
                    content = content::content_from(catalog, &scope.selected, &rows)?;
                    content.hash_kind = warehouse.dialect().row_hash_kind();
                }
            }
        }
    }
    // Dated rows without a key belong to their (processor, date)'s ROW.
    for n in &content.null_keys {
        if let Some(date) = n.date
            && let Some(r) = all_rows
                .iter_mut()
                .find(|r| r.processor == n.processor && r.date == date)
        {
            r.null_keys += n.rows;
        }
    }
    let stale = reconcile::stale_pairs(catalog, &all_rows);
    let attribution = Attribution::of(catalog, &all_rows);
    let selected = scope.selected;
    let (rows, upstream_rows): (Vec<DateRow>, Vec<DateRow>) = all_rows
        .into_iter()
        .partition(|r| selected.contains(&r.processor));
    let stale = stale
        .into_iter()
        .filter(|s| selected.contains(&s.processor))
        .collect();
    let skip_weeks = completeness::skip_weeks(catalog, &selected, &rows, &seasons);
    let freshness = content::freshness(&selected, &rows);
    // A range without a game date is never silently green: say where the games are
    // (one more query, only then).
    let warehouse_span = if request.range.is_some() && !rows.iter().any(|r| r.is_game_date()) {
        let every_date = DateRange::new(crate::range::MIN_DATE, crate::range::MAX_DATE)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let rows = warehouse.query(&completeness::seasons_query(catalog, every_date))?;
        completeness::range_of_seasons(&completeness::seasons_from_rows(&rows)?)
    } else {
        None
    };

    Ok(Findings {
        range: scope.range,
        queries: warehouse.queries_run() - before,
        elapsed: started.elapsed(),
        selected,
        rows,
        upstream_rows,
        stale,
        failures,
        breakers,
        seasons,
        skip_weeks,
        attribution,
        content,
        freshness,
        max_lag: request.max_lag,
        warehouse_span,
    })
}

/// The queries [`run_checks`] sends for `request`, without running them (a dry run).
/// Without a range they are bounded by every supported date.
pub fn planned_queries(catalog: &Catalog, request: &CheckRequest) -> Result<Vec<Query>, Error> {
    let scope = Scope::new(catalog, request)?;
    Ok(Check::ALL
        .iter()
        .map(|check| check.query(catalog, &scope))
        .collect())
}

/// The processor of each row of a per-processor check, skipping processors not asked for.
pub(crate) fn rows_by_processor<T>(
    catalog: &Catalog,
    ids: &[ProcessorId],
    rows: &Rows,
    mut each: impl FnMut(ProcessorId, &Row<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        let code = row.text("processor")?;
        // `ids` is in catalog order.
        if let Some(processor) = catalog
            .by_code(&code)
            .filter(|id| ids.binary_search(id).is_ok())
        {
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
    query: Query,
) -> Query {
    let parts = processor_parts(catalog, ids);
    query
        .repeat(
            "processors",
            crate::sql::text::PART_PROCESSOR,
            &parts,
            crate::sql::text::PART_PROCESSOR,
        )
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()))
}

/// The `processors` fragment: one part per processor code.
pub(crate) fn processor_parts(catalog: &Catalog, ids: &[ProcessorId]) -> Vec<Part> {
    ids.iter()
        .map(|&id| Part::new().param("code", Param::Text(catalog.code(id).into())))
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
        share(self.real_failures, self.expected)
    }

    /// Unaccounted entities over expected entities (a missing date fails no entity).
    pub fn unaccounted_rate(&self) -> f64 {
        share(self.unaccounted, self.expected)
    }
}

fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
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
