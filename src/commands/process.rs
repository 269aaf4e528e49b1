//! `process`: run a built-in reference processor on the embedded warehouse.

use crate::cli::ProcessArgs;
use crate::demo::processors::{builtin_layout, run_builtin};
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::process::render_process;
use crate::settings::{GlobalSettings, ProcessSettings};
use crate::warehouse::{Access, verify_layout};

pub fn run(args: &ProcessArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = ProcessSettings::resolve(args, global)?;
    let engine = global.warehouse.open()?;
    let mut warehouse = engine.session(Access::Write)?;
    verify_layout(warehouse.as_mut(), &builtin_layout()?)?;
    let summary = run_builtin(
        warehouse.as_mut(),
        &global.catalog,
        settings.builtin,
        settings.range,
        None,
    )?;
    drop(warehouse);
    print(&render_process(&summary, settings.format))?;
    Ok(ExitCode::Healthy)
}
