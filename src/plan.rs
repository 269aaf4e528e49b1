//! The repair plan: which (processor, date) pairs to rerun, why, and in what order.
//!
//! Every defective pair (missing, partial, real failures, duplicates, unexpected), every
//! stale pair and, by default, the same date of every downstream processor, since it was
//! computed from incomplete input. Expected skips and cascades alone never cause a rerun.
//! Ordered by the dependency graph, then by date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, ProcessorId};
use crate::checks::{DefectKind, Findings, Role, TrippedBreaker};

/// Why a pair is in the plan, in the contract's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Missing,
    Partial,
    Failures,
    Duplicates,
    Unexpected,
    Stale,
    Downstream,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Partial => "partial",
            Reason::Failures => "failures",
            Reason::Duplicates => "duplicates",
            Reason::Unexpected => "unexpected",
            Reason::Stale => "stale",
            Reason::Downstream => "downstream",
        }
    }
}

/// What a planned pair is to the root causes (DOMAIN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanRole {
    /// Defective or stale in its own right.
    Root,
    /// Defective only because of roots upstream on the same date.
    Consequence,
    /// Not defective: rerun because an upstream pair of its date is rerun.
    Downstream,
}

impl PlanRole {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanRole::Root => "root",
            PlanRole::Consequence => "consequence",
            PlanRole::Downstream => "downstream",
        }
    }

    /// The role a plan stored without roles gives a pair: by its reasons.
    fn from_reasons(reasons: &[Reason]) -> PlanRole {
        if reasons.iter().all(|&r| r == Reason::Downstream) {
            PlanRole::Downstream
        } else {
            PlanRole::Root
        }
    }
}

/// One pair of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPair {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub reasons: Vec<Reason>,
    pub role: PlanRole,
}

/// A planned pair with the invocation (batch) it runs in: what a repair run executes
/// and its checkpoint stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPair {
    pub pair: PlannedPair,
    pub batch: usize,
    /// Did the checks that made the plan find tripped breakers on this pair? A unit
    /// with none runs no reset (on BigQuery each would be a DML job of its own).
    /// `None` for a plan stored before this was recorded: its units reset.
    pub tripped: Option<bool>,
}

/// Marks each pair with whether the plan's checks found tripped breakers on it.
pub fn mark_tripped(pairs: &mut [RunPair], breakers: &[TrippedBreaker]) {
    let tripped: BTreeSet<(ProcessorId, NaiveDate)> =
        breakers.iter().map(|b| (b.processor, b.date)).collect();
    for p in pairs {
        p.tripped = Some(tripped.contains(&(p.pair.processor, p.pair.date)));
    }
}

/// A [`RunPair`] as the checkpoint stores it: the processor by its catalog code. A
/// resumed run reruns exactly the stored plan, never a recomputed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPair {
    pub processor: String,
    pub date: NaiveDate,
    pub reasons: Vec<Reason>,
    pub batch: usize,
    /// Absent in plans stored before roles existed: then taken from the reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<PlanRole>,
    /// [`RunPair::tripped`]; absent in plans stored before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tripped: Option<bool>,
}

impl StoredPair {
    pub fn from_run(catalog: &Catalog, pair: &RunPair) -> StoredPair {
        StoredPair {
            processor: catalog.code(pair.pair.processor).to_string(),
            date: pair.pair.date,
            reasons: pair.pair.reasons.clone(),
            batch: pair.batch,
            role: Some(pair.pair.role),
            tripped: pair.tripped,
        }
    }

    /// Back to a run pair; fails when the catalog has no such processor.
    pub fn to_run(&self, catalog: &Catalog) -> Result<RunPair, crate::Error> {
        let processor = catalog.find(&self.processor).map_err(|_| {
            crate::Error::usage(format!(
                "the stored plan names processor {}, which the catalog does not have",
                self.processor
            ))
        })?;
        Ok(RunPair {
            pair: PlannedPair {
                processor,
                date: self.date,
                reasons: self.reasons.clone(),
                role: self
                    .role
                    .unwrap_or_else(|| PlanRole::from_reasons(&self.reasons)),
            },
            batch: self.batch,
            tripped: self.tripped,
        })
    }
}

