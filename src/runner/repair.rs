//! `repair --apply`: the pre-flight (state directory, lock, stored state, plan,
//! programs), then the run (checkpoint writer, leftovers of a killed runner, signals,
//! the schedule). Nothing runs until every pre-flight check has passed.

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

use super::checkpoint::{
    self, Checkpoint, CheckpointError, CheckpointWriter, PairStatus, RunLock, StateDir,
};
use super::events::EventLog;
use super::lease::{Heartbeat, Lease, Renewals};
use super::process::{GroupRegistry, Shutdown, become_subreaper};
use super::progress::Progress;
use super::schedule::{Context, RunSummary, assign_batches, execute};
use crate::catalog::{Catalog, Invocation};
use crate::checks::attempts::reset_breakers_statement;
use crate::checks::completeness::season_bounds;
use crate::checks::{CheckRequest, Findings, required_layout, run_checks};
use crate::error::Error;
use crate::plan::{PlanOptionsRecord, RepairPlan, RunPair, StoredPair, build_plan};
use crate::settings::RepairSettings;
use crate::sql::Query;
use crate::warehouse::{Access, Engine, verify_layout};

/// The request a plan answers; a resumed run must be made by the same request.
#[derive(Debug, Serialize, Deserialize)]
pub struct RepairRequest {
    pub range: String,
    pub options: PlanOptionsRecord,
    pub catalog: String,
    pub warehouse: String,
}

impl RepairRequest {
    /// What differs from `now`, in words: `the range differs: 2021-12-04..2021-12-04
    /// stored, 2021-12-05..2021-12-05 now`.
    pub fn differences(&self, now: &RepairRequest) -> Vec<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, stored: String, now: String| {
            if stored != now {
                out.push(format!("{what} differs: {stored} stored, {now} now"));
            }
        };
        differ("the range", self.range.clone(), now.range.clone());
        differ(
            "the choice of processors",
            self.options.describe(),
            now.options.describe(),
        );
        differ(
            "the catalog",
            self.catalog.chars().take(12).collect(),
            now.catalog.chars().take(12).collect(),
        );
        differ(
            "the warehouse",
            self.warehouse.clone(),
            now.warehouse.clone(),
        );
        out
    }

    pub fn new(catalog: &Catalog, engine: &dyn Engine, settings: &RepairSettings) -> Self {
        RepairRequest {
            range: settings
                .range
                .map(|r| r.to_string())
                .unwrap_or_else(|| "every game date".into()),
            options: settings.options.record(catalog),
            catalog: catalog.fingerprint().to_string(),
            warehouse: engine.locator(),
        }
    }
}

/// Computes the plan from fresh checks over every processor.
pub fn plan_from_checks(
    engine: &dyn Engine,
    catalog: &Catalog,
    settings: &RepairSettings,
) -> Result<(RepairPlan, Findings), Error> {
    let mut wh = engine.session(Access::Read)?;
    let findings = run_checks(
        wh.as_mut(),
        catalog,
        &CheckRequest {
            range: settings.range,
            processors: Vec::new(),
            max_lag: None,
        },
    )?;
    drop(wh);
    let plan = build_plan(catalog, &findings, &settings.options);
    Ok((plan, findings))
}

/// A checkpoint failure as the user sees it: what to do about a held lock or a corrupt
/// state; a file that cannot be written is an I/O error naming it.
pub(super) fn checkpoint_error(e: CheckpointError) -> Error {
    match e {
        CheckpointError::LockHeld { .. } => Error::usage(format!(
            "{e}: wait for it to finish, or stop it (Ctrl-C) and resume with the same command"
        )),
        CheckpointError::Corrupt { .. } => Error::usage(format!(
            "{e}: it was left untouched; inspect it with `phase4-check checkpoint status` or discard it with `phase4-check checkpoint clear`"
        )),
        CheckpointError::Io {
            action,
            path,
            source,
        } => Error::Io {
            action,
            path,
            source,
        },
        CheckpointError::Invalid { .. } => Error::internal(e),
    }
}

/// What `repair --apply` did.
pub struct ApplyOutcome {
    pub summary: Option<RunSummary>,
    pub resumed: bool,
    pub plan: Vec<RunPair>,
    pub warnings: Vec<String>,
}

