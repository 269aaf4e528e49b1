//! Coverage: the state of every (processor, date) of a range, for the grids (terminal
//! heatmap, HTML page). Worked out from the findings; nothing is queried again.

use chrono::{Datelike, Duration, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::ProcessorId;
use crate::checks::{DateRow, DefectKind, Findings, Role};

/// What a cell shows, from best to worst (a week cell shows its worst day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellState {
    /// No game that day (or that week): nothing is expected.
    NoGames,
    /// Every expected entity has a row.
    Complete,
    /// Complete, some entities skipped as expected (INSUFFICIENT_DATA) or cascading.
    CompleteWithSkips,
    /// Complete, but computed before an upstream processor's latest rows of the day.
    Stale,
    /// Rows beyond the first, or rows of entities without a game.
    DuplicatesOrUnexpected,
    /// Real failures.
    Failures,
    /// Some expected entities have neither a row nor a failure row.
    Partial,
    /// No expected entity has a row or a failure row.
    Missing,
}

impl CellState {
    pub const ALL: [CellState; 8] = [
        CellState::Complete,
        CellState::CompleteWithSkips,
        CellState::Partial,
        CellState::Missing,
        CellState::Failures,
        CellState::DuplicatesOrUnexpected,
        CellState::Stale,
        CellState::NoGames,
    ];

    /// The JSON / HTML name.
    pub fn as_str(self) -> &'static str {
        match self {
            CellState::NoGames => "no_games",
            CellState::Complete => "complete",
            CellState::CompleteWithSkips => "complete_with_skips",
            CellState::Stale => "stale",
            CellState::DuplicatesOrUnexpected => "duplicates_or_unexpected",
            CellState::Failures => "failures",
            CellState::Partial => "partial",
            CellState::Missing => "missing",
        }
    }

    /// For the legend.
    pub fn label(self) -> &'static str {
        match self {
            CellState::NoGames => "no games",
            CellState::Complete => "complete",
            CellState::CompleteWithSkips => "complete, skips or cascades",
            CellState::Stale => "stale",
            CellState::DuplicatesOrUnexpected => "duplicates/unexpected",
            CellState::Failures => "real failures",
            CellState::Partial => "partial",
            CellState::Missing => "missing",
        }
    }

    /// Does the cell need a repair?
    pub fn is_defect(self) -> bool {
        self > CellState::CompleteWithSkips
    }
}

/// One cell: its state and, for a defect, whether an upstream root explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cell {
    pub state: CellState,
    /// Every defective pair of the cell is a consequence of roots upstream.
    pub consequence: bool,
}

impl Cell {
    const NO_GAMES: Cell = Cell {
        state: CellState::NoGames,
        consequence: false,
    };

    /// Worse of two: a worse state, or the same state as a root rather than a consequence.
    fn worst(self, other: Cell) -> Cell {
        let rank = |c: Cell| (c.state, !c.consequence);
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// How many days a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// One game date a column.
    Day,
    /// One week (Monday to Sunday) a column, showing its worst day.
    Week,
}

/// A processor-by-column grid.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub bucket: Bucket,
    /// The first day of each column, oldest first.
    pub columns: Vec<NaiveDate>,
    /// One row per processor, in catalog order: a cell per column.
    pub rows: Vec<(ProcessorId, Vec<Cell>)>,
}

impl Coverage {
    /// One cell per game date of the findings (and per date with rows), or, when there
    /// are more than `max_days` of them, one per week.
    pub fn of(findings: &Findings, max_days: usize) -> Coverage {
        let days = days_of(findings);
        let bucket = if days.len() > max_days {
            Bucket::Week
        } else {
            Bucket::Day
        };
        let columns: Vec<NaiveDate> = match bucket {
            Bucket::Day => days.iter().copied().collect(),
            Bucket::Week => weeks(findings),
        };
        let index: BTreeMap<NaiveDate, usize> =
            columns.iter().enumerate().map(|(i, &d)| (d, i)).collect();
        let column_of = |date: NaiveDate| match bucket {
            Bucket::Day => index.get(&date).copied(),
            Bucket::Week => index.get(&monday(date)).copied(),
        };
        let rows = findings
            .selected
            .iter()
            .map(|&p| {
                let mut cells = vec![Cell::NO_GAMES; columns.len()];
                for row in findings.rows_of(p) {
                    if let Some(i) = column_of(row.date) {
                        cells[i] = cells[i].worst(cell_of(findings, row));
                    }
                }
                (p, cells)
            })
            .collect();
        Coverage {
            bucket,
            columns,
            rows,
        }
    }

    /// How many cells of each (state, consequence) the grid has.
    pub fn counts(&self) -> BTreeMap<Cell, usize> {
        let mut counts = BTreeMap::new();
        for (_, cells) in &self.rows {
            for &c in cells {
                *counts.entry(c).or_default() += 1;
            }
        }
        counts
    }
}

/// The state of one reconciliation row.
pub fn cell_of(findings: &Findings, row: &DateRow) -> Cell {
    let state = match row.kind() {
        Some(DefectKind::Missing) => CellState::Missing,
        Some(DefectKind::Partial) => CellState::Partial,
        Some(DefectKind::Failures) => CellState::Failures,
        Some(DefectKind::Duplicates | DefectKind::Unexpected) => CellState::DuplicatesOrUnexpected,
        None if findings.is_stale(row.processor, row.date) => CellState::Stale,
        None if row.expected == 0 => CellState::NoGames,
        None if row.expected_skips + row.cascades > 0 => CellState::CompleteWithSkips,
        None => CellState::Complete,
    };
    Cell {
        state,
        consequence: matches!(findings.role(row), Some(Role::Consequence(_))),
    }
}

/// Dates with expected entities or rows, of any processor shown.
pub fn days_of(findings: &Findings) -> BTreeSet<NaiveDate> {
    findings
        .rows
        .iter()
        .filter(|r| r.expected > 0 || r.records > 0)
        .map(|r| r.date)
        .collect()
}

fn monday(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// Every week from the first to the last day with games or rows, weeks without either
/// included (they show as no games), by their Monday.
fn weeks(findings: &Findings) -> Vec<NaiveDate> {
    let days = days_of(findings);
    let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
        return Vec::new();
    };
    let mut weeks = Vec::new();
    let mut week = monday(first);
    while week <= last {
        weeks.push(week);
        week += Duration::days(7);
    }
    weeks
}
