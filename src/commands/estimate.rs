//! `--estimate`: every check as a dry run, the bytes each would process; runs nothing.
//! For `repair`, the statements its run would write with are priced too.

use crate::checks::{CheckRequest, planned_queries};
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::TableFormat;
use crate::render::estimate::render_estimate;
use crate::settings::GlobalSettings;
use crate::warehouse::Access;

pub fn run(
    global: &GlobalSettings,
    request: &CheckRequest,
    format: TableFormat,
) -> Result<ExitCode, Error> {
    run_with(global, request, Vec::new(), &[], format)
}

/// The checks, then `statements` (writes a command would make), each a dry run; `notes`
/// say how the statements' prices add up.
pub fn run_with(
    global: &GlobalSettings,
    request: &CheckRequest,
    statements: Vec<crate::sql::Query>,
    notes: &[String],
    format: TableFormat,
) -> Result<ExitCode, Error> {
    let mut queries = planned_queries(&global.catalog, request)?;
    queries.extend(statements);
    let engine = global.warehouse.open()?;
    if !engine.capabilities().can_dry_run {
        return Err(Error::usage(format!(
            "--estimate needs an engine that prices queries (BigQuery), and this one is {}",
            engine.describe()
        )));
    }
    let mut warehouse = engine.session(Access::Read)?;
    let mut estimates = Vec::with_capacity(queries.len());
    for query in &queries {
        estimates.push((query.name, warehouse.dry_run(query)?));
    }
    print(&render_estimate(
        &engine.describe(),
        &estimates,
        notes,
        format,
    ))?;
    Ok(ExitCode::Healthy)
}
