//! The building blocks of text output: tables (rounded boxes or Markdown), CSV, headings.

use std::fmt::Write as _;

use super::Fit;
use tabled::builder::Builder;
use tabled::settings::{Alignment, Style, object::Columns};

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drawing {
    /// Rounded boxes, numbers right-aligned, fitting a width.
    Boxes(Fit),
    Markdown,
}

/// A table of `rows` under `header`; columns from `numeric_from` are right-aligned.
pub(crate) fn table(
    header: &[&str],
    rows: Vec<Vec<String>>,
    drawing: Drawing,
    numeric_from: usize,
) -> String {
    table_numeric(header, rows, drawing, numeric_from..header.len())
}

/// A table whose `numeric` columns are right-aligned (text columns after them are not).
/// Boxes fit their width: long headers go on two lines, then columns holding only
/// zeros are hidden, then columns from the right (never the first two); a line under
/// the table names what was hidden. A row is never wrapped.
pub(crate) fn table_numeric(
    header: &[&str],
    rows: Vec<Vec<String>>,
    drawing: Drawing,
    numeric: std::ops::Range<usize>,
) -> String {
    let mut columns: Vec<Column> = header
        .iter()
        .enumerate()
        .map(|(i, h)| Column {
            header: h.to_string(),
            cells: rows
                .iter()
                .map(|r| r.get(i).cloned().unwrap_or_default())
                .collect(),
            numeric: numeric.contains(&i),
        })
        .collect();
    let mut hidden = Vec::new();
    if let Drawing::Boxes(Fit(Some(width))) = drawing {
        fit(&mut columns, width, &mut hidden);
    }
    // A `|` in a Markdown cell (warehouse text) would end the cell.
    let cell = |text: &str| match drawing {
        Drawing::Markdown => text.replace('|', "\\|"),
        Drawing::Boxes(_) => text.to_string(),
    };
    let mut b = Builder::default();
    b.push_record(columns.iter().map(|c| cell(&c.header)));
    for i in 0..rows.len() {
        b.push_record(columns.iter().map(|c| cell(&c.cells[i])));
    }
    let mut t = b.build();
    match drawing {
        Drawing::Markdown => {
            t.with(Style::markdown());
            for (i, c) in columns.iter().enumerate() {
                if c.numeric {
                    t.modify(Columns::new(i..i + 1), Alignment::right());
                }
            }
            // Numbers right-aligned where the Markdown is rendered too: `---:`.
            let text = t.to_string();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            if let Some(rule) = lines.get_mut(1) {
                let mut parts: Vec<String> = rule.split('|').map(str::to_string).collect();
                for (i, c) in columns.iter().enumerate() {
                    if let Some(part) = parts.get_mut(i + 1).filter(|_| c.numeric)
                        && part.len() > 1
                    {
                        part.pop();
                        part.push(':');
                    }
                }
                *rule = parts.join("|");
            }
            return lines.join("\n") + "\n";
        }
        Drawing::Boxes(_) => {
            t.with(Style::rounded());
            for (i, c) in columns.iter().enumerate() {
                if c.numeric {
                    t.modify(Columns::new(i..i + 1), Alignment::right());
                }
            }
        }
    }
    let mut out = t.to_string() + "\n";
    if !hidden.is_empty() {
        let note = format!("hidden to fit: {}; --wide shows them", hidden.join(", "));
        let _ = match drawing {
            Drawing::Boxes(Fit(Some(width))) => writeln!(out, "{}", wrap_words(&note, width)),
            _ => writeln!(out, "{note}"),
        };
    }
    out
}

/// One column of a table being fitted.
struct Column {
    header: String,
    cells: Vec<String>,
    numeric: bool,
}

impl Column {
    fn width(&self) -> usize {
        self.header
            .lines()
            .chain(self.cells.iter().map(String::as_str))
            .map(console::measure_text_width)
            .max()
            .unwrap_or(0)
    }
}

/// The width of rounded boxes around `columns`: a bar and a space on each side.
fn drawn_width(columns: &[Column]) -> usize {
    columns.iter().map(|c| c.width() + 3).sum::<usize>() + 1
}

fn fit(columns: &mut Vec<Column>, width: usize, hidden: &mut Vec<String>) {
    if drawn_width(columns) <= width {
        return;
    }
    // Two-line headers where a header is wider than its cells.
    for c in columns.iter_mut() {
        let cells = c
            .cells
            .iter()
            .map(|s| console::measure_text_width(s))
            .max()
            .unwrap_or(0);
        if console::measure_text_width(&c.header) > cells
            && let Some((a, b)) = c.header.split_once(' ')
        {
            c.header = format!("{a}\n{b}");
        }
    }
    // Columns that say nothing (every cell zero), from the right.
    let mut i = columns.len();
    while drawn_width(columns) > width && i > 2 {
        i -= 1;
        if !columns[i].cells.is_empty() && columns[i].cells.iter().all(|c| c == "0") {
            let c = columns.remove(i);
            hidden.push(format!("{} (all 0)", c.header.replace('\n', " ")));
        }
    }
    // Then the columns a reader can most easily do without, then from the right.
    for name in DROPPED_FIRST {
        if drawn_width(columns) <= width {
            return;
        }
        if let Some(i) = columns
            .iter()
            .skip(2)
            .position(|c| c.header.replace('\n', " ") == name)
        {
            let c = columns.remove(i + 2);
            hidden.push(c.header.replace('\n', " "));
        }
    }
    while drawn_width(columns) > width && columns.len() > 2 {
        let c = columns.remove(columns.len() - 1);
        hidden.push(c.header.replace('\n', " "));
    }
}

