//! What the gate prints: a unified diff made with `similar` (coloured on a terminal) and a
//! summary, or JSON, JUnit XML, Markdown or CSV for CI systems.

use serde::Serialize;
use std::fmt::Write as _;

use super::{Change, Comparison, Count, Counts, DateCounts, Snapshot, Tolerances, compare, plural};
use crate::render::csv::{CsvTable, csv_document};
use crate::render::table::{Drawing, prose, table_numeric, wrap_words};
use crate::render::{Fit, Format, TableFormat};

/// How many of the largest changes the summary lists.
const LARGEST_SHOWN: usize = 10;

/// Everything a rendering needs.
pub struct GateOutcome<'a> {
    pub comparison: &'a Comparison,
    pub snapshot: &'a Counts,
    pub actual: &'a Counts,
    /// The snapshot file as the user named it.
    pub snapshot_path: &'a str,
    pub warehouse: &'a str,
    /// The command that accepts the warehouse's counts.
    pub update_command: &'a str,
}

pub fn render_gate(outcome: &GateOutcome<'_>, format: Format, color: bool, fit: Fit) -> String {
    match format {
        Format::Table => text(outcome, color, fit),
        Format::Json => json(outcome),
        Format::Junit => junit(outcome),
        Format::Markdown => markdown(outcome),
        Format::Csv => csv(outcome),
    }
}

/// `PSZA 2021-12-04 expected=250 records=250 ... failures_by_category={INSUFFICIENT_DATA=49}`
fn entry_line(code: &str, date: chrono::NaiveDate, d: &DateCounts) -> String {
    let mut line = format!("{code} {date}");
    for c in Count::ALL {
        let _ = write!(line, " {}={}", c.name(), d.get(c));
    }
    let failures: Vec<String> = d.failures.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = write!(line, " failures_by_category={{{}}}", failures.join(", "));
    line
}

/// The two sides of the diff, one line per processor's game dates and per
/// (processor, date). An entry whose changes are all within tolerance shows the
/// warehouse's line on both sides, so the diff holds exactly what fails the gate.
///
/// When fingerprints are compared, each dated entry with one has a second line,
/// `PSZA 2021-12-04 content=1234`, so a content change is a line of its own.
fn diff_sides(outcome: &GateOutcome<'_>) -> (String, String) {
    let cmp = outcome.comparison;
    let failing = Comparison::changed_entries(cmp.failing().filter(|c| !c.is_content()));
    let content_failing = Comparison::changed_entries(cmp.failing().filter(|c| c.is_content()));
    let (mut old, mut new) = (String::new(), String::new());
    let empty = super::ProcessorCounts::default();
    for (code, now) in &outcome.actual.processors {
        let before = outcome.snapshot.get(code).unwrap_or(&empty);
        let game_dates_fail = failing.contains(&(code.as_str(), None));
        let _ = writeln!(
            old,
            "{code} game_dates={}",
            if game_dates_fail {
                before.game_dates()
            } else {
                now.game_dates()
            }
        );
        let _ = writeln!(new, "{code} game_dates={}", now.game_dates());
        let dates: std::collections::BTreeSet<_> =
            before.dates.keys().chain(now.dates.keys()).collect();
        for &date in dates {
            let side = |failing: &std::collections::BTreeSet<(&str, Option<chrono::NaiveDate>)>| {
                if failing.contains(&(code.as_str(), Some(date))) {
                    before.dates.get(&date)
                } else {
                    now.dates.get(&date)
                }
            };
            if let Some(d) = side(&failing) {
                let _ = writeln!(old, "{}", entry_line(code, date, d));
            }
            if let Some(d) = now.dates.get(&date) {
                let _ = writeln!(new, "{}", entry_line(code, date, d));
            }
            if cmp.content_compared {
                let content = |d: Option<&DateCounts>| {
                    d.and_then(|d| d.fingerprint.as_ref())
                        .map(|f| format!("{code} {date} content={f}\n"))
                        .unwrap_or_default()
                };
                old.push_str(&content(side(&content_failing)));
                new.push_str(&content(now.dates.get(&date)));
            }
        }
    }
    (old, new)
}

