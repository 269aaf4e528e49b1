//! What the user sees: findings as a table (default), JSON (the stable contract of
//! DOMAIN.md), CSV or Markdown.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::{Alignment, Style, object::Columns};

use crate::catalog::{Catalog, CategoryClass, ProcessorId};
use crate::checks::{DateRow, Findings, ProcessorSummary};
use crate::range::{DateRange, season_label};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
    /// JUnit XML, for CI test report viewers (`gate` only).
    Junit,
}

// ---- JSON: the contract ------------------------------------------------------------

#[derive(Serialize)]
struct RangeJson {
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

#[derive(Serialize)]
pub struct RowJson {
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
}

pub fn row_json(catalog: &Catalog, r: &DateRow) -> RowJson {
    RowJson {
        processor: catalog.code(r.processor).into(),
        date: r.date.to_string(),
        kind: r.kind().map(|k| k.as_str()).unwrap_or("ok").into(),
        expected: r.expected,
        produced: r.produced,
        expected_skips: r.expected_skips,
        cascades: r.cascades,
        real_failures: r.real_failures,
        unaccounted: r.unaccounted,
        duplicates: r.duplicates,
        unexpected: r.unexpected,
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
    true_failure_rate: f64,
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
struct BreakerJson {
    processor: String,
    date: String,
    entity: String,
    attempts: i64,
}

#[derive(Serialize)]
struct ReportJson {
    range: RangeJson,
    queries: usize,
    processors: Vec<ProcessorJson>,
    dates: Vec<RowJson>,
    // Added fields:
    breakers: Vec<BreakerJson>,
    skip_share: Vec<SkipShareJson>,
}

#[derive(Serialize)]
struct GapsJson {
    processor: String,
    range: RangeJson,
    dates: Vec<RowJson>,
    // Added field:
    stale_dates: Vec<String>,
}

fn dates(list: &[chrono::NaiveDate]) -> Vec<String> {
    list.iter().map(|d| d.to_string()).collect()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn report_json(catalog: &Catalog, f: &Findings) -> ReportJson {
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
                true_failure_rate: round4(s.true_failure_rate()),
                failures_by_category: s.failures_by_category,
            })
            .collect(),
        dates: f.defective_rows().map(|r| row_json(catalog, r)).collect(),
        breakers: f
            .breakers
            .iter()
            .map(|b| BreakerJson {
                processor: catalog.code(b.processor).into(),
                date: b.date.to_string(),
                entity: b.entity.clone(),
                attempts: b.attempts,
            })
            .collect(),
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
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

// ---- tables ------------------------------------------------------------------------

pub(crate) fn table(
    header: &[&str],
    rows: Vec<Vec<String>>,
    format: Format,
    numeric_from: usize,
) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    match format {
        Format::Markdown => {
            t.with(Style::markdown());
        }
        _ => {
            t.with(Style::rounded());
            t.modify(Columns::new(numeric_from..), Alignment::right());
        }
    }
    t.to_string() + "\n"
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn row_cells(catalog: &Catalog, r: &DateRow) -> Vec<String> {
    vec![
        catalog.code(r.processor).to_string(),
        r.date.to_string(),
        r.kind().map(|k| k.as_str()).unwrap_or("ok").to_string(),
        r.expected.to_string(),
        r.produced.to_string(),
        r.expected_skips.to_string(),
        r.cascades.to_string(),
        r.real_failures.to_string(),
        r.unaccounted.to_string(),
        r.duplicates.to_string(),
        r.unexpected.to_string(),
    ]
}

const ROW_HEADER: [&str; 11] = [
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
];

fn heading(out: &mut String, format: Format, text: &str) {
    match format {
        Format::Markdown => {
            let _ = writeln!(out, "\n## {text}\n");
        }
        _ => {
            let _ = writeln!(out, "\n{text}");
        }
    }
}

fn summary_cells(catalog: &Catalog, s: &ProcessorSummary) -> Vec<String> {
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
        pct(s.true_failure_rate()),
    ]
}

const SUMMARY_HEADER: [&str; 15] = [
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
];

/// The report in the requested format.
pub fn render_report(catalog: &Catalog, f: &Findings, warehouse: &str, format: Format) -> String {
    match format {
        Format::Json => to_json(&report_json(catalog, f)),
        Format::Csv => {
            let rows = f
                .summaries()
                .iter()
                .map(|s| summary_cells(catalog, s))
                .collect();
            csv_text(&SUMMARY_HEADER, rows)
        }
        Format::Table | Format::Markdown | Format::Junit => {
            render_report_text(catalog, f, warehouse, format)
        }
    }
}

fn render_report_text(catalog: &Catalog, f: &Findings, warehouse: &str, format: Format) -> String {
    let mut out = String::new();
    let title = format!(
        "Phase 4 report {} on {warehouse}: {} queries in {:.2}s",
        f.range,
        f.queries,
        f.elapsed.as_secs_f64()
    );
    if format == Format::Markdown {
        let _ = writeln!(out, "# {title}\n");
    } else {
        let _ = writeln!(out, "{title}\n");
    }
    let summaries = f.summaries();
    out.push_str(&table(
        &SUMMARY_HEADER,
        summaries
            .iter()
            .map(|s| summary_cells(catalog, s))
            .collect(),
        format,
        1,
    ));

    let defective: Vec<&DateRow> = f.defective_rows().collect();
    if !defective.is_empty() {
        heading(
            &mut out,
            format,
            &format!("Defective dates ({})", defective.len()),
        );
        out.push_str(&table(
            &ROW_HEADER,
            defective.iter().map(|r| row_cells(catalog, r)).collect(),
            format,
            3,
        ));
    }

    if !f.stale.is_empty() {
        heading(
            &mut out,
            format,
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
        out.push_str(&table(&["processor", "date", "why"], rows, format, 3));
    }

    let categories = category_rows(catalog, f);
    if !categories.is_empty() {
        heading(&mut out, format, "Failure rows by category");
        let mut header = vec!["category", "class"];
        header.extend(f.selected.iter().map(|&id| catalog.code(id)));
        out.push_str(&table(&header, categories, format, 2));
    }

    if !f.breakers.is_empty() {
        heading(
            &mut out,
            format,
            &format!("Tripped circuit breakers ({})", f.breakers.len()),
        );
        out.push_str(&breakers_table(catalog, &f.breakers, format));
    }

    if !f.skip_weeks.is_empty() {
        heading(&mut out, format, "Expected-skip share by season week");
        let rows = f
            .skip_weeks
            .iter()
            .map(|w| {
                vec![
                    catalog.code(w.processor).to_string(),
                    season_label(w.season_year),
                    w.week.to_string(),
                    w.dates.to_string(),
                    w.expected.to_string(),
                    w.expected_skips.to_string(),
                    pct(w.share()),
                    w.band
                        .map(|(lo, hi)| format!("{:.0}-{:.0}%", lo * 100.0, hi * 100.0))
                        .unwrap_or_else(|| "-".into()),
                    if w.is_anomaly() { "ANOMALY" } else { "ok" }.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "processor",
                "season",
                "week",
                "dates",
                "expected",
                "skips",
                "share",
                "band",
                "status",
            ],
            rows,
            format,
            2,
        ));
    }

    let _ = writeln!(out, "\n{}", verdict(f));
    out
}

fn breakers_table(
    catalog: &Catalog,
    breakers: &[crate::checks::TrippedBreaker],
    format: Format,
) -> String {
    let rows = breakers
        .iter()
        .map(|b| {
            vec![
                catalog.code(b.processor).to_string(),
                b.date.to_string(),
                b.entity.clone(),
                b.attempts.to_string(),
            ]
        })
        .collect();
    table(
        &["processor", "date", "entity", "attempts"],
        rows,
        format,
        3,
    )
}

fn category_rows(catalog: &Catalog, f: &Findings) -> Vec<Vec<String>> {
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

/// The one-line conclusion.
pub fn verdict(f: &Findings) -> String {
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
    if f.has_defects() {
        format!(
            "FINDINGS: {defective} defective (processor, date) pairs, {} stale{notes}. Plan the fix with `phase4-check repair --range {}`.",
            f.stale.len(),
            f.range
        )
    } else {
        format!(
            "HEALTHY: no gaps, real failures, duplicates, unexpected rows or stale dates{notes}."
        )
    }
}

/// `gaps`: the defective dates of one processor.
pub fn render_gaps(catalog: &Catalog, f: &Findings, id: ProcessorId, format: Format) -> String {
    let rows: Vec<&DateRow> = f.defective_rows().filter(|r| r.processor == id).collect();
    let stale: Vec<chrono::NaiveDate> = f
        .stale
        .iter()
        .filter(|s| s.processor == id)
        .map(|s| s.date)
        .collect();
    match format {
        Format::Json => to_json(&GapsJson {
            processor: catalog.code(id).into(),
            range: f.range.into(),
            dates: rows.iter().map(|r| row_json(catalog, r)).collect(),
            stale_dates: dates(&stale),
        }),
        Format::Csv => csv_text(
            &ROW_HEADER,
            rows.iter().map(|r| row_cells(catalog, r)).collect(),
        ),
        Format::Table | Format::Markdown | Format::Junit => {
            let mut out = String::new();
            let title = format!(
                "{} ({}) gaps {}: {} defective dates, {} stale",
                catalog.code(id),
                catalog.get(id).table,
                f.range,
                rows.len(),
                stale.len()
            );
            if format == Format::Markdown {
                let _ = writeln!(out, "# {title}\n");
            } else {
                let _ = writeln!(out, "{title}\n");
            }
            if !rows.is_empty() {
                out.push_str(&table(
                    &ROW_HEADER,
                    rows.iter().map(|r| row_cells(catalog, r)).collect(),
                    format,
                    3,
                ));
            }
            if !stale.is_empty() {
                let _ = writeln!(out, "\nStale dates: {}", dates(&stale).join(", "));
            }
            out
        }
    }
}

pub(crate) fn csv_text(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(&r);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

// ---- repair ------------------------------------------------------------------------

#[derive(Serialize)]
struct PlanPairJson<'a> {
    processor: &'a str,
    date: String,
    reasons: Vec<&'static str>,
}

#[derive(Serialize)]
struct PlanJson<'a> {
    pairs: Vec<PlanPairJson<'a>>,
    // Added fields:
    breakers: Vec<BreakerJson>,
    warnings: &'a [String],
}

const NOTHING_TO_REPAIR: &str =
    "Nothing to repair: no defective or stale (processor, date) pairs.\n";

/// The plan's pairs in run order: number, processor, date, reasons joined by `sep`.
fn plan_rows(plan: &crate::plan::RepairPlan, sep: &str) -> Vec<Vec<String>> {
    plan.pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let reasons: Vec<&str> = p.reasons.iter().map(|r| r.as_str()).collect();
            vec![
                (i + 1).to_string(),
                p.processor.clone(),
                p.date.to_string(),
                reasons.join(sep),
            ]
        })
        .collect()
}

/// The plan (dry run): stages, run order, breakers to reset, warnings.
pub fn render_plan(catalog: &Catalog, plan: &crate::plan::RepairPlan, format: Format) -> String {
    let pair_json = |p: &'_ crate::plan::PlannedPair| PlanPairJson {
        processor: catalog
            .find(&p.processor)
            .map(|id| catalog.code(id))
            .unwrap_or("?"),
        date: p.date.to_string(),
        reasons: p.reasons.iter().map(|r| r.as_str()).collect(),
    };
    match format {
        Format::Json => to_json(&PlanJson {
            pairs: plan.pairs.iter().map(pair_json).collect(),
            breakers: plan
                .breakers
                .iter()
                .map(|b| BreakerJson {
                    processor: catalog.code(b.processor).into(),
                    date: b.date.to_string(),
                    entity: b.entity.clone(),
                    attempts: b.attempts,
                })
                .collect(),
            warnings: &plan.warnings,
        }),
        Format::Csv => csv_text(
            &["order", "processor", "date", "reasons"],
            plan_rows(plan, " "),
        ),
        Format::Table | Format::Markdown | Format::Junit => {
            let mut out = String::new();
            if plan.is_empty() {
                out.push_str(NOTHING_TO_REPAIR);
                return out;
            }
            let _ = writeln!(
                out,
                "Repair plan: {} pairs (a dry run; nothing was changed; run it with --apply)",
                plan.pairs.len()
            );
            for (i, stage) in plan.stages(catalog).iter().enumerate() {
                let mut dates: BTreeMap<&str, usize> = BTreeMap::new();
                for p in stage {
                    *dates.entry(p.processor.as_str()).or_default() += 1;
                }
                let parts: Vec<String> = dates
                    .iter()
                    .map(|(code, n)| format!("{code} ({n} dates)"))
                    .collect();
                let _ = writeln!(out, "  stage {}: {}", i + 1, parts.join(", "));
            }
            heading(&mut out, format, "Run order");
            let rows = plan_rows(plan, ", ");
            out.push_str(&table(
                &["#", "processor", "date", "reasons"],
                rows,
                format,
                4,
            ));
            if !plan.breakers.is_empty() {
                heading(
                    &mut out,
                    format,
                    &format!(
                        "Tripped breakers of planned pairs ({}), reset before their pair runs unless --keep-breakers",
                        plan.breakers.len()
                    ),
                );
                out.push_str(&breakers_table(catalog, &plan.breakers, format));
            }
            for w in &plan.warnings {
                let _ = writeln!(out, "warning: {w}");
            }
            out
        }
    }
}

