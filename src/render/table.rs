//! The building blocks of text output: tables (rounded boxes or Markdown), CSV, headings.

use std::fmt::Write as _;
use tabled::builder::Builder;
use tabled::settings::{Alignment, Style, object::Columns};

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drawing {
    /// Rounded boxes, numbers right-aligned.
    Boxes,
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
pub(crate) fn table_numeric(
    header: &[&str],
    rows: Vec<Vec<String>>,
    drawing: Drawing,
    numeric: std::ops::Range<usize>,
) -> String {
    let mut b = Builder::default();
    b.push_record(header.iter().map(|h| h.to_string()));
    for r in rows {
        b.push_record(r);
    }
    let mut t = b.build();
    match drawing {
        Drawing::Markdown => {
            t.with(Style::markdown());
        }
        Drawing::Boxes => {
            t.with(Style::rounded());
            t.modify(Columns::new(numeric), Alignment::right());
        }
    }
    t.to_string() + "\n"
}

/// A section heading: `## text` in Markdown, a line of its own otherwise.
pub(crate) fn heading(out: &mut String, drawing: Drawing, text: &str) {
    match drawing {
        Drawing::Markdown => {
            let _ = writeln!(out, "\n## {text}\n");
        }
        Drawing::Boxes => {
            let _ = writeln!(out, "\n{text}");
        }
    }
}

/// The title of an output: `# text` in Markdown.
pub(crate) fn title(out: &mut String, drawing: Drawing, text: &str) {
    match drawing {
        Drawing::Markdown => {
            let _ = writeln!(out, "# {text}\n");
        }
        Drawing::Boxes => {
            let _ = writeln!(out, "{text}\n");
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