/// The failing changes, largest first, one indented line each (at most LARGEST_SHOWN).
fn largest_changes(out: &mut String, cmp: &Comparison) {
    let largest = cmp.largest_first();
    for c in largest.iter().take(LARGEST_SHOWN) {
        let _ = writeln!(out, "  {}", change_line(c));
    }
    if largest.len() > LARGEST_SHOWN {
        let _ = writeln!(out, "  ... and {} more", largest.len() - LARGEST_SHOWN);
    }
}

/// The first 12 hex digits of a catalog fingerprint, for messages.
pub fn short_fingerprint(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

/// What `gate --update` changed.
struct Update<'a> {
    path: &'a str,
    after: &'a Snapshot,
    /// The counts that changed (none when the snapshot is new).
    changes: Option<Comparison>,
    /// A changed range, catalog or tolerances.
    notes: Vec<String>,
}

impl<'a> Update<'a> {
    fn new(path: &'a str, before: Option<&Snapshot>, after: &'a Snapshot) -> Update<'a> {
        let Some(before) = before else {
            return Update {
                path,
                after,
                changes: None,
                notes: Vec::new(),
            };
        };
        let mut notes = Vec::new();
        if before.range != after.range {
            notes.push(format!(
                "range {}..{} -> {}..{}",
                before.range.start(),
                before.range.end(),
                after.range.start(),
                after.range.end()
            ));
        }
        if before.catalog_fingerprint != after.catalog_fingerprint {
            notes.push(format!(
                "catalog fingerprint {} -> {}",
                short_fingerprint(&before.catalog_fingerprint),
                short_fingerprint(&after.catalog_fingerprint)
            ));
        }
        if before.counts.hash_kind != after.counts.hash_kind {
            notes.push(format!(
                "fingerprints made with {} -> {}",
                before.counts.hash_kind.as_deref().unwrap_or("nothing"),
                after.counts.hash_kind.as_deref().unwrap_or("nothing")
            ));
        }
        if before.tolerances != after.tolerances {
            notes.push(format!(
                "tolerances now: {}",
                if after.tolerances.is_empty() {
                    "none (exact)".to_string()
                } else {
                    after.tolerances.describe()
                }
            ));
        }
        let exact = compare(
            &before.counts,
            &after.counts,
            after.range,
            Tolerances::default(),
        );
        Update {
            path,
            after,
            changes: Some(exact),
            notes,
        }
    }

    /// One sentence: written, unchanged, or what changed.
    fn headline(&self) -> String {
        let path = self.path;
        match &self.changes {
            None => format!(
                "Wrote snapshot {path}: {}..{}, {}. Review it and commit it.",
                self.after.range.start(),
                self.after.range.end(),
                scope(
                    self.after.counts.processors.len(),
                    self.after.counts.entries()
                )
            ),
            Some(c) if c.changes.is_empty() && self.notes.is_empty() => {
                format!("Snapshot {path} is unchanged.")
            }
            Some(c) if c.changes.is_empty() => {
                format!("Updated snapshot {path}: no count changed.")
            }
            Some(c) => format!("Updated snapshot {path}: {}.", c.summary()),
        }
    }

    fn changes(&self) -> &[Change] {
        self.changes.as_ref().map(|c| &c.changes[..]).unwrap_or(&[])
    }
}

#[derive(Serialize)]
struct UpdateJson<'a> {
    snapshot: &'a str,
    range: serde_json::Value,
    written: bool,
    summary: String,
    changes: Vec<ChangeJson<'a>>,
    notes: &'a [String],
}