/// Runs (or resumes) the repair. Pre-flight failures are listed together.
pub fn apply(
    engine: Arc<dyn Engine>,
    catalog: &Catalog,
    settings: &RepairSettings,
) -> Result<ApplyOutcome, Error> {
    let state = StateDir::new(&settings.state_dir);
    // The warehouse's lease first: the plan is made, and the state directory touched,
    // only by the run that holds it (a refused run writes nothing).
    let lease = match &settings.lease {
        Some(l) => {
            let (_, fingerprint) = request_fingerprint(catalog, engine.as_ref(), settings)?;
            let lease = Lease::take(engine.as_ref(), l, &fingerprint, &settings.state_dir)?;
            if let Some(note) = lease.takeover_note() {
                crate::output::note(&note);
            }
            Some(lease)
        }
        None => None,
    };
    let outcome = preflight(engine.as_ref(), catalog, settings, &state).and_then(|prepared| {
        if prepared.plan.is_empty() {
            return Ok(ApplyOutcome {
                summary: None,
                resumed: prepared.resumed,
                plan: Vec::new(),
                warnings: prepared.warnings,
            });
        }
        run_prepared(
            engine.clone(),
            catalog,
            settings,
            &state,
            prepared,
            lease.as_ref(),
        )
    });
    if let Some(lease) = &lease
        && let Err(e) = lease.release_within(engine.clone(), LEASE_RELEASE_WAIT)
    {
        crate::output::warn(&format!(
            "the repair lease in {} could not be freed ({}): the next run takes it over once its heartbeat is {} old",
            lease.settings().table,
            e.one_line(),
            humantime::format_duration(lease.settings().stale_after)
        ));
    }
    outcome
}

/// The longest a run waits at its end to free its lease.
const LEASE_RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The request of this command and its fingerprint (which names its stored plan).
fn request_fingerprint(
    catalog: &Catalog,
    engine: &dyn Engine,
    settings: &RepairSettings,
) -> Result<(RepairRequest, String), Error> {
    let request = RepairRequest::new(catalog, engine, settings);
    let fingerprint = checkpoint::fingerprint(&request).map_err(Error::internal)?;
    Ok((request, fingerprint))
}

/// The statements a run writes with, to price with the plan's checks (`--estimate`),
/// and how their prices add up: the breaker reset (unless --keep-breakers) is one
/// statement per unit with tripped breakers, priced once here; the lease's are not
/// priced (its table may not exist before the first run creates it).
pub fn priced_statements(
    catalog: &Catalog,
    settings: &RepairSettings,
) -> Result<(Vec<Query>, Vec<String>), Error> {
    let mut statements = Vec::new();
    let mut notes = Vec::new();
    if !settings.keep_breakers
        && let Some(&first) = catalog.run_order().first()
    {
        let range = settings.range.map_or_else(|| season_bounds(None), Ok)?;
        statements.push(reset_breakers_statement(catalog, first, range));
        notes.push(
            "reset_breakers is priced once: a run resets with one such statement per unit (a processor's date or batch of dates) on which the plan found tripped breakers; --keep-breakers runs none".to_string(),
        );
    }
    if let Some(lease) = &settings.lease {
        notes.push(format!(
            "with the lease in {}, a run also writes its one row: a CREATE IF NOT EXISTS, an INSERT and an UPDATE to take it, an UPDATE every {} to renew it, one to free it (not priced)",
            lease.table,
            humantime::format_duration(lease.heartbeat_every())
        ));
    }
    Ok((statements, notes))
}

/// What the pre-flight found good: the lock, the checkpoint to write and its plan, and
/// the group records when a dead runner left some.
struct Prepared {
    lock: RunLock,
    checkpoint: Checkpoint<StoredPair>,
    plan: Vec<RunPair>,
    resumed: bool,
    warnings: Vec<String>,
    registry: Option<GroupRegistry>,
}

/// The plan a run executes: the stored one when resuming, never a recomputed one.
struct Planned {
    checkpoint: Checkpoint<StoredPair>,
    plan: Vec<RunPair>,
    resumed: bool,
    warnings: Vec<String>,
}

