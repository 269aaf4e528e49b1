//! The coverage grid in the terminal: a row per processor, a cell per game date (or per
//! week), month labels, a legend. Without colour every state has its own character, and
//! a consequence of a root upstream is the lower-case of its root's state.

use chrono::Datelike;
use std::fmt::Write as _;

use crate::catalog::Catalog;
use crate::checks::Findings;
use crate::coverage::{Bucket, Cell, CellState, Coverage};

/// The width the grid fits when stdout is not a terminal (a pipe, a file).
pub const PIPE_WIDTH: usize = 120;

/// The grid of `findings`, fitting `width` columns (wrapped into blocks when it has more
/// columns than fit), coloured when `color`.
pub fn render_heatmap(
    catalog: &Catalog,
    f: &Findings,
    width: Option<usize>,
    color: bool,
) -> String {
    let width = width.unwrap_or(PIPE_WIDTH);
    let label = f
        .selected
        .iter()
        .map(|&p| catalog.code(p).chars().count())
        .max()
        .unwrap_or(4)
        + 2;
    let room = width.saturating_sub(label).max(10);
    let coverage = Coverage::of(f, room);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Coverage {}\none cell per {}{}",
        f.range,
        match coverage.bucket {
            Bucket::Day => "game date",
            Bucket::Week => "week (its worst day)",
        },
        if coverage.columns.is_empty() {
            ", no game dates"
        } else {
            ""
        }
    );
    let starts: Vec<usize> = (0..coverage.columns.len()).step_by(room).collect();
    for start in starts {
        let end = (start + room).min(coverage.columns.len());
        out.push('\n');
        for line in month_labels(&coverage.columns[start..end]) {
            let _ = writeln!(out, "{:label$}{line}", "");
        }
        for (p, cells) in &coverage.rows {
            let line: String = cells[start..end].iter().map(|&c| glyph(c, color)).collect();
            let _ = writeln!(out, "{:label$}{line}", catalog.code(*p));
        }
    }
    out.push('\n');
    out.push_str(&legend(&coverage, width, color));
    out
}

/// Two label lines: the year where a year starts (and at the first column), the month
/// where a month starts; a label that would overlap the previous or run past the last
/// column is left out.
fn month_labels(columns: &[chrono::NaiveDate]) -> [String; 2] {
    let mut years: Vec<char> = vec![' '; columns.len()];
    let mut months: Vec<char> = vec![' '; columns.len()];
    let (mut years_free, mut months_free) = (0, 0);
    let mut previous: Option<chrono::NaiveDate> = None;
    let put = |line: &mut Vec<char>, free: &mut usize, at: usize, text: &str| {
        let len = text.chars().count();
        if at >= *free && at + len <= line.len() {
            for (k, ch) in text.chars().enumerate() {
                line[at + k] = ch;
            }
            *free = at + len + 1;
        }
    };
    for (i, d) in columns.iter().enumerate() {
        if previous.is_none_or(|p| p.year() != d.year()) {
            put(&mut years, &mut years_free, i, &d.year().to_string());
        }
        if previous.is_none_or(|p| (p.year(), p.month()) != (d.year(), d.month())) {
            put(
                &mut months,
                &mut months_free,
                i,
                &d.format("%b").to_string(),
            );
        }
        previous = Some(*d);
    }
    let text = |line: Vec<char>| line.into_iter().collect::<String>().trim_end().to_string();
    [text(years), text(months)]
}

/// The character of a state (upper-case for a root, lower-case for a consequence).
pub fn character(cell: Cell) -> char {
    let c = match cell.state {
        CellState::Complete => '#',
        CellState::CompleteWithSkips => '+',
        CellState::Partial => 'P',
        CellState::Missing => 'M',
        CellState::Failures => 'F',
        CellState::DuplicatesOrUnexpected => 'D',
        CellState::Stale => 'S',
        CellState::NoGames => '.',
    };
    if cell.consequence {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn glyph(cell: Cell, color: bool) -> String {
    let c = character(cell);
    if !color {
        return c.to_string();
    }
    let style = console::Style::new().force_styling(true);
    let style = match cell.state {
        CellState::Complete => style.green(),
        CellState::CompleteWithSkips => style.cyan(),
        CellState::Partial => style.yellow().bold(),
        CellState::Missing => style.red().bold(),
        CellState::Failures => style.magenta().bold(),
        CellState::DuplicatesOrUnexpected => style.yellow(),
        CellState::Stale => style.blue().bold(),
        CellState::NoGames => style.dim(),
    };
    // A consequence is the same colour without bold: the root stands out.
    let style = if cell.consequence { style.dim() } else { style };
    style.apply_to(c).to_string()
}

/// Every state with its character and how many cells show it, wrapped to `width`.
fn legend(coverage: &Coverage, width: usize, color: bool) -> String {
    let counts = coverage.counts();
    let mut entries: Vec<String> = Vec::new();
    for state in CellState::ALL {
        let root = Cell {
            state,
            consequence: false,
        };
        let n = counts.get(&root).copied().unwrap_or(0);
        entries.push(format!("{} {} ({n})", glyph(root, color), state.label()));
    }
    let consequences: usize = counts
        .iter()
        .filter(|(c, _)| c.consequence)
        .map(|(_, n)| n)
        .sum();
    entries.push(format!(
        "lower case: a consequence of a root upstream ({consequences})"
    ));
    // An entry wider than a line is wrapped word by word.
    let indent = 7;
    let mut pieces: Vec<(String, &str)> = Vec::new();
    for entry in entries {
        if indent + console::measure_text_width(&entry) > width {
            for (i, word) in entry.split(' ').enumerate() {
                pieces.push((word.to_string(), if i == 0 { "  " } else { " " }));
            }
        } else {
            pieces.push((entry, "  "));
        }
    }
    let mut out = String::from("Legend:");
    let mut line_len = out.len();
    for (piece, gap) in pieces {
        let visible = console::measure_text_width(&piece);
        if line_len + gap.len() + visible > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line_len = indent;
        } else {
            out.push_str(gap);
            line_len += gap.len();
        }
        out.push_str(&piece);
        line_len += visible;
    }
    out.push('\n');
    out
}
