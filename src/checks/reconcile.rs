//! The reconciliation identity per (processor, date), and staleness across processors.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

use crate::catalog::{Catalog, EntityMapping, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Part, Query, text};
use crate::warehouse::{Rows, Warehouse};

/// The kind of a defective (processor, date): the first that applies, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Unaccounted entities, and no expected entity has a row or a failure row.
    Missing,
    /// Unaccounted entities otherwise.
    Partial,
    /// Real failures.
    Failures,
    /// Rows beyond the first for an (entity, date).
    Duplicates,
    /// Rows of entities without a game that day.
    Unexpected,
}

impl DefectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DefectKind::Missing => "missing",
            DefectKind::Partial => "partial",
            DefectKind::Failures => "failures",
            DefectKind::Duplicates => "duplicates",
            DefectKind::Unexpected => "unexpected",
        }
    }
}

/// The ROW kind of a date whose only finding is rows (or failure rows) without a key.
pub const NULL_KEYS_KIND: &str = "null_keys";

/// The reconciliation of one processor on one date (DOMAIN.md):
/// `expected = produced + expected_skips + cascades + real_failures + unaccounted`
/// and `records = produced + unexpected + duplicates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRow {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub expected: i64,
    pub produced: i64,
    pub expected_skips: i64,
    pub cascades: i64,
    pub real_failures: i64,
    pub unaccounted: i64,
    pub duplicates: i64,
    pub unexpected: i64,
    pub records: i64,
    /// Earliest and latest `processed_at` of its rows, in microseconds since the epoch.
    pub first_processed_us: Option<i64>,
    pub last_processed_us: Option<i64>,
    /// Its defective entities (real failures, unaccounted) explained by a defective
    /// entity upstream that day (DOMAIN.md, "Root causes").
    pub explained: i64,
    /// Each upstream processor that explains some of them, with how many, in catalog
    /// order.
    pub explained_by: Vec<(ProcessorId, i64)>,
    /// Its rows and failure rows whose entity is NULL (from the content check). Rows of
    /// the processor's table are also among `unexpected`, so `records` counts them.
    pub null_keys: i64,
}

impl DateRow {
    pub fn kind(&self) -> Option<DefectKind> {
        if self.unaccounted > 0 {
            let accounted =
                self.produced + self.expected_skips + self.cascades + self.real_failures;
            return Some(if accounted == 0 {
                DefectKind::Missing
            } else {
                DefectKind::Partial
            });
        }
        if self.real_failures > 0 {
            Some(DefectKind::Failures)
        } else if self.duplicates > 0 {
            Some(DefectKind::Duplicates)
        } else if self.unexpected > 0 {
            Some(DefectKind::Unexpected)
        } else {
            None
        }
    }

    /// The ROW kind (DOMAIN.md): the first of [`DateRow::kind`]'s that applies, else
    /// `null_keys` for a date whose only finding is rows without a key.
    pub fn row_kind(&self) -> Option<&'static str> {
        self.kind()
            .map(DefectKind::as_str)
            .or((self.null_keys > 0).then_some(NULL_KEYS_KIND))
    }

    /// Shown in a ROW: a defect, or rows without a key.
    pub fn is_shown(&self) -> bool {
        self.row_kind().is_some()
    }

    /// A game date of this processor (it has expected entities).
    pub fn is_game_date(&self) -> bool {
        self.expected > 0
    }

    /// Entities counted as real failures or unaccounted.
    pub fn defective_entities(&self) -> i64 {
        self.real_failures + self.unaccounted
    }
}

/// A pair whose rows are older than rows of an upstream processor on the same date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePair {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    /// The upstream processor with the latest rows that day.
    pub upstream: ProcessorId,
    pub upstream_last_us: i64,
    pub own_first_us: i64,
}

/// Runs the reconciliation query for `ids` (which must include their upstream): the
/// runner's re-count of the pairs it ran.
pub fn reconcile(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    ids: &[ProcessorId],
    range: DateRange,
) -> Result<Vec<DateRow>, Error> {
    let rows = warehouse.query(&reconcile_query(catalog, ids, range))?;
    rows_from(catalog, ids, &rows)
}