/// Every check before anything runs or is written (beyond the state directory and its
/// lock): all problems are listed together, exit 3 when the warehouse is among them.
fn preflight(
    engine: &dyn Engine,
    catalog: &Catalog,
    settings: &RepairSettings,
    state: &StateDir,
) -> Result<Prepared, Error> {
    let (request, fingerprint) = request_fingerprint(catalog, engine, settings)?;

    let mut problems: Vec<String> = Vec::new();
    let (lock, unfinished) = take_state(state, &request, &fingerprint, &mut problems)?;
    // What a dead runner left may still hold the warehouse: it ends before the warehouse
    // is opened (with the lock held, no live runner has records here).
    let registry = match &lock {
        Some(_) if state.path().join("groups").is_dir() => Some(take_over_groups(state, settings)?),
        _ => None,
    };
    let mut warehouse_problem = None;
    let planned = match unfinished {
        Some(stored) => {
            let layout = engine
                .session(Access::Read)
                .and_then(|mut wh| verify_layout(wh.as_mut(), &required_layout(catalog)));
            if let Err(e) = layout {
                sort_problem(e, &mut warehouse_problem, &mut problems)?;
            }
            resume_plan(catalog, stored)
        }
        None => new_plan(
            engine,
            catalog,
            settings,
            &request,
            fingerprint,
            &mut problems,
        ),
    };
    let planned = match planned {
        Ok(p) => Some(p),
        Err(e) => {
            sort_problem(e, &mut warehouse_problem, &mut problems)?;
            None
        }
    };
    if let Some(p) = &planned {
        problems.extend(program_problems(catalog, &p.plan));
    }
    if let Some(e) = warehouse_problem {
        let mut all = vec![e.to_string()];
        all.extend(problems);
        return Err(Error::WarehouseUnavailable(format!(
            "pre-flight failed: {}",
            all.join("; ")
        )));
    }
    if !problems.is_empty() {
        return Err(Error::usage(format!(
            "pre-flight failed: {}",
            problems.join("; ")
        )));
    }
    let Some(p) = planned else {
        return Err(Error::internal("pre-flight passed without a plan"));
    };
    let lock = match lock {
        Some(lock) => lock,
        None => {
            let lock = RunLock::acquire(state).map_err(checkpoint_error)?;
            // The directory did not exist when the pre-flight began: a run that started
            // meanwhile may have stored a checkpoint, which this run must not overwrite.
            if checkpoint::load::<StoredPair>(state)
                .map_err(checkpoint_error)?
                .is_some()
            {
                return Err(Error::usage(format!(
                    "another repair stored a run in {} while this one was checking: run the command again",
                    state.path().display()
                )));
            }
            lock
        }
    };
    Ok(Prepared {
        lock,
        checkpoint: p.checkpoint,
        plan: p.plan,
        resumed: p.resumed,
        warnings: p.warnings,
        registry,
    })
}

/// The state directory and its lock (a problem when either is unusable), and the
/// unfinished run stored there, which must be of this very request.
fn take_state(
    state: &StateDir,
    request: &RepairRequest,
    fingerprint: &str,
    problems: &mut Vec<String>,
) -> Result<(Option<RunLock>, Option<Checkpoint<StoredPair>>), Error> {
    if !state.path().exists() {
        // Nothing is stored and nobody runs there: the directory is created and locked
        // only once the whole pre-flight has passed, so a failed one leaves nothing.
        if let Some(p) = creation_problem(state.path()) {
            problems.push(p);
        }
        return Ok((None, None));
    }
    let lock = match state_dir_problem(state) {
        Some(p) => {
            problems.push(p);
            None
        }
        None => match RunLock::acquire(state) {
            Ok(lock) => Some(lock),
            Err(e) => {
                problems.push(checkpoint_error(e).to_string());
                None
            }
        },
    };
    let stored: Option<Checkpoint<StoredPair>> = match &lock {
        Some(_) => match checkpoint::load(state) {
            Ok(stored) => stored,
            // Unreadable (a permission, a bad disk): a pre-flight problem like the others.
            Err(e @ CheckpointError::Io { .. }) => {
                problems.push(checkpoint_error(e).to_string());
                None
            }
            Err(e) => return Err(checkpoint_error(e)),
        },
        None => None,
    };
    let unfinished = stored.filter(|c| c.states.iter().any(|s| s.status != PairStatus::Done));
    if let Some(c) = &unfinished
        && c.fingerprint != fingerprint
    {
        let counts = checkpoint::summarize(&c.states);
        let differs = match serde_json::from_value::<RepairRequest>(c.request.clone()) {
            Ok(stored) => stored.differences(request).join("; "),
            Err(_) => format!("it was made by another version: {}", c.request),
        };
        return Err(Error::usage(format!(
            "an unfinished repair of another request is stored in {} ({} of {} pairs done): {differs}. Resume it with the stored request, see it with `phase4-check checkpoint status`, or start over with `phase4-check checkpoint clear`",
            state.checkpoint_path().display(),
            counts.done,
            counts.total(),
        )));
    }
    Ok((lock, unfinished))
}

