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

/// Input echoed in a message, cut to a readable length: a 100,000-character argument
/// is shown by its start and its size.
pub fn echo(input: &str) -> String {
    const SHOWN: usize = 60;
    let count = input.chars().count();
    if count <= SHOWN + 20 {
        return input.to_string();
    }
    let start: String = input.chars().take(SHOWN).collect();
    format!("{start}… ({count} characters)")
}

/// The known name closest to `input`, if one is close enough to be a typo.
pub fn did_you_mean<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(input, k), *k))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Line `line` (from 1) of `text`, trimmed and cut for a message.
fn line_of(text: &str, line: usize) -> String {
    echo(
        text.lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim(),
    )
}

/// Serde's names of types as a person says them.
fn plain_types(message: &str) -> String {
    [
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected a sequence", "expected a list"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}

/// A TOML error as ``line N: message (at `key = value`)``, on one line: the line names
/// the field and its value.
pub(crate) fn toml_error_line(error: &toml::de::Error, text: &str) -> String {
    let message = plain_types(&one_line(error.message()));
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let content = line_of(text, line);
            if content.is_empty() || content.starts_with('[') {
                format!("line {line}: {message}")
            } else {
                format!("line {line}: {message} (at `{content}`)")
            }
        }
        None => message,
    }
}

/// A JSON error with the line it is on (for files a person may have edited).
pub(crate) fn json_error_line(error: &serde_json::Error, text: &str) -> String {
    let message = plain_types(&one_line(&error.to_string()));
    match error.line() {
        0 => message,
        line => format!("{message} (at `{}`)", line_of(text, line)),
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
    fn long_input_is_echoed_by_its_start_and_size() {
        assert_eq!(echo("2021-12"), "2021-12");
        let long = "9".repeat(100_000);
        let shown = echo(&long);
        assert!(shown.ends_with("… (100000 characters)"), "{shown}");
        assert!(shown.len() < 100, "{shown}");
    }

    #[test]
    fn a_toml_type_error_names_the_line_its_field_and_value() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            timeout: String,
        }
        let text = "# x\ntimeout = 5\n";
        let e = toml::from_str::<T>(text).unwrap_err();
        assert_eq!(
            toml_error_line(&e, text),
            "line 2: invalid type: integer `5`, expected a string (at `timeout = 5`)"
        );
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
