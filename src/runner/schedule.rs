//! The pipelined DAG of a repair run: the units (invocations) of a stored plan, their
//! dependencies, and the dispatcher that starts each unit when it may.
//!
//! A unit (one invocation: one pair, or up to `batch_days` consecutive game dates of one
//! processor) may start when the units of its upstream processors for the same dates are
//! done and the previous planned date of its own processor has finished. Units run
//! concurrently up to `--jobs`; a unit that fails for good blocks its downstream units,
//! and the run goes on with everything else. [`super::executor`] runs one unit.

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::checkpoint::{CheckpointWriter, PairState, PairStatus, StatusCounts, summarize};
use super::events::{EscapedProcess, EventLog, RunEvent};
use super::executor::{UnitOutcome, run_unit};
use super::process::{GroupRegistry, Shutdown, end_escaped_descendants};
use super::progress::Progress;
use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::plan::{PlannedPair, RunPair, StoredPair};
use crate::settings::RepairSettings;
use crate::warehouse::Engine;

/// One invocation of a processor.
#[derive(Debug, Clone)]
pub struct Unit {
    pub processor: ProcessorId,
    /// Indices into the plan, oldest first.
    pub pairs: Vec<usize>,
    /// The dates of those pairs, index-aligned.
    pub dates: Vec<NaiveDate>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The nearest units of upstream processors on the same dates (through processors
    /// not in the plan): this unit starts when they are done, and their failure blocks it.
    /// Farther ones are reached through these, so the edges stay few.
    pub upstream: Vec<usize>,
    /// The unit of the previous planned date of the same processor.
    pub after: Option<usize>,
    /// Its place among the units of its processor (0 = oldest): it may start only when
    /// every unit before it has finished.
    pub position: usize,
}

impl Unit {
    /// The unit's first plan index: what progress knows a running unit by.
    pub fn key(&self) -> usize {
        self.pairs.first().copied().unwrap_or_default()
    }
}

/// Groups consecutive planned game dates of one processor into batches of up to its
/// `batch_days`; every other pair is a batch of its own. Batch ids follow plan order.
pub fn assign_batches(
    catalog: &Catalog,
    pairs: &[PlannedPair],
    game_dates: &BTreeSet<NaiveDate>,
) -> Vec<RunPair> {
    /// The batch being filled: its processor, last date, id and size.
    struct Open {
        processor: ProcessorId,
        last: NaiveDate,
        batch: usize,
        size: u32,
    }
    let mut out: Vec<RunPair> = Vec::with_capacity(pairs.len());
    let mut next_batch = 0;
    let mut open: Option<Open> = None;
    for pair in pairs {
        let limit = catalog.get(pair.processor).batch_days;
        let batch = match open.as_mut() {
            Some(o)
                if o.processor == pair.processor
                    && o.size < limit
                    && o.last < pair.date
                    && game_dates.contains(&o.last)
                    && game_dates.contains(&pair.date)
                    && game_dates.range(o.last..pair.date).nth(1).is_none() =>
            {
                o.last = pair.date;
                o.size += 1;
                o.batch
            }
            _ => {
                let batch = next_batch;
                next_batch += 1;
                open = Some(Open {
                    processor: pair.processor,
                    last: pair.date,
                    batch,
                    size: 1,
                });
                batch
            }
        };
        out.push(RunPair {
            pair: pair.clone(),
            batch,
            tripped: None,
        });
    }
    out
}

/// The units of a plan with their dependencies.
pub fn build_units(catalog: &Catalog, plan: &[RunPair]) -> Vec<Unit> {
    let mut by_batch: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, p) in plan.iter().enumerate() {
        by_batch.entry(p.batch).or_default().push(i);
    }
    let mut units: Vec<Unit> = Vec::with_capacity(by_batch.len());
    let mut unit_of_pair = vec![0usize; plan.len()];
    for members in by_batch.into_values() {
        let first = &plan[members[0]].pair;
        let dates: Vec<NaiveDate> = members.iter().map(|&i| plan[i].pair.date).collect();
        let id = units.len();
        for &i in &members {
            unit_of_pair[i] = id;
        }
        units.push(Unit {
            processor: first.processor,
            start: dates.iter().copied().min().unwrap_or(first.date),
            end: dates.iter().copied().max().unwrap_or(first.date),
            pairs: members,
            dates,
            upstream: Vec::new(),
            after: None,
            position: 0,
        });
    }
    // Dependencies: the nearest planned upstream processors on the same dates; the
    // previous planned date of the same processor.
    let mut by_date: BTreeMap<NaiveDate, BTreeMap<ProcessorId, usize>> = BTreeMap::new();
    for (i, p) in plan.iter().enumerate() {
        by_date
            .entry(p.pair.date)
            .or_default()
            .insert(p.pair.processor, unit_of_pair[i]);
    }
    let mut upstream: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); units.len()];
    for planned in by_date.values() {
        // In run order, each processor's nearest planned upstream units on this date:
        // a planned dependency itself, else what that dependency reaches.
        let mut reach: BTreeMap<ProcessorId, BTreeSet<usize>> = BTreeMap::new();
        for &p in catalog.run_order() {
            let mut nearest = BTreeSet::new();
            for dep in &catalog.get(p).depends_on {
                match planned.get(dep) {
                    Some(&u) => {
                        nearest.insert(u);
                    }
                    None => nearest.extend(reach.get(dep).into_iter().flatten()),
                }
            }
            match planned.get(&p) {
                Some(&u) => upstream[u].extend(nearest.into_iter().filter(|&d| d != u)),
                None if !nearest.is_empty() => {
                    reach.insert(p, nearest);
                }
                None => {}
            }
        }
    }
    let mut last_of_processor: BTreeMap<ProcessorId, usize> = BTreeMap::new();
    let mut count_of_processor: BTreeMap<ProcessorId, usize> = BTreeMap::new();
    for (u, unit) in units.iter_mut().enumerate() {
        unit.upstream = std::mem::take(&mut upstream[u]).into_iter().collect();
        unit.after = last_of_processor.insert(unit.processor, u);
        let count = count_of_processor.entry(unit.processor).or_default();
        unit.position = *count;
        *count += 1;
    }
    units
}

