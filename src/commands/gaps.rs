//! `gaps`: one processor's defective and stale dates.

use crate::cli::GapsArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::gaps::render_gaps;
use crate::settings::{GapsSettings, GlobalSettings};

pub fn run(args: &GapsArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = GapsSettings::resolve(args, global)?;
    if global.estimate {
        return super::estimate::run(global, &settings.request, settings.format);
    }
    let findings = super::findings(global, &settings.request)?;
    print(&render_gaps(
        &global.catalog,
        &findings,
        settings.processor,
        settings.format,
    ))?;
    Ok(ExitCode::findings_if(findings.has_defects()))
}
