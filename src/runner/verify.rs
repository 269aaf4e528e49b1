//! Exit 0 of a processor is not proof: after a unit runs, its pairs are re-counted in
//! the warehouse (one query) and only a reconciled, fresh pair is done.

use super::schedule::Unit;
use crate::catalog::Catalog;
use crate::checks::reconcile::{reconcile, stale_pairs};
use crate::error::Error;
use crate::range::DateRange;
use crate::warehouse::{Access, Engine};

/// A pair's index and whether its re-count reconciles (or why not).
pub type PairVerdict = (usize, Result<(), String>);

/// Re-counts a unit's pairs: a pair is complete only if nothing is unaccounted, no real
/// failures, duplicates or unexpected rows remain and it is not stale.
pub fn verify_unit(
    engine: &dyn Engine,
    catalog: &Catalog,
    unit: &Unit,
) -> Result<Vec<PairVerdict>, Error> {
    let mut wh = engine.session(Access::Read)?;
    let ids = catalog.with_upstream(&[unit.processor]);
    let range = DateRange::new(unit.start, unit.end).map_err(Error::usage)?;
    let rows = reconcile(wh.as_mut(), catalog, &ids, range)?;
    drop(wh);
    let stale = stale_pairs(catalog, &rows);
    let code = catalog.code(unit.processor);
    Ok(unit
        .pairs
        .iter()
        .zip(&unit.dates)
        .map(|(&i, &date)| {
            let row = rows
                .iter()
                .find(|r| r.processor == unit.processor && r.date == date);
            let verdict = match row.and_then(|r| r.kind().map(|k| (r, k))) {
                Some((r, kind)) => Err(format!(
                    "{code} {date} is still {}: {} unaccounted, {} real failures, {} duplicates, {} unexpected",
                    kind.as_str(),
                    r.unaccounted,
                    r.real_failures,
                    r.duplicates,
                    r.unexpected
                )),
                None => match stale
                    .iter()
                    .find(|s| s.processor == unit.processor && s.date == date)
                {
                    Some(s) => Err(format!(
                        "{code} {date} is stale: {} rows are newer",
                        catalog.code(s.upstream)
                    )),
                    None => Ok(()),
                },
            };
            (i, verdict)
        })
        .collect())
}