/// The outcome of a whole run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub counts: StatusCounts,
    /// The state of every pair of the plan, index-aligned with it.
    pub states: Vec<PairState>,
    pub wall: Duration,
    pub interrupted: bool,
    pub halted: bool,
    pub breakers_reset: u64,
    pub run_dir: PathBuf,
    /// Pairs (plan indices) that ran after an earlier planned date of their processor had
    /// failed or been blocked: their lookback windows may have read incomplete data.
    pub ran_after_gap: Vec<usize>,
    /// Processes that left their process group and were ended with their invocation,
    /// as `PCF 2021-12-04: pid 7 (sleep)`.
    pub escaped: Vec<String>,
}

impl RunSummary {
    pub fn all_done(&self) -> bool {
        !self.interrupted && self.counts.all_done()
    }
}

/// What every unit of a run shares.
pub(super) struct Context {
    pub engine: Arc<dyn Engine>,
    pub catalog: Catalog,
    pub plan: Vec<RunPair>,
    pub settings: RepairSettings,
    /// The directory of this run's logs and events.
    pub run_dir: PathBuf,
    pub registry: GroupRegistry,
    pub events: EventLog,
    pub progress: Progress,
    /// This binary, for `{exe}` in command templates.
    pub exe: String,
    /// Processes that left their process group, as `PCF 2021-12-04: pid 7 (sleep)`.
    pub escaped: std::sync::Mutex<Vec<String>>,
}

impl Context {
    pub fn code(&self, unit: &Unit) -> &str {
        self.catalog.code(unit.processor)
    }
}

/// Where a unit is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UnitState {
    Waiting,
    Running,
    Finished(PairStatus),
}

/// The units of one processor, oldest first, and how many of them have finished from
/// the start (a unit may start only when all before it have).
#[derive(Default)]
struct Chain {
    units: Vec<usize>,
    finished: usize,
    /// One of the finished ones did not complete.
    gap: bool,
}

