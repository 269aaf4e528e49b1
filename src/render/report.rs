//! `report`: every processor's totals, the defective and stale dates, failure rows by
//! category, tripped breakers and the expected-skip share by season week.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::csv::{CsvTable, csv_document};
use super::roots::{PairJson, RootJson, cause_cell, cause_json, roots_json, roots_summary};
use super::runs::{GameDays, runs, short_span};
use super::table::{Drawing, heading, pct, rate, table, table_numeric, title};
use super::{TableFormat, rate_value, round4, to_json};
use crate::catalog::{Catalog, CategoryClass, ProcessorId};
use crate::checks::{DateRow, Findings, ProcessorSummary, TrippedBreaker};
use crate::range::{DateRange, season_label};

// ---- JSON: the contract ------------------------------------------------------------

#[derive(Serialize)]
pub(crate) struct RangeJson {
    start: String,
    end: String,
}

impl From<DateRange> for RangeJson {
    fn from(r: DateRange) -> Self {
        RangeJson {
            start: r.start().to_string(),
            end: r.end().to_string(),
        }
    }
}

/// ROW of DOMAIN.md: the reconciliation of one (processor, date).
#[derive(Serialize)]
pub(crate) struct RowJson {
    processor: String,
    date: String,
    kind: String,
    expected: i64,
    produced: i64,
    expected_skips: i64,
    cascades: i64,
    real_failures: i64,
    unaccounted: i64,
    duplicates: i64,
    unexpected: i64,
    /// Its rows and failure rows whose entity is NULL (its table's are among `unexpected`).
    null_keys: i64,
    /// `null` for a root, else its root causes (DOMAIN.md, "Root causes").
    cause: Option<Vec<PairJson>>,
}

pub(crate) fn row_json(catalog: &Catalog, f: &Findings, r: &DateRow) -> RowJson {
    row_json_of(catalog, r, cause_json(catalog, f, r))
}

/// A ROW with its `cause` given.
pub(crate) fn row_json_of(catalog: &Catalog, r: &DateRow, cause: Option<Vec<PairJson>>) -> RowJson {
    RowJson {
        processor: catalog.code(r.processor).into(),
        date: r.date.to_string(),
        kind: kind_name(r).into(),
        expected: r.expected,
        produced: r.produced,
        expected_skips: r.expected_skips,
        cascades: r.cascades,
        real_failures: r.real_failures,
        unaccounted: r.unaccounted,
        duplicates: r.duplicates,
        unexpected: r.unexpected,
        null_keys: r.null_keys,
        cause,
    }
}

fn kind_name(r: &DateRow) -> &'static str {
    r.row_kind().unwrap_or("ok")
}

/// The kind for a person: `unexpected, null keys` when some of them have no key.
fn kind_cell(r: &DateRow) -> String {
    match r.row_kind() {
        Some(kind) if r.null_keys > 0 && kind != crate::checks::reconcile::NULL_KEYS_KIND => {
            format!("{kind}, null keys")
        }
        kind => kind.unwrap_or("ok").to_string(),
    }
}

#[derive(Serialize)]
struct ProcessorJson {
    processor: String,
    game_dates: usize,
    dates_with_rows: usize,
    records: i64,
    expected: i64,
    produced: i64,
    expected_skips: i64,
    cascades: i64,
    real_failures: i64,
    unaccounted: i64,
    duplicates: i64,
    unexpected: i64,
    missing_dates: Vec<String>,
    partial_dates: Vec<String>,
    stale_dates: Vec<String>,
    breakers_tripped: usize,
    failures_by_category: BTreeMap<String, i64>,
    // Added fields (the contract allows additions):
    null_keys: i64,
    invariant_violations: i64,
    true_failure_rate: f64,
    unaccounted_rate: f64,
}

#[derive(Serialize)]
struct SkipShareJson {
    processor: String,
    season: String,
    week: u32,
    dates: u32,
    expected: i64,
    expected_skips: i64,
    share: f64,
    band_low: Option<f64>,
    band_high: Option<f64>,
    anomaly: bool,
}

#[derive(Serialize)]
pub(crate) struct BreakerJson {
    processor: String,
    date: String,
    entity: String,
    attempts: i64,
}

