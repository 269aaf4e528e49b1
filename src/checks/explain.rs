//! `explain`: the chain of one (processor, date) down to its root causes, with the counts
//! at each step, a few of the failure rows' reasons, and what to rerun.
//!
//! It runs the checks over that one day (the report's queries) and one more query, the
//! failure samples; nothing per entity.

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

use super::reconcile::{upstream_parts, with_entity_slots};
use super::{CheckRequest, DateRow, DefectKind, Findings, Role, StalePair, run_checks};
use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Query, text};
use crate::warehouse::Warehouse;

/// How many failure rows of each processor an explanation quotes.
pub const SAMPLES_PER_PROCESSOR: i64 = 3;

/// What is the matter with the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No game that day: nothing is expected, and it has no rows.
    NoGames,
    /// Complete, and not older than its upstream.
    Healthy,
    /// Something is wrong with the pair itself.
    Root,
    /// Every defective entity is explained by defects upstream the same day.
    Consequence,
    /// Complete, but computed before an upstream processor's latest rows of the day.
    Stale,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::NoGames => "no_games",
            Verdict::Healthy => "healthy",
            Verdict::Root => "root",
            Verdict::Consequence => "consequence",
            Verdict::Stale => "stale",
        }
    }

    /// Does the pair need a rerun?
    pub fn needs_repair(self) -> bool {
        match self {
            Verdict::NoGames | Verdict::Healthy => false,
            Verdict::Root | Verdict::Consequence | Verdict::Stale => true,
        }
    }
}

/// One defective pair of the chain and the upstream pairs that explain its entities.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub row: DateRow,
    pub kind: DefectKind,
    pub role: Role,
    /// How many of the defective entities of the step above this pair explains (`None`
    /// for the pair asked about).
    pub explains: Option<i64>,
    /// The pair is shown elsewhere in the tree with its own steps: not repeated here.
    pub shown_above: bool,
    /// In catalog order.
    pub steps: Vec<Step>,
}

/// One quoted failure row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureSample {
    pub processor: ProcessorId,
    pub entity: String,
    pub category: String,
    pub reason: String,
}

/// Everything `explain` says about one pair.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub verdict: Verdict,
    /// Its reconciliation row (none when the day has neither games nor rows).
    pub row: Option<DateRow>,
    /// The tree of the pair, when it is defective.
    pub chain: Option<Step>,
    /// Its rows are older than an upstream processor's of the day.
    pub stale: Option<StalePair>,
    /// A few failure rows of each processor of the chain, by processor then entity.
    pub samples: Vec<FailureSample>,
    /// How many real-failure rows each processor of the chain has that day.
    pub failure_rows: BTreeMap<ProcessorId, i64>,
    /// The processors to rerun on the date: every root of its chain (itself, when it
    /// is a root or only stale; the roots behind a root's explained entities too) and
    /// everything downstream of them, in catalog order; empty when nothing needs a rerun.
    pub repair: Vec<ProcessorId>,
    pub queries: usize,
}

/// Checks one day and explains `processor` on it.
pub fn explain(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    processor: ProcessorId,
    date: NaiveDate,
) -> Result<Explanation, Error> {
    let day = DateRange::day(date).map_err(|e| Error::usage(e.to_string()))?;
    let request = CheckRequest {
        range: Some(day),
        processors: vec![processor],
        max_lag: None,
    };
    let before = warehouse.queries_run();
    let findings = run_checks(warehouse, catalog, &request)?;
    let mut explanation = Explanation::of(catalog, &findings, processor, date);
    let in_chain = explanation.chain_processors();
    if !in_chain.is_empty() {
        let ids = catalog.with_upstream(&[processor]);
        let rows = warehouse.query(&failure_samples_query(catalog, &ids, day))?;
        for row in super::rows_by_processor(catalog, &ids, &rows, |p, row| {
            Ok((
                p,
                FailureSample {
                    processor: p,
                    entity: row.text("entity")?,
                    category: row.text("category")?,
                    reason: row.text("reason")?,
                },
                row.int("total")?,
            ))
        })? {
            let (p, sample, total) = row;
            if in_chain.contains(&p) {
                explanation.failure_rows.insert(p, total);
                explanation.samples.push(sample);
            }
        }
    }
    // Catalog order, as every list of processors (the query sorts by code).
    explanation
        .samples
        .sort_by(|a, b| (a.processor, &a.entity).cmp(&(b.processor, &b.entity)));
    explanation.queries = warehouse.queries_run() - before;
    Ok(explanation)
}

/// `failure_samples.sql` for processors `ids` (with their upstream) over `day`.
pub fn failure_samples_query(catalog: &Catalog, ids: &[ProcessorId], day: DateRange) -> Query {
    let (upstream, _) = upstream_parts(catalog, ids);
    let query = with_entity_slots(
        Query::new("failure_samples", text::FAILURE_SAMPLES),
        catalog,
        ids,
        &upstream,
    )
    .param("per_processor", Param::Int(SAMPLES_PER_PROCESSOR));
    super::per_processor_query(catalog, ids, day, query)
}

