//! Failure rows by category: every row of every entity, each category with its class.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::sql::{Query, text};
use crate::warehouse::Rows;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureCount {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub category: String,
    pub rows: i64,
}

/// The failure counts out of the rows of `failures.sql`.
pub fn counts_from(
    catalog: &Catalog,
    ids: &[ProcessorId],
    rows: &Rows,
) -> Result<Vec<FailureCount>, Error> {
    super::rows_by_processor(catalog, ids, rows, |processor, row| {
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
