//! Reprocessing attempts: entities whose circuit breaker is tripped.

use chrono::NaiveDate;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Query, text};
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
    let parts = super::processor_parts(catalog, ids);
    let query = Query::new("breakers", text::BREAKERS)
        .repeat(
            "processors",
            text::PART_PROCESSOR,
            &parts,
            text::PART_PROCESSOR,
        )
        .table("attempts", &catalog.processing.attempts)
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()));
    let rows = warehouse.query(&query)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        let code = row.text("processor")?;
        let Some(&processor) = ids.iter().find(|&&id| catalog.code(id) == code) else {
            continue;
        };
        out.push(TrippedBreaker {
            processor,
            date: row.date("d")?,
            entity: row.text("entity")?,
            attempts: row.int("attempts")?,
        });
    }
    Ok(out)
}
