//! The pipelined DAG of a repair run.
//!
//! A unit (one invocation: one pair, or up to `batch_days` consecutive game dates of one
//! processor) may start when the units of its upstream processors for the same dates are
//! done and the previous planned date of its own processor has finished. Units run
//! concurrently up to `--jobs`; a unit that fails for good blocks its downstream units,
//! and the run goes on with everything else.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::checkpoint::{CheckpointWriter, PairState, PairStatus};
use super::process::{
    GroupRegistry, Invocation, InvocationOutcome, Shutdown, end_escaped_descendants, run_invocation,
};
use super::progress::Progress;
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::reconcile::{reconcile, stale_pairs};
use crate::error::Error;
use crate::plan::PlannedPair;
use crate::range::DateRange;
use crate::sql::{Param, Query};
use crate::warehouse::{WarehouseSpec, open_for_reading};

/// A planned pair as the checkpoint stores it: with the invocation (batch) it runs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPair {
    #[serde(flatten)]
    pub pair: PlannedPair,
    pub batch: usize,
}

/// How the run behaves (none of these change the plan).
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub warehouse: WarehouseSpec,
    pub jobs: usize,
    /// Overrides every processor's catalog timeout.
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// First retry delay; doubles per attempt, capped at a minute.
    pub retry_backoff: Duration,
    pub halt_on_failure: bool,
    pub verify: bool,
    pub keep_breakers: bool,
    /// The directory of this run's logs and events.
    pub run_dir: PathBuf,
}

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
    /// Units of upstream processors on the same dates: their failure blocks this unit.
    pub upstream: Vec<usize>,
    /// The unit of the previous planned date of the same processor: must have finished.
    pub after: Option<usize>,
}

/// Groups consecutive planned game dates of one processor into batches of up to its
/// `batch_days`; every other pair is a batch of its own. Batch ids follow plan order.
pub fn assign_batches(
    catalog: &Catalog,
    pairs: &[PlannedPair],
    game_dates: &BTreeSet<NaiveDate>,
) -> Vec<RunPair> {
    let mut out: Vec<RunPair> = Vec::with_capacity(pairs.len());
    let mut next_batch = 0;
    let mut open: Option<(String, NaiveDate, usize, u32)> = None; // processor, last date, batch, size
    for pair in pairs {
        let limit = catalog
            .find(&pair.processor)
            .map(|id| catalog.get(id).batch_days)
            .unwrap_or(1);
        let joins = match &open {
            Some((processor, last, _, size)) => {
                processor == &pair.processor
                    && *size < limit
                    && *last < pair.date
                    && game_dates.contains(last)
                    && game_dates.contains(&pair.date)
                    && game_dates.range(*last..pair.date).nth(1).is_none()
            }
            None => false,
        };
        let batch = if joins {
            let (_, last, batch, size) = open.as_mut().expect("checked above");
            *last = pair.date;
            *size += 1;
            *batch
        } else {
            let batch = next_batch;
            next_batch += 1;
            open = Some((pair.processor.clone(), pair.date, batch, 1));
            batch
        };
        out.push(RunPair {
            pair: pair.clone(),
            batch,
        });
    }
    out
}

/// The units of a stored plan with their dependencies.
pub fn build_units(catalog: &Catalog, plan: &[RunPair]) -> Result<Vec<Unit>, Error> {
    let mut by_batch: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, p) in plan.iter().enumerate() {
        by_batch.entry(p.batch).or_default().push(i);
    }
    let mut units: Vec<Unit> = Vec::with_capacity(by_batch.len());
    let mut unit_of_pair = vec![0usize; plan.len()];
    for (_, members) in by_batch {
        let first = &plan[members[0]].pair;
        let processor = catalog.find(&first.processor).map_err(|_| {
            Error::config(format!(
                "the stored plan names processor {} which the catalog does not have",
                first.processor
            ))
        })?;
        let dates: Vec<NaiveDate> = members.iter().map(|&i| plan[i].pair.date).collect();
        let id = units.len();
        for &i in &members {
            unit_of_pair[i] = id;
        }
        units.push(Unit {
            processor,
            start: dates.iter().copied().min().unwrap_or(first.date),
            end: dates.iter().copied().max().unwrap_or(first.date),
            pairs: members,
            dates,
            upstream: Vec::new(),
            after: None,
        });
    }
    // Dependencies: upstream processors' pairs on the same dates; the previous planned
    // date of the same processor.
    let mut last_of_processor: BTreeMap<ProcessorId, usize> = BTreeMap::new();
    let mut by_date: BTreeMap<NaiveDate, Vec<(ProcessorId, usize)>> = BTreeMap::new();
    for (i, p) in plan.iter().enumerate() {
        let id = catalog.find(&p.pair.processor)?;
        by_date
            .entry(p.pair.date)
            .or_default()
            .push((id, unit_of_pair[i]));
    }
    for (u, unit) in units.iter_mut().enumerate() {
        let mut upstream = BTreeSet::new();
        for &i in &unit.pairs {
            for &(other, other_unit) in by_date.get(&plan[i].pair.date).into_iter().flatten() {
                if other_unit != u && catalog.is_upstream(other, unit.processor) {
                    upstream.insert(other_unit);
                }
            }
        }
        unit.upstream = upstream.into_iter().collect();
        unit.after = last_of_processor.insert(unit.processor, u);
    }
    Ok(units)
}

