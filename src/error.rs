//! Typed errors and the exit codes they map to: exit codes are an API.

use std::fmt;

/// The process exit codes of phase4-check (DESIGN.md: "exit codes are an API").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Healthy, gate passed, empty plan, every pair complete.
    Healthy = 0,
    /// Findings: defects, a failed gate, a non-empty plan, failed pairs.
    Findings = 1,
    /// Usage or configuration error: nothing was written.
    Usage = 2,
    /// The warehouse cannot be opened or reached.
    Warehouse = 3,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Errors callers branch on. Everything else is an [`Error::Other`] with context.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a range, a name, an option. Exit 2.
    #[error("{0}")]
    Usage(String),
    /// A configuration file (catalog, config) is invalid. Exit 2.
    #[error("{0}")]
    Config(String),
    /// The warehouse has not the layout of the contract (missing table or column). Exit 2.
    #[error("{0}")]
    Layout(String),
    /// The warehouse cannot be opened or reached. Exit 3.
    #[error("{0}")]
    WarehouseUnavailable(String),
    /// A query failed in the warehouse. Exit 3.
    #[error("{0}")]
    QueryFailed(String),
    /// The run was interrupted by a signal. Exit 130.
    #[error("interrupted")]
    Interrupted,
    /// Anything else, with context.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }
    pub fn config(msg: impl fmt::Display) -> Self {
        Error::Config(msg.to_string())
    }

    /// The one place errors become exit codes.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Layout(_) => ExitCode::Usage,
            Error::WarehouseUnavailable(_) | Error::QueryFailed(_) => ExitCode::Warehouse,
            Error::Interrupted => ExitCode::Interrupted,
            Error::Other(e) => match e.downcast_ref::<Error>() {
                Some(inner) => inner.exit_code(),
                None => ExitCode::Usage,
            },
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
