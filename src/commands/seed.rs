//! `seed`: build the embedded warehouse, write its manifest, say what was built.

use std::time::Instant;

use crate::cli::SeedArgs;
use crate::demo::seed::seed;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::seed::render_seed;
use crate::render::to_json;
use crate::settings::{GlobalSettings, SeedSettings};

pub fn run(args: &SeedArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    build(global, &SeedSettings::resolve(args, global)?)?;
    Ok(ExitCode::Healthy)
}

/// Seeds, writes the manifest where asked, prints the summary (also the demo's step 1).
pub(super) fn build(global: &GlobalSettings, settings: &SeedSettings) -> Result<(), Error> {
    let started = Instant::now();
    let manifest = seed(settings)?;
    if let Some(path) = &settings.manifest {
        std::fs::write(path, to_json(&manifest))
            .map_err(|e| Error::usage(format!("cannot write manifest {}: {e}", path.display())))?;
    }
    print(&render_seed(
        &global.warehouse.to_string(),
        &manifest,
        started.elapsed(),
        settings.format,
    ))
}