/// The tripped breakers as `report` and `repair` list them.
pub(crate) fn breakers_json(catalog: &Catalog, breakers: &[TrippedBreaker]) -> Vec<BreakerJson> {
    breakers
        .iter()
        .map(|b| BreakerJson {
            processor: catalog.code(b.processor).into(),
            date: b.date.to_string(),
            entity: b.entity.clone(),
            attempts: b.attempts,
        })
        .collect()
}

#[derive(Serialize)]
struct ReportJson {
    range: RangeJson,
    queries: usize,
    processors: Vec<ProcessorJson>,
    dates: Vec<RowJson>,
    // Added fields:
    roots: Vec<RootJson>,
    breakers: Vec<BreakerJson>,
    skip_share: Vec<SkipShareJson>,
    null_keys: Vec<super::content::NullKeysJson>,
    invariants: Vec<super::content::ViolationJson>,
    source: Vec<super::content::SourceJson>,
    freshness: Vec<super::content::FreshnessJson>,
}

pub(crate) fn dates(list: &[chrono::NaiveDate]) -> Vec<String> {
    list.iter().map(|d| d.to_string()).collect()
}

/// The report's JSON; with `roots_only`, `dates` holds the root rows only.
fn report_json(catalog: &Catalog, f: &Findings, roots_only: bool) -> ReportJson {
    ReportJson {
        range: f.range.into(),
        queries: f.queries,
        processors: f
            .summaries()
            .into_iter()
            .map(|s| ProcessorJson {
                processor: catalog.code(s.processor).into(),
                game_dates: s.game_dates,
                dates_with_rows: s.dates_with_rows,
                records: s.records,
                expected: s.expected,
                produced: s.produced,
                expected_skips: s.expected_skips,
                cascades: s.cascades,
                real_failures: s.real_failures,
                unaccounted: s.unaccounted,
                duplicates: s.duplicates,
                unexpected: s.unexpected,
                missing_dates: dates(&s.missing_dates),
                partial_dates: dates(&s.partial_dates),
                stale_dates: dates(&s.stale_dates),
                breakers_tripped: s.breakers_tripped,
                null_keys: f.content.null_keys_of(s.processor),
                invariant_violations: f.content.violations_of(s.processor),
                true_failure_rate: rate_value(s.true_failure_rate()),
                unaccounted_rate: rate_value(s.unaccounted_rate()),
                failures_by_category: s.failures_by_category,
            })
            .collect(),
        dates: shown_rows(f, roots_only)
            .map(|r| row_json(catalog, f, r))
            .collect(),
        roots: roots_json(catalog, f),
        breakers: breakers_json(catalog, &f.breakers),
        skip_share: f
            .skip_weeks
            .iter()
            .map(|w| SkipShareJson {
                processor: catalog.code(w.processor).into(),
                season: season_label(w.season_year),
                week: w.week,
                dates: w.dates,
                expected: w.expected,
                expected_skips: w.expected_skips,
                share: round4(w.share()),
                band_low: w.band.map(|b| b.0),
                band_high: w.band.map(|b| b.1),
                anomaly: w.is_anomaly(),
            })
            .collect(),
        null_keys: super::content::null_keys_json(catalog, f, None),
        invariants: super::content::violations_json(catalog, f),
        source: super::content::source_json(f),
        freshness: super::content::freshness_json(catalog, f),
    }
}

// ---- tables ------------------------------------------------------------------------

/// The defective rows, or only the roots among them.
pub(crate) fn shown_rows(f: &Findings, roots_only: bool) -> impl Iterator<Item = &DateRow> {
    f.shown_rows()
        // A row without a role (rows without a key, nothing else) has no cause upstream:
        // it is a root of its own.
        .filter(move |r| !roots_only || f.role(r).is_none_or(|role| role.is_root()))
}

/// The cells of a ROW, in [`ROW_HEADER`] order, for a person.
fn cells_of_row(catalog: &Catalog, f: &Findings, r: &DateRow) -> Vec<String> {
    vec![
        catalog.code(r.processor).to_string(),
        r.date.to_string(),
        kind_cell(r),
        r.expected.to_string(),
        r.produced.to_string(),
        r.expected_skips.to_string(),
        r.cascades.to_string(),
        r.real_failures.to_string(),
        r.unaccounted.to_string(),
        r.duplicates.to_string(),
        r.unexpected.to_string(),
        cause_cell(catalog, f, r),
    ]
}

