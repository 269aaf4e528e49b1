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
    let report = |step: DemoStep| -> Result<ExitCode, Error> {
        print(render_step(step))?;
        let findings = super::findings(global, &request)?;
        print(&render_report(
            &global.catalog,
            &findings,
            &global.warehouse.to_string(),
            TableFormat::Table,
        ))?;
        Ok(ExitCode::findings_if(findings.has_defects()))
    };

    print(render_step(DemoStep::Seed))?;
    super::seed::build(global, &settings.seed)?;
    report(DemoStep::Report)?;
    print(render_step(DemoStep::Repair))?;
    // A fresh warehouse: the state of a run on an earlier one means nothing.
    let _ = crate::runner::repair::clear(&settings.repair.state_dir);
    let repaired = super::repair::run_apply(global, &settings.repair)?;
    let after = report(DemoStep::ReportAgain)?;
    Ok(ExitCode::findings_if(
        repaired != ExitCode::Healthy || after != ExitCode::Healthy,
    ))
}
