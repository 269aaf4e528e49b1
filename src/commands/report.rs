//! `report`: every check over the range, for every selected processor.

use crate::cli::ReportArgs;
use crate::error::{Error, ExitCode};
use crate::render::heatmap::render_heatmap;
use crate::render::report::render_report;
use crate::settings::{GlobalSettings, ReportSettings};

pub fn run(args: &ReportArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let s = ReportSettings::resolve(args, global)?;
    let warehouse = global.warehouse.to_string();
    super::checks_command(
        global,
        &s.request,
        s.format,
        s.html.as_deref(),
        super::EmptyRange::Fail {
            allowed: s.allow_empty,
        },
        |findings| {
            let mut out = render_report(
                &global.catalog,
                findings,
                &warehouse,
                s.format,
                s.roots_only,
            );
            if s.heatmap {
                out.push('\n');
                out.push_str(&render_heatmap(
                    &global.catalog,
                    findings,
                    global.width,
                    global.color,
                ));
            }
            out
        },
    )
}
