//! The settings of `repair` (the plan and the run) and `checkpoint`.

use std::path::PathBuf;
use std::time::Duration;

use super::defaults;
use super::global::GlobalSettings;
use super::values::{
    parse_duration, parse_positive_duration, parse_processors, parse_range, summary_format,
    table_format,
};
use crate::catalog::{Catalog, TableName};
use crate::checks::required_layout;
use crate::cli::{CheckpointAction, CheckpointArgs, RepairArgs};
use crate::config::RepairConfig;
use crate::error::Error;
use crate::plan::PlanOptions;
use crate::range::DateRange;
use crate::render::{SummaryFormat, TableFormat};
use crate::runner::lease::{LeaseSettings, MIN_STALE_AFTER};
use crate::runner::process::ContainmentMode;
use crate::runner::progress::ProgressMode;

/// `repair`: what to plan and, with --apply, how to run it.
#[derive(Debug, Clone)]
pub struct RepairSettings {
    pub range: Option<DateRange>,
    pub options: PlanOptions,
    /// Run the plan (else print it).
    pub apply: bool,
    pub state_dir: PathBuf,
    /// Concurrent invocations.
    pub jobs: usize,
    /// Overrides every processor's catalog timeout.
    pub timeout: Option<Duration>,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// First retry delay; doubles per attempt, capped at [`defaults::RETRY_BACKOFF_CAP`].
    pub retry_backoff: Duration,
    pub halt_on_failure: bool,
    /// Re-count each pair in the warehouse after its processor exits 0.
    pub verify: bool,
    pub keep_breakers: bool,
    pub progress: ProgressMode,
    pub format: TableFormat,
    /// How processors are contained (a cgroup each, or process groups).
    pub containment: ContainmentMode,
    /// The warehouse's lease two operators' runs take turns on (`[repair] lease_table`).
    pub lease: Option<LeaseSettings>,
}

/// `[repair] lease_table` and `lease_stale_after` of the settings file.
pub fn lease_settings(
    config: &RepairConfig,
    catalog: &Catalog,
) -> Result<Option<LeaseSettings>, Error> {
    let stale_after = match &config.lease_stale_after {
        Some(t) => parse_positive_duration("config: repair.lease_stale_after", t)?,
        None => defaults::LEASE_STALE_AFTER,
    };
    if stale_after < MIN_STALE_AFTER {
        return Err(Error::config(format!(
            "config: repair.lease_stale_after {}: give at least {} (four heartbeats fit in it)",
            humantime::format_duration(stale_after),
            humantime::format_duration(MIN_STALE_AFTER)
        )));
    }
    let Some(table) = &config.lease_table else {
        if config.lease_stale_after.is_some() {
            return Err(Error::config(
                "config: repair.lease_stale_after is set without repair.lease_table, the table it is for",
            ));
        }
        return Ok(None);
    };
    let table = TableName::parse(table)
        .map_err(|e| Error::config(format!("config: repair.lease_table {e}")))?;
    if required_layout(catalog).iter().any(|(t, _)| *t == table) {
        return Err(Error::config(format!(
            "config: repair.lease_table {table} is a table of the catalog: name a table of its own (created on first use)"
        )));
    }
    Ok(Some(LeaseSettings { table, stale_after }))
}

impl RepairSettings {
    pub fn resolve(args: &RepairArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let catalog = &global.catalog;
        let jobs = match args.jobs {
            Some(0) => return Err(Error::usage("--jobs must be at least 1")),
            Some(n) => n,
            None => defaults::jobs(catalog.processors().len()),
        };
        Ok(RepairSettings {
            range: parse_range(args.range.as_deref())?,
            options: PlanOptions {
                processors: parse_processors(catalog, &args.processor)?,
                start_from: args
                    .start_from
                    .as_deref()
                    .map(|c| catalog.find(c))
                    .transpose()?,
                no_downstream: args.no_downstream,
                roots_only: args.roots_only,
            },
            apply: args.apply,
            state_dir: args
                .state_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(defaults::STATE_DIR)),
            jobs,
            timeout: args
                .timeout
                .as_deref()
                .map(|t| parse_positive_duration("--timeout", t))
                .transpose()?,
            grace: match &args.grace {
                Some(t) => parse_duration("--grace", t)?,
                None => defaults::GRACE,
            },
            retry_backoff: match &args.retry_backoff {
                Some(t) => parse_duration("--retry-backoff", t)?,
                None => defaults::RETRY_BACKOFF,
            },
            halt_on_failure: args.halt_on_failure,
            verify: args.verify.into(),
            keep_breakers: args.keep_breakers,
            // --quiet silences the progress with every other note.
            progress: if crate::output::is_quiet() {
                ProgressMode::None
            } else {
                args.progress.into()
            },
            format: table_format(global.format, global.fit(), "repair")?,
            containment: global.containment,
            lease: lease_settings(&global.config.repair, catalog)?,
        })
    }

    /// The demo's repair of `range`: every default, progress as the terminal allows.
    pub fn for_demo(global: &GlobalSettings, range: DateRange, state_dir: PathBuf) -> Self {
        let catalog = &global.catalog;
        RepairSettings {
            range: Some(range),
            options: PlanOptions::default(),
            apply: true,
            state_dir,
            jobs: defaults::jobs(catalog.processors().len()),
            timeout: None,
            grace: defaults::GRACE,
            retry_backoff: defaults::RETRY_BACKOFF,
            halt_on_failure: false,
            verify: true,
            keep_breakers: false,
            progress: ProgressMode::Auto,
            format: TableFormat::Table(global.fit()),
            containment: global.containment,
            // The demo's warehouse is its own new file: nobody else repairs it.
            lease: None,
        }
    }
}