fn update_json<'a>(path: &'a str, after: &Snapshot, update: &'a Update) -> UpdateJson<'a> {
    UpdateJson {
        snapshot: path,
        range: serde_json::json!({"start": after.range.start().to_string(), "end": after.range.end().to_string()}),
        written: true,
        summary: update.headline(),
        changes: update.changes().iter().map(change_json).collect(),
        notes: &update.notes,
    }
}

/// What `gate --update` changed, largest changes first.
pub fn render_update(
    path: &str,
    before: Option<&Snapshot>,
    after: &Snapshot,
    format: TableFormat,
) -> String {
    let update = Update::new(path, before, after);
    match format {
        TableFormat::Table(fit) => {
            let drawing = Drawing::Boxes(fit);
            let mut out = String::new();
            prose(&mut out, drawing, &update.headline());
            if let Some(c) = &update.changes {
                largest_changes(&mut out, c);
            }
            for n in &update.notes {
                prose(&mut out, drawing, &format!("Also: {n}."));
            }
            out
        }
        TableFormat::Json => crate::render::to_json(&update_json(path, after, &update)),
        TableFormat::Csv => csv_document(
            &update_json(path, after, &update),
            &[
                CHANGES_TABLE,
                CsvTable {
                    name: "notes",
                    columns: &["note"],
                },
            ],
        ),
        TableFormat::Markdown => {
            let mut out = format!("### phase4-check gate --update\n\n{}\n", update.headline());
            if !update.changes().is_empty() {
                out.push('\n');
                out.push_str(&table_numeric(
                    &CHANGE_HEADER,
                    update.changes().iter().map(change_cells).collect(),
                    Drawing::Markdown,
                    CHANGE_NUMERIC,
                ));
            }
            for n in &update.notes {
                let _ = writeln!(out, "\nAlso: {n}.");
            }
            out
        }
    }
}

/// `5 processors, 830 processor-dates`.
fn scope(processors: usize, entries: usize) -> String {
    format!("{processors} processors, {entries} processor-dates")
}

/// `PSZA 2021-12-04 records: 250 -> 249, -1 (-0.4%)`; a content change as
/// `PSZA 2021-12-04 content changed: fingerprint 12 -> 34, counts equal (250 records)`.
pub fn change_line(c: &Change) -> String {
    let at = match c.date {
        Some(d) => format!("{} {d}", c.processor),
        None => c.processor.clone(),
    };
    if let Some((before, now)) = &c.fingerprints {
        return format!(
            "{at} content changed: fingerprint {before} -> {now}, counts equal ({} records)",
            c.actual
        );
    }
    format!(
        "{at} {}: {} -> {}, {}",
        c.metric.label(),
        c.snapshot,
        c.actual,
        c.describe_delta()
    )
}

fn tolerated_note(cmp: &Comparison) -> Option<String> {
    let n = cmp.changes.iter().filter(|c| c.tolerated).count();
    (n > 0).then(|| {
        format!(
            "{n} {} within tolerance ({})",
            plural(n, "change", "changes"),
            cmp.tolerances.describe()
        )
    })
}

