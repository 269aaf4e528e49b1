//! Reprocessing attempts: entities whose circuit breaker is tripped.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Query, text};
use crate::warehouse::Warehouse;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrippedBreaker {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub entity: String,
    pub attempts: i64,
}

pub fn tripped_breakers(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    ids: &[ProcessorId],
    range: DateRange,
) -> Result<Vec<TrippedBreaker>, Error> {
    let query = breakers_query(catalog);
    super::query_per_processor(warehouse, catalog, ids, range, query, |processor, row| {
        Ok(TrippedBreaker {
            processor,
            date: row.date("d")?,
            entity: row.text("entity")?,
            attempts: row.int("attempts")?,
        })
    })
}

/// `breakers.sql` with its table; the processors and range are filled by the caller.
pub fn breakers_query(catalog: &Catalog) -> Query {
    Query::new("breakers", text::BREAKERS).table("attempts", &catalog.processing.attempts)
}
