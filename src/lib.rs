//! phase4-check: validate, reconcile and repair the Phase 4 precompute layer.
//!
//! `main.rs` only calls [`run`]; everything else lives here so it can be tested without
//! a process boundary.

pub mod catalog;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod error;
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
    use clap::Parser;
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code.code(),
        Err(error) => {
            eprintln!("phase4-check: error: {}", error.one_line());
            error.exit_code().code()
        }
    }
}