/// The reconciliation rows out of the rows of `reconcile.sql`, by processor then date.
pub fn rows_from(
    catalog: &Catalog,
    ids: &[ProcessorId],
    rows: &Rows,
) -> Result<Vec<DateRow>, Error> {
    let by_code: HashMap<&str, ProcessorId> =
        ids.iter().map(|&id| (catalog.code(id), id)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.iter() {
        let code = row.text("processor")?;
        let Some(&processor) = by_code.get(code.as_str()) else {
            continue;
        };
        out.push(DateRow {
            processor,
            date: row.date("d")?,
            expected: row.int("expected")?,
            produced: row.int("produced")?,
            expected_skips: row.int("expected_skips")?,
            cascades: row.int("cascades")?,
            real_failures: row.int("real_failures")?,
            unaccounted: row.int("unaccounted")?,
            duplicates: row.int("duplicates")?,
            unexpected: row.int("unexpected")?,
            records: row.int("records")?,
            first_processed_us: row.opt_int("first_processed_us")?,
            last_processed_us: row.opt_int("last_processed_us")?,
            explained: row.int("explained")?,
            explained_by: explained_by(catalog, &row.text("explained_by")?)?,
            null_keys: 0,
        });
    }
    out.sort_by_key(|r| (r.processor, r.date));
    Ok(out)
}

/// `TDZA:81,PCF:12` as (processor, count) pairs in catalog order (NULL, empty: none).
fn explained_by(catalog: &Catalog, list: &str) -> Result<Vec<(ProcessorId, i64)>, Error> {
    let mut out = Vec::new();
    for item in list.split(',').filter(|i| !i.is_empty()) {
        let parsed = item
            .rsplit_once(':')
            .and_then(|(code, n)| Some((catalog.by_code(code)?, n.parse::<i64>().ok()?)));
        let Some(pair) = parsed else {
            return Err(Error::internal(format!(
                "the reconciliation query gave an explained_by item `{item}` that is not CODE:count"
            )));
        };
        out.push(pair);
    }
    out.sort();
    Ok(out)
}

/// The reconciliation query for `ids` over `range` (also used to verify repaired pairs).
pub fn reconcile_query(catalog: &Catalog, ids: &[ProcessorId], range: DateRange) -> Query {
    let processors = super::processor_parts(catalog, ids);
    let (upstream, mapped) = upstream_parts(catalog, ids);
    let query = Query::new("reconcile", text::RECONCILE)
        .repeat(
            "processors",
            text::PART_PROCESSOR,
            &processors,
            text::PART_PROCESSOR,
        )
        .repeat(
            "mapped_entities",
            text::PART_MAPPED_ENTITIES,
            &mapped,
            text::PART_NO_MAPPED_ENTITIES,
        );
    with_class_slots(query, catalog, &upstream)
        .repeat(
            "processor_entities",
            text::PART_PROCESSOR_ENTITIES,
            &processor_entity_parts(catalog, ids),
            "",
        )
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()))
}

/// The slots `reconcile.sql` and `failure_samples.sql` share to class failure rows: the
/// `upstream` pairs (from [`upstream_parts`]), the category classes and the failures
/// table.
fn with_class_slots(query: Query, catalog: &Catalog, upstream: &[Part]) -> Query {
    query
        .repeat(
            "upstream",
            text::PART_UPSTREAM,
            upstream,
            text::PART_NO_UPSTREAM,
        )
        .repeat(
            "category_classes",
            text::PART_CATEGORY_CLASS,
            &category_class_parts(catalog),
            text::PART_NO_CATEGORY_CLASS,
        )
        .table("failures", &catalog.processing.failures)
}

