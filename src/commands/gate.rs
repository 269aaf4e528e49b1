//! `gate`: compare the warehouse's counts with a reviewed snapshot, or rewrite it.

use crate::checks::CheckRequest;
use crate::cli::GateArgs;
use crate::error::{Error, ExitCode};
use crate::gate::render::{GateOutcome, render_gate, render_update};
use crate::gate::{GateRun, GateVerdict};
use crate::output::print;
use crate::settings::values::table_format;
use crate::settings::{GateSettings, GlobalSettings};

pub fn run(args: &GateArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = GateSettings::resolve(args, global)?;
    let gate = GateRun::prepare(&settings, &global.catalog, &global.warehouse)?;
    let request = CheckRequest {
        range: gate.range,
        processors: Vec::new(),
        max_lag: None,
    };
    if global.estimate {
        let format = table_format(settings.format, global.fit(), "gate --estimate")?;
        return super::estimate::run(global, &request, format);
    }
    let findings = super::findings(global, &request)?;
    // An empty range compares nothing: a finding, and nothing is written.
    let empty = super::EmptyRange::Fail {
        allowed: settings.allow_empty,
    };
    if empty.finding(global, &findings) {
        return Ok(ExitCode::Findings);
    }
    let path = gate.path.clone();
    let update_command = gate.update_command();
    match gate.conclude(&settings, &global.catalog, &findings)? {
        GateVerdict::Updated { before, after } => {
            let format = table_format(settings.format, global.fit(), "gate --update")?;
            print(&render_update(&path, before.as_ref(), &after, format))?;
            Ok(ExitCode::Healthy)
        }
        GateVerdict::Compared {
            snapshot,
            actual,
            comparison,
        } => {
            let outcome = GateOutcome {
                comparison: &comparison,
                snapshot: &snapshot.counts,
                actual: &actual,
                snapshot_path: &path,
                warehouse: &global.warehouse.to_string(),
                update_command: &update_command,
            };
            print(&render_gate(
                &outcome,
                settings.format,
                console::colors_enabled(),
                global.fit(),
            ))?;
            Ok(ExitCode::findings_if(!comparison.passed()))
        }
    }
}