fn text(outcome: &GateOutcome<'_>, color: bool, fit: Fit) -> String {
    let cmp = outcome.comparison;
    let wrap = |text: &str| Drawing::Boxes(fit).wrap(text);
    let mut out = String::new();
    let paint = |word: &str, style: console::Style| {
        if color {
            style.apply_to(word).to_string()
        } else {
            word.to_string()
        }
    };
    if cmp.passed() {
        let mut line = format!(
            "Gate passed: {} matches {} for {}..{} ({})",
            outcome.snapshot_path,
            outcome.warehouse,
            cmp.range.start(),
            cmp.range.end(),
            scope(cmp.processors.len(), cmp.entries)
        );
        if let Some(note) = tolerated_note(cmp) {
            let _ = write!(line, "; {note}");
        }
        line.push('.');
        let line = wrap(&line).replacen(
            "Gate passed",
            &paint("Gate passed", console::Style::new().green().bold()),
            1,
        );
        let _ = writeln!(out, "{line}");
        notes(&mut out, cmp, fit);
        return out;
    }
    match fit.0 {
        Some(width) => changed_counts(&mut out, outcome, width, color),
        None => unified_diff(&mut out, outcome, color),
    }
    let failed = wrap(&format!(
        "Gate failed: {} for {}..{}.",
        cmp.summary(),
        cmp.range.start(),
        cmp.range.end()
    ));
    let _ = writeln!(
        out,
        "\n{}",
        failed.replacen(
            "Gate failed",
            &paint("Gate failed", console::Style::new().red().bold()),
            1
        )
    );
    let _ = writeln!(out, "Largest changes:");
    largest_changes(&mut out, cmp);
    if let Some(note) = tolerated_note(cmp) {
        let _ = writeln!(out, "{}", wrap(&format!("Not failing: {note}.")));
    }
    notes(&mut out, cmp, fit);
    let _ = writeln!(
        out,
        "If the change is intended, review it and accept it with:\n  {}{}",
        outcome.update_command,
        if cmp.failing().any(|c| c.is_content()) {
            format!(
                "\n  (or accept content changes on every run with --allow {})",
                super::CONTENT
            )
        } else {
            String::new()
        }
    );
    out
}

/// What the comparison says once (content not compared, and why).
fn notes(out: &mut String, cmp: &Comparison, fit: Fit) {
    for note in &cmp.notes {
        let _ = writeln!(
            out,
            "{}",
            Drawing::Boxes(fit).wrap(&format!("Note: {note}."))
        );
    }
}

/// The whole picture, for a pipe or a CI log: a unified diff of every count of the
/// changed entries, one line each.
fn unified_diff(out: &mut String, outcome: &GateOutcome<'_>, color: bool) {
    let (old, new) = diff_sides(outcome);
    let diff = similar::TextDiff::from_lines(&old, &new);
    let mut unified = diff.unified_diff();
    unified.context_radius(1).header(
        &format!("{} (snapshot)", outcome.snapshot_path),
        &format!("{} (warehouse)", outcome.warehouse),
    );
    for line in unified.to_string().lines() {
        let styled = if !color {
            line.to_string()
        } else if line.starts_with("---") || line.starts_with("+++") {
            console::style(line).bold().to_string()
        } else if line.starts_with('-') {
            console::style(line).red().to_string()
        } else if line.starts_with('+') {
            console::style(line).green().to_string()
        } else if line.starts_with("@@") {
            console::style(line).cyan().to_string()
        } else {
            line.to_string()
        };
        out.push_str(&styled);
        out.push('\n');
    }
}

/// The diff fitting a terminal: each changed entry on a line of its own, then one line
/// per failing count, the snapshot's value (red) and the warehouse's (green).
///
/// ```text
/// TDZA 2021-12-04
///   records: 0 -> 12
///   unaccounted: 12 -> 0
/// ```
fn changed_counts(out: &mut String, outcome: &GateOutcome<'_>, width: usize, color: bool) {
    let _ = writeln!(
        out,
        "{}",
        wrap_words(
            &format!(
                "{} (snapshot) -> {} (warehouse), the counts that fail the gate; --wide shows every count",
                outcome.snapshot_path, outcome.warehouse
            ),
            width
        )
    );
    let paint = |value: &dyn std::fmt::Display, style: console::Style| {
        if color {
            style.apply_to(value.to_string()).to_string()
        } else {
            value.to_string()
        }
    };
    let mut entry = None;
    for c in outcome.comparison.failing() {
        if entry != Some((c.processor.as_str(), c.date)) {
            entry = Some((c.processor.as_str(), c.date));
            let _ = match c.date {
                Some(d) => writeln!(out, "\n{} {d}", c.processor),
                None => writeln!(out, "\n{} (all dates)", c.processor),
            };
        }
        let _ = match &c.fingerprints {
            Some((before, now)) => writeln!(
                out,
                "  content changed, counts equal: fingerprint {} -> {}",
                paint(before, console::Style::new().red()),
                paint(now, console::Style::new().green())
            ),
            None => writeln!(
                out,
                "  {}: {} -> {}",
                c.metric.label(),
                paint(&c.snapshot, console::Style::new().red()),
                paint(&c.actual, console::Style::new().green())
            ),
        };
    }
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    processor: &'a str,
    date: Option<String>,
    count: String,
    snapshot: i64,
    warehouse: i64,
    delta: i64,
    tolerated: bool,
    /// A content change's fingerprints (null for a count).
    snapshot_fingerprint: Option<&'a str>,
    warehouse_fingerprint: Option<&'a str>,
}

