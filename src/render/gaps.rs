//! `gaps`: the defective dates of one processor, oldest first, and its stale dates.

use serde::Serialize;
use std::fmt::Write as _;

use super::csv::{CsvTable, csv_document};
use super::report::{
    DATE_ROW_COLUMNS, ROW_HEADER, ROW_NUMERIC, RangeJson, RowJson, dates, grouped_row_cells,
    row_json, shown_rows,
};
use super::roots::roots_summary;
use super::table::{Drawing, table_numeric, title};
use super::{TableFormat, to_json};
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::{DateRow, Findings};

#[derive(Serialize)]
struct GapsJson {
    processor: String,
    range: RangeJson,
    dates: Vec<RowJson>,
    // Added fields:
    stale_dates: Vec<String>,
    /// Its rows and failure rows whose entity (or date) is NULL.
    null_keys: Vec<super::content::NullKeysJson>,
}

/// The CSV rows of `gaps`: its dates, then its stale dates, each naming the processor.
#[derive(Serialize)]
struct GapsCsv<'a> {
    dates: Vec<RowJson>,
    stale_dates: Vec<StaleJson<'a>>,
    null_keys: Vec<super::content::NullKeysJson>,
}

#[derive(Serialize)]
struct StaleJson<'a> {
    processor: &'a str,
    date: String,
}

const GAPS_TABLES: [CsvTable; 3] = [
    CsvTable {
        name: "dates",
        columns: DATE_ROW_COLUMNS,
    },
    CsvTable {
        name: "stale_dates",
        columns: &["processor", "date"],
    },
    CsvTable {
        name: "null_keys",
        columns: &["processor", "date", "table", "rows"],
    },
];

/// The defective dates of `id`; `roots_only`: those that are root causes.
pub fn render_gaps(
    catalog: &Catalog,
    f: &Findings,
    id: ProcessorId,
    format: TableFormat,
    roots_only: bool,
) -> String {
    let rows: Vec<&DateRow> = shown_rows(f, roots_only)
        .filter(|r| r.processor == id)
        .collect();
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
                dates: rows.iter().map(|r| row_json(catalog, f, r)).collect(),
                stale_dates: dates(&stale),
                null_keys: super::content::null_keys_json(catalog, f, Some(id)),
            });
        }
        TableFormat::Csv => {
            let code = catalog.code(id);
            return csv_document(
                &GapsCsv {
                    dates: rows.iter().map(|r| row_json(catalog, f, r)).collect(),
                    stale_dates: stale
                        .iter()
                        .map(|d| StaleJson {
                            processor: code,
                            date: d.to_string(),
                        })
                        .collect(),
                    null_keys: super::content::null_keys_json(catalog, f, Some(id)),
                },
                &GAPS_TABLES,
            );
        }
        TableFormat::Table(fit) => Drawing::Boxes(fit),
        TableFormat::Markdown => Drawing::Markdown,
    };
    let mut out = String::new();
    let defective = f.defective_rows().filter(|r| r.processor == id).count();
    title(
        &mut out,
        drawing,
        &format!(
            "{} ({}) gaps {}: {} defective {}, {} stale",
            catalog.code(id),
            catalog.get(id).table,
            f.range,
            defective,
            if defective == 1 { "date" } else { "dates" },
            stale.len()
        ),
    );
    if defective > 0 {
        roots_summary(&mut out, catalog, f, defective, drawing);
        out.push('\n');
    }
    if !rows.is_empty() {
        // One processor: the title names it, so its column would only take room.
        let cells = grouped_row_cells(catalog, f, &rows)
            .into_iter()
            .map(|row| row.into_iter().skip(1).collect())
            .collect();
        out.push_str(&table_numeric(
            &ROW_HEADER[1..],
            cells,
            drawing,
            ROW_NUMERIC.start - 1..ROW_NUMERIC.end - 1,
        ));
    }
    if !stale.is_empty() {
        let _ = writeln!(out, "\nStale dates: {}", dates(&stale).join(", "));
    }
    if let Some(line) = super::content::null_keys_line(f, id) {
        let _ = writeln!(out, "\n{line}");
    }
    out
}