/// The outcome of a whole run.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub counts: BTreeMap<&'static str, usize>,
    pub wall: Duration,
    pub interrupted: bool,
    pub halted: bool,
    /// (processor, date, status, error, log) of every pair that did not complete.
    pub problems: Vec<(String, NaiveDate, PairStatus, String, Option<String>)>,
    pub breakers_reset: u64,
    pub run_dir: PathBuf,
}

impl RunSummary {
    pub fn all_done(&self) -> bool {
        !self.interrupted && self.counts.iter().all(|(k, n)| *k == "done" || *n == 0)
    }
}

/// Appends one JSON line per event to the run's `events.jsonl`.
pub struct EventLog {
    file: Mutex<std::fs::File>,
}

impl EventLog {
    pub fn create(path: &Path) -> Result<Self, Error> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::usage(format!("cannot write events file {}: {e}", path.display()))
            })?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    pub fn write(&self, mut event: serde_json::Value) {
        if let Some(map) = event.as_object_mut() {
            map.insert(
                "at".into(),
                serde_json::Value::String(Utc::now().to_rfc3339()),
            );
        }
        if let Ok(mut f) = self.file.lock() {
            let _ = writeln!(f, "{event}");
        }
    }
}

/// A finished unit: its index, the state of each of its pairs, breakers reset.
type UnitOutcome = (usize, Vec<(usize, PairState)>, u64);

/// A pair's index and whether its re-count reconciles (or why not).
pub type PairVerdict = (usize, Result<(), String>);

struct Context {
    catalog: Catalog,
    plan: Vec<RunPair>,
    settings: RunSettings,
    registry: GroupRegistry,
    events: EventLog,
    progress: Progress,
    exe: String,
}