/// The cells of rows for a person: a run of consecutive game dates of one processor
/// with the same kind and the same cause is one line, its counts summed, its date
/// `2021-12-08..12-17 (10)`.
pub(crate) fn grouped_row_cells(
    catalog: &Catalog,
    f: &Findings,
    rows: &[&DateRow],
) -> Vec<Vec<String>> {
    let days = GameDays::of(f);
    runs(rows, |a, b| {
        a.processor == b.processor
            && kind_cell(a) == kind_cell(b)
            && f.role(a) == f.role(b)
            && days.next_to(a.date, b.date)
    })
    .into_iter()
    .map(|run| {
        let (first, last) = (run[0], run[run.len() - 1]);
        if run.len() == 1 {
            return cells_of_row(catalog, f, first);
        }
        let sum =
            |count: fn(&DateRow) -> i64| run.iter().map(|r| count(r)).sum::<i64>().to_string();
        vec![
            catalog.code(first.processor).to_string(),
            format!("{} ({})", short_span(first.date, last.date), run.len()),
            kind_cell(first),
            sum(|r| r.expected),
            sum(|r| r.produced),
            sum(|r| r.expected_skips),
            sum(|r| r.cascades),
            sum(|r| r.real_failures),
            sum(|r| r.unaccounted),
            sum(|r| r.duplicates),
            sum(|r| r.unexpected),
            cause_cell(catalog, f, first),
        ]
    })
    .collect()
}

pub(crate) const ROW_HEADER: [&str; 12] = [
    "processor",
    "date",
    "kind",
    "expected",
    "produced",
    "expected skips",
    "cascades",
    "real failures",
    "unaccounted",
    "duplicates",
    "unexpected",
    "cause",
];

/// The counts of a ROW, right-aligned; the cause after them is text.
pub(crate) const ROW_NUMERIC: std::ops::Range<usize> = 3..11;

pub(crate) fn summary_cells(catalog: &Catalog, s: &ProcessorSummary) -> Vec<String> {
    vec![
        catalog.code(s.processor).to_string(),
        s.game_dates.to_string(),
        s.dates_with_rows.to_string(),
        s.records.to_string(),
        s.expected.to_string(),
        s.produced.to_string(),
        s.expected_skips.to_string(),
        s.cascades.to_string(),
        s.real_failures.to_string(),
        s.unaccounted.to_string(),
        s.duplicates.to_string(),
        s.unexpected.to_string(),
        s.stale_dates.len().to_string(),
        s.breakers_tripped.to_string(),
        rate(s.true_failure_rate()),
        rate(s.unaccounted_rate()),
    ]
}

pub(crate) const SUMMARY_HEADER: [&str; 16] = [
    "processor",
    "game dates",
    "dates with rows",
    "records",
    "expected",
    "produced",
    "expected skips",
    "cascades",
    "real failures",
    "unaccounted",
    "duplicates",
    "unexpected",
    "stale dates",
    "breakers",
    "failure rate",
    "unaccounted rate",
];

/// The arrays of the report's JSON, as its CSV holds them.
const REPORT_TABLES: [CsvTable; 9] = [
    CsvTable {
        name: "processors",
        columns: &[
            "processor",
            "game_dates",
            "dates_with_rows",
            "records",
            "expected",
            "produced",
            "expected_skips",
            "cascades",
            "real_failures",
            "unaccounted",
            "duplicates",
            "unexpected",
            "missing_dates",
            "partial_dates",
            "stale_dates",
            "breakers_tripped",
            "failures_by_category",
            "null_keys",
            "invariant_violations",
            "true_failure_rate",
            "unaccounted_rate",
        ],
    },
    CsvTable {
        name: "dates",
        columns: DATE_ROW_COLUMNS,
    },
    CsvTable {
        name: "roots",
        columns: &[
            "processor",
            "date",
            "kind",
            "defective_entities",
            "consequences",
            "explains",
            "source_issues",
        ],
    },
    CsvTable {
        name: "breakers",
        columns: BREAKER_COLUMNS,
    },
    CsvTable {
        name: "skip_share",
        columns: &[
            "processor",
            "season",
            "week",
            "dates",
            "expected",
            "expected_skips",
            "share",
            "band_low",
            "band_high",
            "anomaly",
        ],
    },
    CsvTable {
        name: "null_keys",
        columns: &["processor", "date", "table", "rows"],
    },
    CsvTable {
        name: "invariants",
        columns: &["processor", "date", "column", "rule", "rows"],
    },
    CsvTable {
        name: "source",
        columns: &[
            "kind",
            "date",
            "subject",
            "teams",
            "rows",
            "players_per_game",
            "season_median",
        ],
    },
    CsvTable {
        name: "freshness",
        columns: &[
            "processor",
            "latest_date",
            "source_latest_date",
            "lag",
            "finding",
        ],
    },
];

