//! `process`: what a built-in processor wrote.

use serde::Serialize;

use super::{SummaryFormat, to_json};
use crate::demo::processors::ProcessSummary;

#[derive(Serialize)]
struct ProcessJson<'a> {
    processor: &'static str,
    start: String,
    end: String,
    rows: i64,
    failure_rows: i64,
    failures_by_category: std::collections::BTreeMap<&'a str, i64>,
}

pub fn render_process(summary: &ProcessSummary, format: SummaryFormat) -> String {
    match format {
        SummaryFormat::Json => to_json(&ProcessJson {
            processor: summary.processor.code(),
            start: summary.range.start().to_string(),
            end: summary.range.end().to_string(),
            rows: summary.rows,
            failure_rows: summary.failure_rows,
            failures_by_category: summary
                .by_category
                .iter()
                .map(|(c, n)| (c.as_str(), *n))
                .collect(),
        }),
        SummaryFormat::Text => format!("{summary}\n"),
    }
}
