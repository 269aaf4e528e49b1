//! CSV for machines: the rows of a command's JSON document under the JSON's own field
//! names, numbers as JSON writes them (rates as fractions), nothing dropped. A document
//! with several arrays (`report`: processors, dates, roots...) is one CSV whose first
//! column, `table`, names the array a row comes from; the columns are the union of the
//! arrays' fields, a field a row's array lacks left empty.

use serde::Serialize;
use serde_json::Value;

use super::table::csv_text;

/// One array of the JSON document and the fields of its rows, in JSON order.
pub(crate) struct CsvTable {
    /// The document's field holding the array.
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// The CSV of `doc`'s arrays named by `tables`, in that order. A `table` column only
/// when there are several, so a one-table CSV has exactly the JSON's fields. An array
/// of plain values (`stale_dates`) fills its table's first column.
pub(crate) fn csv_document<T: Serialize>(doc: &T, tables: &[CsvTable]) -> String {
    let doc = serde_json::to_value(doc).unwrap_or(Value::Null);
    let several = tables.len() > 1;
    let mut header: Vec<&str> = Vec::new();
    if several {
        header.push("table");
    }
    for t in tables {
        for c in t.columns {
            if !header.contains(c) {
                header.push(c);
            }
        }
    }
    let mut rows = Vec::new();
    for t in tables {
        let items = doc
            .get(t.name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for item in items {
            let row = header
                .iter()
                .map(|&column| match item {
                    _ if several && column == "table" => t.name.to_string(),
                    Value::Object(fields) => fields.get(column).map(cell).unwrap_or_default(),
                    plain if t.columns.first() == Some(&column) => cell(plain),
                    _ => String::new(),
                })
                .collect();
            rows.push(row);
        }
    }
    csv_text(&header, rows)
}

/// A JSON value as one cell: `null` empty, numbers and booleans as JSON writes them, a
/// list of values space-separated, a list of objects `PSZA 2021-11-17; PCF 2021-11-18`,
/// an object `KEY=value KEY=value`.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let objects = items.iter().any(Value::is_object);
            let parts: Vec<String> = items
                .iter()
                .map(|item| match item {
                    Value::Object(fields) => {
                        fields.values().map(cell).collect::<Vec<_>>().join(" ")
                    }
                    other => cell(other),
                })
                .collect();
            parts.join(if objects { "; " } else { " " })
        }
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The fields of `doc`'s rows that `tables` does not list: empty when the CSV holds
/// everything the JSON does (the tests of every CSV ask this).
#[cfg(test)]
pub(crate) fn missing_columns(doc: &Value, tables: &[CsvTable]) -> Vec<String> {
    let mut missing = Vec::new();
    for t in tables {
        for item in doc
            .get(t.name)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for key in item.as_object().into_iter().flat_map(|o| o.keys()) {
                let named = format!("{}.{key}", t.name);
                if !t.columns.contains(&key.as_str()) && !missing.contains(&named) {
                    missing.push(named);
                }
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TABLES: [CsvTable; 2] = [
        CsvTable {
            name: "dates",
            columns: &["processor", "date", "rate", "cause"],
        },
        CsvTable {
            name: "stale_dates",
            columns: &["date"],
        },
    ];

    #[test]
    fn rows_keep_json_names_numbers_and_every_array() {
        let doc = json!({
            "range": {"start": "2021-11-01"},
            "dates": [
                {"processor": "PCF", "date": "2021-11-17", "rate": 0.0000384, "cause": [{"processor": "PSZA", "date": "2021-11-17"}]},
                {"processor": "PCF", "date": "2021-11-10", "rate": 0, "cause": null},
            ],
            "stale_dates": ["2021-11-27"],
        });
        assert!(missing_columns(&doc, &TABLES).is_empty());
        assert_eq!(
            csv_document(&doc, &TABLES),
            "table,processor,date,rate,cause\n\
             dates,PCF,2021-11-17,0.0000384,PSZA 2021-11-17\n\
             dates,PCF,2021-11-10,0,\n\
             stale_dates,,2021-11-27,,\n"
        );
    }

    #[test]
    fn one_table_has_no_table_column_and_a_stable_header_when_empty() {
        let one = [CsvTable {
            name: "pairs",
            columns: &["processor", "reasons", "ok"],
        }];
        assert_eq!(
            csv_document(&json!({"pairs": []}), &one),
            "processor,reasons,ok\n"
        );
        assert_eq!(
            csv_document(
                &json!({"pairs": [{"processor": "ML", "reasons": ["failures", "downstream"], "ok": true}]}),
                &one
            ),
            "processor,reasons,ok\nML,failures downstream,true\n"
        );
    }

    #[test]
    fn a_field_the_table_does_not_list_is_reported() {
        let doc = json!({"dates": [{"processor": "ML", "extra": 1}]});
        assert_eq!(missing_columns(&doc, &TABLES), ["dates.extra"]);
    }
}
