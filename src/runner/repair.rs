//! `repair --apply`: pre-flight, lock, checkpoint (new or resumed), leftovers of a
//! killed runner, then the schedule, under signal handling.

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

use super::checkpoint::{
    self, Checkpoint, CheckpointError, CheckpointWriter, PairStatus, RunLock, StateDir,
};
use super::process::{GroupRegistry, Shutdown, become_subreaper};
use super::progress::{Progress, ProgressMode};
use super::schedule::{
    RunPair, RunSettings, RunSummary, assign_batches, execute, substitute, warehouse_arg,
};
use crate::catalog::Catalog;
use crate::checks::{CheckRequest, Findings, run_checks};
use crate::error::Error;
use crate::plan::{PlanOptions, RepairPlan, build_plan};
use crate::range::DateRange;
use crate::warehouse::{WarehouseSpec, check_layout, open_for_reading};

/// Everything `repair` needs, resolved from the command line.
#[derive(Debug, Clone)]
pub struct RepairSettings {
    pub range: Option<DateRange>,
    pub options: PlanOptions,
    pub state_dir: PathBuf,
    pub jobs: Option<usize>,
    pub timeout: Option<Duration>,
    pub grace: Duration,
    pub retry_backoff: Duration,
    pub halt_on_failure: bool,
    pub verify: bool,
    pub keep_breakers: bool,
    pub progress: ProgressMode,
}

/// The request a plan answers; a resumed run must be made by the same request.
#[derive(Debug, Serialize)]
pub struct RepairRequest {
    pub range: String,
    pub options: PlanOptions,
    pub catalog: String,
    pub warehouse: String,
}

impl RepairRequest {
    pub fn new(catalog: &Catalog, warehouse: &WarehouseSpec, settings: &RepairSettings) -> Self {
        RepairRequest {
            range: settings
                .range
                .map(|r| r.to_string())
                .unwrap_or_else(|| "every game date".into()),
            options: settings.options.clone(),
            catalog: catalog.fingerprint().to_string(),
            warehouse: warehouse_arg(warehouse),
        }
    }
}

/// Computes the plan from fresh checks over every processor.
pub fn plan_from_checks(
    warehouse: &WarehouseSpec,
    catalog: &Catalog,
    settings: &RepairSettings,
) -> Result<(RepairPlan, Findings), Error> {
    let mut wh = open_for_reading(warehouse)?;
    let findings = run_checks(
        wh.as_mut(),
        catalog,
        &CheckRequest {
            range: settings.range,
            processors: Vec::new(),
        },
    )?;
    drop(wh);
    let plan = build_plan(catalog, &findings, &settings.options)?;
    Ok((plan, findings))
}

