//! phase4-check: validate, reconcile and repair the Phase 4 precompute layer.
//!
//! `main.rs` only calls [`run`]; everything else lives here so it can be tested without
//! a process boundary.

pub mod demo;
pub mod error;
pub mod runner;

pub use error::{Error, ExitCode};

/// Parses the command line, runs the command and returns the process exit code.
pub fn run() -> i32 {
    0
}