/// The dispatcher: starts units as their dependencies allow, records every outcome.
/// Event-driven: a unit's finish touches only its downstream units and the next unit of
/// its processor, so a run costs O(units + edges), however long the plan.
struct Dispatcher<'w> {
    ctx: Arc<Context>,
    units: Vec<Unit>,
    state: Vec<UnitState>,
    chains: BTreeMap<ProcessorId, Chain>,
    /// The units whose `upstream` holds a unit, by that unit.
    downstream: Vec<Vec<usize>>,
    /// How many of a unit's upstream units are not done yet.
    waiting_on: Vec<usize>,
    /// Waiting units that may start now: upstream done, every earlier unit of their
    /// processor finished. Started lowest first, which is plan order.
    startable: BTreeSet<usize>,
    writer: &'w mut CheckpointWriter<StoredPair>,
    running: JoinSet<(usize, UnitOutcome)>,
    halted: bool,
    breakers_reset: u64,
    ran_after_gap: Vec<usize>,
}

/// Runs the units of `ctx.plan` that are not done yet, recording every pair outcome in
/// the checkpoint before the next start that depends on it.
pub(super) async fn execute(
    ctx: Context,
    writer: &mut CheckpointWriter<StoredPair>,
    shutdown: watch::Receiver<Shutdown>,
) -> Result<RunSummary, Error> {
    let started = Instant::now();
    let ctx = Arc::new(ctx);
    let units = build_units(&ctx.catalog, &ctx.plan);
    let already_done = summarize(&writer.checkpoint().states).done;
    ctx.progress.begin(&ctx.plan, &writer.checkpoint().states);
    ctx.events.write(&RunEvent::RunStarted {
        pairs: ctx.plan.len(),
        already_done,
    });
    let mut dispatcher = Dispatcher::new(ctx.clone(), units, writer);
    let dispatched = dispatcher.run(shutdown.clone()).await;
    if dispatched.is_err() {
        // Each aborted invocation ends its processes as it is dropped.
        dispatcher.running.shutdown().await;
    }
    let (halted, breakers_reset) = (dispatcher.halted, dispatcher.breakers_reset);
    let ran_after_gap = std::mem::take(&mut dispatcher.ran_after_gap);
    ctx.progress.end();
    // A last sweep for descendants that escaped their group, on every way out.
    let escaped = end_escaped_descendants(&[]);
    if !escaped.is_empty() {
        ctx.events.write(&RunEvent::EscapedDescendantsEnded {
            pids: escaped.iter().map(|(pid, _)| *pid).collect(),
            processes: EscapedProcess::list(&escaped),
        });
        if let Ok(mut list) = ctx.escaped.lock() {
            list.extend(
                escaped
                    .iter()
                    .map(|(pid, name)| format!("after the run: pid {pid} ({name})")),
            );
        }
    }
    dispatched?;

    let interrupted = *shutdown.borrow() != Shutdown::Running;
    let states = writer.checkpoint().states.clone();
    let counts = summarize(&states);
    ctx.events.write(&RunEvent::RunFinished {
        counts,
        interrupted,
        halted,
    });
    Ok(RunSummary {
        counts,
        states,
        wall: started.elapsed(),
        interrupted,
        halted,
        breakers_reset,
        run_dir: ctx.run_dir.clone(),
        ran_after_gap,
        escaped: ctx
            .escaped
            .lock()
            .map(|list| list.clone())
            .unwrap_or_default(),
    })
}

/// A status that blocks the units downstream.
fn blocks_downstream(status: PairStatus) -> bool {
    matches!(
        status,
        PairStatus::Failed | PairStatus::TimedOut | PairStatus::Blocked | PairStatus::Unverified
    )
}

