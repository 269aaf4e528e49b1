//! Reprocessing attempts: entities whose circuit breaker is tripped, and their reset.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Query, text};
use crate::warehouse::{Rows, Warehouse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrippedBreaker {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub entity: String,
    pub attempts: i64,
}

/// The tripped breakers out of the rows of `breakers.sql`.
pub fn breakers_from(
    catalog: &Catalog,
    ids: &[ProcessorId],
    rows: &Rows,
) -> Result<Vec<TrippedBreaker>, Error> {
    super::rows_by_processor(catalog, ids, rows, |processor, row| {
        Ok(TrippedBreaker {
            processor,
            date: row.date("d")?,
            entity: row.text("entity")?,
            attempts: row.int("attempts")?,
        })
    })
}

/// Resets the tripped circuit breakers of `processor` on the dates of `range` (a repair
/// is a deliberate retry); returns how many were reset. Needs a warehouse that writes.
pub fn reset_breakers(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    processor: ProcessorId,
    range: DateRange,
) -> Result<u64, Error> {
    warehouse.execute(&reset_breakers_statement(catalog, processor, range))
}

/// The reset as one parameterised statement (`sql/reset_breakers.sql`): it changes only
/// the tripped rows of `processor` on the dates of `range`.
pub fn reset_breakers_statement(
    catalog: &Catalog,
    processor: ProcessorId,
    range: DateRange,
) -> Query {
    Query::new("reset_breakers", text::RESET_BREAKERS)
        .table("attempts", &catalog.processing.attempts)
        .param("processor", Param::Text(catalog.code(processor).into()))
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()))
}

/// `breakers.sql` with its table; the processors and range are filled by the caller.
pub fn breakers_query(catalog: &Catalog) -> Query {
    Query::new("breakers", text::BREAKERS).table("attempts", &catalog.processing.attempts)
}
