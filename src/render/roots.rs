//! Root causes in every output that lists defective dates: the `cause` of a ROW, the
//! report's `roots`, the "N root causes explain M defective dates" summary.

use chrono::NaiveDate;
use serde::Serialize;
use std::fmt::Write as _;

use super::runs::{GameDays, runs, span};
use super::table::Drawing;
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::{DateRow, Findings, Role};

/// A (processor, date) in JSON.
#[derive(Serialize)]
pub(crate) struct PairJson {
    processor: String,
    date: String,
}

/// `cause` of a ROW: `None` (null) for a root, its roots for a consequence.
pub(crate) fn cause_json(catalog: &Catalog, f: &Findings, r: &DateRow) -> Option<Vec<PairJson>> {
    role_cause_json(catalog, f.role(r), r.date)
}

/// `cause` of a pair of `role` on `date`.
pub(crate) fn role_cause_json(
    catalog: &Catalog,
    role: Option<&Role>,
    date: NaiveDate,
) -> Option<Vec<PairJson>> {
    match role? {
        Role::Root => None,
        Role::Consequence(causes) => Some(pairs_json(catalog, causes, date)),
    }
}

pub(crate) fn pairs_json(
    catalog: &Catalog,
    processors: &[ProcessorId],
    date: NaiveDate,
) -> Vec<PairJson> {
    processors
        .iter()
        .map(|&p| PairJson {
            processor: catalog.code(p).into(),
            date: date.to_string(),
        })
        .collect()
}

/// One entry of the report's `roots`.
#[derive(Serialize)]
pub(crate) struct RootJson {
    processor: String,
    date: String,
    kind: &'static str,
    defective_entities: i64,
    /// How many consequences it explains.
    consequences: usize,
    /// Those consequences, same date, in catalog order.
    explains: Vec<PairJson>,
    /// The kinds of the source's issues on its date (`one_team_game`...): rerunning
    /// the processor will not help until Phase 3 is fixed.
    source_issues: Vec<&'static str>,
}

pub(crate) fn roots_json(catalog: &Catalog, f: &Findings) -> Vec<RootJson> {
    f.roots()
        .iter()
        .map(|r| RootJson {
            processor: catalog.code(r.processor).into(),
            date: r.date.to_string(),
            kind: r.kind.as_str(),
            defective_entities: r.defective_entities,
            consequences: r.consequences.len(),
            explains: pairs_json(catalog, &r.consequences, r.date),
            source_issues: f.source_issues_on(r.date),
        })
        .collect()
}

/// The cause cell of a defective row for a person: `root`, or `caused by TDZA` (its
/// roots are on its own date, so a run of dates shares one cell).
pub(crate) fn cause_cell(catalog: &Catalog, f: &Findings, r: &DateRow) -> String {
    match f.role(r) {
        None => String::new(),
        Some(Role::Root) => "root".into(),
        Some(Role::Consequence(causes)) => format!(
            "caused by {}",
            causes
                .iter()
                .map(|&p| catalog.code(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// "4 root causes explain 23 defective dates", then one line per root (see
/// [`root_lines`]).
pub(crate) fn roots_summary(
    out: &mut String,
    catalog: &Catalog,
    f: &Findings,
    defective_dates: usize,
    drawing: Drawing,
) {
    let lines = root_lines(catalog, f);
    let _ = writeln!(out, "{}", roots_sentence(lines.roots, defective_dates));
    let bullet = match drawing {
        Drawing::Markdown => "- ",
        Drawing::Boxes(_) => "  ",
    };
    for line in lines.lines {
        let _ = writeln!(out, "{bullet}{line}");
    }
}

/// The roots of findings, one line per run.
pub(crate) struct RootLines {
    /// How many roots there are.
    pub roots: usize,
    pub lines: Vec<String>,
}

/// One line per root, a run of consecutive game dates of one processor with the same
/// kind and nothing downstream being one line: `TDZA 2021-12-04 missing -> PCF, PDC, ML`,
/// `ML 2021-12-08..2021-12-17 missing (10 dates)`.
pub(crate) fn root_lines(catalog: &Catalog, f: &Findings) -> RootLines {
    let roots = f.roots();
    let days = GameDays::of(f);
    let grouped = runs(&roots, |a, b| {
        a.processor == b.processor
            && a.kind == b.kind
            && a.consequences.is_empty()
            && b.consequences.is_empty()
            && days.next_to(a.date, b.date)
    });
    let lines = grouped
        .into_iter()
        .map(|run| {
            let (first, last) = (&run[0], &run[run.len() - 1]);
            let mut line = format!(
                "{} {} {}",
                catalog.code(first.processor),
                span(first.date, last.date),
                first.kind.as_str()
            );
            if run.len() > 1 {
                let _ = write!(line, " ({} dates)", run.len());
            }
            if !first.consequences.is_empty() {
                let names: Vec<&str> = first
                    .consequences
                    .iter()
                    .map(|&p| catalog.code(p))
                    .collect();
                let _ = write!(line, " -> {}", names.join(", "));
            }
            let suspect: Vec<&str> = run
                .iter()
                .flat_map(|r| f.source_issues_on(r.date))
                .collect();
            if !suspect.is_empty() {
                let _ = write!(line, " (source: {} that day)", suspect.join(", "));
            }
            line
        })
        .collect();
    RootLines {
        roots: roots.len(),
        lines,
    }
}

/// "1 root cause explains 1 defective date", "4 root causes explain 23 defective dates".
pub(crate) fn roots_sentence(roots: usize, defective_dates: usize) -> String {
    format!(
        "{roots} root {} {} {defective_dates} defective {}",
        if roots == 1 { "cause" } else { "causes" },
        if roots == 1 { "explains" } else { "explain" },
        if defective_dates == 1 {
            "date"
        } else {
            "dates"
        },
    )
}