/// A pre-flight failure: the warehouse's (exit 3, listed first), a problem of the
/// request or of the warehouse's layout (exit 2), or anything else, which ends the
/// pre-flight at once.
fn sort_problem(
    e: Error,
    warehouse_problem: &mut Option<Error>,
    problems: &mut Vec<String>,
) -> Result<(), Error> {
    match e {
        Error::WarehouseUnavailable(_) | Error::QueryFailed(_) => {
            *warehouse_problem = Some(e);
            Ok(())
        }
        // The warehouse has not the layout: exit 2, as on every other command.
        Error::Usage(_) | Error::Config(_) | Error::Layout(_) => {
            problems.push(e.to_string());
            Ok(())
        }
        other => Err(other),
    }
}

/// Resuming: the stored plan as it is, its unfinished pairs pending again.
fn resume_plan(catalog: &Catalog, mut stored: Checkpoint<StoredPair>) -> Result<Planned, Error> {
    let mut plan = stored
        .plan
        .iter()
        .map(|p| p.to_run(catalog))
        .collect::<Result<Vec<_>, _>>()?;
    // An unfinished pair resets its breakers whatever the plan found: its own attempts
    // may have tripped them since.
    for (st, pair) in stored.states.iter_mut().zip(plan.iter_mut()) {
        if st.status != PairStatus::Done {
            st.status = PairStatus::Pending;
            pair.tripped = None;
        }
    }
    Ok(Planned {
        checkpoint: stored,
        plan,
        resumed: true,
        warnings: Vec::new(),
    })
}

/// A new run: the plan from fresh checks, batched, in a new checkpoint.
fn new_plan(
    engine: &dyn Engine,
    catalog: &Catalog,
    settings: &RepairSettings,
    request: &RepairRequest,
    fingerprint: String,
    problems: &mut Vec<String>,
) -> Result<Planned, Error> {
    let (plan, findings) = plan_from_checks(engine, catalog, settings)?;
    if !engine.capabilities().can_write && !settings.keep_breakers && !plan.breakers.is_empty() {
        problems.push(format!(
            "{} tripped circuit breakers of planned pairs would need a reset, and phase4-check does not write to {}: reset them in {} yourself, or pass --keep-breakers",
            plan.breakers.len(),
            engine.describe(),
            catalog.processing.attempts
        ));
    }
    let game_dates: BTreeSet<NaiveDate> = findings
        .rows
        .iter()
        .filter(|r| r.is_game_date())
        .map(|r| r.date)
        .collect();
    let mut pairs = assign_batches(catalog, &plan.pairs, &game_dates);
    crate::plan::mark_tripped(&mut pairs, &plan.breakers);
    let stored = pairs
        .iter()
        .map(|p| StoredPair::from_run(catalog, p))
        .collect();
    let request_json = serde_json::to_value(request).map_err(Error::internal)?;
    Ok(Planned {
        checkpoint: Checkpoint::new(fingerprint, request_json, stored),
        plan: pairs,
        resumed: false,
        warnings: plan.warnings,
    })
}

/// Why the programs of the plan's processors cannot run, one line each.
fn program_problems(catalog: &Catalog, plan: &[RunPair]) -> Vec<String> {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let ids: BTreeSet<_> = plan.iter().map(|p| p.pair.processor).collect();
    let day = NaiveDate::default();
    ids.into_iter()
        .filter_map(|id| {
            let argv = catalog.get(id).command.fill(&Invocation {
                start: day,
                end: day,
                exe: &exe,
                warehouse: "",
            });
            let problem = argv.first().and_then(|a| program_problem(a))?;
            Some(format!("processor {}: {problem}", catalog.code(id)))
        })
        .collect()
}

/// Why a processor's program cannot run, if it cannot.
fn program_problem(argv0: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    if argv0.contains('/') {
        let p = Path::new(argv0);
        if !p.exists() {
            return Some(format!("program {argv0} does not exist"));
        }
        if !executable(p) {
            return Some(format!("program {argv0} is not an executable file"));
        }
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|dir| executable(&dir.join(argv0))) {
        None
    } else {
        Some(format!("program `{argv0}` is not on PATH"))
    }
}

/// Why the state directory, which does not exist yet, could not be created: its nearest
/// existing ancestor is not a directory phase4-check may write in.
fn creation_problem(dir: &Path) -> Option<String> {
    use nix::unistd::{AccessFlags, access};
    let ancestor = dir
        .ancestors()
        .skip(1)
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())?;
    let writable =
        ancestor.is_dir() && access(ancestor, AccessFlags::W_OK | AccessFlags::X_OK).is_ok();
    (!writable).then(|| {
        format!(
            "state directory {} cannot be created: {} is not a directory phase4-check may write in",
            dir.display(),
            ancestor.display()
        )
    })
}

