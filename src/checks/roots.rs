//! Root causes (DOMAIN.md): every defective (processor, date) is a root, or a consequence
//! of roots upstream on the same date, so an operator fixes one thing instead of four.
//!
//! The reconciliation query counts, per pair, the defective entities an upstream defect
//! explains ([`DateRow::explained`], [`DateRow::explained_by`]); this module decides the
//! role of each pair and follows consequences back to their roots.

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

use super::{DateRow, DefectKind};
use crate::catalog::{Catalog, ProcessorId};

/// What a defective pair is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Something is wrong with the pair itself: fix it.
    Root,
    /// Every defective entity is explained upstream: these roots, on the same date, in
    /// catalog order, fix it.
    Consequence(Vec<ProcessorId>),
}

impl Role {
    pub fn is_root(&self) -> bool {
        matches!(self, Role::Root)
    }

    /// The causes of a consequence (none for a root).
    pub fn causes(&self) -> &[ProcessorId] {
        match self {
            Role::Root => &[],
            Role::Consequence(causes) => causes,
        }
    }
}

/// The role of every defective pair of a set of reconciliation rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pairs: BTreeMap<(ProcessorId, NaiveDate), Attributed>,
}

/// A defective pair: its kind, its role, and its defective entities.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attributed {
    kind: DefectKind,
    role: Role,
    defective_entities: i64,
}

/// One root and what it explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCause {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub kind: DefectKind,
    /// Its real failures and unaccounted entities.
    pub defective_entities: i64,
    /// The consequences naming it (same date), in catalog order.
    pub consequences: Vec<ProcessorId>,
}

impl Attribution {
    /// Decides every defective row's role. `rows` must hold the upstream processors of
    /// those it is asked about (the checks query them).
    pub fn of(catalog: &Catalog, rows: &[DateRow]) -> Attribution {
        let mut defective: Vec<(&DateRow, DefectKind)> = rows
            .iter()
            .filter_map(|r| r.kind().map(|k| (r, k)))
            .collect();
        // Upstream first on each date: an explaining pair has its role before its users.
        defective.sort_by_key(|(r, _)| (r.date, catalog.run_rank(r.processor)));
        let mut pairs: BTreeMap<(ProcessorId, NaiveDate), Attributed> = BTreeMap::new();
        for (row, kind) in defective {
            let consequence = row.duplicates == 0
                && row.unexpected == 0
                && row.defective_entities() > 0
                && row.explained == row.defective_entities();
            let role = if consequence {
                let mut causes = BTreeSet::new();
                for &(up, _) in &row.explained_by {
                    match pairs.get(&(up, row.date)).map(|a| &a.role) {
                        Some(Role::Consequence(theirs)) => causes.extend(theirs),
                        // A root, or (never with the checks' rows) one not found.
                        _ => {
                            causes.insert(up);
                        }
                    }
                }
                Role::Consequence(causes.into_iter().collect())
            } else {
                Role::Root
            };
            pairs.insert(
                (row.processor, row.date),
                Attributed {
                    kind,
                    role,
                    defective_entities: row.defective_entities(),
                },
            );
        }
        Attribution { pairs }
    }

    /// The role of a pair; `None` when it has no defect.
    pub fn role(&self, processor: ProcessorId, date: NaiveDate) -> Option<&Role> {
        self.pairs.get(&(processor, date)).map(|a| &a.role)
    }

    /// The roots behind the defective pairs `shown` (a root stands for itself, a
    /// consequence for its causes, which may lie outside `shown`), by processor then date,
    /// each with the consequences among `shown` that name it.
    pub fn roots_of(&self, shown: &[(ProcessorId, NaiveDate)]) -> Vec<RootCause> {
        let mut roots: BTreeMap<(ProcessorId, NaiveDate), BTreeSet<ProcessorId>> = BTreeMap::new();
        for &(p, d) in shown {
            match self.role(p, d) {
                Some(Role::Root) => {
                    roots.entry((p, d)).or_default();
                }
                Some(Role::Consequence(causes)) => {
                    for &cause in causes {
                        roots.entry((cause, d)).or_default().insert(p);
                    }
                }
                None => {}
            }
        }
        roots
            .into_iter()
            .filter_map(|((processor, date), consequences)| {
                let pair = self.pairs.get(&(processor, date))?;
                Some(RootCause {
                    processor,
                    date,
                    kind: pair.kind,
                    defective_entities: pair.defective_entities,
                    consequences: consequences.into_iter().collect(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 12, day).unwrap()
    }

    /// A row of `code` on Dec `day` with `real` MISSING_DEPENDENCY-or-other failures and
    /// `unaccounted` entities, of which `explained_by` explain some.
    pub(crate) fn row(
        catalog: &Catalog,
        code: &str,
        day: u32,
        real: i64,
        unaccounted: i64,
        explained_by: &[(&str, i64)],
    ) -> DateRow {
        let explained_by: Vec<(ProcessorId, i64)> = explained_by
            .iter()
            .map(|&(c, n)| (catalog.find(c).unwrap(), n))
            .collect();
        DateRow {
            processor: catalog.find(code).unwrap(),
            date: d(day),
            expected: 100,
            produced: 100 - real - unaccounted,
            expected_skips: 0,
            cascades: 0,
            real_failures: real,
            unaccounted,
            duplicates: 0,
            unexpected: 0,
            records: 100 - real - unaccounted,
            first_processed_us: None,
            last_processed_us: None,
            explained: explained_by.iter().map(|(_, n)| *n).max().unwrap_or(0),
            explained_by,
            null_keys: 0,
        }
    }

    #[test]
    fn a_consequence_passes_on_its_roots_and_roots_count_their_consequences() {
        let c = Catalog::builtin().unwrap();
        let id = |code| c.find(code).unwrap();
        let rows = vec![
            row(&c, "TDZA", 4, 0, 100, &[]),
            row(&c, "PCF", 4, 80, 0, &[("TDZA", 80)]),
            row(&c, "PDC", 4, 80, 0, &[("TDZA", 80), ("PCF", 80)]),
            // Only part explained: a root of its own.
            row(&c, "ML", 4, 81, 0, &[("PCF", 80)]),
        ];
        let a = Attribution::of(&c, &rows);
        assert_eq!(a.role(id("TDZA"), d(4)), Some(&Role::Root));
        assert_eq!(
            a.role(id("PDC"), d(4)),
            Some(&Role::Consequence(vec![id("TDZA")]))
        );
        assert_eq!(a.role(id("ML"), d(4)), Some(&Role::Root));
        let shown: Vec<_> = rows.iter().map(|r| (r.processor, r.date)).collect();
        let roots = a.roots_of(&shown);
        assert_eq!(roots.len(), 2);
        assert_eq!(roots[0].processor, id("TDZA"));
        assert_eq!(roots[0].consequences, [id("PCF"), id("PDC")]);
        assert_eq!(roots[1].processor, id("ML"));
        // Shown alone, a consequence still names its root.
        let roots = a.roots_of(&[(id("PDC"), d(4))]);
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].kind, DefectKind::Missing);
    }

    #[test]
    fn duplicates_or_unexpected_rows_make_a_root() {
        let c = Catalog::builtin().unwrap();
        let mut dup = row(&c, "PCF", 4, 80, 0, &[("TDZA", 80)]);
        dup.duplicates = 1;
        let rows = vec![row(&c, "TDZA", 4, 0, 30, &[]), dup];
        let a = Attribution::of(&c, &rows);
        assert_eq!(a.role(c.find("PCF").unwrap(), d(4)), Some(&Role::Root));
    }
}