/// Runs the units that are not done yet; records every pair outcome in the checkpoint.
pub async fn execute(
    catalog: &Catalog,
    settings: &RunSettings,
    writer: &mut CheckpointWriter<RunPair>,
    registry: GroupRegistry,
    progress: Progress,
    shutdown: watch::Receiver<Shutdown>,
) -> Result<RunSummary, Error> {
    let started = Instant::now();
    let units = build_units(catalog, &writer.checkpoint().plan)?;
    let events = EventLog::create(&settings.run_dir.join("events.jsonl"))?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "phase4-check".into());
    let ctx = Arc::new(Context {
        catalog: catalog.clone(),
        plan: writer.checkpoint().plan.clone(),
        settings: settings.clone(),
        registry,
        events,
        progress,
        exe,
    });

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum UnitState {
        Waiting,
        Running,
        Finished(PairStatus),
    }
    let mut state: Vec<UnitState> = units
        .iter()
        .map(|u| {
            if u.pairs
                .iter()
                .all(|&i| writer.checkpoint().states[i].status == PairStatus::Done)
            {
                UnitState::Finished(PairStatus::Done)
            } else {
                UnitState::Waiting
            }
        })
        .collect();
    let total_pairs = ctx.plan.len();
    let already_done = writer
        .checkpoint()
        .states
        .iter()
        .filter(|s| s.status == PairStatus::Done)
        .count();
    ctx.progress.begin(catalog, &ctx.plan, already_done);
    ctx.events.write(serde_json::json!({"event": "run_started", "pairs": total_pairs, "already_done": already_done}));

    let mut running: JoinSet<UnitOutcome> = JoinSet::new();
    let mut halted = false;
    let mut breakers_reset = 0;
    let mut shutdown_watch = shutdown.clone();
    let mut watching = true;
    loop {
        // Block waiting units whose upstream failed (deps always point to earlier units).
        for u in 0..units.len() {
            if state[u] != UnitState::Waiting {
                continue;
            }
            let failed_upstream = units[u].upstream.iter().find(|&&d| {
                // Interrupted upstream units stay pending for the resume; failures block.
                matches!(
                    state[d],
                    UnitState::Finished(
                        PairStatus::Failed
                            | PairStatus::TimedOut
                            | PairStatus::Blocked
                            | PairStatus::Unverified
                    )
                )
            });
            if let Some(&d) = failed_upstream {
                let up = &ctx.plan[units[d].pairs[0]].pair;
                let why = format!(
                    "blocked: upstream {} {} did not complete",
                    up.processor, up.date
                );
                for &i in &units[u].pairs {
                    let st = PairState {
                        status: PairStatus::Blocked,
                        attempts: 0,
                        duration_ms: 0,
                        last_error: Some(why.clone()),
                        log_path: None,
                    };
                    writer.record(i, st).map_err(|e| Error::Other(e.into()))?;
                    ctx.progress
                        .finished(&ctx.plan[i].pair, PairStatus::Blocked, Duration::ZERO);
                }
                ctx.events.write(serde_json::json!({"event": "blocked", "processor": catalog.code(units[u].processor), "start": units[u].start, "end": units[u].end, "why": why}));
                state[u] = UnitState::Finished(PairStatus::Blocked);
            }
        }
        let stopping = halted || *shutdown_watch.borrow() != Shutdown::Running;
        if !stopping {
            for u in 0..units.len() {
                if running.len() >= settings.jobs.max(1) {
                    break;
                }
                if state[u] != UnitState::Waiting {
                    continue;
                }
                let upstream_done = units[u]
                    .upstream
                    .iter()
                    .all(|&d| state[d] == UnitState::Finished(PairStatus::Done));
                let previous_finished = units[u]
                    .after
                    .is_none_or(|d| matches!(state[d], UnitState::Finished(_)));
                if upstream_done && previous_finished {
                    state[u] = UnitState::Running;
                    let ctx = ctx.clone();
                    let unit = units[u].clone();
                    let rx = shutdown.clone();
                    running.spawn(async move {
                        let (results, reset) = run_unit(&ctx, &unit, rx).await;
                        (u, results, reset)
                    });
                }
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next() => {
                let Some(joined) = joined else { continue };
                let (u, results, reset) = joined.map_err(|e| Error::Other(anyhow::anyhow!("a runner task failed: {e}")))?;
                breakers_reset += reset;
                let mut worst = PairStatus::Done;
                for (i, st) in results {
                    if st.status != PairStatus::Done {
                        worst = st.status;
                    }
                    writer.record(i, st).map_err(|e| Error::Other(e.into()))?;
                }
                state[u] = UnitState::Finished(worst);
                if worst != PairStatus::Done && worst != PairStatus::Interrupted && settings.halt_on_failure {
                    halted = true;
                }
            }
            changed = shutdown_watch.changed(), if watching => {
                // The sender lives as long as the run; if it is gone, stop watching it.
                watching = changed.is_ok();
            }
        }
    }
    ctx.progress.end();
    // A last sweep for descendants that escaped their group.
    let escaped = end_escaped_descendants(&[]);
    if !escaped.is_empty() {
        ctx.events
            .write(serde_json::json!({"event": "escaped_descendants_ended", "pids": escaped}));
    }

    let interrupted = *shutdown.borrow() != Shutdown::Running;
    let checkpoint = writer.checkpoint();
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for status in PairStatus::ALL {
        counts.insert(status.name(), 0);
    }
    let mut problems = Vec::new();
    for (pair, st) in checkpoint.plan.iter().zip(&checkpoint.states) {
        *counts.entry(st.status.name()).or_default() += 1;
        if st.status != PairStatus::Done {
            problems.push((
                pair.pair.processor.clone(),
                pair.pair.date,
                st.status,
                st.last_error.clone().unwrap_or_default(),
                st.log_path.clone(),
            ));
        }
    }
    ctx.events.write(serde_json::json!({"event": "run_finished", "counts": counts, "interrupted": interrupted, "halted": halted}));
    Ok(RunSummary {
        counts,
        wall: started.elapsed(),
        interrupted,
        halted,
        problems,
        breakers_reset,
        run_dir: settings.run_dir.clone(),
    })
}