/// The fields of a tripped breaker in JSON and CSV.
pub(crate) const BREAKER_COLUMNS: &[&str] = &["processor", "date", "entity", "attempts"];

/// The fields of a ROW (DOMAIN.md), in `report` and `gaps` JSON and CSV.
pub(crate) const DATE_ROW_COLUMNS: &[&str] = &[
    "processor",
    "date",
    "kind",
    "expected",
    "produced",
    "expected_skips",
    "cascades",
    "real_failures",
    "unaccounted",
    "duplicates",
    "unexpected",
    "null_keys",
    "cause",
];

/// The report in the requested format; `roots_only` lists just the roots.
pub fn render_report(
    catalog: &Catalog,
    f: &Findings,
    warehouse: &str,
    format: TableFormat,
    roots_only: bool,
) -> String {
    match format {
        TableFormat::Json => to_json(&report_json(catalog, f, roots_only)),
        TableFormat::Csv => csv_document(&report_json(catalog, f, roots_only), &REPORT_TABLES),
        TableFormat::Table(fit) => {
            report_text(catalog, f, warehouse, Drawing::Boxes(fit), roots_only)
        }
        TableFormat::Markdown => report_text(catalog, f, warehouse, Drawing::Markdown, roots_only),
    }
}

fn report_text(
    catalog: &Catalog,
    f: &Findings,
    warehouse: &str,
    drawing: Drawing,
    roots_only: bool,
) -> String {
    let mut out = String::new();
    title(
        &mut out,
        drawing,
        &format!(
            "Phase 4 report {} on {warehouse}: {} queries in {:.2}s",
            f.range,
            f.queries,
            f.elapsed.as_secs_f64()
        ),
    );
    if !f.has_game_dates() {
        let _ = writeln!(
            out,
            "{} has no game dates in {}: nothing is expected of any processor.\n",
            catalog.source.table, f.range
        );
    }
    if !roots_only {
        let summaries = f.summaries();
        out.push_str(&table(
            &SUMMARY_HEADER,
            summaries
                .iter()
                .map(|s| summary_cells(catalog, s))
                .collect(),
            drawing,
            1,
        ));
    }

    // Findings open with their roots: one thing to fix, not four.
    let defective = f.defective_rows().count();
    if defective > 0 {
        heading(&mut out, drawing, "Root causes");
        roots_summary(&mut out, catalog, f, defective, drawing);
        let shown: Vec<&DateRow> = shown_rows(f, roots_only).collect();
        heading(
            &mut out,
            drawing,
            &if roots_only {
                format!("Root dates ({})", shown.len())
            } else {
                format!("Defective dates ({defective})")
            },
        );
        if shown.is_empty() {
            // --roots-only over processors whose every defect is explained upstream.
            let _ = writeln!(
                out,
                "none: every defective date shown is a consequence of the roots above"
            );
        } else {
            out.push_str(&table_numeric(
                &ROW_HEADER,
                grouped_row_cells(catalog, f, &shown),
                drawing,
                ROW_NUMERIC,
            ));
        }
    }
    if roots_only {
        out.push('\n');
        out.push_str(&verdict_line(f, drawing));
        return out;
    }

    if !f.stale.is_empty() {
        heading(
            &mut out,
            drawing,
            &format!("Stale dates ({})", f.stale.len()),
        );
        let rows = f
            .stale
            .iter()
            .map(|s| {
                vec![
                    catalog.code(s.processor).to_string(),
                    s.date.to_string(),
                    format!("{} rows are newer", catalog.code(s.upstream)),
                ]
            })
            .collect();
        out.push_str(&table(&["processor", "date", "why"], rows, drawing, 3));
    }

    super::content::content_text(&mut out, catalog, f, drawing);

    let categories = category_rows(catalog, f);
    if !categories.is_empty() {
        heading(&mut out, drawing, "Failure rows by category");
        let mut header = vec!["category", "class"];
        header.extend(f.selected.iter().map(|&id| catalog.code(id)));
        out.push_str(&table(&header, categories, drawing, 2));
    }

    if !f.breakers.is_empty() {
        heading(
            &mut out,
            drawing,
            &format!("Tripped circuit breakers ({})", f.breakers.len()),
        );
        out.push_str(&breakers_table(catalog, &f.breakers, drawing));
    }

    if !f.skip_weeks.is_empty() {
        heading(&mut out, drawing, "Expected-skip share by season week");
        out.push_str(&table_numeric(
            &SKIP_SHARE_HEADER,
            skip_week_rows(catalog, f),
            drawing,
            2..8,
        ));
    }

    out.push('\n');
    out.push_str(&verdict_line(f, drawing));
    out
}

