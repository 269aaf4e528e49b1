//! Typed errors and the exit codes they map to: exit codes are an API.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The process exit codes of phase4-check (DESIGN.md: "exit codes are an API").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Healthy, gate passed, empty plan, every pair complete.
    Healthy = 0,
    /// Findings: defects, a failed gate, a non-empty plan, failed pairs.
    Findings = 1,
    /// Usage or configuration error: nothing was written.
    Usage = 2,
    /// The warehouse cannot be opened or reached, or a query failed in it.
    Warehouse = 3,
    /// Something failed while running that is neither bad input nor the warehouse: a file
    /// that cannot be written mid-run (a full disk), a panicked task, a result of an
    /// unexpected type. The message names the cause and the file.
    Internal = 4,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Healthy without findings, else findings.
    pub fn findings_if(findings: bool) -> ExitCode {
        if findings {
            ExitCode::Findings
        } else {
            ExitCode::Healthy
        }
    }
}

/// Errors callers branch on, each with its exit code.
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
    /// A file (or stream) could not be read or written while the command ran. Exit 4.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A failure of phase4-check itself, with its cause. Exit 4.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn usage(msg: impl fmt::Display) -> Self {
        Error::Usage(msg.to_string())
    }

    pub fn config(msg: impl fmt::Display) -> Self {
        Error::Config(msg.to_string())
    }

    pub fn internal(msg: impl fmt::Display) -> Self {
        Error::Internal(msg.to_string())
    }

    /// `map_err(Error::io("write", path))`: an I/O error that names its file.
    pub fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
        move |source| Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The one place errors become exit codes.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Layout(_) => ExitCode::Usage,
            Error::WarehouseUnavailable(_) | Error::QueryFailed(_) => ExitCode::Warehouse,
            Error::Interrupted => ExitCode::Interrupted,
            Error::Io { .. } | Error::Internal(_) => ExitCode::Internal,
        }
    }

    /// The error on one line, as the user sees it.
    pub fn one_line(&self) -> String {
        one_line(&self.to_string())
    }
}

/// Any text on one line: runs of white space (new lines included) become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A TOML error as `line N: message`, on one line.
pub(crate) fn toml_error_line(error: &toml::de::Error, text: &str) -> String {
    let message = one_line(error.message());
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_error_has_its_documented_exit_code() {
        let io = || io::Error::new(io::ErrorKind::StorageFull, "No space left on device");
        let cases = [
            (Error::usage("x"), 2),
            (Error::config("x"), 2),
            (Error::Layout("x".into()), 2),
            (Error::WarehouseUnavailable("x".into()), 3),
            (Error::QueryFailed("x".into()), 3),
            (Error::Interrupted, 130),
            (Error::io("write", Path::new("/s/checkpoint.json"))(io()), 4),
            (Error::internal("a runner task panicked"), 4),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code().code(), code, "{error}");
        }
    }

    #[test]
    fn an_io_error_names_its_file_and_its_cause() {
        let e = Error::io("write", Path::new("/s/checkpoint.json"))(io::Error::new(
            io::ErrorKind::StorageFull,
            "No space left on device",
        ));
        assert_eq!(
            e.one_line(),
            "cannot write /s/checkpoint.json: No space left on device"
        );
    }
}
