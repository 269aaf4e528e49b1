//! One unit's executor: reset its breakers, run its attempts (each a supervised
//! invocation, retried with backoff), then settle the state of each of its pairs, with
//! a re-count in the warehouse after an exit 0.

use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::checkpoint::{PairState, PairStatus};
use super::events::{EscapedProcess, Outcome, RunEvent};
use super::process::{InvocationOutcome, Shutdown, run_invocation};
use super::schedule::{Context, Unit};
use super::verify::verify_unit;
use crate::catalog::Invocation;
use crate::checks::attempts::reset_breakers;
use crate::error::Error;
use crate::range::DateRange;
use crate::settings::defaults;
use crate::warehouse::Access;

/// What became of a unit: the state of each of its pairs, and the breakers reset.
pub(super) struct UnitOutcome {
    pub states: Vec<(usize, PairState)>,
    pub breakers_reset: u64,
}

/// How the attempts of a unit ended.
enum Ending {
    /// An attempt exited 0: the pairs are done once the warehouse agrees.
    ExitedZero { attempts: u32, log: String },
    /// Every pair of the unit ends in `status`.
    Ended {
        status: PairStatus,
        attempts: u32,
        error: String,
        log: Option<String>,
    },
}

/// Runs one unit to its end. Never fails: every failure is a pair state.
/// `after_gap`: an earlier planned date of its processor did not complete.
pub(super) async fn run_unit(
    ctx: &Context,
    unit: &Unit,
    shutdown: watch::Receiver<Shutdown>,
    after_gap: bool,
) -> UnitOutcome {
    let started = Instant::now();
    let breakers_reset = reset_unit_breakers(ctx, unit).await;
    let ending = run_attempts(ctx, unit, shutdown, after_gap).await;
    let states = settle(ctx, unit, ending, started).await;
    for (i, st) in &states {
        ctx.progress.finished(
            unit.key(),
            &ctx.plan[*i].pair,
            st.status,
            Duration::from_millis(st.duration_ms),
        );
    }
    UnitOutcome {
        states,
        breakers_reset,
    }
}

/// Resets the tripped breakers of the unit's processor on its dates (unless
/// --keep-breakers, the engine takes no writes, or the plan's checks found none on
/// them); returns how many.
async fn reset_unit_breakers(ctx: &Context, unit: &Unit) -> u64 {
    let none_tripped = unit
        .pairs
        .iter()
        .all(|&i| ctx.plan[i].tripped == Some(false));
    if ctx.settings.keep_breakers || !ctx.engine.capabilities().can_write || none_tripped {
        return 0;
    }
    let engine = ctx.engine.clone();
    let catalog = ctx.catalog.clone();
    let (processor, start, end) = (unit.processor, unit.start, unit.end);
    let reset = tokio::task::spawn_blocking(move || {
        let range = DateRange::new(start, end).map_err(Error::usage)?;
        let mut wh = engine.session(Access::Write)?;
        reset_breakers(wh.as_mut(), &catalog, processor, range)
    })
    .await
    .unwrap_or_else(|e| Err(Error::internal(format!("the breaker reset panicked: {e}"))));
    let processor = ctx.code(unit);
    match reset {
        Ok(entities) => {
            if entities > 0 {
                ctx.events.write(&RunEvent::BreakersReset {
                    processor,
                    start,
                    end,
                    entities,
                });
            }
            entities
        }
        Err(e) => {
            // Said at once, not only in events.jsonl: the processor will skip the
            // entities whose breakers stay tripped (BigQuery credentials without the
            // right to update the attempts table, a busy warehouse).
            crate::output::warn(&format!(
                "{}: its tripped breakers were not reset ({}): its processor skips those entities; reset them in {} or pass --keep-breakers",
                unit_label(processor, start, end),
                e.one_line(),
                ctx.catalog.processing.attempts
            ));
            ctx.events.write(&RunEvent::BreakersResetFailed {
                processor,
                start,
                end,
                error: e.one_line(),
            });
            0
        }
    }
}

/// The invocation of a unit, the same for every attempt.
struct Command {
    argv: Vec<String>,
    timeout: Duration,
    max_attempts: u32,
    /// The dates in log file names: `2021-12-04` or `2021-12-04_2021-12-06`.
    span: String,
    /// What progress calls it: `PCF 2021-12-04` or `PSZA 2021-12-04..2021-12-06`.
    label: String,
    /// An earlier planned date of the processor did not complete.
    after_gap: bool,
}