impl<'w> Dispatcher<'w> {
    /// Units whose pairs are all done (a resumed run's) start finished; the others wait.
    fn new(
        ctx: Arc<Context>,
        units: Vec<Unit>,
        writer: &'w mut CheckpointWriter<StoredPair>,
    ) -> Self {
        let states = &writer.checkpoint().states;
        let state: Vec<UnitState> = units
            .iter()
            .map(|u| {
                if u.pairs
                    .iter()
                    .all(|&i| states[i].status == PairStatus::Done)
                {
                    UnitState::Finished(PairStatus::Done)
                } else {
                    UnitState::Waiting
                }
            })
            .collect();
        let mut chains: BTreeMap<ProcessorId, Chain> = BTreeMap::new();
        let mut downstream = vec![Vec::new(); units.len()];
        let mut waiting_on = vec![0; units.len()];
        for (u, unit) in units.iter().enumerate() {
            chains.entry(unit.processor).or_default().units.push(u);
            for &d in &unit.upstream {
                downstream[d].push(u);
                if state[d] != UnitState::Finished(PairStatus::Done) {
                    waiting_on[u] += 1;
                }
            }
        }
        let processors: Vec<ProcessorId> = chains.keys().copied().collect();
        let mut dispatcher = Dispatcher {
            ctx,
            units,
            state,
            chains,
            downstream,
            waiting_on,
            startable: BTreeSet::new(),
            writer,
            running: JoinSet::new(),
            halted: false,
            breakers_reset: 0,
            ran_after_gap: Vec::new(),
        };
        for p in processors {
            dispatcher.advance_chain(p);
        }
        dispatcher
    }

    async fn run(&mut self, shutdown: watch::Receiver<Shutdown>) -> Result<(), Error> {
        let mut shutdown_watch = shutdown.clone();
        let mut watching = true;
        loop {
            let stopping = self.halted || *shutdown_watch.borrow() != Shutdown::Running;
            if !stopping {
                self.start_ready(&shutdown);
            }
            if self.running.is_empty() {
                return Ok(());
            }
            tokio::select! {
                joined = self.running.join_next() => {
                    let Some(joined) = joined else { continue };
                    // Every unit that has finished by now is recorded with this one: one
                    // sync for all, still before anything that depends on them starts.
                    let mut finished = vec![joined];
                    while let Some(more) = self.running.try_join_next() {
                        finished.push(more);
                    }
                    let outcomes = finished
                        .into_iter()
                        .map(|j| j.map_err(|e| Error::internal(format!("a runner task failed: {e}"))))
                        .collect::<Result<Vec<_>, Error>>()?;
                    self.record(outcomes)?;
                }
                changed = shutdown_watch.changed(), if watching => {
                    // The sender lives as long as the run; if it is gone, stop watching it.
                    watching = changed.is_ok();
                }
            }
        }
    }

    /// Moves `processor`'s count of finished units past those that have finished, and
    /// makes its next unit startable if its upstream is done.
    fn advance_chain(&mut self, processor: ProcessorId) {
        let Some(chain) = self.chains.get_mut(&processor) else {
            return;
        };
        while let Some(&next) = chain.units.get(chain.finished) {
            match self.state[next] {
                UnitState::Finished(status) => {
                    chain.gap |= status != PairStatus::Done;
                    chain.finished += 1;
                }
                UnitState::Waiting | UnitState::Running => break,
            }
        }
        if let Some(&head) = chain.units.get(chain.finished)
            && self.state[head] == UnitState::Waiting
            && self.waiting_on[head] == 0
        {
            self.startable.insert(head);
        }
    }

    /// Unit `u` has finished with `status`: its downstream units hear of it (a failure
    /// blocks them, and theirs, in turn), and its processor's next unit may start.
    fn finish(&mut self, u: usize, status: PairStatus) -> Result<(), Error> {
        self.state[u] = UnitState::Finished(status);
        self.startable.remove(&u);
        self.advance_chain(self.units[u].processor);
        // (unit, the unit that failed first) for each unit to block.
        let mut blocked: Vec<(usize, usize)> = Vec::new();
        let mut notify = vec![(u, u)];
        while let Some((d, cause)) = notify.pop() {
            let PairStatus::Done = status_of(self.state[d]) else {
                if blocks_downstream(status_of(self.state[d])) {
                    for &v in &self.downstream[d] {
                        if self.state[v] == UnitState::Waiting {
                            self.state[v] = UnitState::Finished(PairStatus::Blocked);
                            blocked.push((v, cause));
                            notify.push((v, cause));
                        }
                    }
                }
                continue;
            };
            for i in 0..self.downstream[d].len() {
                let v = self.downstream[d][i];
                self.waiting_on[v] = self.waiting_on[v].saturating_sub(1);
                if self.waiting_on[v] == 0 && self.state[v] == UnitState::Waiting {
                    self.advance_chain(self.units[v].processor);
                }
            }
        }
        for (v, cause) in blocked {
            self.record_blocked(v, cause)?;
            self.startable.remove(&v);
            self.advance_chain(self.units[v].processor);
        }
        Ok(())
    }

