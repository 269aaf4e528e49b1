//! `checkpoint status` and `checkpoint clear`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

use super::table::wrap_words;
use super::{SummaryFormat, to_json};
use crate::runner::checkpoint::{Checkpoint, StatusCounts, summarize};
use crate::runner::repair::RepairRequest;

#[derive(Serialize)]
struct StatusJson<'a> {
    state_dir: String,
    stored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<StatusCounts>,
}

/// What is stored in `state_dir`, if anything.
pub fn render_status(
    state_dir: &Path,
    stored: Option<&Checkpoint<serde_json::Value>>,
    format: SummaryFormat,
    width: Option<usize>,
) -> String {
    match (format, stored) {
        (SummaryFormat::Json, stored) => to_json(&StatusJson {
            state_dir: state_dir.display().to_string(),
            stored: stored.is_some(),
            request: stored.map(|c| &c.request),
            fingerprint: stored.map(|c| c.fingerprint.as_str()),
            created_at: stored.map(|c| c.created_at),
            updated_at: stored.map(|c| c.updated_at),
            counts: stored.map(|c| summarize(&c.states)),
        }),
        (SummaryFormat::Text, None) => nothing_stored(state_dir),
        (SummaryFormat::Text, Some(c)) => {
            let counts = summarize(&c.states);
            let lines = [
                format!(
                    "Repair run stored in {}: {} {}: {} done, {} pending, {} failed, {} timed out, {} blocked, {} interrupted, {} unverified.",
                    state_dir.display(),
                    counts.total(),
                    if counts.total() == 1 { "pair" } else { "pairs" },
                    counts.done,
                    counts.pending,
                    counts.failed,
                    counts.timed_out,
                    counts.blocked,
                    counts.interrupted,
                    counts.unverified,
                ),
                format!("Request: {}.", request_words(&c.request)),
                format!(
                    "Started {}, last updated {}.",
                    to_the_second(c.created_at),
                    to_the_second(c.updated_at)
                ),
            ];
            let mut out = String::new();
            for line in lines {
                out.push_str(&match width {
                    Some(width) => wrap_words(&line, width),
                    None => line,
                });
                out.push('\n');
            }
            out
        }
    }
}

/// A stored request in words: `2021-12-01..2021-12-31, ML only, catalog d070f25ae6cc,
/// warehouse duckdb:phase4.duckdb`; the raw JSON when it is not a request of this version.
fn request_words(request: &serde_json::Value) -> String {
    let Ok(r) = serde_json::from_value::<RepairRequest>(request.clone()) else {
        return request.to_string();
    };
    let mut words = vec![r.range, r.options.describe()];
    let short: String = r.catalog.chars().take(12).collect();
    words.push(format!("catalog {short}"));
    words.push(format!("warehouse {}", r.warehouse));
    words.join(", ")
}

fn to_the_second(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[derive(Serialize)]
struct ClearJson {
    state_dir: String,
    discarded: bool,
}

/// What `checkpoint clear` did.
pub fn render_clear(state_dir: &Path, discarded: bool, format: SummaryFormat) -> String {
    match format {
        SummaryFormat::Json => to_json(&ClearJson {
            state_dir: state_dir.display().to_string(),
            discarded,
        }),
        SummaryFormat::Text if discarded => format!(
            "discarded the repair run stored in {}\n",
            state_dir.display()
        ),
        SummaryFormat::Text => nothing_stored(state_dir),
    }
}

fn nothing_stored(state_dir: &Path) -> String {
    format!("no repair run is stored in {}\n", state_dir.display())
}
