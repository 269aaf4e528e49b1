//! `repair`: the plan (a dry run), or with --apply the run.

use crate::checks::CheckRequest;
use crate::checks::attempts::reset_breakers_statement;
use crate::cli::RepairArgs;
use crate::error::{Error, ExitCode};
use crate::output::{print, warn};
use crate::range::{DateRange, MAX_DATE, MIN_DATE};
use crate::render::plan::render_plan;
use crate::render::run::render_run;
use crate::runner::repair::{apply, plan_from_checks};
use crate::runner::schedule::RunSummary;
use crate::settings::{GlobalSettings, RepairSettings};

pub fn run(args: &RepairArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = RepairSettings::resolve(args, global)?;
    if settings.apply {
        run_apply(global, &settings, resume_command()).map(|(code, _)| code)
    } else {
        run_plan(global, &settings)
    }
}

/// The plan, stage by stage; nothing changes. Exit 0 for an empty plan, 1 otherwise.
fn run_plan(global: &GlobalSettings, settings: &RepairSettings) -> Result<ExitCode, Error> {
    if global.estimate {
        let request = CheckRequest {
            range: settings.range,
            processors: Vec::new(),
            max_lag: None,
        };
        let (statements, notes) = run_statements(global, settings)?;
        return super::estimate::run_with(global, &request, statements, &notes, settings.format);
    }
    let engine = global.warehouse.open()?;
    let (plan, _) = plan_from_checks(engine.as_ref(), &global.catalog, settings)?;
    // Said once: every format carries the plan's warnings (CSV as its `warnings` rows).
    print(&render_plan(&global.catalog, &plan, settings.format))?;
    Ok(ExitCode::findings_if(!plan.is_empty()))
}

/// The statements a run writes with, to price with the plan's checks, and how their
/// prices add up: the breaker reset (unless --keep-breakers) is one statement per unit
/// the run reaches, priced once here.
fn run_statements(
    global: &GlobalSettings,
    settings: &RepairSettings,
) -> Result<(Vec<crate::sql::Query>, Vec<String>), Error> {
    let catalog = &global.catalog;
    let mut statements = Vec::new();
    let mut notes = Vec::new();
    if !settings.keep_breakers
        && let Some(&first) = catalog.run_order().first()
    {
        let range = settings
            .range
            .map_or_else(|| DateRange::new(MIN_DATE, MAX_DATE), Ok)
            .map_err(Error::usage)?;
        statements.push(reset_breakers_statement(catalog, first, range));
        notes.push(
            "reset_breakers is priced once: a run resets with one such statement per unit it runs (a processor's date or batch of dates); --keep-breakers runs none".to_string(),
        );
    }
    if let Some(lease) = &settings.lease {
        // Not dry-run: its table may not exist before the first run creates it.
        notes.push(format!(
            "with the lease in {}, a run also writes its one row: once to take it, every {} to renew it, once to free it",
            lease.table,
            humantime::format_duration(lease.heartbeat_every())
        ));
    }
    Ok((statements, notes))
}

/// `repair --apply`, also the demo's repair step: the exit code, and the run's summary
/// when anything ran.
pub(super) fn run_apply(
    global: &GlobalSettings,
    settings: &RepairSettings,
    resume: Option<String>,
) -> Result<(ExitCode, Option<RunSummary>), Error> {
    if !settings.verify {
        warn(
            "--verify off: a pair counts as done when its processor exits 0, WITHOUT a re-count in the warehouse (for benchmarks with simulated processors only)",
        );
    }
    let engine = global.warehouse.open()?;
    let outcome = apply(engine, &global.catalog, settings)?;
    for w in &outcome.warnings {
        warn(w);
    }
    print(&render_run(
        &global.catalog,
        &outcome,
        settings.format,
        resume.as_deref(),
    ))?;
    let code = match &outcome.summary {
        None => ExitCode::Healthy,
        Some(s) if s.interrupted => ExitCode::Interrupted,
        Some(s) => ExitCode::findings_if(!s.all_done()),
    };
    Ok((code, outcome.summary))
}

/// The command line of this process, shell-quoted: the exact command that resumes it
/// (none when an argument is not UTF-8 and could not be shown exactly).
fn resume_command() -> Option<String> {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.into_string().ok())
        .collect::<Option<_>>()?;
    shlex::try_join(args.iter().map(String::as_str)).ok()
}
