//! `repair`: the plan (a dry run), or with --apply the run.

use crate::checks::CheckRequest;
use crate::cli::RepairArgs;
use crate::error::{Error, ExitCode};
use crate::output::{print, warn};
use crate::render::plan::render_plan;
use crate::render::run::render_run;
use crate::runner::repair::{apply, plan_from_checks, priced_statements};
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
        let (statements, notes) = priced_statements(&global.catalog, settings)?;
        return super::estimate::run_with(global, &request, statements, &notes, settings.format);
    }
    let engine = global.warehouse.open()?;
    let (plan, _) = plan_from_checks(engine.as_ref(), &global.catalog, settings)?;
    // Said once: every format carries the plan's warnings (CSV as its `warnings` rows).
    print(&render_plan(&global.catalog, &plan, settings.format))?;
    Ok(ExitCode::findings_if(!plan.is_empty()))
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