    /// Records every pair of unit `v` as blocked by unit `cause`'s failure.
    fn record_blocked(&mut self, v: usize, cause: usize) -> Result<(), Error> {
        let up = &self.ctx.plan[self.units[cause].pairs[0]].pair;
        let why = format!(
            "blocked: upstream {} {} did not complete",
            self.ctx.catalog.code(up.processor),
            up.date
        );
        let unit = &self.units[v];
        for &i in &unit.pairs {
            let st = PairState {
                status: PairStatus::Blocked,
                attempts: 0,
                duration_ms: 0,
                last_error: Some(why.clone()),
                log_path: None,
            };
            self.writer
                .record(i, st)
                .map_err(super::repair::checkpoint_error)?;
            self.ctx.progress.finished(
                i,
                &self.ctx.plan[i].pair,
                PairStatus::Blocked,
                Duration::ZERO,
            );
        }
        self.ctx.events.write(&RunEvent::Blocked {
            processor: self.ctx.code(unit),
            start: unit.start,
            end: unit.end,
            why: &why,
        });
        Ok(())
    }

    /// Starts startable units, lowest first, up to `--jobs` running at once. A unit that
    /// starts after an earlier date of its processor failed or was blocked runs (dates run
    /// in order, never concurrently) and is named in the summary.
    fn start_ready(&mut self, shutdown: &watch::Receiver<Shutdown>) {
        while self.running.len() < self.ctx.settings.jobs.max(1) {
            let Some(u) = self.startable.pop_first() else {
                break;
            };
            let after_gap = self
                .chains
                .get(&self.units[u].processor)
                .is_some_and(|c| c.gap);
            self.state[u] = UnitState::Running;
            if after_gap {
                self.ran_after_gap.extend(&self.units[u].pairs);
            }
            let ctx = self.ctx.clone();
            let unit = self.units[u].clone();
            let rx = shutdown.clone();
            self.running
                .spawn(async move { (u, run_unit(&ctx, &unit, rx, after_gap).await) });
        }
    }

    /// Records the outcomes of finished units, durably, before anything that depends on
    /// them.
    fn record(&mut self, outcomes: Vec<(usize, UnitOutcome)>) -> Result<(), Error> {
        let mut states = Vec::new();
        let mut worst_of = Vec::with_capacity(outcomes.len());
        for (u, outcome) in outcomes {
            self.breakers_reset += outcome.breakers_reset;
            let mut worst = PairStatus::Done;
            for (i, st) in outcome.states {
                if st.status != PairStatus::Done {
                    worst = st.status;
                }
                states.push((i, st));
            }
            worst_of.push((u, worst));
        }
        self.writer
            .record_all(states)
            .map_err(super::repair::checkpoint_error)?;
        for (u, worst) in worst_of {
            if worst != PairStatus::Done
                && worst != PairStatus::Interrupted
                && self.ctx.settings.halt_on_failure
            {
                self.halted = true;
            }
            self.finish(u, worst)?;
        }
        Ok(())
    }
}