impl Explanation {
    /// Explains `processor` on `date` from findings over that day.
    pub fn of(
        catalog: &Catalog,
        findings: &Findings,
        processor: ProcessorId,
        date: NaiveDate,
    ) -> Explanation {
        let rows: BTreeMap<ProcessorId, &DateRow> = findings
            .rows
            .iter()
            .chain(&findings.upstream_rows)
            .filter(|r| r.date == date)
            .map(|r| (r.processor, r))
            .collect();
        let row = rows.get(&processor).map(|r| (*r).clone());
        let stale = findings
            .stale
            .iter()
            .find(|s| s.processor == processor && s.date == date)
            .cloned();
        let role = findings.attribution.role(processor, date).cloned();
        let verdict = match (&row, &role) {
            (_, Some(Role::Root)) => Verdict::Root,
            (_, Some(Role::Consequence(_))) => Verdict::Consequence,
            (_, None) if stale.is_some() => Verdict::Stale,
            (Some(r), None) if r.expected > 0 => Verdict::Healthy,
            _ => Verdict::NoGames,
        };
        let chain = row.as_ref().and_then(|r| {
            let mut shown = BTreeSet::new();
            step(catalog, findings, &rows, r, None, true, &mut shown)
        });
        // Every root of the chain (a root's own explained entities need theirs fixed
        // too), and what is downstream of them.
        let repair = match (&chain, verdict) {
            (_, Verdict::NoGames | Verdict::Healthy) => Vec::new(),
            (Some(chain), _) => {
                let roots: Vec<ProcessorId> = chain
                    .walk()
                    .into_iter()
                    .filter(|s| s.role.is_root())
                    .map(|s| s.row.processor)
                    .collect();
                catalog.with_downstream(&roots)
            }
            (None, _) => catalog.with_downstream(&[processor]),
        };
        Explanation {
            processor,
            date,
            verdict,
            row,
            chain,
            stale,
            samples: Vec::new(),
            failure_rows: BTreeMap::new(),
            repair,
            queries: findings.queries,
        }
    }

    /// The roots of a consequence, in catalog order (none otherwise).
    pub fn causes(&self) -> Vec<ProcessorId> {
        match &self.chain {
            Some(Step {
                role: Role::Consequence(causes),
                ..
            }) => causes.clone(),
            _ => Vec::new(),
        }
    }

    /// The processors of the chain's pairs.
    pub fn chain_processors(&self) -> BTreeSet<ProcessorId> {
        self.chain
            .iter()
            .flat_map(Step::walk)
            .map(|s| s.row.processor)
            .collect()
    }
}

impl Step {
    /// This step and every step below it, depth first.
    pub fn walk(&self) -> Vec<&Step> {
        let mut out = vec![self];
        for s in &self.steps {
            out.extend(s.walk());
        }
        out
    }
}

