//! `heatmap`: the processor-by-date coverage grid.

use crate::cli::HeatmapArgs;
use crate::error::{Error, ExitCode};
use crate::render::TableFormat;
use crate::render::heatmap::render_heatmap;
use crate::settings::{GlobalSettings, HeatmapSettings};

pub fn run(args: &HeatmapArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let s = HeatmapSettings::resolve(args, global)?;
    super::checks_command(
        global,
        &s.request,
        TableFormat::Table(global.fit()),
        s.html.as_deref(),
        super::EmptyRange::Warn,
        |findings| render_heatmap(&global.catalog, findings, global.width, global.color),
    )
}
