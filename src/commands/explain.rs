//! `explain`: why one processor's date is defective, down to its root causes.

use crate::checks::explain::explain;
use crate::cli::ExplainArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::explain::{CommandContext, render_explain};
use crate::settings::{ExplainSettings, GlobalSettings};
use crate::warehouse::Access;

pub fn run(args: &ExplainArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let s = ExplainSettings::resolve(args, global)?;
    let engine = global.warehouse.open()?;
    let mut warehouse = engine.session(Access::Read)?;
    let explanation = explain(warehouse.as_mut(), &global.catalog, s.processor, s.date)?;
    drop(warehouse);
    let context = CommandContext {
        warehouse: (!global.warehouse.is_default()).then(|| global.warehouse.to_string()),
        catalog: global
            .catalog_path
            .as_ref()
            .map(|p| p.display().to_string()),
        config: global.config_path.as_ref().map(|p| p.display().to_string()),
    };
    print(&render_explain(
        &global.catalog,
        &explanation,
        &context,
        s.format,
    ))?;
    Ok(ExitCode::findings_if(explanation.verdict.needs_repair()))
}