/// The header of the skip-share table.
pub(crate) const SKIP_SHARE_HEADER: [&str; 9] = [
    "processor",
    "season",
    "weeks",
    "dates",
    "expected",
    "skips",
    "share",
    "band",
    "status",
];

/// The skip-share rows for a person: consecutive weeks of one processor and season in
/// the same band and within it are one row (`weeks 9-25`, their counts summed, their
/// share overall); an anomaly is always a row of its own.
pub(crate) fn skip_week_rows(catalog: &Catalog, f: &Findings) -> Vec<Vec<String>> {
    runs(&f.skip_weeks, |a, b| {
        a.processor == b.processor
            && a.season_year == b.season_year
            && a.band == b.band
            && !a.is_anomaly()
            && !b.is_anomaly()
            && b.week == a.week + 1
    })
    .into_iter()
    .map(|run| {
        let (first, last) = (&run[0], &run[run.len() - 1]);
        let expected: i64 = run.iter().map(|w| w.expected).sum();
        let skips: i64 = run.iter().map(|w| w.expected_skips).sum();
        let share = if expected == 0 {
            0.0
        } else {
            skips as f64 / expected as f64
        };
        vec![
            catalog.code(first.processor).to_string(),
            season_label(first.season_year),
            if run.len() == 1 {
                first.week.to_string()
            } else {
                format!("{}-{}", first.week, last.week)
            },
            run.iter().map(|w| w.dates).sum::<u32>().to_string(),
            expected.to_string(),
            skips.to_string(),
            pct(share),
            first
                .band
                .map(|(lo, hi)| format!("{:.0}-{:.0}%", lo * 100.0, hi * 100.0))
                .unwrap_or_else(|| "-".into()),
            if first.is_anomaly() { "ANOMALY" } else { "ok" }.to_string(),
        ]
    })
    .collect()
}

/// The header of the tripped breakers' table.
pub(crate) const BREAKER_HEADER: [&str; 4] = ["processor", "date", "entity", "attempts"];

/// The rows of the tripped breakers' table, under [`BREAKER_HEADER`].
pub(crate) fn breaker_rows(catalog: &Catalog, breakers: &[TrippedBreaker]) -> Vec<Vec<String>> {
    breakers
        .iter()
        .map(|b| {
            vec![
                catalog.code(b.processor).to_string(),
                b.date.to_string(),
                b.entity.clone(),
                b.attempts.to_string(),
            ]
        })
        .collect()
}

/// The tripped breakers as a table.
pub(crate) fn breakers_table(
    catalog: &Catalog,
    breakers: &[TrippedBreaker],
    drawing: Drawing,
) -> String {
    table(&BREAKER_HEADER, breaker_rows(catalog, breakers), drawing, 3)
}