/// What progress and messages call a unit: `PCF 2021-12-04`, `PSZA 2021-12-04..2021-12-06`.
fn unit_label(code: &str, start: chrono::NaiveDate, end: chrono::NaiveDate) -> String {
    if start == end {
        format!("{code} {start}")
    } else {
        format!("{code} {start}..{end}")
    }
}

impl Command {
    fn of(ctx: &Context, unit: &Unit) -> Command {
        let processor = ctx.catalog.get(unit.processor);
        let code = ctx.code(unit);
        let span = if unit.start == unit.end {
            unit.start.to_string()
        } else {
            format!("{}_{}", unit.start, unit.end)
        };
        let label = unit_label(code, unit.start, unit.end);
        Command {
            argv: processor.command.fill(&Invocation {
                start: unit.start,
                end: unit.end,
                exe: &ctx.exe,
                warehouse: &ctx.engine.locator(),
            }),
            timeout: ctx.settings.timeout.unwrap_or(processor.timeout),
            max_attempts: processor.max_attempts.max(1),
            span,
            label,
            after_gap: false,
        }
    }
}

/// How one attempt ended: for good, or with a failure another attempt may mend.
enum Attempt {
    Final(Ending),
    Retryable {
        status: PairStatus,
        error: String,
        log: String,
    },
}

/// Runs attempts until one exits 0, one cannot start or is interrupted, or
/// `max_attempts` are spent (timeouts and failed exits are retried with backoff).
async fn run_attempts(
    ctx: &Context,
    unit: &Unit,
    shutdown: watch::Receiver<Shutdown>,
    after_gap: bool,
) -> Ending {
    let command = Command {
        after_gap,
        ..Command::of(ctx, unit)
    };
    let mut attempt = 1;
    loop {
        let (status, error, log) = match run_attempt(ctx, unit, &command, attempt, &shutdown).await
        {
            Attempt::Final(ending) => return ending,
            Attempt::Retryable { status, error, log } => (status, error, log),
        };
        if attempt >= command.max_attempts {
            return Ending::Ended {
                status,
                attempts: attempt,
                error,
                log: Some(log),
            };
        }
        if wait_to_retry(ctx, unit, &command, attempt, &error, &shutdown).await {
            return Ending::Ended {
                status: PairStatus::Interrupted,
                attempts: attempt,
                error: format!("interrupted while waiting to retry ({error})"),
                log: Some(log),
            };
        }
        attempt += 1;
    }
}

/// One supervised invocation, its `start` and `exit` events, and what it means.
async fn run_attempt(
    ctx: &Context,
    unit: &Unit,
    command: &Command,
    attempt: u32,
    shutdown: &watch::Receiver<Shutdown>,
) -> Attempt {
    let code = ctx.code(unit);
    let log_path = ctx
        .run_dir
        .join("logs")
        .join(format!("{code}_{}.attempt{attempt}.log", command.span));
    let log = log_path.display().to_string();
    let invocation = super::process::Invocation {
        argv: command.argv.clone(),
        log_path,
        timeout: command.timeout,
        grace: ctx.settings.grace,
        env: Vec::new(),
        current_dir: None,
    };
    ctx.progress
        .attempt_started(unit.key(), &command.label, attempt, command.max_attempts);
    ctx.events.write(&RunEvent::Start {
        processor: code,
        start: unit.start,
        end: unit.end,
        attempt,
        argv: &command.argv,
        log: log.clone(),
        after_gap: command.after_gap,
    });
    let report = run_invocation(&invocation, shutdown.clone(), &ctx.registry).await;
    if let Some(reason) = &report.uncontained {
        crate::output::warn(&format!(
            "{code} {}: attempt {attempt} ran without a cgroup ({reason})",
            command.span
        ));
        ctx.events.write(&RunEvent::Uncontained {
            processor: code,
            start: unit.start,
            end: unit.end,
            attempt,
            reason,
        });
    }
    if !report.escaped.is_empty() {
        ctx.events.write(&RunEvent::Escaped {
            processor: code,
            start: unit.start,
            end: unit.end,
            attempt,
            processes: EscapedProcess::list(&report.escaped),
        });
        if let Ok(mut list) = ctx.escaped.lock() {
            list.extend(
                report
                    .escaped
                    .iter()
                    .map(|(pid, name)| format!("{code} {}: pid {pid} ({name})", command.span)),
            );
        }
    }
    ctx.events.write(&RunEvent::Exit {
        processor: code,
        start: unit.start,
        end: unit.end,
        attempt,
        outcome: Outcome::from(&report.outcome),
        seconds: report.duration.as_secs_f64(),
        pid: report.pid,
    });
    let ended = |status, error: String| {
        Attempt::Final(Ending::Ended {
            status,
            attempts: attempt,
            error,
            log: Some(log.clone()),
        })
    };
    let retryable = |status, error: String| Attempt::Retryable {
        status,
        error,
        log: log.clone(),
    };
    match report.outcome {
        InvocationOutcome::Exited(0) => Attempt::Final(Ending::ExitedZero {
            attempts: attempt,
            log,
        }),
        InvocationOutcome::Interrupted => ended(PairStatus::Interrupted, "interrupted".into()),
        InvocationOutcome::SpawnFailed(why) => ended(PairStatus::Failed, why),
        InvocationOutcome::TimedOut => retryable(
            PairStatus::TimedOut,
            format!(
                "timed out after {}",
                humantime::format_duration(command.timeout)
            ),
        ),
        InvocationOutcome::Exited(exit) => {
            retryable(PairStatus::Failed, format!("exited with code {exit}"))
        }
        InvocationOutcome::Signaled(signal) => {
            retryable(PairStatus::Failed, format!("killed by signal {signal}"))
        }
    }
}