fn status_of(state: UnitState) -> PairStatus {
    match state {
        UnitState::Finished(status) => status,
        UnitState::Waiting | UnitState::Running => PairStatus::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Reason;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 12, day).unwrap()
    }

    fn pair(catalog: &Catalog, code: &str, day: u32) -> PlannedPair {
        PlannedPair {
            processor: catalog.find(code).unwrap(),
            date: d(day),
            reasons: vec![Reason::Missing],
            role: crate::plan::PlanRole::Root,
        }
    }

    fn catalog_with_batches(days: u32) -> Catalog {
        let text = crate::catalog::DEFAULT_CATALOG
            .replace("batch_days = 1", &format!("batch_days = {days}"));
        Catalog::parse(&text, "test").unwrap()
    }

    #[test]
    fn consecutive_game_dates_of_one_processor_share_a_batch_up_to_batch_days() {
        let catalog = catalog_with_batches(3);
        // Dec 5 has no games: Dec 4 and Dec 6 are consecutive game dates.
        let games: BTreeSet<NaiveDate> = [1, 2, 3, 4, 6, 7, 9].into_iter().map(d).collect();
        let plan = vec![
            pair(&catalog, "TDZA", 1),
            pair(&catalog, "TDZA", 2),
            pair(&catalog, "TDZA", 3),
            pair(&catalog, "TDZA", 4),
            pair(&catalog, "TDZA", 6),
            pair(&catalog, "TDZA", 9),
            pair(&catalog, "PCF", 1),
        ];
        let batches: Vec<usize> = assign_batches(&catalog, &plan, &games)
            .iter()
            .map(|p| p.batch)
            .collect();
        // [1,2,3] full; [4,6] consecutive game dates; 9 skips game date 7; PCF its own.
        assert_eq!(batches, [0, 0, 0, 1, 1, 2, 3]);
        let units = build_units(&catalog, &assign_batches(&catalog, &plan, &games));
        assert_eq!(units.len(), 4);
        assert_eq!((units[1].start, units[1].end), (d(4), d(6)));
        assert_eq!(units[1].after, Some(0), "a processor's dates run in order");
        assert_eq!(
            units[3].upstream,
            [0],
            "PCF Dec 1 waits for the TDZA batch holding Dec 1"
        );
    }

    #[test]
    fn a_unit_waits_only_for_its_nearest_planned_upstream_units() {
        let catalog = Catalog::builtin().unwrap();
        let games: BTreeSet<NaiveDate> = [1].into_iter().map(d).collect();
        // ML depends on TDZA, PSZA, PCF and PDC; PDC is not planned and reaches TDZA, PCF.
        let plan = vec![
            pair(&catalog, "TDZA", 1),
            pair(&catalog, "PCF", 1),
            pair(&catalog, "ML", 1),
        ];
        let units = build_units(&catalog, &assign_batches(&catalog, &plan, &games));
        assert_eq!(units[1].upstream, [0]);
        assert_eq!(units[2].upstream, [0, 1]);
        // Through processors that are not planned at all.
        let plan = vec![pair(&catalog, "TDZA", 1), pair(&catalog, "ML", 1)];
        let units = build_units(&catalog, &assign_batches(&catalog, &plan, &games));
        assert_eq!(units[1].upstream, [0]);
    }

    #[test]
    fn a_thousand_processor_chain_over_a_season_has_one_edge_a_unit() {
        use crate::catalog::tests::generated;
        let catalog =
            Catalog::parse(&generated(crate::catalog::MAX_PROCESSORS, true), "chain").unwrap();
        let dates: Vec<NaiveDate> = (0..150).map(|n| d(1) + chrono::Duration::days(n)).collect();
        let games: BTreeSet<NaiveDate> = dates.iter().copied().collect();
        let plan: Vec<PlannedPair> = catalog
            .run_order()
            .iter()
            .flat_map(|&processor| {
                dates.iter().map(move |&date| PlannedPair {
                    processor,
                    date,
                    reasons: vec![Reason::Missing],
                    role: crate::plan::PlanRole::Root,
                })
            })
            .collect();
        let units = build_units(&catalog, &assign_batches(&catalog, &plan, &games));
        assert_eq!(units.len(), 150_000);
        let edges: usize = units.iter().map(|u| u.upstream.len()).sum();
        // Each processor's unit on a date waits for the one before it in the chain only,
        // not for all of its (transitive) upstream.
        assert_eq!(edges, 999 * 150);
        let last = &units[units.len() - 1];
        assert_eq!(last.upstream.len(), 1);
        assert_eq!(units[last.upstream[0]].dates, last.dates);
    }

    #[test]
    fn without_batch_days_every_pair_is_its_own_invocation() {
        let catalog = Catalog::builtin().unwrap();
        let games: BTreeSet<NaiveDate> = [1, 2].into_iter().map(d).collect();
        let plan = vec![
            pair(&catalog, "TDZA", 1),
            pair(&catalog, "TDZA", 2),
            pair(&catalog, "ML", 1),
            pair(&catalog, "ML", 2),
        ];
        let run = assign_batches(&catalog, &plan, &games);
        let units = build_units(&catalog, &run);
        assert_eq!(units.len(), 4);
        assert_eq!(units[2].upstream, [0]);
        assert_eq!(units[3].upstream, [1]);
        assert_eq!(units[3].after, Some(2));
    }
}