/// Why an existing state directory cannot hold a run: not a directory, or not writable.
fn state_dir_problem(state: &StateDir) -> Option<String> {
    if !state.path().is_dir() {
        return Some(format!(
            "state directory {} is not a directory",
            state.path().display()
        ));
    }
    let probe = state
        .path()
        .join(format!(".write-test-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) => Some(format!(
            "state directory {} is not writable: {e}",
            state.path().display()
        )),
    }
}

/// The run: the checkpoint writer, the leftovers of a killed runner ended, this run's
/// directory, then the schedule under signal handling.
fn run_prepared(
    engine: Arc<dyn Engine>,
    catalog: &Catalog,
    settings: &RepairSettings,
    state: &StateDir,
    prepared: Prepared,
    lease: Option<&Lease>,
) -> Result<ApplyOutcome, Error> {
    let Prepared {
        lock,
        checkpoint,
        plan,
        resumed,
        warnings,
        registry,
    } = prepared;
    let mut writer = if resumed {
        CheckpointWriter::resume(&lock, checkpoint)
    } else {
        CheckpointWriter::create(&lock, checkpoint)
    }
    .map_err(checkpoint_error)?;

    // Leftovers of a runner that was SIGKILLed end before anything starts.
    let registry = match registry {
        Some(registry) => registry,
        None => take_over_groups(state, settings)?,
    };
    if let Err(e) = become_subreaper() {
        crate::output::warn(&format!(
            "cannot become a child subreaper ({e}): escaped descendants cannot be found"
        ));
    }

    let run_dir = create_run_dir(state)?;
    let ctx = Context {
        // A clone: the engine (BigQuery's holds a runtime of its own) must not be
        // dropped inside the runner's runtime, where the context ends.
        engine: engine.clone(),
        catalog: catalog.clone(),
        plan: plan.clone(),
        settings: settings.clone(),
        events: EventLog::create(&run_dir.join("events.jsonl"))?,
        run_dir,
        registry,
        progress: Progress::new(settings.progress, catalog),
        exe: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "phase4-check".into()),
        escaped: Default::default(),
    };
    super::process::shrink_before_run();
    let summary = run_with_signals(ctx, &mut writer, lease.cloned())?;
    drop(engine);
    writer.finish().map_err(checkpoint_error)?;
    Ok(ApplyOutcome {
        summary: Some(summary),
        resumed,
        plan,
        warnings,
    })
}

/// Opens the records of running invocations and ends what dead runners left (each
/// named on stderr as it is dealt with: a run that fails later still says so).
fn take_over_groups(state: &StateDir, settings: &RepairSettings) -> Result<GroupRegistry, Error> {
    let groups = state.path().join("groups");
    let registry = GroupRegistry::open_with(&groups, settings.containment)
        .map_err(Error::io("create", &groups))?;
    // Said now, not with the summary: a run that is killed never prints one.
    if let Some(w) = registry.containment_warning() {
        crate::output::warn(&w);
    }
    for leftover in registry.end_leftovers(settings.grace) {
        crate::output::note(&format!("leftover of an earlier run: {leftover}"));
    }
    Ok(registry)
}