/// Waits the backoff before the next attempt; true if a shutdown came first.
async fn wait_to_retry(
    ctx: &Context,
    unit: &Unit,
    command: &Command,
    attempt: u32,
    error: &str,
    shutdown: &watch::Receiver<Shutdown>,
) -> bool {
    let delay = ctx
        .settings
        .retry_backoff
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(defaults::RETRY_BACKOFF_CAP);
    ctx.progress
        .retrying(&command.label, attempt, command.max_attempts, error, delay);
    ctx.events.write(&RunEvent::Retry {
        processor: ctx.code(unit),
        start: unit.start,
        end: unit.end,
        after_attempt: attempt,
        error,
        delay_seconds: delay.as_secs_f64(),
    });
    let mut rx = shutdown.clone();
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = rx.wait_for(|s| *s != Shutdown::Running) => true,
    }
}

/// The state of every pair of the unit: after an exit 0, each pair is done only if its
/// re-count in the warehouse reconciles (unless --verify off).
async fn settle(
    ctx: &Context,
    unit: &Unit,
    ending: Ending,
    started: Instant,
) -> Vec<(usize, PairState)> {
    let state = |status, attempts, error: Option<String>, log: Option<String>| PairState {
        status,
        attempts,
        duration_ms: started.elapsed().as_millis() as u64,
        last_error: error,
        log_path: log,
    };
    let every_pair = |st: PairState| unit.pairs.iter().map(|&i| (i, st.clone())).collect();
    let (attempts, log) = match ending {
        Ending::Ended {
            status,
            attempts,
            error,
            log,
        } => return every_pair(state(status, attempts, Some(error), log)),
        Ending::ExitedZero { attempts, log } if !ctx.settings.verify => {
            return every_pair(state(PairStatus::Done, attempts, None, Some(log)));
        }
        Ending::ExitedZero { attempts, log } => (attempts, Some(log)),
    };
    let engine = ctx.engine.clone();
    let catalog = ctx.catalog.clone();
    let owned = unit.clone();
    let verdicts =
        tokio::task::spawn_blocking(move || verify_unit(engine.as_ref(), &catalog, &owned))
            .await
            .unwrap_or_else(|e| Err(Error::internal(format!("the verification panicked: {e}"))));
    match verdicts {
        Ok(verdicts) => verdicts
            .into_iter()
            .map(|(i, verdict)| {
                let st = match verdict {
                    Ok(()) => state(PairStatus::Done, attempts, None, log.clone()),
                    Err(why) => state(
                        PairStatus::Unverified,
                        attempts,
                        Some(format!("exit 0 but {why}")),
                        log.clone(),
                    ),
                };
                (i, st)
            })
            .collect(),
        Err(e) => every_pair(state(
            PairStatus::Unverified,
            attempts,
            Some(format!("verification failed: {}", e.one_line())),
            log,
        )),
    }
}