/// Options of `repair` that shape the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Only these processors (empty = all).
    pub processors: Vec<ProcessorId>,
    /// Drop the processors before this one in run order.
    pub start_from: Option<ProcessorId>,
    /// Do not add the same date of downstream processors.
    pub no_downstream: bool,
    /// Plan the root causes and the downstream reruns they imply, not the consequences
    /// on their own.
    pub roots_only: bool,
}

/// [`PlanOptions`] as a stored request records them: processors by code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptionsRecord {
    pub processors: Vec<String>,
    pub start_from: Option<String>,
    pub no_downstream: bool,
    /// Left out when false, so requests made before it existed keep their fingerprint.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub roots_only: bool,
}

impl PlanOptionsRecord {
    /// `every processor`, `ML only, without downstream`, `starting from PCF, roots only`.
    pub fn describe(&self) -> String {
        let mut words = vec![if self.processors.is_empty() {
            "every processor".to_string()
        } else {
            format!("{} only", self.processors.join(", "))
        }];
        if let Some(start) = &self.start_from {
            words.push(format!("starting from {start}"));
        }
        if self.no_downstream {
            words.push("without downstream".into());
        }
        if self.roots_only {
            words.push("roots only".into());
        }
        words.join(", ")
    }
}

impl PlanOptions {
    pub fn record(&self, catalog: &Catalog) -> PlanOptionsRecord {
        PlanOptionsRecord {
            processors: self
                .processors
                .iter()
                .map(|&id| catalog.code(id).to_string())
                .collect(),
            start_from: self.start_from.map(|id| catalog.code(id).to_string()),
            no_downstream: self.no_downstream,
            roots_only: self.roots_only,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairPlan {
    /// In run order: dependency order across processors, oldest first within one.
    pub pairs: Vec<PlannedPair>,
    /// Defective upstream pairs left out by --processor / --start-from, and planned
    /// dates whose source (Phase 3) is broken.
    pub warnings: Vec<String>,
    /// Tripped breakers of planned pairs (reset before the pair runs).
    pub breakers: Vec<TrippedBreaker>,
    /// With `--roots-only`: the pairs of the full plan this one leaves out, in run
    /// order. None are left out unless --processor, --start-from or --no-downstream
    /// keep a consequence's roots or their reruns out of the plan.
    pub left_out: Option<Vec<LeftOut>>,
}

/// A pair of the full plan that a `--roots-only` plan leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    /// The roots behind it, same date, in catalog order (none for a rerun that is only
    /// downstream of another left-out pair).
    pub causes: Vec<ProcessorId>,
    /// Every one of those roots is in the plan (it was --no-downstream that left it out).
    pub causes_planned: bool,
}

impl RepairPlan {
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Pairs grouped by stage: processors of the same dependency depth run side by side.
    pub fn stages(&self, catalog: &Catalog) -> Vec<Vec<&PlannedPair>> {
        let mut stages: BTreeMap<usize, Vec<&PlannedPair>> = BTreeMap::new();
        for pair in &self.pairs {
            stages
                .entry(catalog.depth(pair.processor))
                .or_default()
                .push(pair);
        }
        stages.into_values().collect()
    }
}

/// The processors a plan may contain under `options`, in catalog order.
pub fn selected_processors(catalog: &Catalog, options: &PlanOptions) -> Vec<ProcessorId> {
    let mut selected: Vec<ProcessorId> = if options.processors.is_empty() {
        catalog.ids().collect()
    } else {
        options.processors.clone()
    };
    if let Some(from) = options.start_from {
        let first = catalog.run_rank(from);
        selected.retain(|&id| catalog.run_rank(id) >= first);
    }
    selected.sort();
    selected.dedup();
    selected
}

/// Builds the plan from findings over all processors of the catalog.
pub fn build_plan(catalog: &Catalog, findings: &Findings, options: &PlanOptions) -> RepairPlan {
    let selected = selected_processors(catalog, options);
    let mut reasons: BTreeMap<(ProcessorId, NaiveDate), BTreeSet<Reason>> = BTreeMap::new();
    let mut defective: BTreeSet<(ProcessorId, NaiveDate)> = BTreeSet::new();

    for row in &findings.rows {
        let mut own = own_reasons(row);
        if findings.is_stale(row.processor, row.date) {
            own.insert(Reason::Stale);
        }
        if own.is_empty() {
            continue;
        }
        defective.insert((row.processor, row.date));
        if selected.contains(&row.processor) {
            reasons
                .entry((row.processor, row.date))
                .or_default()
                .extend(own);
        }
    }
    for stale in &findings.stale {
        defective.insert((stale.processor, stale.date));
        if selected.contains(&stale.processor) {
            reasons
                .entry((stale.processor, stale.date))
                .or_default()
                .insert(Reason::Stale);
        }
    }

    if !options.no_downstream {
        // Downstream of every planned pair, transitively (upstream_of is transitive).
        let planned: Vec<(ProcessorId, NaiveDate)> = reasons.keys().copied().collect();
        for (up, date) in planned {
            for &down in &selected {
                if catalog.is_upstream(up, down) {
                    reasons
                        .entry((down, date))
                        .or_default()
                        .insert(Reason::Downstream);
                }
            }
        }
    }

    let role_of = |p: ProcessorId, d: NaiveDate, reasons: &BTreeSet<Reason>| match findings
        .attribution
        .role(p, d)
    {
        Some(Role::Consequence(_)) => PlanRole::Consequence,
        _ if reasons.iter().any(|&r| r != Reason::Downstream) => PlanRole::Root,
        _ => PlanRole::Downstream,
    };
    let roles: BTreeMap<(ProcessorId, NaiveDate), PlanRole> = reasons
        .iter()
        .map(|(&(p, d), r)| ((p, d), role_of(p, d, r)))
        .collect();
    let mut left_out = None;
    if options.roots_only {
        // The roots, and the same date of their downstream processors.
        let mut roots_by_date: BTreeMap<NaiveDate, Vec<ProcessorId>> = BTreeMap::new();
        for (&(p, d), &role) in &roles {
            if role == PlanRole::Root {
                roots_by_date.entry(d).or_default().push(p);
            }
        }
        let keep = |p: ProcessorId, d: NaiveDate| {
            roles.get(&(p, d)) == Some(&PlanRole::Root)
                || (!options.no_downstream
                    && roots_by_date
                        .get(&d)
                        .is_some_and(|roots| roots.iter().any(|&r| catalog.is_upstream(r, p))))
        };
        let (kept, dropped): (BTreeMap<_, _>, BTreeMap<_, _>) =
            reasons.into_iter().partition(|&((p, d), _)| keep(p, d));
        reasons = kept;
        left_out = Some(
            dropped
                .into_keys()
                .map(|(processor, date)| {
                    let causes = findings
                        .attribution
                        .role(processor, date)
                        .map(|r| r.causes().to_vec())
                        .unwrap_or_default();
                    let causes_planned = !causes.is_empty()
                        && causes.iter().all(|&c| reasons.contains_key(&(c, date)));
                    LeftOut {
                        processor,
                        date,
                        causes,
                        causes_planned,
                    }
                })
                .collect::<Vec<_>>(),
        );
    }

    let mut warnings = Vec::new();
    let plan_dates: BTreeSet<NaiveDate> = reasons.keys().map(|(_, d)| *d).collect();
    for &(p, date) in &defective {
        if selected.contains(&p) || !plan_dates.contains(&date) {
            continue;
        }
        let below: Vec<&str> = reasons
            .keys()
            .filter(|(q, d)| *d == date && catalog.is_upstream(p, *q))
            .map(|(q, _)| catalog.code(*q))
            .collect();
        if !below.is_empty() {
            warnings.push(format!(
                "{} {date} is defective upstream of {} and not in this plan: fix it first, or drop --processor/--start-from",
                catalog.code(p),
                below.join(", ")
            ));
        }
    }

    // A rerun computes from the source: on a day it is broken, it cannot fix the pair.
    for &date in &plan_dates {
        let issues = findings.source_issues_on(date);
        if !issues.is_empty() {
            warnings.push(format!(
                "the source has {} on {date}: its pairs rerun against it and stay defective until Phase 3 is fixed",
                issues.join(", ")
            ));
        }
    }

    let mut ordered: Vec<((ProcessorId, NaiveDate), BTreeSet<Reason>)> =
        reasons.into_iter().collect();
    let run_order = |&(p, d): &(ProcessorId, NaiveDate)| (catalog.run_rank(p), d);
    ordered.sort_by_key(|(pair, _)| run_order(pair));
    if let Some(pairs) = left_out.as_mut() {
        pairs.sort_by_key(|l| run_order(&(l.processor, l.date)));
    }

    let breakers = findings
        .breakers
        .iter()
        .filter(|b| {
            ordered
                .iter()
                .any(|((p, d), _)| *p == b.processor && *d == b.date)
        })
        .cloned()
        .collect();

    RepairPlan {
        pairs: ordered
            .into_iter()
            .map(|((processor, date), reasons)| PlannedPair {
                processor,
                date,
                role: roles
                    .get(&(processor, date))
                    .copied()
                    .unwrap_or(PlanRole::Downstream),
                reasons: reasons.into_iter().collect(),
            })
            .collect(),
        warnings,
        breakers,
        left_out,
    }
}

fn own_reasons(row: &crate::checks::DateRow) -> BTreeSet<Reason> {
    let mut own = BTreeSet::new();
    match row.kind() {
        Some(DefectKind::Missing) => {
            own.insert(Reason::Missing);
        }
        Some(DefectKind::Partial) => {
            own.insert(Reason::Partial);
        }
        _ => {}
    }
    if row.real_failures > 0 {
        own.insert(Reason::Failures);
    }
    if row.duplicates > 0 {
        own.insert(Reason::Duplicates);
    }
    if row.unexpected > 0 {
        own.insert(Reason::Unexpected);
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_marked_tripped_by_the_plans_breakers_and_old_plans_read_as_unknown() {
        let catalog = Catalog::builtin().unwrap();
        let pcf = catalog.find("PCF").unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2021, 11, d).unwrap();
        let pair = |date| RunPair {
            pair: PlannedPair {
                processor: pcf,
                date,
                reasons: vec![Reason::Failures],
                role: PlanRole::Root,
            },
            batch: 0,
            tripped: None,
        };
        let mut pairs = vec![pair(day(13)), pair(day(14))];
        let breakers = [TrippedBreaker {
            processor: pcf,
            date: day(13),
            entity: "p1".into(),
            attempts: 3,
        }];
        mark_tripped(&mut pairs, &breakers);
        assert_eq!(
            pairs.iter().map(|p| p.tripped).collect::<Vec<_>>(),
            [Some(true), Some(false)]
        );
        let stored = StoredPair::from_run(&catalog, &pairs[1]);
        assert_eq!(stored.to_run(&catalog).unwrap().tripped, Some(false));
        // A plan stored before pairs were marked: unknown, so its units reset.
        let old: StoredPair = serde_json::from_str(
            r#"{"processor":"PCF","date":"2021-11-13","reasons":["failures"],"batch":0}"#,
        )
        .unwrap();
        assert_eq!(old.to_run(&catalog).unwrap().tripped, None);
    }
}