/// What `checkpoint` does with the stored run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointTask {
    /// Say what is stored and how far it got.
    Status,
    /// Discard it.
    Clear,
}

/// `checkpoint status|clear`.
#[derive(Debug, Clone)]
pub struct CheckpointSettings {
    pub task: CheckpointTask,
    pub state_dir: PathBuf,
    pub format: SummaryFormat,
}

impl CheckpointSettings {
    pub fn resolve(args: &CheckpointArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let (task, command) = match args.action {
            CheckpointAction::Status => (CheckpointTask::Status, "checkpoint status"),
            CheckpointAction::Clear => (CheckpointTask::Clear, "checkpoint clear"),
        };
        Ok(CheckpointSettings {
            task,
            state_dir: args
                .state_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(defaults::STATE_DIR)),
            format: summary_format(global.format, command)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{ProgressArg, SwitchArg};
    use crate::render::Format;

    fn global(format: Format) -> GlobalSettings {
        GlobalSettings::for_tests("duckdb:phase4.duckdb", format)
    }

    #[test]
    fn repair_flags_win_over_the_defaults() {
        let g = global(Format::Csv);
        let s = RepairSettings::resolve(
            &RepairArgs {
                processor: vec!["PDC".into()],
                start_from: Some("pcf".into()),
                jobs: Some(2),
                timeout: Some("90s".into()),
                grace: Some("1s".into()),
                retry_backoff: Some("10ms".into()),
                state_dir: Some("elsewhere".into()),
                verify: SwitchArg::Off,
                progress: ProgressArg::Plain,
                apply: true,
                ..Default::default()
            },
            &g,
        )
        .unwrap();
        assert_eq!(s.options.processors, [g.catalog.find("PDC").unwrap()]);
        assert_eq!(s.options.start_from, Some(g.catalog.find("PCF").unwrap()));
        assert_eq!(
            (s.jobs, s.timeout, s.grace, s.retry_backoff),
            (
                2,
                Some(Duration::from_secs(90)),
                Duration::from_secs(1),
                Duration::from_millis(10)
            )
        );
        assert_eq!(s.state_dir, PathBuf::from("elsewhere"));
        assert!(!s.verify && s.apply);
        assert_eq!(s.progress, ProgressMode::Plain);
        assert_eq!(s.format, TableFormat::Csv);
    }

    #[test]
    fn repair_defaults_come_from_one_place_and_the_demo_uses_the_same() {
        let g = global(Format::Table);
        let s = RepairSettings::resolve(&RepairArgs::default(), &g).unwrap();
        assert_eq!(s.state_dir, PathBuf::from(defaults::STATE_DIR));
        assert_eq!(s.grace, defaults::GRACE);
        assert_eq!(s.retry_backoff, defaults::RETRY_BACKOFF);
        assert_eq!(s.jobs, 5, "one lane per processor");
        assert_eq!(s.timeout, None);
        let demo =
            RepairSettings::for_demo(&g, DateRange::season(2021).unwrap(), s.state_dir.clone());
        assert_eq!(
            (demo.grace, demo.retry_backoff, demo.jobs),
            (s.grace, s.retry_backoff, s.jobs)
        );
        let bad = RepairSettings::resolve(
            &RepairArgs {
                jobs: Some(0),
                ..Default::default()
            },
            &g,
        )
        .unwrap_err();
        assert_eq!(bad.to_string(), "--jobs must be at least 1");
    }

    #[test]
    fn the_lease_comes_from_the_settings_file_and_bad_values_name_their_key() {
        let config = |table: Option<&str>, stale: Option<&str>| RepairConfig {
            lease_table: table.map(str::to_string),
            lease_stale_after: stale.map(str::to_string),
        };
        let catalog = Catalog::builtin().unwrap();
        let lease_settings = |c: &RepairConfig| lease_settings(c, &catalog);
        assert_eq!(lease_settings(&config(None, None)).unwrap(), None);
        let lease = lease_settings(&config(Some("nba_processing.lease"), None))
            .unwrap()
            .unwrap();
        assert_eq!(lease.table.to_string(), "nba_processing.lease");
        assert_eq!(lease.stale_after, defaults::LEASE_STALE_AFTER);
        let quick = lease_settings(&config(Some("a.b"), Some("30s")))
            .unwrap()
            .unwrap();
        assert_eq!(quick.stale_after, Duration::from_secs(30));
        for (table, stale, needle) in [
            (
                Some("lease"),
                None,
                "repair.lease_table `lease` is not a dataset.table name",
            ),
            (Some("a.b"), Some("soon"), "repair.lease_stale_after"),
            (Some("a.b"), Some("0s"), "repair.lease_stale_after"),
            (Some("a.b"), Some("500ms"), "give at least 1s"),
            (
                Some("nba_processing.reprocess_attempts"),
                None,
                "is a table of the catalog",
            ),
            (None, Some("5m"), "without repair.lease_table"),
        ] {
            let e = lease_settings(&config(table, stale))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn checkpoint_takes_table_or_json() {
        let args = CheckpointArgs {
            action: CheckpointAction::Status,
            state_dir: None,
        };
        let s = CheckpointSettings::resolve(&args, &global(Format::Json)).unwrap();
        assert_eq!(
            (s.format, s.state_dir),
            (SummaryFormat::Json, PathBuf::from(defaults::STATE_DIR))
        );
        assert!(CheckpointSettings::resolve(&args, &global(Format::Csv)).is_err());
    }
}