#[derive(Serialize)]
struct GateJson<'a> {
    snapshot: &'a str,
    warehouse: &'a str,
    range: serde_json::Value,
    passed: bool,
    summary: String,
    processors: &'a [String],
    entries: usize,
    content_compared: bool,
    changes: Vec<ChangeJson<'a>>,
    notes: &'a [String],
}

fn change_json(c: &Change) -> ChangeJson<'_> {
    ChangeJson {
        processor: &c.processor,
        date: c.date.map(|d| d.to_string()),
        count: c.metric.label(),
        snapshot: c.snapshot,
        warehouse: c.actual,
        delta: c.delta(),
        tolerated: c.tolerated,
        snapshot_fingerprint: c.fingerprints.as_ref().map(|(b, _)| b.as_str()),
        warehouse_fingerprint: c.fingerprints.as_ref().map(|(_, a)| a.as_str()),
    }
}

fn json(outcome: &GateOutcome<'_>) -> String {
    crate::render::to_json(&gate_json(outcome))
}

fn gate_json<'a>(outcome: &GateOutcome<'a>) -> GateJson<'a> {
    let cmp = outcome.comparison;
    GateJson {
        snapshot: outcome.snapshot_path,
        warehouse: outcome.warehouse,
        range: serde_json::json!({"start": cmp.range.start().to_string(), "end": cmp.range.end().to_string()}),
        passed: cmp.passed(),
        summary: if cmp.passed() {
            "nothing changed beyond its tolerance".to_string()
        } else {
            cmp.summary()
        },
        processors: &cmp.processors,
        entries: cmp.entries,
        content_compared: cmp.content_compared,
        changes: cmp.changes.iter().map(change_json).collect(),
        notes: &cmp.notes,
    }
}

