//! phase4-check: validate, reconcile and repair the Phase 4 precompute layer.
//!
//! `main.rs` only calls [`run`]; everything else lives here so it can be tested without
//! a process boundary.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod coverage;
pub mod demo;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod gate;
pub mod output;
pub mod plan;
pub mod range;
pub mod render;
pub mod runner;
pub mod settings;
pub mod sql;
pub mod warehouse;

pub use error::{Error, ExitCode};

/// Parses the command line, runs the command and returns the process exit code.
pub fn run() -> i32 {
    use clap::FromArgMatches;
    let cli = match cli::command()
        .try_get_matches()
        .and_then(|m| cli::Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match commands::run(cli) {
        Ok(code) => code.code(),
        Err(error) => {
            eprintln!("phase4-check: error: {}", error.one_line());
            error.exit_code().code()
        }
    }
}

/// clap's errors as the tool's own: one line, exit 2. Help and version print as clap
/// writes them; a missing subcommand prints the short usage.
fn usage_error(e: &clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        | ErrorKind::MissingSubcommand => {
            let _ = e.print();
            e.exit_code()
        }
        _ => {
            // clap's paragraphs: the error (its indented lines name the arguments), a tip,
            // the usage and a pointer to --help; the first two make the one line.
            let text = e.render().to_string();
            let paragraphs: Vec<String> = text
                .split("\n\n")
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty())
                .collect();
            let first = paragraphs
                .first()
                .map(|p| p.trim_start_matches("error: ").to_string())
                .unwrap_or_else(|| "invalid arguments".into());
            let tip = paragraphs
                .iter()
                .find(|p| p.starts_with("tip: "))
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            eprintln!("phase4-check: error: {first}{tip}");
            ExitCode::Usage.code()
        }
    }
}
