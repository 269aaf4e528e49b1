//! `checkpoint status|clear`: the stored state of a repair run.

use crate::cli::CheckpointArgs;
use crate::error::{Error, ExitCode};
use crate::output::print;
use crate::render::checkpoint::{render_clear, render_status};
use crate::runner::repair::{clear, status};
use crate::settings::{CheckpointSettings, CheckpointTask, GlobalSettings};

pub fn run(args: &CheckpointArgs, global: &GlobalSettings) -> Result<ExitCode, Error> {
    let settings = CheckpointSettings::resolve(args, global)?;
    let text = match settings.task {
        CheckpointTask::Status => {
            let stored = status(&settings.state_dir)?;
            render_status(
                &settings.state_dir,
                stored.as_ref(),
                settings.format,
                global.width,
            )
        }
        CheckpointTask::Clear => {
            let discarded = clear(&settings.state_dir)?;
            render_clear(&settings.state_dir, discarded, settings.format)
        }
    };
    print(&text)?;
    Ok(ExitCode::Healthy)
}