/// The slots `failure_samples.sql` fills to class each expected entity: those of
/// [`with_class_slots`], the expected entities and the processors' rows.
pub(crate) fn with_entity_slots(
    query: Query,
    catalog: &Catalog,
    ids: &[ProcessorId],
    upstream: &[Part],
) -> Query {
    with_class_slots(query, catalog, upstream)
        .repeat(
            "expected_entities",
            text::PART_EXPECTED_ENTITIES,
            &expected_entity_parts(catalog, ids),
            "",
        )
        .repeat(
            "processor_rows",
            text::PART_PROCESSOR_ROWS,
            &processor_row_parts(catalog, ids),
            "",
        )
}

/// The `upstream` parts (every (processor, upstream) pair among `ids`, with the id of its
/// entity mapping) and the `mapped_entities` parts those mappings look up.
pub(crate) fn upstream_parts(catalog: &Catalog, ids: &[ProcessorId]) -> (Vec<Part>, Vec<Part>) {
    // A mapping is looked up once per (downstream entity column, mapping column).
    let mut lookups: BTreeSet<(&str, String)> = BTreeSet::new();
    let upstream: Vec<Part> = ids
        .iter()
        .flat_map(|&down| {
            catalog
                .upstream_of(down)
                .iter()
                .filter(|up| ids.contains(up))
                .map(move |&up| (down, up))
        })
        .map(|(down, up)| {
            let mapping = match catalog.entity_mapping(down, up) {
                EntityMapping::Same => String::new(),
                EntityMapping::Column(column) => {
                    let entity = catalog.get(down).source_entity_column.as_str();
                    let id = format!("{entity}>{column}");
                    lookups.insert((entity, column));
                    id
                }
            };
            Part::new()
                .param("processor", Param::Text(catalog.code(down).into()))
                .param("upstream", Param::Text(catalog.code(up).into()))
                .param("mapping", Param::Text(mapping))
        })
        .collect();
    let mapped: Vec<Part> = lookups
        .into_iter()
        .map(|(entity, column)| {
            Part::new()
                .param("mapping", Param::Text(format!("{entity}>{column}")))
                .table("source", &catalog.source.table)
                .column("date", &catalog.source.date_column)
                .column("entity", entity)
                .column("mapped", &column)
        })
        .collect();
    (upstream, mapped)
}

/// The `category_classes` parts: every category the catalog names, with its class.
fn category_class_parts(catalog: &Catalog) -> Vec<Part> {
    catalog
        .categories()
        .map(|(category, class)| {
            Part::new()
                .param("category", Param::Text(category.into()))
                .param("class", Param::Text(class.sql_name().into()))
        })
        .collect()
}

/// The `processor_rows` parts: each processor's rows, by entity and date.
fn processor_row_parts(catalog: &Catalog, ids: &[ProcessorId]) -> Vec<Part> {
    ids.iter()
        .map(|&id| {
            let p = catalog.get(id);
            Part::new()
                .param("code", Param::Text(p.code.clone()))
                .table("table", &p.table)
                .column("date", &p.date_column)
                .column("entity", &p.entity_column)
        })
        .collect()
}

/// The `processor_entities` parts: each processor's entities from the source and from its
/// table.
fn processor_entity_parts(catalog: &Catalog, ids: &[ProcessorId]) -> Vec<Part> {
    ids.iter()
        .map(|&id| {
            let p = catalog.get(id);
            Part::new()
                .param("code", Param::Text(p.code.clone()))
                .table("source", &catalog.source.table)
                .column("source_date", &catalog.source.date_column)
                .column("source_entity", &p.source_entity_column)
                .table("table", &p.table)
                .column("date", &p.date_column)
                .column("entity", &p.entity_column)
        })
        .collect()
}

/// The `expected_entities` parts: each processor's entities from the source.
fn expected_entity_parts(catalog: &Catalog, ids: &[ProcessorId]) -> Vec<Part> {
    ids.iter()
        .map(|&id| {
            let p = catalog.get(id);
            Part::new()
                .param("code", Param::Text(p.code.clone()))
                .table("source", &catalog.source.table)
                .column("date", &catalog.source.date_column)
                .column("entity", &p.source_entity_column)
        })
        .collect()
}

