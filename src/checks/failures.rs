//! Failure rows by category: every row of every entity, each category with its class.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Query, text};
use crate::warehouse::Warehouse;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub category: String,
    pub rows: i64,
}

pub fn failure_counts(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    ids: &[ProcessorId],
    range: DateRange,
) -> Result<Vec<FailureCount>, Error> {
    let parts = super::processor_parts(catalog, ids);
    let query = Query::new("failures", text::FAILURES)
        .repeat(
            "processors",
            text::PART_PROCESSOR,
            &parts,
            text::PART_PROCESSOR,
        )
        .table("failures", &catalog.processing.failures)
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()));
    let rows = warehouse.query(&query)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        let code = row.text("processor")?;
        let Some(&processor) = ids.iter().find(|&&id| catalog.code(id) == code) else {
            continue;
        };
        out.push(FailureCount {
            processor,
            date: row.date("d")?,
            category: row.text("category")?,
            rows: row.int("n")?,
        });
    }
    Ok(out)
}
