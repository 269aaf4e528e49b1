//! `report`: every check over the range, for every selected processor.

use crate::cli::ReportArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::report::render_report;
use crate::settings::{GlobalSettings, ReportSettings};

pub fn run(args: &ReportArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = ReportSettings::resolve(args, global)?;
    if global.estimate {
        return super::estimate::run(global, &settings.request, settings.format);
    }
    let findings = super::findings(global, &settings.request)?;
    print(&render_report(
        &global.catalog,
        &findings,
        &global.warehouse.to_string(),
        settings.format,
    ))?;
    Ok(ExitCode::findings_if(findings.has_defects()))
}
