//! `completions SHELL` and `man`: the command line described for a shell and for man(1).

use crate::cli::{CompletionsArgs, command};
use crate::error::{Error, ExitCode};
use crate::output::print;

pub fn run(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "phase4-check", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::Healthy)
}

pub fn man() -> Result<ExitCode, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command())
        .render(&mut page)
        .map_err(|e| Error::Internal(format!("render the manual page: {e}")))?;
    print(&String::from_utf8_lossy(&page))?;
    Ok(ExitCode::Healthy)
}
