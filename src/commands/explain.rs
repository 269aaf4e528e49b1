//! `explain`: why one processor's date is defective, down to its root causes.

use crate::checks::explain::explain;
use crate::cli::ExplainArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::explain::render_explain;
use crate::settings::{ExplainSettings, GlobalSettings};
use crate::warehouse::Access;

pub fn run(args: &ExplainArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let s = ExplainSettings::resolve(args, global)?;
    let engine = global.warehouse.open()?;
    let mut warehouse = engine.session(Access::Read)?;
    let explanation = explain(warehouse.as_mut(), &global.catalog, s.processor, s.date)?;
    drop(warehouse);
    let context = super::command_context(global);
    print(&render_explain(
        &global.catalog,
        &explanation,
        &context,
        s.format,
    ))?;
    Ok(ExitCode::findings_if(explanation.verdict.needs_repair()))
}
