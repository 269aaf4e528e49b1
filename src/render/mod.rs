//! What the user sees: findings as a table (default), JSON (the stable contract of
//! DOMAIN.md), CSV or Markdown; one file per command's output. Every piece of output
//! goes through here, and every `match` on a format names every format.

pub mod checkpoint;
pub mod content;
pub(crate) mod csv;
pub mod demo;
pub mod estimate;
pub mod explain;
pub mod gaps;
pub mod heatmap;
pub mod html;
pub mod plan;
pub mod process;
pub mod report;
pub(crate) mod roots;
pub mod run;
pub(crate) mod runs;
pub mod seed;
pub(crate) mod table;

use serde::Serialize;

/// What `--format` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
    /// JUnit XML, for CI test report viewers (`gate` only).
    Junit,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
        }
    }
}

/// The formats of the commands that print tables of findings: `report`, `gaps`,
/// `repair` (the plan and the run) and `--estimate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Boxes for a person, fitting the width of [`Fit`].
    Table(Fit),
    Json,
    Csv,
    Markdown,
}

/// The width a table must fit: `None` shows every column (a pipe, or --wide).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit(pub Option<usize>);

/// The formats of the commands that print a short summary: `seed`, `process`,
/// `checkpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryFormat {
    /// Sentences for a person (`--format table`).
    Text,
    Json,
}

/// `1 pair`, `3 pairs`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A document as pretty JSON, one per output.
pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    // The documents are plain structs of strings, numbers and string-keyed maps, which
    // always serialize; the fallback is never reached.
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

/// `0.4321` as a share rounded to four decimals (JSON shares).
pub(crate) fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A rate to six significant digits: however small, a rate above zero stays above zero
/// (one failure in 26,017 entities is 0.0000384364, one in ten million 1e-7).
pub(crate) fn rate_value(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}
