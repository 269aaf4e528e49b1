//! `repair --apply`: the final summary of a run.

use serde::Serialize;
use std::fmt::Write as _;

use super::csv::{CsvTable, csv_document};
use super::plan::NOTHING_TO_REPAIR;
use super::table::{Drawing, prose, table};
use super::{TableFormat, round4, to_json};
use crate::catalog::Catalog;
use crate::plan::RunPair;
use crate::runner::checkpoint::{PairState, PairStatus, StatusCounts};
use crate::runner::repair::ApplyOutcome;
use crate::runner::schedule::RunSummary;

#[derive(Serialize)]
struct RunJson<'a> {
    pairs: Vec<RunPairJson<'a>>,
    // Added fields:
    resumed: bool,
    counts: StatusCounts,
    wall_seconds: f64,
    interrupted: bool,
    breakers_reset: u64,
    run_dir: String,
    /// Processes that left their process group and were ended.
    escaped: &'a [String],
}

#[derive(Serialize)]
struct RunPairJson<'a> {
    processor: &'a str,
    date: String,
    reasons: Vec<&'static str>,
    status: &'static str,
    error: Option<String>,
    log: Option<String>,
    /// It ran after an earlier planned date of its processor failed or was blocked.
    ran_after_gap: bool,
}

#[derive(Serialize)]
struct EmptyRunJson {
    pairs: [(); 0],
}

/// One pair of the run with what became of it; error and log only when it is not done.
fn run_pair_json<'a>(
    catalog: &'a Catalog,
    p: &RunPair,
    st: &PairState,
    ran_after_gap: bool,
) -> RunPairJson<'a> {
    let problem = st.status != PairStatus::Done;
    RunPairJson {
        processor: catalog.code(p.pair.processor),
        date: p.pair.date.to_string(),
        reasons: p.pair.reasons.iter().map(|r| r.as_str()).collect(),
        status: st.status.name(),
        error: problem.then(|| st.last_error.clone().unwrap_or_default()),
        log: st.log_path.clone().filter(|_| problem),
        ran_after_gap,
    }
}

/// The arrays of the run's JSON, as its CSV holds them.
const RUN_TABLES: [CsvTable; 2] = [
    CsvTable {
        name: "pairs",
        columns: &[
            "processor",
            "date",
            "reasons",
            "status",
            "error",
            "log",
            "ran_after_gap",
        ],
    },
    CsvTable {
        name: "escaped",
        columns: &["process"],
    },
];

/// How many lines of a failed attempt's output the summary shows.
const OUTPUT_TAIL_LINES: usize = 5;

/// `TDZA 2021-12-04 failed after 3 of 3 attempts: exited with code 3`, the last lines of
/// that attempt's output, and its log.
fn problem_paragraph(
    out: &mut String,
    catalog: &Catalog,
    drawing: Drawing,
    p: &RunPair,
    st: &PairState,
) {
    let code = catalog.code(p.pair.processor);
    let tried = matches!(st.status, PairStatus::Failed | PairStatus::TimedOut);
    let attempts = if tried && st.attempts > 0 {
        format!(
            " after {} of {} {}",
            st.attempts,
            catalog.get(p.pair.processor).max_attempts.max(1),
            if catalog.get(p.pair.processor).max_attempts.max(1) == 1 {
                "attempt"
            } else {
                "attempts"
            }
        )
    } else {
        String::new()
    };
    let status = st.status.name();
    let why = st
        .last_error
        .as_deref()
        .filter(|e| !e.is_empty())
        // `blocked: upstream ...` says its status already.
        .map(|e| e.strip_prefix(&format!("{status}: ")).unwrap_or(e))
        // `interrupted` says no more than its status.
        .filter(|e| *e != status)
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    prose(
        out,
        drawing,
        &format!("{code} {} {status}{attempts}{why}", p.pair.date),
    );
    let Some(log) = st.log_path.as_deref() else {
        return;
    };
    if tried {
        let tail = crate::runner::logs::tail(std::path::Path::new(log), OUTPUT_TAIL_LINES);
        for line in &tail {
            let _ = writeln!(out, "  | {line}");
        }
    }
    if std::path::Path::new(log).exists() {
        let _ = writeln!(out, "  log: {log}");
    }
}

/// `118 pairs did not start (pending): TDZA 29, PSZA 29, ...`, by processor in catalog
/// order.
fn pending_line(catalog: &Catalog, pending: &[(&RunPair, &PairState)]) -> String {
    let by_processor: Vec<String> = catalog
        .ids()
        .filter_map(|id| {
            let n = pending
                .iter()
                .filter(|(p, _)| p.pair.processor == id)
                .count();
            (n > 0).then(|| format!("{} {n}", catalog.code(id)))
        })
        .collect();
    format!(
        "{} did not start (pending; a resume runs {}): {}",
        super::counted(pending.len() as u64, "pair", "pairs"),
        if pending.len() == 1 { "it" } else { "them" },
        by_processor.join(", ")
    )
}

