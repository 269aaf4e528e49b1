//! `checkpoint status` and `checkpoint clear`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;

use super::{SummaryFormat, to_json};
use crate::runner::checkpoint::{Checkpoint, StatusCounts, summarize};

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
            format!(
                "repair run stored in {}: {} pairs: {} done, {} pending, {} failed, {} timed out, {} blocked, {} interrupted, {} unverified\nrequest: {}\nstarted {}, last updated {}\n",
                state_dir.display(),
                counts.total(),
                counts.done,
                counts.pending,
                counts.failed,
                counts.timed_out,
                counts.blocked,
                counts.interrupted,
                counts.unverified,
                c.request,
                c.created_at,
                c.updated_at
            )
        }
    }
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