#[derive(Serialize)]
struct RunJson<'a> {
    pairs: Vec<RunPairJson<'a>>,
    // Added fields:
    resumed: bool,
    counts: BTreeMap<&'static str, usize>,
    wall_seconds: f64,
    interrupted: bool,
    breakers_reset: u64,
    run_dir: String,
}

#[derive(Serialize)]
struct RunPairJson<'a> {
    processor: &'a str,
    date: String,
    reasons: Vec<&'static str>,
    status: &'static str,
    error: Option<String>,
    log: Option<String>,
}

/// `repair --apply`: the final summary.
pub fn render_run(outcome: &crate::runner::repair::ApplyOutcome, format: Format) -> String {
    let Some(summary) = &outcome.summary else {
        return match format {
            Format::Json => to_json(&serde_json::json!({"pairs": []})),
            _ => NOTHING_TO_REPAIR.into(),
        };
    };
    if format == Format::Json {
        let pairs = outcome
            .plan
            .iter()
            .map(|p| {
                let problem = summary
                    .problems
                    .iter()
                    .find(|(code, date, ..)| *code == p.pair.processor && *date == p.pair.date);
                RunPairJson {
                    processor: &p.pair.processor,
                    date: p.pair.date.to_string(),
                    reasons: p.pair.reasons.iter().map(|r| r.as_str()).collect(),
                    status: problem.map(|pr| pr.2.name()).unwrap_or("done"),
                    error: problem.map(|pr| pr.3.clone()),
                    log: problem.and_then(|pr| pr.4.clone()),
                }
            })
            .collect();
        return to_json(&RunJson {
            pairs,
            resumed: outcome.resumed,
            counts: summary.counts.clone(),
            wall_seconds: round4(summary.wall.as_secs_f64()),
            interrupted: summary.interrupted,
            breakers_reset: summary.breakers_reset,
            run_dir: summary.run_dir.display().to_string(),
        });
    }
    let mut out = String::new();
    let c = |k: &str| summary.counts.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "Repair {}: {} pairs: {} done, {} failed, {} timed out, {} blocked, {} unverified, {} interrupted, {} pending; {} breakers reset; wall time {:.1}s",
        if outcome.resumed { "resumed" } else { "run" },
        outcome.plan.len(),
        c("done"),
        c("failed"),
        c("timed_out"),
        c("blocked"),
        c("unverified"),
        c("interrupted"),
        c("pending"),
        summary.breakers_reset,
        summary.wall.as_secs_f64()
    );
    let _ = writeln!(out, "Logs and events: {}", summary.run_dir.display());
    if !summary.problems.is_empty() {
        let rows = summary
            .problems
            .iter()
            .map(|(code, date, status, error, log)| {
                vec![
                    code.clone(),
                    date.to_string(),
                    status.name().to_string(),
                    error.clone(),
                    log.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["processor", "date", "status", "why", "log"],
            rows,
            format,
            5,
        ));
    }
    if summary.interrupted {
        let _ = writeln!(out, "Interrupted: run the same command again to resume.");
    } else if summary.halted {
        let _ = writeln!(
            out,
            "Halted after a failure (--halt-on-failure): run the same command again to resume."
        );
    }
    out
}

