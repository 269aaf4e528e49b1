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
    build(&SeedSettings::resolve(args, global)?)?;
    Ok(ExitCode::Healthy)
}

/// Seeds, writes the manifest where asked, prints the summary (also the demo's step 1).
pub(super) fn build(settings: &SeedSettings) -> Result<(), Error> {
    let started = Instant::now();
    let manifest = seed(settings)?;
    if let Some(path) = &settings.manifest {
        std::fs::write(path, to_json(&manifest)).map_err(Error::io("write the manifest", path))?;
    }
    print(&render_seed(
        &settings.target.path,
        &manifest,
        started.elapsed(),
        settings.format,
    ))
}