/// Pairs whose earliest row is older than the latest row of an upstream processor
/// (direct or transitive) on the same date.
pub fn stale_pairs(catalog: &Catalog, rows: &[DateRow]) -> Vec<StalePair> {
    let latest: HashMap<(ProcessorId, NaiveDate), i64> = rows
        .iter()
        .filter_map(|r| r.last_processed_us.map(|t| ((r.processor, r.date), t)))
        .collect();
    let mut stale = Vec::new();
    for row in rows {
        let Some(own_first) = row.first_processed_us else {
            continue;
        };
        let newest_upstream = catalog
            .upstream_of(row.processor)
            .iter()
            .filter_map(|&up| latest.get(&(up, row.date)).map(|&t| (t, up)))
            .max();
        if let Some((upstream_last, upstream)) = newest_upstream
            && upstream_last > own_first
        {
            stale.push(StalePair {
                processor: row.processor,
                date: row.date,
                upstream,
                upstream_last_us: upstream_last,
                own_first_us: own_first,
            });
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(unaccounted: i64, produced: i64, real: i64, dup: i64, unexpected: i64) -> DateRow {
        DateRow {
            processor: ProcessorId(0),
            date: NaiveDate::from_ymd_opt(2021, 12, 4).unwrap(),
            expected: produced + real + unaccounted,
            produced,
            expected_skips: 0,
            cascades: 0,
            real_failures: real,
            unaccounted,
            duplicates: dup,
            unexpected,
            records: produced + dup + unexpected,
            first_processed_us: None,
            last_processed_us: None,
            explained: 0,
            explained_by: Vec::new(),
            null_keys: 0,
        }
    }

    #[test]
    fn null_keys_are_a_kind_only_when_no_defect_applies() {
        let mut r = row(0, 30, 0, 0, 0);
        r.null_keys = 2;
        assert_eq!(r.kind(), None, "never a defect a rerun is planned for");
        assert_eq!(r.row_kind(), Some("null_keys"));
        let mut r = row(0, 30, 0, 0, 2);
        r.null_keys = 2;
        assert_eq!(r.row_kind(), Some("unexpected"));
    }

    #[test]
    fn kind_is_the_first_that_applies() {
        assert_eq!(row(30, 0, 0, 0, 0).kind(), Some(DefectKind::Missing));
        assert_eq!(row(3, 27, 0, 2, 0).kind(), Some(DefectKind::Partial));
        assert_eq!(row(0, 27, 3, 2, 1).kind(), Some(DefectKind::Failures));
        assert_eq!(row(0, 30, 0, 2, 1).kind(), Some(DefectKind::Duplicates));
        assert_eq!(row(0, 30, 0, 0, 1).kind(), Some(DefectKind::Unexpected));
        assert_eq!(row(0, 30, 0, 0, 0).kind(), None);
    }

    #[test]
    fn a_date_of_only_expected_skips_is_complete() {
        let mut r = row(0, 0, 0, 0, 0);
        r.expected = 5;
        r.expected_skips = 3;
        r.cascades = 2;
        assert_eq!(r.kind(), None);
    }

    #[test]
    fn a_failure_row_without_any_produced_row_is_partial_not_missing() {
        // one entity accounted for by a failure row: not "missing"
        assert_eq!(row(10, 0, 1, 0, 0).kind(), Some(DefectKind::Partial));
    }

    #[test]
    fn stale_when_an_upstream_row_is_newer_than_the_earliest_own_row() {
        let catalog = Catalog::builtin().unwrap();
        let tdza = catalog.find("TDZA").unwrap();
        let pcf = catalog.find("PCF").unwrap();
        let ml = catalog.find("ML").unwrap();
        let mk = |p, first, last| DateRow {
            processor: p,
            first_processed_us: Some(first),
            last_processed_us: Some(last),
            ..row(0, 1, 0, 0, 0)
        };
        let rows = vec![mk(tdza, 100, 500), mk(pcf, 400, 450), mk(ml, 600, 700)];
        let stale = stale_pairs(&catalog, &rows);
        assert_eq!(stale.len(), 1);
        assert_eq!((stale[0].processor, stale[0].upstream), (pcf, tdza));
    }
}