/// One test case per (processor, date) that changed, failed unless every change is
/// within tolerance; a processor without changes is one passing test case.
fn junit(outcome: &GateOutcome<'_>) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let cmp = outcome.comparison;
    let mut suite = TestSuite::new(format!("phase4-check gate {}", outcome.snapshot_path));
    for code in &cmp.processors {
        let mine: Vec<&Change> = cmp
            .changes
            .iter()
            .filter(|c| &c.processor == code)
            .collect();
        if mine.is_empty() {
            let dates = outcome.actual.get(code).map(|p| p.dates.len()).unwrap_or(0);
            let mut case = TestCase::new(
                format!("{code} {}..{}", cmp.range.start(), cmp.range.end()),
                TestCaseStatus::success(),
            );
            case.set_classname(format!("gate.{code}"));
            case.set_system_out(format!("{dates} dates match the snapshot"));
            suite.add_test_case(case);
            continue;
        }
        // A date's counts are one case; its content change, another.
        let mut entries: Vec<(Option<chrono::NaiveDate>, bool)> =
            mine.iter().map(|c| (c.date, c.is_content())).collect();
        entries.sort();
        entries.dedup();
        for (date, content) in entries {
            let here: Vec<&&Change> = mine
                .iter()
                .filter(|c| c.date == date && c.is_content() == content)
                .collect();
            let lines: Vec<String> = here.iter().map(|c| change_line(c)).collect();
            let name = match (date, content) {
                (Some(d), false) => format!("{code} {d}"),
                (Some(d), true) => format!("{code} {d} content"),
                (None, _) => format!("{code} game_dates"),
            };
            let status = if here.iter().all(|c| c.tolerated) {
                TestCaseStatus::success()
            } else {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(
                    here.iter()
                        .filter(|c| !c.tolerated)
                        .map(|c| match &c.fingerprints {
                            Some((before, now)) => {
                                format!(
                                    "content changed, counts equal: fingerprint {before} -> {now}"
                                )
                            }
                            None => {
                                format!("{} {} -> {}", c.metric.label(), c.snapshot, c.actual)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                s.set_type(if content {
                    "content changed"
                } else {
                    "count changed"
                });
                s.set_description(lines.join("\n"));
                s
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("gate.{code}"));
            if here.iter().all(|c| c.tolerated) {
                case.set_system_out(format!("within tolerance:\n{}", lines.join("\n")));
            }
            suite.add_test_case(case);
        }
    }
    let mut report = Report::new("phase4-check gate");
    report.add_test_suite(suite);
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write JUnit XML: {e} -->"))
        + "\n"
}

fn change_cells(c: &Change) -> Vec<String> {
    if let Some((before, now)) = &c.fingerprints {
        return vec![
            c.processor.clone(),
            c.date.map(|d| d.to_string()).unwrap_or_default(),
            c.metric.label(),
            before.clone(),
            now.clone(),
            "content changed".to_string(),
            if c.tolerated { "yes" } else { "no" }.to_string(),
        ];
    }
    vec![
        c.processor.clone(),
        c.date.map(|d| d.to_string()).unwrap_or_default(),
        c.metric.label(),
        c.snapshot.to_string(),
        c.actual.to_string(),
        c.describe_delta(),
        if c.tolerated { "yes" } else { "no" }.to_string(),
    ]
}

/// The counts and the change; `tolerated` after them is text.
const CHANGE_NUMERIC: std::ops::Range<usize> = 3..6;

const CHANGE_HEADER: [&str; 7] = [
    "processor",
    "date",
    "count",
    "snapshot",
    "warehouse",
    "change",
    "tolerated",
];

fn markdown(outcome: &GateOutcome<'_>) -> String {
    let cmp = outcome.comparison;
    let mut out = String::new();
    let verdict = if cmp.passed() { "passed" } else { "failed" };
    let _ = writeln!(out, "### phase4-check gate {verdict}\n");
    let _ = writeln!(
        out,
        "Snapshot `{}` against `{}`, {}..{}: {}.",
        outcome.snapshot_path,
        outcome.warehouse,
        cmp.range.start(),
        cmp.range.end(),
        if cmp.passed() {
            format!(
                "{}, nothing changed beyond its tolerance",
                scope(cmp.processors.len(), cmp.entries)
            )
        } else {
            cmp.summary()
        }
    );
    if !cmp.changes.is_empty() {
        out.push('\n');
        let rows = cmp.changes.iter().map(change_cells).collect();
        out.push_str(&table_numeric(
            &CHANGE_HEADER,
            rows,
            Drawing::Markdown,
            CHANGE_NUMERIC,
        ));
    }
    for note in &cmp.notes {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    if !cmp.passed() {
        let _ = writeln!(
            out,
            "\nIf the change is intended, accept it with `{}`.",
            outcome.update_command
        );
    }
    out
}

fn csv(outcome: &GateOutcome<'_>) -> String {
    csv_document(
        &gate_json(outcome),
        &[
            CsvTable {
                name: "processors",
                columns: &["processor"],
            },
            CHANGES_TABLE,
        ],
    )
}

/// The changes as JSON names them, one row each (CSV is for machines).
const CHANGES_TABLE: CsvTable = CsvTable {
    name: "changes",
    columns: &[
        "processor",
        "date",
        "count",
        "snapshot",
        "warehouse",
        "delta",
        "tolerated",
        "snapshot_fingerprint",
        "warehouse_fingerprint",
    ],
};