/// `{start}`, `{end}`, `{date}`, `{exe}` and `{warehouse}` in an argv template.
pub fn substitute(
    template: &[String],
    start: NaiveDate,
    end: NaiveDate,
    exe: &str,
    warehouse: &str,
) -> Vec<String> {
    template
        .iter()
        .map(|arg| {
            arg.replace("{start}", &start.to_string())
                .replace("{end}", &end.to_string())
                .replace("{date}", &start.to_string())
                .replace("{exe}", exe)
                .replace("{warehouse}", warehouse)
        })
        .collect()
}

/// The warehouse as processors must be told about it: an absolute DuckDB path.
pub fn warehouse_arg(spec: &WarehouseSpec) -> String {
    match spec {
        WarehouseSpec::DuckDb(p) => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            format!("duckdb:{}", abs.display())
        }
        other => other.to_string(),
    }
}

async fn run_unit(
    ctx: &Context,
    unit: &Unit,
    shutdown: watch::Receiver<Shutdown>,
) -> (Vec<(usize, PairState)>, u64) {
    let catalog = &ctx.catalog;
    let processor = catalog.get(unit.processor);
    let code = processor.code.clone();
    let max_attempts = processor.max_attempts.max(1);
    let timeout = ctx.settings.timeout.unwrap_or(processor.timeout);
    let span = if unit.start == unit.end {
        unit.start.to_string()
    } else {
        format!("{}_{}", unit.start, unit.end)
    };
    let all = |status: PairStatus,
               attempts: u32,
               duration: Duration,
               error: Option<String>,
               log: Option<String>| {
        unit.pairs
            .iter()
            .map(|&i| {
                (
                    i,
                    PairState {
                        status,
                        attempts,
                        duration_ms: duration.as_millis() as u64,
                        last_error: error.clone(),
                        log_path: log.clone(),
                    },
                )
            })
            .collect::<Vec<_>>()
    };
    for &i in &unit.pairs {
        ctx.progress.started(&ctx.plan[i].pair);
    }
    let started = Instant::now();

    let mut reset = 0;
    if !ctx.settings.keep_breakers {
        let spec = ctx.settings.warehouse.clone();
        let cat = catalog.clone();
        let (p, s, e) = (unit.processor, unit.start, unit.end);
        match tokio::task::spawn_blocking(move || reset_breakers(&spec, &cat, p, s, e)).await {
            Ok(Ok(n)) => {
                reset = n;
                if n > 0 {
                    ctx.events.write(serde_json::json!({"event": "breakers_reset", "processor": code, "start": unit.start, "end": unit.end, "entities": n}));
                }
            }
            Ok(Err(e)) => ctx.events.write(serde_json::json!({"event": "breakers_reset_failed", "processor": code, "start": unit.start, "end": unit.end, "error": e.to_string()})),
            Err(e) => ctx.events.write(serde_json::json!({"event": "breakers_reset_failed", "processor": code, "error": e.to_string()})),
        }
    }

    let warehouse = warehouse_arg(&ctx.settings.warehouse);
    let argv = substitute(
        &processor.command,
        unit.start,
        unit.end,
        &ctx.exe,
        &warehouse,
    );
    let mut last: (PairStatus, String, Option<String>) = (PairStatus::Failed, String::new(), None);
    for attempt in 1..=max_attempts {
        let log_path = ctx
            .settings
            .run_dir
            .join("logs")
            .join(format!("{code}_{span}.attempt{attempt}.log"));
        let log = Some(log_path.display().to_string());
        let invocation = Invocation {
            argv: argv.clone(),
            log_path,
            timeout,
            grace: ctx.settings.grace,
            env: Vec::new(),
            current_dir: None,
        };
        ctx.events.write(serde_json::json!({"event": "start", "processor": code, "start": unit.start, "end": unit.end, "attempt": attempt, "argv": argv, "log": log}));
        let report = run_invocation(&invocation, shutdown.clone(), &ctx.registry).await;
        let outcome_name = format!("{:?}", report.outcome);
        ctx.events.write(serde_json::json!({"event": "exit", "processor": code, "start": unit.start, "end": unit.end, "attempt": attempt, "outcome": outcome_name, "seconds": report.duration.as_secs_f64(), "pid": report.pid}));
        match report.outcome {
            InvocationOutcome::Exited(0) => {
                if !ctx.settings.verify {
                    let results = all(
                        PairStatus::Done,
                        attempt,
                        started.elapsed(),
                        None,
                        log.clone(),
                    );
                    finish(ctx, &results);
                    return (results, reset);
                }
                let spec = ctx.settings.warehouse.clone();
                let cat = catalog.clone();
                let u = unit.clone();
                let verdicts =
                    tokio::task::spawn_blocking(move || verify_unit(&spec, &cat, &u)).await;
                let results: Vec<(usize, PairState)> = match verdicts {
                    Ok(Ok(verdicts)) => verdicts
                        .into_iter()
                        .map(|(i, verdict)| {
                            let (status, error) = match verdict {
                                Ok(()) => (PairStatus::Done, None),
                                Err(why) => {
                                    (PairStatus::Unverified, Some(format!("exit 0 but {why}")))
                                }
                            };
                            (
                                i,
                                PairState {
                                    status,
                                    attempts: attempt,
                                    duration_ms: started.elapsed().as_millis() as u64,
                                    last_error: error,
                                    log_path: log.clone(),
                                },
                            )
                        })
                        .collect(),
                    Ok(Err(e)) => all(
                        PairStatus::Unverified,
                        attempt,
                        started.elapsed(),
                        Some(format!("verification failed: {e}")),
                        log.clone(),
                    ),
                    Err(e) => all(
                        PairStatus::Unverified,
                        attempt,
                        started.elapsed(),
                        Some(format!("verification failed: {e}")),
                        log.clone(),
                    ),
                };
                finish(ctx, &results);
                return (results, reset);
            }
            InvocationOutcome::Interrupted => {
                let results = all(
                    PairStatus::Interrupted,
                    attempt,
                    started.elapsed(),
                    Some("interrupted".into()),
                    log.clone(),
                );
                finish(ctx, &results);
                return (results, reset);
            }
            InvocationOutcome::SpawnFailed(why) => {
                let results = all(
                    PairStatus::Failed,
                    attempt,
                    started.elapsed(),
                    Some(why),
                    log.clone(),
                );
                finish(ctx, &results);
                return (results, reset);
            }
            InvocationOutcome::TimedOut => {
                last = (
                    PairStatus::TimedOut,
                    format!("timed out after {}", humantime::format_duration(timeout)),
                    log.clone(),
                );
            }
            InvocationOutcome::Exited(code) => {
                last = (
                    PairStatus::Failed,
                    format!("exited with code {code}"),
                    log.clone(),
                );
            }
            InvocationOutcome::Signaled(signal) => {
                last = (
                    PairStatus::Failed,
                    format!("killed by signal {signal}"),
                    log.clone(),
                );
            }
        }
        if attempt < max_attempts {
            let delay = ctx
                .settings
                .retry_backoff
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(Duration::from_secs(60));
            ctx.events.write(serde_json::json!({"event": "retry", "processor": code, "start": unit.start, "end": unit.end, "after_attempt": attempt, "error": last.1, "delay_seconds": delay.as_secs_f64()}));
            let mut rx = shutdown.clone();
            let interrupted = tokio::select! {
                _ = tokio::time::sleep(delay) => false,
                _ = rx.wait_for(|s| *s != Shutdown::Running) => true,
            };
            if interrupted {
                let results = all(
                    PairStatus::Interrupted,
                    attempt,
                    started.elapsed(),
                    Some(format!("interrupted while waiting to retry ({})", last.1)),
                    last.2.clone(),
                );
                finish(ctx, &results);
                return (results, reset);
            }
        }
    }
    let results = all(
        last.0,
        max_attempts,
        started.elapsed(),
        Some(last.1),
        last.2,
    );
    finish(ctx, &results);
    (results, reset)
}

