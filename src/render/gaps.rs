//! `gaps`: the defective dates of one processor, oldest first, and its stale dates.

use serde::Serialize;
use std::fmt::Write as _;

use super::report::{ROW_HEADER, RangeJson, RowJson, dates, row_cells, row_json};
use super::table::{Drawing, csv_text, table, title};
use super::{TableFormat, to_json};
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::{DateRow, Findings};

#[derive(Serialize)]
struct GapsJson {
    processor: String,
    range: RangeJson,
    dates: Vec<RowJson>,
    // Added field:
    stale_dates: Vec<String>,
}

pub fn render_gaps(
    catalog: &Catalog,
    f: &Findings,
    id: ProcessorId,
    format: TableFormat,
) -> String {
    let rows: Vec<&DateRow> = f.defective_rows().filter(|r| r.processor == id).collect();
    let stale: Vec<chrono::NaiveDate> = f
        .stale
        .iter()
        .filter(|s| s.processor == id)
        .map(|s| s.date)
        .collect();
    let drawing = match format {
        TableFormat::Json => {
            return to_json(&GapsJson {
                processor: catalog.code(id).into(),
                range: f.range.into(),
                dates: rows.iter().map(|r| row_json(catalog, r)).collect(),
                stale_dates: dates(&stale),
            });
        }
        TableFormat::Csv => {
            return csv_text(
                &ROW_HEADER,
                rows.iter().map(|r| row_cells(catalog, r)).collect(),
            );
        }
        TableFormat::Table => Drawing::Boxes,
        TableFormat::Markdown => Drawing::Markdown,
    };
    let mut out = String::new();
    title(
        &mut out,
        drawing,
        &format!(
            "{} ({}) gaps {}: {} defective dates, {} stale",
            catalog.code(id),
            catalog.get(id).table,
            f.range,
            rows.len(),
            stale.len()
        ),
    );
    if !rows.is_empty() {
        out.push_str(&table(
            &ROW_HEADER,
            rows.iter().map(|r| row_cells(catalog, r)).collect(),
            drawing,
            3,
        ));
    }
    if !stale.is_empty() {
        let _ = writeln!(out, "\nStale dates: {}", dates(&stale).join(", "));
    }
    out
}