pub(crate) fn category_rows(catalog: &Catalog, f: &Findings) -> Vec<Vec<String>> {
    let mut by_category: BTreeMap<&str, BTreeMap<ProcessorId, i64>> = BTreeMap::new();
    for c in &f.failures {
        *by_category
            .entry(c.category.as_str())
            .or_default()
            .entry(c.processor)
            .or_default() += c.rows;
    }
    by_category
        .into_iter()
        .map(|(category, counts)| {
            let class = if catalog.is_known_category(category) {
                catalog.class_of(category).label().to_string()
            } else {
                format!("{} (unknown category)", CategoryClass::RealFailure.label())
            };
            let mut row = vec![category.to_string(), class];
            row.extend(
                f.selected
                    .iter()
                    .map(|id| counts.get(id).copied().unwrap_or(0).to_string()),
            );
            row
        })
        .collect()
}

/// The conclusion as text output shows it: wrapped to the width, its first word red
/// (FINDINGS) or green (HEALTHY) where colour is on.
pub(crate) fn verdict_line(f: &Findings, drawing: Drawing) -> String {
    let text = drawing.wrap(&verdict(f));
    let painted = match (drawing, text.split_once(':')) {
        (Drawing::Boxes(_), Some((head, rest))) => {
            let style = if f.has_findings() {
                console::Style::new().red().bold()
            } else if !f.has_game_dates() {
                console::Style::new().yellow().bold()
            } else {
                console::Style::new().green().bold()
            };
            format!("{}:{rest}", style.apply_to(head))
        }
        _ => text,
    };
    format!("{painted}\n")
}

/// The one-line conclusion.
pub fn verdict(f: &Findings) -> String {
    if f.has_defects() {
        format!(
            "{} Plan the fix with `phase4-check repair --range {}`.",
            verdict_sentence(f),
            f.range
        )
    } else {
        verdict_sentence(f)
    }
}

/// The conclusion without the command that plans the fix.
pub(crate) fn verdict_sentence(f: &Findings) -> String {
    let defective = f.defective_rows().count();
    let anomalies = f.skip_weeks.iter().filter(|w| w.is_anomaly()).count();
    let mut notes = Vec::new();
    if anomalies > 0 {
        notes.push(format!("{anomalies} skip-share anomalies (not failures)"));
    }
    if !f.breakers.is_empty() {
        notes.push(format!("{} tripped breakers", f.breakers.len()));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join(", "))
    };
    let content = content_findings(f);
    if !f.has_defects() && !content.is_empty() {
        return format!(
            "FINDINGS: no count defects, but {}{notes}.",
            content.join(", ")
        );
    }
    let notes = if content.is_empty() {
        notes
    } else {
        format!("; {}{notes}", content.join(", "))
    };
    if !f.has_game_dates() && !f.has_defects() {
        return format!(
            "EMPTY: no game dates in {}, so nothing was checked.",
            f.range
        );
    }
    if f.has_defects() {
        format!(
            "FINDINGS: {} defective (processor, date) {}, {} stale{notes}.",
            defective,
            if defective == 1 { "pair" } else { "pairs" },
            f.stale.len(),
        )
    } else {
        format!(
            "HEALTHY: no gaps, real failures, duplicates, unexpected rows or stale dates{notes}."
        )
    }
}

/// The content findings in a few words each: NULL keys, invariant violations, the
/// source's issues, processors beyond `--max-lag`.
pub(crate) fn content_findings(f: &Findings) -> Vec<String> {
    let c = &f.content;
    let mut out = Vec::new();
    let null_keys: i64 = c.null_keys.iter().map(|n| n.rows).sum();
    if null_keys > 0 {
        out.push(super::counted(
            null_keys.unsigned_abs(),
            "row without a key",
            "rows without a key",
        ));
    }
    let violations: i64 = c.violations.iter().map(|v| v.rows).sum();
    if violations > 0 {
        out.push(super::counted(
            violations.unsigned_abs(),
            "row breaking an invariant",
            "rows breaking an invariant",
        ));
    }
    if !c.source.is_empty() {
        out.push(super::counted(
            c.source.len() as u64,
            "source issue",
            "source issues",
        ));
    }
    let lagging = f.lagging().count();
    if lagging > 0 {
        out.push(super::counted(
            lagging as u64,
            "processor lagging",
            "processors lagging",
        ));
    }
    out
}
