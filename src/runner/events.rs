//! `events.jsonl`: one JSON object per line for everything a repair run does, in the
//! order it happened. A contract for scripts (README, "Run events"): every line has
//! `at` (RFC 3339, UTC) and `event`; fields may be added, none changes.

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use super::checkpoint::StatusCounts;
use super::process::InvocationOutcome;
use crate::error::Error;

/// One event of a run. Processors are catalog codes; `start`/`end` the dates of the
/// invocation (one pair, or a batch of consecutive game dates).
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent<'a> {
    /// The run begins: pairs in the plan, and how many an earlier run already finished.
    RunStarted { pairs: usize, already_done: usize },
    /// Tripped circuit breakers were reset before the invocation.
    BreakersReset {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        entities: u64,
    },
    /// The reset failed; the invocation runs anyway.
    BreakersResetFailed {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        error: String,
    },
    /// An attempt starts; `after_gap`: an earlier planned date of the processor failed
    /// or was blocked.
    Start {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        attempt: u32,
        argv: &'a [String],
        log: String,
        after_gap: bool,
    },
    /// An attempt ended: `outcome` is `exited` (with `code`), `signaled` (with
    /// `signal`), `timed_out`, `interrupted` or `spawn_failed` (with `reason`).
    Exit {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        attempt: u32,
        #[serde(flatten)]
        outcome: Outcome,
        seconds: f64,
        pid: Option<u32>,
    },
    /// Processes of an attempt left its process group (`setsid`, a daemon); they were
    /// ended with it.
    Escaped {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        attempt: u32,
        processes: Vec<EscapedProcess>,
    },
    /// A failed attempt is retried after `delay_seconds`.
    Retry {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        after_attempt: u32,
        error: &'a str,
        delay_seconds: f64,
    },
    /// The invocation did not run: an upstream pair did not complete.
    Blocked {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        why: &'a str,
    },
    /// An attempt ran without the cgroup it should have had.
    Uncontained {
        processor: &'a str,
        start: NaiveDate,
        end: NaiveDate,
        attempt: u32,
        reason: &'a str,
    },
    /// Descendants that left their process group were found and ended: `pids`, and
    /// each with its name in `processes`.
    EscapedDescendantsEnded {
        pids: Vec<u32>,
        processes: Vec<EscapedProcess>,
    },
    /// The run ended: pairs per status.
    RunFinished {
        counts: StatusCounts,
        interrupted: bool,
        halted: bool,
    },
}

/// A process that left its process group: its pid and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscapedProcess {
    pub pid: u32,
    pub name: String,
}

impl EscapedProcess {
    /// The (pid, name) pairs the process module reports, as events list them.
    pub fn list(escaped: &[(u32, String)]) -> Vec<EscapedProcess> {
        escaped
            .iter()
            .map(|(pid, name)| EscapedProcess {
                pid: *pid,
                name: name.clone(),
            })
            .collect()
    }
}

/// How an attempt ended, as the `exit` event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Exited { code: i32 },
    Signaled { signal: i32 },
    TimedOut,
    Interrupted,
    SpawnFailed { reason: String },
}

impl From<&InvocationOutcome> for Outcome {
    fn from(outcome: &InvocationOutcome) -> Self {
        match outcome {
            InvocationOutcome::Exited(code) => Outcome::Exited { code: *code },
            InvocationOutcome::Signaled(signal) => Outcome::Signaled { signal: *signal },
            InvocationOutcome::TimedOut => Outcome::TimedOut,
            InvocationOutcome::Interrupted => Outcome::Interrupted,
            InvocationOutcome::SpawnFailed(reason) => Outcome::SpawnFailed {
                reason: reason.clone(),
            },
        }
    }
}

#[derive(Serialize)]
struct Stamped<'a, 'e> {
    at: String,
    #[serde(flatten)]
    event: &'a RunEvent<'e>,
}

/// Appends one JSON line per event to the run's `events.jsonl`.
pub struct EventLog {
    file: Mutex<std::fs::File>,
}

impl EventLog {
    pub fn create(path: &Path) -> Result<Self, Error> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(Error::io("create the events file", path))?;
        Ok(Self {
            file: Mutex::new(file),
        })
    }

    /// Best effort: the events are a record for people and scripts; the checkpoint, not
    /// this file, is what a resume trusts.
    pub fn write(&self, event: &RunEvent<'_>) {
        let stamped = Stamped {
            at: Utc::now().to_rfc3339(),
            event,
        };
        let Ok(line) = serde_json::to_string(&stamped) else {
            return;
        };
        if let Ok(mut f) = self.file.lock() {
            let _ = writeln!(f, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_event_is_flat_json_with_its_outcome_and_code() {
        let event = RunEvent::Exit {
            processor: "TDZA",
            start: NaiveDate::from_ymd_opt(2021, 12, 4).unwrap(),
            end: NaiveDate::from_ymd_opt(2021, 12, 4).unwrap(),
            attempt: 1,
            outcome: Outcome::from(&InvocationOutcome::Exited(0)),
            seconds: 0.5,
            pid: Some(42),
        };
        let json = serde_json::to_value(Stamped {
            at: "2026-12-01T00:00:00+00:00".into(),
            event: &event,
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "at": "2026-12-01T00:00:00+00:00",
                "event": "exit",
                "processor": "TDZA",
                "start": "2021-12-04",
                "end": "2021-12-04",
                "attempt": 1,
                "outcome": "exited",
                "code": 0,
                "seconds": 0.5,
                "pid": 42
            })
        );
        let spawn = serde_json::to_value(Outcome::SpawnFailed {
            reason: "no such file".into(),
        })
        .unwrap();
        assert_eq!(
            spawn,
            serde_json::json!({"outcome": "spawn_failed", "reason": "no such file"})
        );
    }
}