// ---- --estimate --------------------------------------------------------------------

/// `1.5 MiB`, `12 B`.
fn bytes_text(n: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

pub fn render_estimate(
    warehouse: &str,
    estimates: &[(&str, i64)],
    total: i64,
    format: Format,
) -> String {
    match format {
        Format::Json => to_json(&serde_json::json!({
            "warehouse": warehouse,
            "queries": estimates.iter().map(|(q, b)| serde_json::json!({"query": q, "bytes": b})).collect::<Vec<_>>(),
            "total_bytes": total,
        })),
        Format::Csv => csv_text(
            &["query", "bytes"],
            estimates
                .iter()
                .map(|(q, b)| vec![q.to_string(), b.to_string()])
                .chain(std::iter::once(vec!["total".into(), total.to_string()]))
                .collect(),
        ),
        _ => {
            let mut rows: Vec<Vec<String>> = estimates
                .iter()
                .map(|(q, b)| vec![q.to_string(), b.to_string(), bytes_text(*b)])
                .collect();
            rows.push(vec!["total".into(), total.to_string(), bytes_text(total)]);
            format!(
                "Dry run on {warehouse}: {} queries would process {} ({total} bytes); nothing was run.\n\n{}",
                estimates.len(),
                bytes_text(total),
                table(&["query", "bytes", ""], rows, format, 1)
            )
        }
    }
}