fn finish(ctx: &Context, results: &[(usize, PairState)]) {
    for (i, st) in results {
        ctx.progress.finished(
            &ctx.plan[*i].pair,
            st.status,
            Duration::from_millis(st.duration_ms),
        );
    }
}

/// Resets the tripped breakers of a processor on the unit's dates (embedded warehouse).
fn reset_breakers(
    spec: &WarehouseSpec,
    catalog: &Catalog,
    processor: ProcessorId,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<u64, Error> {
    let WarehouseSpec::DuckDb(path) = spec else {
        return Ok(0);
    };
    let mut wh = crate::warehouse::duckdb::DuckDbWarehouse::open_read_write(path)?;
    let query = Query::new("reset_breakers", crate::sql::text::RESET_BREAKERS)
        .table("attempts", &catalog.processing.attempts)
        .param("processor", Param::Text(catalog.code(processor).into()))
        .param("start", Param::Date(start))
        .param("end", Param::Date(end));
    Ok(wh.execute(&query)? as u64)
}

/// Re-counts a unit's pairs in the warehouse (one query): a pair is complete only if
/// nothing is unaccounted, no real failures, duplicates or unexpected rows remain and it
/// is not stale.
pub fn verify_unit(
    spec: &WarehouseSpec,
    catalog: &Catalog,
    unit: &Unit,
) -> Result<Vec<PairVerdict>, Error> {
    let mut wh = open_for_reading(spec)?;
    let ids = catalog.with_upstream(&[unit.processor]);
    let range = DateRange::new(unit.start, unit.end).map_err(Error::usage)?;
    let rows = reconcile(wh.as_mut(), catalog, &ids, range)?;
    let stale = stale_pairs(catalog, &rows);
    Ok(unit
        .pairs
        .iter()
        .zip(&unit.dates)
        .map(|(&i, &date)| {
            let row = rows.iter().find(|r| r.processor == unit.processor && r.date == date);
            let verdict = match row.and_then(|r| r.kind().map(|k| (r, k))) {
                Some((r, kind)) => Err(format!(
                    "{} {date} is still {}: {} unaccounted, {} real failures, {} duplicates, {} unexpected",
                    catalog.code(unit.processor),
                    kind.as_str(),
                    r.unaccounted,
                    r.real_failures,
                    r.duplicates,
                    r.unexpected
                )),
                None => match stale.iter().find(|s| s.processor == unit.processor && s.date == date) {
                    Some(s) => Err(format!(
                        "{} {date} is stale: {} rows are newer",
                        catalog.code(unit.processor),
                        catalog.code(s.upstream)
                    )),
                    None => Ok(()),
                },
            };
            (i, verdict)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Reason;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 12, day).unwrap()
    }

    fn pair(code: &str, day: u32) -> PlannedPair {
        PlannedPair {
            processor: code.into(),
            date: d(day),
            reasons: vec![Reason::Missing],
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
            pair("TDZA", 1),
            pair("TDZA", 2),
            pair("TDZA", 3),
            pair("TDZA", 4),
            pair("TDZA", 6),
            pair("TDZA", 9),
            pair("PCF", 1),
        ];
        let batches: Vec<usize> = assign_batches(&catalog, &plan, &games)
            .iter()
            .map(|p| p.batch)
            .collect();
        // [1,2,3] full; [4,6] consecutive game dates; 9 skips game date 7; PCF its own.
        assert_eq!(batches, [0, 0, 0, 1, 1, 2, 3]);
        let units = build_units(&catalog, &assign_batches(&catalog, &plan, &games)).unwrap();
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
    fn without_batch_days_every_pair_is_its_own_invocation() {
        let catalog = Catalog::builtin().unwrap();
        let games: BTreeSet<NaiveDate> = [1, 2].into_iter().map(d).collect();
        let plan = vec![
            pair("TDZA", 1),
            pair("TDZA", 2),
            pair("ML", 1),
            pair("ML", 2),
        ];
        let run = assign_batches(&catalog, &plan, &games);
        let units = build_units(&catalog, &run).unwrap();
        assert_eq!(units.len(), 4);
        assert_eq!(units[2].upstream, [0]);
        assert_eq!(units[3].upstream, [1]);
        assert_eq!(units[3].after, Some(2));
    }

    #[test]
    fn argv_templates_are_substituted_without_a_shell() {
        let argv = substitute(
            &[
                "{exe}".into(),
                "--from={start}".into(),
                "{end}".into(),
                "{date}".into(),
                "{warehouse}".into(),
                "$(rm -rf /)".into(),
            ],
            d(1),
            d(3),
            "/bin/p4",
            "duckdb:/w.duckdb",
        );
        assert_eq!(
            argv,
            [
                "/bin/p4",
                "--from=2021-12-01",
                "2021-12-03",
                "2021-12-01",
                "duckdb:/w.duckdb",
                "$(rm -rf /)"
            ]
        );
    }
}