/// Columns that go first when a table does not fit: counts another column implies or
/// the report lists elsewhere. Keys, kinds, causes and the failure rate stay longest.
const DROPPED_FIRST: [&str; 14] = [
    "dates with rows",
    "records",
    "breakers",
    "stale dates",
    "produced",
    "expected skips",
    "cascades",
    "duplicates",
    "unexpected",
    "game dates",
    "unaccounted rate",
    "expected",
    "real failures",
    "unaccounted",
];

/// `text` broken at spaces into lines of at most `width` (a longer word stays whole, and
/// so does a command of this tool in backticks, `` `phase4-check ...` ``, so that it can
/// be copied whole).
pub(crate) fn wrap_words(text: &str, width: usize) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut in_command = false;
    for word in text.split(' ') {
        match words.last_mut() {
            Some(last) if in_command => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        // Only a command of this tool opens a span: a backtick in data (a path) does not.
        if in_command {
            in_command = !word.ends_with('`');
        } else if word == "`phase4-check" {
            in_command = true;
        }
    }
    let mut out = String::new();
    let mut line = 0;
    for word in words {
        let len = console::measure_text_width(&word);
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(&word);
        line += len;
    }
    out
}

impl Drawing {
    /// `text` wrapped to the width boxes fit (as it is for Markdown and a pipe).
    pub(crate) fn wrap(self, text: &str) -> String {
        match self {
            Drawing::Boxes(Fit(Some(width))) => text
                .lines()
                .map(|line| wrap_words(line, width))
                .collect::<Vec<_>>()
                .join("\n"),
            Drawing::Boxes(Fit(None)) | Drawing::Markdown => text.to_string(),
        }
    }
}

/// A paragraph of prose, wrapped to the width.
pub(crate) fn prose(out: &mut String, drawing: Drawing, text: &str) {
    let _ = writeln!(out, "{}", drawing.wrap(text));
}

/// A section heading: `## text` in Markdown, a line of its own otherwise.
pub(crate) fn heading(out: &mut String, drawing: Drawing, text: &str) {
    match drawing {
        Drawing::Markdown => {
            let _ = writeln!(out, "\n## {text}\n");
        }
        Drawing::Boxes(_) => {
            // One blank line before it, also after a title (which ends with one).
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", drawing.wrap(text));
        }
    }
}

/// The title of an output: `# text` in Markdown.
pub(crate) fn title(out: &mut String, drawing: Drawing, text: &str) {
    match drawing {
        Drawing::Markdown => {
            let _ = writeln!(out, "# {text}\n");
        }
        Drawing::Boxes(_) => {
            let _ = writeln!(out, "{}\n", drawing.wrap(text));
        }
    }
}

/// CSV with a header line.
pub(crate) fn csv_text(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(header);
    for r in rows {
        let _ = w.write_record(&r);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// `0.123` as `12.3%`.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A failure rate as a percentage that never hides a failure: `0.0%` only for none,
/// `<0.01%` below a hundredth of a percent, two decimals below 0.1%, one above.
pub(crate) fn rate(x: f64) -> String {
    if x <= 0.0 {
        "0.0%".into()
    } else if x < 0.0001 {
        "<0.01%".into()
    } else if x < 0.001 {
        format!("{:.2}%", x * 100.0)
    } else if (0.9995..1.0).contains(&x) {
        // Not all: never round up to 100.0%.
        ">99.9%".into()
    } else {
        format!("{:.1}%", x * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_at_spaces_but_never_inside_a_command_of_the_tool() {
        let text = "Plan the fix with `phase4-check repair --range 2021-12-01..2021-12-31`.";
        assert_eq!(
            wrap_words(text, 30),
            "Plan the fix with\n`phase4-check repair --range 2021-12-01..2021-12-31`."
        );
        // A backtick in data opens nothing.
        let path = "Gate passed: x`y.json matches duckdb:phase4.duckdb for the season";
        assert!(wrap_words(path, 30).lines().all(|l| l.len() <= 30));
    }

    #[test]
    fn a_rate_above_zero_never_prints_as_zero() {
        assert_eq!(rate(0.0), "0.0%");
        assert_eq!(rate(1.0 / 26_017.0), "<0.01%");
        assert_eq!(rate(4.0 / 26_017.0), "0.02%");
        assert_eq!(rate(88.0 / 26_017.0), "0.3%");
        assert_eq!(rate(0.5), "50.0%");
        assert_eq!(rate(0.99996), ">99.9%");
        assert_eq!(rate(1.0), "100.0%");
    }

    #[test]
    fn a_json_rate_above_zero_never_rounds_to_zero() {
        use super::super::rate_value;
        assert_eq!(rate_value(0.0), 0.0);
        assert_eq!(rate_value(1.0 / 26_017.0), 0.0000384364);
        assert_eq!(rate_value(1.0 / 10_000_000.0), 1e-7);
        assert_eq!(rate_value(81.0 / 865.0), 0.0936416);
    }
}
