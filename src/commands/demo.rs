//! `demo`: seed, report, repair --apply, report again: what a newcomer runs first.

use crate::checks::CheckRequest;
use crate::cli::DemoArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::TableFormat;
use crate::render::demo::{DemoStep, render_step};
use crate::render::report::render_report;
use crate::settings::{DemoSettings, GlobalSettings};

pub fn run(args: &DemoArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = DemoSettings::resolve(args, global)?;
    let request = CheckRequest {
        range: Some(settings.range),
        processors: Vec::new(),
    };
    let warehouse = global.warehouse.to_string();
    let report = || {
        super::checks_command(global, &request, TableFormat::Table, |findings| {
            render_report(
                &global.catalog,
                findings,
                &warehouse,
                TableFormat::Table,
                false,
            )
        })
    };

    print(&render_step(DemoStep::Seed, settings.range))?;
    super::seed::build(&settings.seed)?;
    print(&render_step(DemoStep::Report, settings.range))?;
    report()?;
    print(&render_step(DemoStep::Repair, settings.range))?;
    // A fresh warehouse: the state of a run on an earlier one means nothing.
    let _ = crate::runner::repair::clear(&settings.repair.state_dir);
    let repaired = super::repair::run_apply(global, &settings.repair)?;
    print(&render_step(DemoStep::ReportAgain, settings.range))?;
    let after = report()?;
    Ok(ExitCode::findings_if(
        repaired != ExitCode::Healthy || after != ExitCode::Healthy,
    ))
}