/// The step of `row` and, for the pair asked about and for consequences, the steps of
/// the upstream pairs that explain its entities: the nearest ones (an explaining pair
/// upstream of another explaining pair is reached through it), then any explaining pair
/// those do not reach. A pair is expanded once; later it is marked `shown_above`.
fn step(
    catalog: &Catalog,
    findings: &Findings,
    rows: &BTreeMap<ProcessorId, &DateRow>,
    row: &DateRow,
    explains: Option<i64>,
    top: bool,
    shown: &mut BTreeSet<ProcessorId>,
) -> Option<Step> {
    let kind = row.kind()?;
    let role = findings.attribution.role(row.processor, row.date)?.clone();
    let shown_above = !shown.insert(row.processor);
    let mut steps = Vec::new();
    if !shown_above && (top || !role.is_root()) {
        let explaining: Vec<(ProcessorId, i64)> = row
            .explained_by
            .iter()
            .copied()
            .filter(|&(up, n)| n > 0 && rows.get(&up).is_some_and(|r| r.kind().is_some()))
            .collect();
        let nearest = |up: ProcessorId| {
            !explaining
                .iter()
                .any(|&(other, _)| other != up && catalog.is_upstream(up, other))
        };
        let (first, rest): (Vec<_>, Vec<_>) = explaining.iter().partition(|&&(up, _)| nearest(up));
        for (up, n) in first.into_iter().chain(rest) {
            if steps
                .iter()
                .any(|s: &Step| s.walk().iter().any(|w| w.row.processor == up))
            {
                continue;
            }
            if let Some(s) = rows
                .get(&up)
                .and_then(|r| step(catalog, findings, rows, r, Some(n), false, shown))
            {
                steps.push(s);
            }
        }
        steps.sort_by_key(|s| s.row.processor);
    }
    Some(Step {
        row: row.clone(),
        kind,
        role,
        explains,
        shown_above,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Attribution;
    use crate::checks::roots::tests::{d, row};

    fn findings(catalog: &Catalog, rows: Vec<DateRow>) -> Findings {
        Findings {
            range: DateRange::day(d(4)).unwrap(),
            queries: 5,
            elapsed: std::time::Duration::ZERO,
            selected: catalog.ids().collect(),
            attribution: Attribution::of(catalog, &rows),
            rows,
            upstream_rows: Vec::new(),
            stale: Vec::new(),
            failures: Vec::new(),
            breakers: Vec::new(),
            seasons: Vec::new(),
            skip_weeks: Vec::new(),
            content: Default::default(),
            freshness: Vec::new(),
            max_lag: None,
            warehouse_span: None,
        }
    }

    fn codes(catalog: &Catalog, step: &Step) -> String {
        let inner: Vec<String> = step.steps.iter().map(|s| codes(catalog, s)).collect();
        let own = catalog.code(step.row.processor).to_string();
        if inner.is_empty() {
            own
        } else {
            format!("{own}({})", inner.join(" "))
        }
    }

    #[test]
    fn the_chain_goes_through_the_nearest_explaining_pairs_once_each() {
        let c = Catalog::builtin().unwrap();
        let rows = vec![
            row(&c, "TDZA", 4, 0, 100, &[]),
            row(&c, "PCF", 4, 80, 0, &[("TDZA", 80)]),
            row(&c, "PDC", 4, 80, 0, &[("TDZA", 80), ("PCF", 80)]),
            row(
                &c,
                "ML",
                4,
                80,
                0,
                &[("TDZA", 80), ("PCF", 80), ("PDC", 80)],
            ),
        ];
        let f = findings(&c, rows);
        let e = Explanation::of(&c, &f, c.find("ML").unwrap(), d(4));
        assert_eq!(e.verdict, Verdict::Consequence);
        let chain = e.chain.as_ref().unwrap();
        assert_eq!(codes(&c, chain), "ML(PDC(PCF(TDZA)))");
        assert_eq!(chain.steps[0].explains, Some(80));
        assert_eq!(e.causes(), [c.find("TDZA").unwrap()]);
        let repair: Vec<&str> = e.repair.iter().map(|&p| c.code(p)).collect();
        assert_eq!(repair, ["TDZA", "PCF", "PDC", "ML"]);
    }

    #[test]
    fn a_cause_the_nearest_pairs_do_not_reach_is_shown_beside_them() {
        let c = Catalog::builtin().unwrap();
        // ML: 40 explained by PSZA (a root), 40 by PDC (a consequence of TDZA only).
        let rows = vec![
            row(&c, "TDZA", 4, 0, 100, &[]),
            row(&c, "PSZA", 4, 40, 0, &[]),
            row(&c, "PDC", 4, 40, 0, &[("TDZA", 40)]),
            DateRow {
                explained: 80,
                ..row(&c, "ML", 4, 80, 0, &[("PSZA", 40), ("PDC", 40)])
            },
        ];
        let f = findings(&c, rows);
        let e = Explanation::of(&c, &f, c.find("ML").unwrap(), d(4));
        let chain = e.chain.as_ref().unwrap();
        assert_eq!(codes(&c, chain), "ML(PSZA PDC(TDZA))");
        let causes: Vec<&str> = e.causes().iter().map(|&p| c.code(p)).collect();
        assert_eq!(causes, ["TDZA", "PSZA"]);
    }

    #[test]
    fn a_root_with_some_entities_explained_shows_them_and_stops_below() {
        let c = Catalog::builtin().unwrap();
        let rows = vec![
            row(&c, "TDZA", 4, 0, 100, &[]),
            row(&c, "PCF", 4, 80, 0, &[("TDZA", 80)]),
            // 81 defective, 80 explained: a root of its own.
            row(&c, "PDC", 4, 81, 0, &[("PCF", 80)]),
        ];
        let f = findings(&c, rows);
        let pdc = Explanation::of(&c, &f, c.find("PDC").unwrap(), d(4));
        assert_eq!(pdc.verdict, Verdict::Root);
        assert_eq!(codes(&c, pdc.chain.as_ref().unwrap()), "PDC(PCF(TDZA))");
        // Its explained entities need TDZA fixed first: the repair reruns it too.
        let repair: Vec<&str> = pdc.repair.iter().map(|&p| c.code(p)).collect();
        assert_eq!(repair, ["TDZA", "PCF", "PDC", "ML"]);
        let healthy = Explanation::of(&c, &f, c.find("ML").unwrap(), d(4));
        assert_eq!(healthy.verdict, Verdict::NoGames, "no row at all that day");
        assert!(healthy.repair.is_empty());
    }
}
