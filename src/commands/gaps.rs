//! `gaps`: one processor's defective and stale dates.

use crate::cli::GapsArgs;
use crate::error::{Error, ExitCode};
use crate::render::gaps::render_gaps;
use crate::settings::{GapsSettings, GlobalSettings};

pub fn run(args: &GapsArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let s = GapsSettings::resolve(args, global)?;
    super::checks_command(
        global,
        &s.request,
        s.format,
        None,
        super::EmptyRange::Warn,
        |findings| {
            render_gaps(
                &global.catalog,
                findings,
                s.processor,
                s.format,
                s.roots_only,
            )
        },
    )
}