/// The final summary of `repair --apply`; `resume`: the command line that resumes the
/// run, shown when it was interrupted or halted.
pub fn render_run(
    catalog: &Catalog,
    outcome: &ApplyOutcome,
    format: TableFormat,
    resume: Option<&str>,
) -> String {
    let Some(summary) = &outcome.summary else {
        return match format {
            TableFormat::Json => to_json(&EmptyRunJson { pairs: [] }),
            TableFormat::Csv => csv_document(&EmptyRunJson { pairs: [] }, &RUN_TABLES),
            TableFormat::Table(_) | TableFormat::Markdown => NOTHING_TO_REPAIR.into(),
        };
    };
    let pairs = outcome
        .plan
        .iter()
        .zip(&summary.states)
        .enumerate()
        .map(|(i, (p, st))| run_pair_json(catalog, p, st, summary.ran_after_gap.contains(&i)));
    let doc = || RunJson {
        pairs: pairs.collect(),
        resumed: outcome.resumed,
        counts: summary.counts,
        wall_seconds: round4(summary.wall.as_secs_f64()),
        interrupted: summary.interrupted,
        breakers_reset: summary.breakers_reset,
        run_dir: summary.run_dir.display().to_string(),
        escaped: &summary.escaped,
    };
    let drawing = match format {
        TableFormat::Json => return to_json(&doc()),
        // The counts and times are the pairs' own sums: the rows hold everything.
        TableFormat::Csv => return csv_document(&doc(), &RUN_TABLES),
        TableFormat::Table(fit) => Drawing::Boxes(fit),
        TableFormat::Markdown => Drawing::Markdown,
    };
    run_text(catalog, outcome, summary, drawing, resume)
}

fn run_text(
    catalog: &Catalog,
    outcome: &ApplyOutcome,
    summary: &RunSummary,
    drawing: Drawing,
    resume: Option<&str>,
) -> String {
    let mut out = String::new();
    if drawing == Drawing::Markdown {
        out.push_str("# ");
    }
    let c = &summary.counts;
    let line = format!(
        "Repair {}: {}: {} done, {} failed, {} timed out, {} blocked, {} unverified, {} interrupted, {} pending; {} reset; wall time {:.1}s",
        if outcome.resumed { "resumed" } else { "run" },
        super::counted(outcome.plan.len() as u64, "pair", "pairs"),
        c.done,
        c.failed,
        c.timed_out,
        c.blocked,
        c.unverified,
        c.interrupted,
        c.pending,
        super::counted(summary.breakers_reset, "breaker", "breakers"),
        summary.wall.as_secs_f64()
    );
    prose(&mut out, drawing, &line);
    if drawing == Drawing::Markdown {
        out.push('\n');
    }
    let _ = writeln!(out, "Logs and events: {}", summary.run_dir.display());
    // What ran and did not finish, and what never started.
    let (pending, problems): (Vec<(&RunPair, &PairState)>, Vec<_>) = outcome
        .plan
        .iter()
        .zip(&summary.states)
        .filter(|(_, st)| st.status != PairStatus::Done)
        .partition(|(_, st)| st.status == PairStatus::Pending);
    match drawing {
        _ if problems.is_empty() => {}
        // For a person: a paragraph a pair, a failed one with the last lines of its
        // attempt's output inline (as nextest does), so the reason is on the screen.
        Drawing::Boxes(_) => {
            for (p, st) in problems {
                out.push('\n');
                problem_paragraph(&mut out, catalog, drawing, p, st);
            }
        }
        Drawing::Markdown => {
            out.push('\n');
            let rows = problems
                .iter()
                .map(|(p, st)| {
                    vec![
                        catalog.code(p.pair.processor).to_string(),
                        p.pair.date.to_string(),
                        st.status.name().to_string(),
                        st.last_error.clone().unwrap_or_default(),
                        st.log_path.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            out.push_str(&table(
                &["processor", "date", "status", "why", "log"],
                rows,
                drawing,
                5,
            ));
        }
    }
    if !summary.ran_after_gap.is_empty() {
        let named: Vec<String> = summary
            .ran_after_gap
            .iter()
            .filter_map(|&i| outcome.plan.get(i))
            .map(|p| format!("{} {}", catalog.code(p.pair.processor), p.pair.date))
            .collect();
        prose(
            &mut out,
            drawing,
            &format!(
                "Ran after an earlier date of their processor did not complete (their lookback windows may have read incomplete data; rerun them once it is fixed): {}",
                named.join(", ")
            ),
        );
    }
    if !summary.escaped.is_empty() {
        prose(
            &mut out,
            drawing,
            &format!(
                "Left their process group and were ended with their invocation: {}",
                summary.escaped.join(", ")
            ),
        );
    }
    if !pending.is_empty() {
        // Pairs that never started: a count, not a paragraph each.
        out.push('\n');
        prose(&mut out, drawing, &pending_line(catalog, &pending));
    }
    let stopped = if summary.interrupted {
        Some("Interrupted")
    } else if summary.halted {
        Some("Halted after a failure (--halt-on-failure)")
    } else {
        None
    };
    if let Some(stopped) = stopped {
        out.push('\n');
        match resume {
            Some(command) => {
                prose(&mut out, drawing, &format!("{stopped}; resume with:"));
                let _ = writeln!(out, "  {command}");
            }
            None => {
                prose(
                    &mut out,
                    drawing,
                    &format!("{stopped}: run the same command again to resume."),
                );
            }
        }
    }
    out
}
