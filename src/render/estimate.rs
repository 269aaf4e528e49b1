//! `--estimate`: the bytes each check would process, from BigQuery dry runs.

use serde::Serialize;

use super::table::{Drawing, csv_text, table};
use super::{TableFormat, to_json};

/// `1.5 MiB`, `12 B`.
fn bytes_text(n: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

#[derive(Serialize)]
struct QueryEstimateJson<'a> {
    query: &'a str,
    bytes: i64,
}

#[derive(Serialize)]
struct EstimateJson<'a> {
    warehouse: &'a str,
    queries: Vec<QueryEstimateJson<'a>>,
    total_bytes: i64,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// The estimates (query name, bytes), their total, and notes on how to read them.
pub fn render_estimate(
    warehouse: &str,
    estimates: &[(&str, i64)],
    notes: &[String],
    format: TableFormat,
) -> String {
    let total: i64 = estimates.iter().map(|(_, b)| b).sum();
    let drawing = match format {
        TableFormat::Json => {
            return to_json(&EstimateJson {
                warehouse,
                queries: estimates
                    .iter()
                    .map(|&(query, bytes)| QueryEstimateJson { query, bytes })
                    .collect(),
                total_bytes: total,
                notes,
            });
        }
        TableFormat::Csv => {
            return csv_text(
                &["query", "bytes"],
                estimates
                    .iter()
                    .map(|(q, b)| vec![q.to_string(), b.to_string()])
                    .chain(std::iter::once(vec!["total".into(), total.to_string()]))
                    .collect(),
            );
        }
        TableFormat::Table(fit) => Drawing::Boxes(fit),
        TableFormat::Markdown => Drawing::Markdown,
    };
    let mut rows: Vec<Vec<String>> = estimates
        .iter()
        .map(|(q, b)| vec![q.to_string(), b.to_string(), bytes_text(*b)])
        .collect();
    rows.push(vec!["total".into(), total.to_string(), bytes_text(total)]);
    let mut out = format!(
        "Dry run on {warehouse}: {} queries would process {} ({total} bytes); nothing was run.\n\n{}",
        estimates.len(),
        bytes_text(total),
        table(&["query", "bytes", ""], rows, drawing, 1)
    );
    for note in notes {
        out.push_str(&format!("\n{note}\n"));
    }
    out
}
