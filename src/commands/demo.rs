//! `demo`: seed, report, repair --apply, report again: what a newcomer runs first.

use crate::checks::CheckRequest;
use crate::cli::DemoArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::TableFormat;
use crate::render::report::render_report;
use crate::render::seed::render_seed;
use crate::settings::{DemoSettings, GlobalSettings};

pub fn run(args: &DemoArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = DemoSettings::resolve(args, global)?;
    let request = CheckRequest {
        range: Some(settings.range),
        processors: Vec::new(),
    };
    let report = |title: &str| -> Result<ExitCode, Error> {
        print(title)?;
        let findings = super::findings(global, &request)?;
        print(&render_report(
            &global.catalog,
            &findings,
            &global.warehouse.to_string(),
            TableFormat::Table,
        ))?;
        Ok(ExitCode::findings_if(findings.has_defects()))
    };

    print("== 1. seed: a synthetic 2021-22 season with the defects real backfills leave ==\n")?;
    let started = std::time::Instant::now();
    let manifest = crate::demo::seed::seed(&settings.seed)?;
    print(&render_seed(
        &global.warehouse.to_string(),
        &manifest,
        started.elapsed(),
        settings.seed.format,
    ))?;
    report("\n== 2. report: what is missing or broken, and why ==\n")?;
    print(
        "\n== 3. repair --apply: rerun exactly that, in dependency order, with the built-in processors ==\n",
    )?;
    // A fresh warehouse: the state of a run on an earlier one means nothing.
    let _ = crate::runner::repair::clear(&settings.repair.state_dir);
    let repaired = super::repair::run_apply(global, &settings.repair)?;
    let after = report(
        "\n== 4. report again: the defects are gone (expected skips remain: they are not failures) ==\n",
    )?;
    Ok(ExitCode::findings_if(
        repaired != ExitCode::Healthy || after != ExitCode::Healthy,
    ))
}