/// `runs/<UTC time>-<pid>/logs`.
fn create_run_dir(state: &StateDir) -> Result<PathBuf, Error> {
    let run_dir = state.runs_dir().join(format!(
        "{}-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    ));
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(Error::io("create", &logs))?;
    Ok(run_dir)
}

/// Runs the schedule on its own runtime; Ctrl-C, SIGTERM or SIGHUP ends it gracefully,
/// a second one at once, and so does losing the warehouse's lease to another run.
fn run_with_signals(
    ctx: Context,
    writer: &mut CheckpointWriter<StoredPair>,
    lease: Option<Lease>,
) -> Result<RunSummary, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runner's runtime: {e}")))?;
    let engine = ctx.engine.clone();
    let result = runtime.block_on(async {
        let (tx, rx) = watch::channel(Shutdown::Running);
        let tx = Arc::new(tx);
        let signals = tokio::spawn(watch_signals(tx.clone()));
        let heartbeat = lease.map(|lease| tokio::spawn(renew_until_lost(lease, engine, tx)));
        let result = execute(ctx, writer, rx).await;
        signals.abort();
        if let Some(heartbeat) = heartbeat {
            heartbeat.abort();
        }
        result
    });
    // A renewal still waiting on the warehouse does not hold the run's end.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// Renews the lease's heartbeat while the run goes on, one renewal at a time. When
/// another run has taken it over, or no renewal has held it for longer than its bound
/// (another run may take it over then), this one stops as after a Ctrl-C (its
/// checkpoint resumes it later).
async fn renew_until_lost(lease: Lease, engine: Arc<dyn Engine>, tx: Arc<watch::Sender<Shutdown>>) {
    let lease = Arc::new(lease);
    let table = lease.settings().table.clone();
    let mut renewals = Renewals::new(lease.settings().stale_after);
    let mut every = tokio::time::interval(lease.settings().heartbeat_every());
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    let mut in_flight: Option<(
        std::time::Instant,
        tokio::task::JoinHandle<Result<bool, Error>>,
    )> = None;
    loop {
        every.tick().await;
        let mut beat = renewals.check();
        if let Some((started, renewal)) = in_flight.take_if(|(_, r)| r.is_finished()) {
            let result = renewal.await.unwrap_or_else(|e| {
                Err(Error::internal(format!("the lease renewal panicked: {e}")))
            });
            if let Err(e) = &result {
                crate::output::warn(&format!(
                    "the repair lease in {table} was not renewed: {}",
                    e.one_line()
                ));
            }
            beat = renewals.ended(started, &result);
        }
        let why = match beat {
            Heartbeat::Held => {
                if in_flight.is_none() {
                    let (l, e) = (lease.clone(), engine.clone());
                    in_flight = Some((
                        std::time::Instant::now(),
                        tokio::task::spawn_blocking(move || l.renew(e.as_ref())),
                    ));
                }
                continue;
            }
            Heartbeat::Lost => "another run took it over",
            Heartbeat::Silent => {
                "it could not be renewed within its bound, and another run may take it over"
            }
        };
        crate::output::warn(&format!(
            "the repair lease in {table}: {why}; stopping this run (resume it with the same command)"
        ));
        // Never lowers a second Ctrl-C's immediate stop.
        tx.send_if_modified(|level| {
            let raise = *level == Shutdown::Running;
            if raise {
                *level = Shutdown::Graceful;
            }
            raise
        });
        return;
    }
}

/// Raises the shutdown level on each SIGINT, SIGTERM or SIGHUP.
async fn watch_signals(tx: Arc<watch::Sender<Shutdown>>) {
    use tokio::signal::unix::{SignalKind, signal};
    // A dropped terminal (SIGHUP) ends the run as Ctrl-C does: nothing is left running.
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        // No signal handling: keep the sender alive so the run is never "interrupted".
        let _keep = tx;
        std::future::pending::<()>().await;
        return;
    };
    let mut count = 0;
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        count += 1;
        let level = if count == 1 {
            Shutdown::Graceful
        } else {
            Shutdown::Immediate
        };
        if count == 1 {
            crate::output::note("stopping: ending running processors (again to kill at once)");
        }
        let _ = tx.send(level);
    }
}

/// The state directory the user named is input: one it cannot use is a usage error.
fn state_dir_error(state_dir: &Path, e: CheckpointError) -> Error {
    match e {
        CheckpointError::Io {
            action,
            path,
            source,
        } => Error::usage(format!(
            "state directory {}: cannot {action} {}: {source}",
            state_dir.display(),
            path.display()
        )),
        other => checkpoint_error(other),
    }
}

/// `checkpoint status`: what is stored, read without the lock (never modified).
pub fn status(state_dir: &Path) -> Result<Option<Checkpoint<serde_json::Value>>, Error> {
    checkpoint::load(&StateDir::new(state_dir)).map_err(|e| state_dir_error(state_dir, e))
}

/// `checkpoint clear`: discards the stored run under the lock.
pub fn clear(state_dir: &Path) -> Result<bool, Error> {
    let state = StateDir::new(state_dir);
    if !state.path().exists() {
        return Ok(false);
    }
    if !state.path().is_dir() {
        return Err(Error::usage(format!(
            "state directory {} is not a directory",
            state_dir.display()
        )));
    }
    let lock = RunLock::acquire(&state).map_err(|e| state_dir_error(state_dir, e))?;
    let existed = state.checkpoint_path().exists();
    checkpoint::clear(&lock).map_err(checkpoint_error)?;
    Ok(existed)
}
