//! Failure rows by category: every row of every entity, each category with its class.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Query, text};
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
    let query = failures_query(catalog);
    super::query_per_processor(warehouse, catalog, ids, range, query, |processor, row| {
        Ok(FailureCount {
            processor,
            date: row.date("d")?,
            category: row.text("category")?,
            rows: row.int("n")?,
        })
    })
}

/// `failures.sql` with its table; the processors and range are filled by the caller.
pub fn failures_query(catalog: &Catalog) -> Query {
    Query::new("failures", text::FAILURES).table("failures", &catalog.processing.failures)
}