fn checkpoint_error(e: CheckpointError) -> Error {
    match e {
        CheckpointError::LockHeld { .. } => Error::usage(format!(
            "{e}: wait for it to finish, or stop it (Ctrl-C) and resume with the same command"
        )),
        CheckpointError::Corrupt { .. } => Error::usage(format!(
            "{e}: it was left untouched; inspect it with `phase4-check checkpoint status` or discard it with `phase4-check checkpoint clear`"
        )),
        other => Error::Other(other.into()),
    }
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

fn state_dir_problem(state: &StateDir) -> Option<String> {
    if let Err(e) = state.ensure() {
        return Some(format!(
            "state directory {} cannot be created: {e}",
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

/// What `repair --apply` did.
pub struct ApplyOutcome {
    pub summary: Option<RunSummary>,
    pub resumed: bool,
    pub plan: Vec<RunPair>,
    pub leftovers: Vec<String>,
    pub warnings: Vec<String>,
}

/// Runs (or resumes) the repair. Pre-flight failures are listed together.
pub fn apply(
    warehouse: &WarehouseSpec,
    catalog: &Catalog,
    settings: &RepairSettings,
) -> Result<ApplyOutcome, Error> {
    let state = StateDir::new(&settings.state_dir);
    let request = RepairRequest::new(catalog, warehouse, settings);
    let fingerprint = checkpoint::fingerprint(&request).map_err(|e| Error::Other(e.into()))?;

    // Pre-flight, part one: state directory, lock, stored state.
    let mut problems: Vec<String> = Vec::new();
    let mut warehouse_problem: Option<Error> = None;
    if let Some(p) = state_dir_problem(&state) {
        problems.push(p);
    }
    let lock = if problems.is_empty() {
        match RunLock::acquire(&state) {
            Ok(lock) => Some(lock),
            Err(e) => {
                problems.push(checkpoint_error(e).to_string());
                None
            }
        }
    } else {
        None
    };
    let stored: Option<Checkpoint<RunPair>> = match &lock {
        Some(_) => checkpoint::load(&state).map_err(checkpoint_error)?,
        None => None,
    };
    let unfinished = stored
        .as_ref()
        .filter(|c| c.states.iter().any(|s| s.status != PairStatus::Done));
    if let Some(c) = unfinished
        && c.fingerprint != fingerprint
    {
        let counts = checkpoint::summarize(&c.states);
        return Err(Error::usage(format!(
            "an unfinished repair of a different request is stored in {} ({} of {} pairs done; request {}): resume it with the same options, inspect it with `phase4-check checkpoint status`, or discard it with `phase4-check checkpoint clear`",
            state.checkpoint_path().display(),
            counts.done,
            counts.total(),
            c.request
        )));
    }

    // The plan: the stored one when resuming, never a recomputed one.
    let mut warnings = Vec::new();
    let (checkpoint, resumed) = match unfinished {
        Some(c) => {
            let mut c = c.clone();
            for st in c.states.iter_mut() {
                if st.status != PairStatus::Done {
                    st.status = PairStatus::Pending;
                }
            }
            match open_for_reading(warehouse).and_then(|mut wh| {
                let ids: Vec<_> = catalog.ids().collect();
                check_layout(wh.as_mut(), &crate::checks::required_layout(catalog, &ids))
            }) {
                Ok(()) => {}
                Err(e) => warehouse_problem = Some(e),
            }
            (Some(c), true)
        }
        None => match plan_from_checks(warehouse, catalog, settings) {
            Ok((plan, findings)) => {
                warnings = plan.warnings.clone();
                if matches!(warehouse, WarehouseSpec::BigQuery(_))
                    && !settings.keep_breakers
                    && !plan.breakers.is_empty()
                {
                    problems.push(format!(
                        "{} tripped circuit breakers of planned pairs would need a reset, and phase4-check does not write to BigQuery: reset them in {} yourself, or pass --keep-breakers",
                        plan.breakers.len(),
                        catalog.processing.attempts
                    ));
                }
                let game_dates: BTreeSet<NaiveDate> = findings
                    .rows
                    .iter()
                    .filter(|r| r.is_game_date())
                    .map(|r| r.date)
                    .collect();
                let pairs = assign_batches(catalog, &plan.pairs, &game_dates);
                let request_json =
                    serde_json::to_value(&request).map_err(|e| Error::Other(e.into()))?;
                (
                    Some(Checkpoint::new(fingerprint.clone(), request_json, pairs)),
                    false,
                )
            }
            Err(
                e @ (Error::WarehouseUnavailable(_) | Error::QueryFailed(_) | Error::Layout(_)),
            ) => {
                warehouse_problem = Some(e);
                (None, false)
            }
            Err(e) => return Err(e),
        },
    };

    // Pre-flight, part two: every processor's program.
    if let Some(c) = &checkpoint {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let codes: BTreeSet<&str> = c.plan.iter().map(|p| p.pair.processor.as_str()).collect();
        for code in codes {
            let Ok(id) = catalog.find(code) else {
                problems.push(format!(
                    "the stored plan names processor {code}, which the catalog does not have"
                ));
                continue;
            };
            let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
            let argv = substitute(&catalog.get(id).command, day, day, &exe, "");
            if let Some(p) = argv.first().and_then(|a| program_problem(a)) {
                problems.push(format!("processor {code}: {p}"));
            }
        }
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
    let (Some(lock), Some(checkpoint)) = (lock, checkpoint) else {
        return Err(Error::usage("pre-flight failed: no lock or plan"));
    };
    if checkpoint.plan.is_empty() {
        return Ok(ApplyOutcome {
            summary: None,
            resumed,
            plan: Vec::new(),
            leftovers: Vec::new(),
            warnings,
        });
    }
    let plan = checkpoint.plan.clone();
    let mut writer = if resumed {
        CheckpointWriter::resume(&lock, checkpoint)
    } else {
        CheckpointWriter::create(&lock, checkpoint)
    }
    .map_err(checkpoint_error)?;

    // Leftovers of a runner that was SIGKILLed end before anything starts.
    let registry = GroupRegistry::open(state.path().join("groups")).map_err(|e| {
        Error::usage(format!(
            "cannot open {}: {e}",
            state.path().join("groups").display()
        ))
    })?;
    let leftovers: Vec<String> = registry
        .end_leftovers(settings.grace)
        .into_iter()
        .map(|r| r.to_string())
        .collect();
    if let Err(e) = become_subreaper() {
        warnings.push(format!(
            "cannot become a child subreaper ({e}): escaped descendants cannot be found"
        ));
    }

    let run_dir = state.runs_dir().join(format!(
        "{}-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    ));
    std::fs::create_dir_all(run_dir.join("logs")).map_err(|e| {
        Error::usage(format!(
            "cannot create run directory {}: {e}",
            run_dir.display()
        ))
    })?;
    let run_settings = RunSettings {
        warehouse: warehouse.clone(),
        jobs: settings.jobs.unwrap_or(catalog.processors().len()).max(1),
        timeout: settings.timeout,
        grace: settings.grace,
        retry_backoff: settings.retry_backoff,
        halt_on_failure: settings.halt_on_failure,
        verify: settings.verify,
        keep_breakers: settings.keep_breakers,
        run_dir,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Other(anyhow::anyhow!("cannot start the runtime: {e}")))?;
    let progress = Progress::new(settings.progress);
    let summary = runtime.block_on(async {
        let (tx, rx) = watch::channel(Shutdown::Running);
        let signals = tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
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
                }
                count += 1;
                let level = if count == 1 {
                    Shutdown::Graceful
                } else {
                    Shutdown::Immediate
                };
                if count == 1 {
                    eprintln!(
                        "phase4-check: stopping: ending running processors (again to kill at once)"
                    );
                }
                let _ = tx.send(level);
            }
        });
        let result = execute(catalog, &run_settings, &mut writer, registry, progress, rx).await;
        signals.abort();
        result
    })?;
    writer.finish().map_err(checkpoint_error)?;
    Ok(ApplyOutcome {
        summary: Some(summary),
        resumed,
        plan,
        leftovers,
        warnings,
    })
}

/// `checkpoint status`: what is stored, read without the lock (never modified).
pub fn status(state_dir: &Path) -> Result<Option<Checkpoint<serde_json::Value>>, Error> {
    checkpoint::load(&StateDir::new(state_dir)).map_err(checkpoint_error)
}

/// `checkpoint clear`: discards the stored run under the lock.
pub fn clear(state_dir: &Path) -> Result<bool, Error> {
    let state = StateDir::new(state_dir);
    if !state.path().exists() {
        return Ok(false);
    }
    let lock = RunLock::acquire(&state).map_err(checkpoint_error)?;
    let existed = state.checkpoint_path().exists();
    checkpoint::clear(&lock).map_err(checkpoint_error)?;
    Ok(existed)
}
