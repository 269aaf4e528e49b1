//! The commands: resolved settings in, exit code out. No clap types past `from_cli`.

use std::io::Write;
use std::path::PathBuf;

use crate::catalog::{Catalog, ProcessorId};
use crate::checks::{CheckRequest, run_checks};
use crate::cli::{CheckpointAction, Cli, Command, GlobalArgs, Switch};
use crate::config::Config;
use crate::demo::processors::{Builtin, run_builtin};
use crate::demo::seed::{DEFAULT_SEED, SeedSettings, seed};
use crate::error::{Error, ExitCode};
use crate::gate::render::{GateOutcome, render_gate, render_update, short_fingerprint};
use crate::gate::{Counts, Limit, Snapshot, Tolerances, compare};
use crate::plan::PlanOptions;
use crate::range::{DateRange, parse_season};
use crate::render::{Format, render_gaps, render_report};
use crate::runner::progress::ProgressMode;
use crate::runner::repair::{RepairSettings, apply, plan_from_checks};
use crate::warehouse::duckdb::DuckDbWarehouse;
use crate::warehouse::{WarehouseSpec, open_for_reading};

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    pub warehouse: WarehouseSpec,
    pub catalog: Catalog,
    pub format: Format,
    /// Dry-run the checks and print the bytes they would process (BigQuery).
    pub estimate: bool,
}

/// `report` and `gaps`.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub request: CheckRequest,
}

/// Runs the parsed command line.
pub fn run_cli(cli: Cli) -> Result<ExitCode, Error> {
    let (config, _) = Config::load(cli.global.config.as_deref())?;
    let catalog = Catalog::load(cli.global.catalog.as_deref())?;
    let global = GlobalSettings {
        warehouse: resolve_warehouse(&cli.global, &config, &catalog)?,
        catalog,
        format: cli.global.format,
        estimate: cli.global.estimate,
    };
    let estimable = match &cli.command {
        Command::Report(_) | Command::Gaps(_) | Command::Gate(_) => true,
        Command::Repair(args) => !args.apply,
        _ => false,
    };
    if global.estimate && !estimable {
        return Err(Error::usage(
            "--estimate dry-runs the checks of report, gaps, gate and repair (without --apply) only",
        ));
    }
    if global.format == Format::Junit && !matches!(cli.command, Command::Gate(_)) {
        return Err(Error::usage(
            "--format junit is for `gate` only (the other commands take table, json, csv or markdown)",
        ));
    }
    match cli.command {
        Command::Seed(args) => {
            let seasons = parse_seasons(&args.seasons)?;
            let path = duckdb_path(&global.warehouse, "seed")?;
            let settings = SeedSettings {
                path,
                seed: args.seed.unwrap_or(DEFAULT_SEED),
                seasons,
                healthy: args.healthy,
                force: args.force,
            };
            run_seed(&global, &settings, args.manifest)
        }
        Command::Report(args) => {
            let request = CheckRequest {
                range: parse_range(args.range.as_deref())?,
                processors: parse_processors(&global.catalog, &args.processor)?,
            };
            run_report(&global, &CheckSettings { request })
        }
        Command::Gaps(args) => {
            let id = global.catalog.find(&args.processor)?;
            let request = CheckRequest {
                range: parse_range(args.range.as_deref())?,
                processors: vec![id],
            };
            run_gaps(&global, &CheckSettings { request }, id)
        }
        Command::Repair(args) => {
            let settings = RepairSettings {
                range: parse_range(args.range.as_deref())?,
                options: PlanOptions {
                    processors: parse_processors(&global.catalog, &args.processor)?
                        .into_iter()
                        .map(|id| global.catalog.code(id).to_string())
                        .collect(),
                    start_from: args
                        .start_from
                        .as_deref()
                        .map(|c| {
                            global
                                .catalog
                                .find(c)
                                .map(|id| global.catalog.code(id).to_string())
                        })
                        .transpose()?,
                    no_downstream: args.no_downstream,
                },
                state_dir: args.state_dir,
                jobs: match args.jobs {
                    Some(0) => return Err(Error::usage("--jobs must be at least 1")),
                    other => other,
                },
                timeout: args
                    .timeout
                    .as_deref()
                    .map(|t| parse_duration("--timeout", t))
                    .transpose()?,
                grace: parse_duration("--grace", &args.grace)?,
                retry_backoff: parse_duration("--retry-backoff", &args.retry_backoff)?,
                halt_on_failure: args.halt_on_failure,
                verify: args.verify == Switch::On,
                keep_breakers: args.keep_breakers,
                progress: args.progress,
            };
            if args.apply {
                run_repair_apply(&global, &settings)
            } else {
                run_repair_plan(&global, &settings)
            }
        }
        Command::Checkpoint(args) => match args.action {
            CheckpointAction::Status => {
                match crate::runner::repair::status(&args.state_dir)? {
                    None => emit(&format!(
                        "no repair run is stored in {}\n",
                        args.state_dir.display()
                    )),
                    Some(c) => {
                        let counts = crate::runner::checkpoint::summarize(&c.states);
                        if global.format == Format::Json {
                            let doc = serde_json::json!({"request": c.request, "fingerprint": c.fingerprint, "created_at": c.created_at, "updated_at": c.updated_at, "counts": counts});
                            emit(
                                &(serde_json::to_string_pretty(&doc)
                                    .map_err(|e| Error::Other(e.into()))?
                                    + "\n"),
                            );
                        } else {
                            emit(&format!(
                                "repair run stored in {}: {} pairs: {} done, {} pending, {} failed, {} timed out, {} blocked, {} interrupted, {} unverified\nrequest: {}\nstarted {}, last updated {}\n",
                                args.state_dir.display(),
                                counts.total(),
                                counts.done,
                                counts.pending,
                                counts.failed,
                                counts.timed_out,
                                counts.blocked,
                                counts.interrupted,
                                counts.unverified,
                                c.request,
                                c.created_at,
                                c.updated_at
                            ));
                        }
                    }
                }
                Ok(ExitCode::Healthy)
            }
            CheckpointAction::Clear => {
                let existed = crate::runner::repair::clear(&args.state_dir)?;
                emit(&if existed {
                    format!(
                        "discarded the repair run stored in {}\n",
                        args.state_dir.display()
                    )
                } else {
                    format!("no repair run is stored in {}\n", args.state_dir.display())
                });
                Ok(ExitCode::Healthy)
            }
        },
        Command::Demo(args) => {
            let path = duckdb_path(&global.warehouse, "demo")?;
            let settings = SeedSettings {
                path,
                seed: args.seed.unwrap_or(DEFAULT_SEED),
                seasons: vec![2021],
                healthy: false,
                force: args.force,
            };
            run_demo(&global, &settings)
        }
        Command::Gate(args) => {
            let mut tolerances = Tolerances::default();
            for t in &args.tolerance {
                tolerances.set_from_flag(t).map_err(Error::usage)?;
            }
            for name in args.allow.iter().filter(|n| !n.trim().is_empty()) {
                tolerances
                    .set(name.trim(), Limit::Any)
                    .map_err(|e| Error::usage(format!("--allow: {e}")))?;
            }
            let settings = GateSettings {
                snapshot: args.snapshot,
                range: parse_range(args.range.as_deref())?,
                range_text: args.range,
                update: args.update,
                tolerances,
            };
            run_gate(&global, &settings)
        }
        Command::Process(args) => {
            let id = global.catalog.find(&args.processor)?;
            let code = global.catalog.code(id);
            let builtin = Builtin::from_code(code).ok_or_else(|| {
                Error::usage(format!("processor {code} has no built-in reference processor (only TDZA, PSZA, PCF, PDC and ML do)"))
            })?;
            let range = match (&args.date, &args.start, &args.end) {
                (Some(d), None, None) => {
                    DateRange::day(parse_date("--date", d)?).map_err(Error::usage)?
                }
                (None, Some(s), Some(e)) => {
                    DateRange::new(parse_date("--start", s)?, parse_date("--end", e)?)
                        .map_err(Error::usage)?
                }
                _ => return Err(Error::usage("process needs --date D, or --start D --end D")),
            };
            let path = duckdb_path(&global.warehouse, "process")?;
            let mut warehouse = DuckDbWarehouse::open_read_write(&path)?;
            let summary = run_builtin(&mut warehouse, builtin, range, None)?;
            emit(&format!("{summary}\n"));
            Ok(ExitCode::Healthy)
        }
    }
}

fn duckdb_path(spec: &WarehouseSpec, command: &str) -> Result<PathBuf, Error> {
    match spec {
        WarehouseSpec::DuckDb(p) => Ok(p.clone()),
        WarehouseSpec::BigQuery(_) => Err(Error::usage(format!(
            "`{command}` writes the embedded warehouse only: use --warehouse duckdb:PATH"
        ))),
    }
}

pub fn parse_range(text: Option<&str>) -> Result<Option<DateRange>, Error> {
    text.map(|t| t.parse::<DateRange>().map_err(Error::usage))
        .transpose()
}

pub fn parse_date(flag: &str, text: &str) -> Result<chrono::NaiveDate, Error> {
    let range: DateRange = text
        .parse()
        .map_err(|e| Error::usage(format!("{flag}: {e}")))?;
    if range.start() != range.end() || text.len() != 10 {
        return Err(Error::usage(format!(
            "{flag} `{text}` is not a date (YYYY-MM-DD)"
        )));
    }
    Ok(range.start())
}

pub fn parse_processors(catalog: &Catalog, names: &[String]) -> Result<Vec<ProcessorId>, Error> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| catalog.find(n))
        .collect()
}

fn parse_seasons(text: &str) -> Result<Vec<i32>, Error> {
    let mut seasons = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let year = parse_season(part).map_err(|e| Error::usage(format!("--seasons: {e}")))?;
        if !(1946..=2099).contains(&year) {
            return Err(Error::usage(format!(
                "--seasons: season {part} is outside 1946-47..2099-00"
            )));
        }
        if seasons.contains(&year) {
            return Err(Error::usage(format!(
                "--seasons: season {part} is listed twice"
            )));
        }
        seasons.push(year);
    }
    if seasons.is_empty() {
        return Err(Error::usage(
            "--seasons: name at least one season, e.g. 2021-22",
        ));
    }
    seasons.sort();
    Ok(seasons)
}

/// Writes to stdout, ignoring a closed pipe (`| head`).
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub fn run_seed(
    global: &GlobalSettings,
    settings: &SeedSettings,
    manifest_path: Option<PathBuf>,
) -> Result<ExitCode, Error> {
    let started = std::time::Instant::now();
    let manifest = seed(settings)?;
    if let Some(path) = manifest_path {
        let text =
            serde_json::to_string_pretty(&manifest).map_err(|e| Error::Other(e.into()))? + "\n";
        std::fs::write(&path, text)
            .map_err(|e| Error::usage(format!("cannot write manifest {}: {e}", path.display())))?;
    }
    if global.format == Format::Json {
        emit(
            &(serde_json::to_string_pretty(&manifest).map_err(|e| Error::Other(e.into()))? + "\n"),
        );
    } else {
        emit(&format!(
            "Seeded {} with {} ({} player-game rows, {} game dates, seed {}) in {:.1}s: {} defective pairs, {} stale, {} tripped breakers{}.\n",
            settings.path.display(),
            manifest.seasons.join(", "),
            manifest.player_game_rows,
            manifest.game_dates,
            manifest.seed,
            started.elapsed().as_secs_f64(),
            manifest.defects.len(),
            manifest.stale.len(),
            manifest.breakers.len(),
            if manifest.healthy { " (healthy)" } else { "" },
        ));
    }
    Ok(ExitCode::Healthy)
}

pub fn run_report(global: &GlobalSettings, settings: &CheckSettings) -> Result<ExitCode, Error> {
    if global.estimate {
        return run_estimate(global, &settings.request);
    }
    let mut warehouse = open_for_reading(&global.warehouse)?;
    let findings = run_checks(warehouse.as_mut(), &global.catalog, &settings.request)?;
    drop(warehouse);
    emit(&render_report(
        &global.catalog,
        &findings,
        &global.warehouse.to_string(),
        global.format,
    ));
    Ok(if findings.has_defects() {
        ExitCode::Findings
    } else {
        ExitCode::Healthy
    })
}

pub fn run_gaps(
    global: &GlobalSettings,
    settings: &CheckSettings,
    id: ProcessorId,
) -> Result<ExitCode, Error> {
    if global.estimate {
        return run_estimate(global, &settings.request);
    }
    let mut warehouse = open_for_reading(&global.warehouse)?;
    let findings = run_checks(warehouse.as_mut(), &global.catalog, &settings.request)?;
    drop(warehouse);
    emit(&render_gaps(&global.catalog, &findings, id, global.format));
    Ok(if findings.has_defects() {
        ExitCode::Findings
    } else {
        ExitCode::Healthy
    })
}

/// Seed, report, repair --apply, report again: what a newcomer runs first.
pub fn run_demo(global: &GlobalSettings, settings: &SeedSettings) -> Result<ExitCode, Error> {
    let table = GlobalSettings {
        format: Format::Table,
        ..global.clone()
    };
    let season = DateRange::season(2021).map_err(Error::usage)?;
    emit("== 1. seed: a synthetic 2021-22 season with the defects real backfills leave ==\n");
    run_seed(&table, settings, None)?;
    emit("\n== 2. report: what is missing or broken, and why ==\n");
    let check = CheckSettings {
        request: CheckRequest {
            range: Some(season),
            processors: Vec::new(),
        },
    };
    run_report(&table, &check)?;
    emit(
        "\n== 3. repair --apply: rerun exactly that, in dependency order, with the built-in processors ==\n",
    );
    let state_dir = settings
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join(".phase4"))
        .unwrap_or_else(|| PathBuf::from(".phase4"));
    // A fresh warehouse: the state of a run on an earlier one means nothing.
    let _ = crate::runner::repair::clear(&state_dir);
    let repair = RepairSettings {
        range: Some(season),
        options: PlanOptions::default(),
        state_dir,
        jobs: None,
        timeout: None,
        grace: std::time::Duration::from_secs(10),
        retry_backoff: std::time::Duration::from_secs(1),
        halt_on_failure: false,
        verify: true,
        keep_breakers: false,
        progress: ProgressMode::Auto,
    };
    let repaired = run_repair_apply(&table, &repair)?;
    emit(
        "\n== 4. report again: the defects are gone (expected skips remain: they are not failures) ==\n",
    );
    let after = run_report(&table, &check)?;
    Ok(
        if repaired == ExitCode::Healthy && after == ExitCode::Healthy {
            ExitCode::Healthy
        } else {
            ExitCode::Findings
        },
    )
}

fn parse_duration(flag: &str, text: &str) -> Result<std::time::Duration, Error> {
    let d = humantime::parse_duration(text)
        .map_err(|e| Error::usage(format!("{flag} `{text}`: {e} (e.g. 90s, 10m, 6h)")))?;
    if d.is_zero() && flag == "--timeout" {
        return Err(Error::usage("--timeout must be more than zero"));
    }
    Ok(d)
}

/// `repair` without --apply: the plan, stage by stage; nothing changes.
pub fn run_repair_plan(
    global: &GlobalSettings,
    settings: &RepairSettings,
) -> Result<ExitCode, Error> {
    if global.estimate {
        let request = CheckRequest {
            range: settings.range,
            processors: Vec::new(),
        };
        return run_estimate(global, &request);
    }
    let (plan, _) = plan_from_checks(&global.warehouse, &global.catalog, settings)?;
    for w in &plan.warnings {
        eprintln!("phase4-check: warning: {w}");
    }
    emit(&crate::render::render_plan(
        &global.catalog,
        &plan,
        global.format,
    ));
    Ok(if plan.is_empty() {
        ExitCode::Healthy
    } else {
        ExitCode::Findings
    })
}

/// `repair --apply`.
pub fn run_repair_apply(
    global: &GlobalSettings,
    settings: &RepairSettings,
) -> Result<ExitCode, Error> {
    if !settings.verify {
        eprintln!(
            "phase4-check: WARNING: --verify off: a pair counts as done when its processor exits 0, WITHOUT a re-count in the warehouse (for benchmarks with simulated processors only)"
        );
    }
    let outcome = apply(&global.warehouse, &global.catalog, settings)?;
    for w in &outcome.warnings {
        eprintln!("phase4-check: warning: {w}");
    }
    for l in &outcome.leftovers {
        eprintln!("phase4-check: leftover of an earlier run: {l}");
    }
    emit(&crate::render::render_run(&outcome, global.format));
    Ok(match &outcome.summary {
        None => ExitCode::Healthy,
        Some(s) if s.interrupted => ExitCode::Interrupted,
        Some(s) if s.all_done() => ExitCode::Healthy,
        Some(_) => ExitCode::Findings,
    })
}

/// `gate`.
#[derive(Debug, Clone)]
pub struct GateSettings {
    pub snapshot: PathBuf,
    pub range: Option<DateRange>,
    /// `--range` as the user wrote it, for the commands suggested in messages.
    pub range_text: Option<String>,
    pub update: bool,
    /// From the command line; they override the snapshot's own.
    pub tolerances: Tolerances,
}

/// `gate`: compare the warehouse's counts with the snapshot, or rewrite it with --update.
/// The snapshot is read and validated before the warehouse is opened.
pub fn run_gate(global: &GlobalSettings, settings: &GateSettings) -> Result<ExitCode, Error> {
    let path = settings.snapshot.display().to_string();
    let existing = Snapshot::read(&settings.snapshot, &global.catalog)?;
    let warehouse_flag = if global.warehouse == WarehouseSpec::default() {
        String::new()
    } else {
        format!("--warehouse {} ", global.warehouse)
    };
    // What this run does: rewrite (with the snapshot it replaces, if any) or compare.
    enum Mode {
        Update(Option<Snapshot>),
        Compare(Snapshot),
    }
    let mode = match (existing, settings.update) {
        (existing, true) => Mode::Update(existing),
        (None, false) => {
            return Err(Error::usage(format!(
                "snapshot {path} does not exist: create it with `phase4-check {warehouse_flag}gate --snapshot {path} {}--update`, review it and commit it",
                settings
                    .range_text
                    .as_ref()
                    .map(|r| format!("--range {r} "))
                    .unwrap_or_default()
            )));
        }
        (Some(s), false) => {
            if s.catalog_fingerprint != global.catalog.fingerprint() {
                return Err(Error::config(format!(
                    "snapshot {path} was taken with another catalog (fingerprint {} here, {} in the file): review the catalog change, then rewrite the snapshot with --update",
                    short_fingerprint(global.catalog.fingerprint()),
                    short_fingerprint(&s.catalog_fingerprint)
                )));
            }
            if let Some(r) = settings.range.filter(|r| *r != s.range) {
                return Err(Error::usage(format!(
                    "snapshot {path} covers {}..{}, not --range {}..{}: drop --range, or rewrite the snapshot with --update",
                    s.range.start(),
                    s.range.end(),
                    r.start(),
                    r.end()
                )));
            }
            Mode::Compare(s)
        }
    };
    let range = match &mode {
        Mode::Update(before) => settings.range.or(before.as_ref().map(|s| s.range)),
        Mode::Compare(snapshot) => Some(snapshot.range),
    };

    let request = CheckRequest {
        range,
        processors: Vec::new(),
    };
    if global.estimate {
        return run_estimate(global, &request);
    }
    let mut warehouse = open_for_reading(&global.warehouse)?;
    let findings = run_checks(warehouse.as_mut(), &global.catalog, &request)?;
    drop(warehouse);
    let actual = Counts::from_findings(&global.catalog, &findings);

    let snapshot = match mode {
        Mode::Update(before) => {
            let mut tolerances = before
                .as_ref()
                .map(|s| s.tolerances.clone())
                .unwrap_or_default();
            tolerances.extend(&settings.tolerances);
            let after = Snapshot {
                catalog_fingerprint: global.catalog.fingerprint().to_string(),
                range: findings.range,
                tolerances,
                counts: actual,
            };
            after.write(&settings.snapshot)?;
            emit(&render_update(&path, before.as_ref(), &after));
            return Ok(ExitCode::Healthy);
        }
        Mode::Compare(snapshot) => snapshot,
    };
    let mut tolerances = snapshot.tolerances.clone();
    tolerances.extend(&settings.tolerances);
    let comparison = compare(&snapshot.counts, &actual, findings.range, tolerances);
    let update_command = format!("phase4-check {warehouse_flag}gate --snapshot {path} --update");
    let outcome = GateOutcome {
        comparison: &comparison,
        snapshot: &snapshot.counts,
        actual: &actual,
        snapshot_path: &path,
        warehouse: &global.warehouse.to_string(),
        update_command: &update_command,
    };
    emit(&render_gate(
        &outcome,
        global.format,
        console::colors_enabled(),
    ));
    Ok(if comparison.passed() {
        ExitCode::Healthy
    } else {
        ExitCode::Findings
    })
}

/// The warehouse from --warehouse / PHASE4_WAREHOUSE, else phase4.toml, else the
/// embedded default; BigQuery's settings from the flags, else phase4.toml.
fn resolve_warehouse(
    args: &GlobalArgs,
    config: &Config,
    catalog: &Catalog,
) -> Result<WarehouseSpec, Error> {
    let c = &config.warehouse;
    let mut spec: WarehouseSpec = match args.warehouse.as_ref().or(c.url.as_ref()) {
        Some(text) => text.parse()?,
        None => WarehouseSpec::default(),
    };
    match &mut spec {
        WarehouseSpec::DuckDb(path) => {
            let bigquery_only = [
                ("--location", args.location.is_some()),
                ("--max-bytes-billed", args.max_bytes_billed.is_some()),
                ("--query-timeout", args.query_timeout.is_some()),
                ("--estimate", args.estimate),
            ];
            if let Some((flag, _)) = bigquery_only.iter().find(|(_, set)| *set) {
                return Err(Error::usage(format!(
                    "{flag} is for BigQuery warehouses, and this one is duckdb:{}",
                    path.display()
                )));
            }
        }
        WarehouseSpec::BigQuery(s) => {
            if let Some(location) = args.location.as_ref().or(c.location.as_ref()) {
                let valid = !location.is_empty()
                    && location
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-');
                if !valid {
                    return Err(Error::usage(format!(
                        "location `{location}` is not a BigQuery location (e.g. US, EU, europe-west2)"
                    )));
                }
                s.location = location.clone();
            }
            s.max_bytes_billed = args.max_bytes_billed.or(c.max_bytes_billed);
            if let Some(n) = s.max_bytes_billed.filter(|n| *n <= 0) {
                return Err(Error::usage(format!(
                    "--max-bytes-billed {n}: give a number of bytes above 0"
                )));
            }
            if let Some(t) = args.query_timeout.as_ref().or(c.query_timeout.as_ref()) {
                s.query_timeout = parse_duration("--query-timeout", t)?;
                if s.query_timeout.is_zero() {
                    return Err(Error::usage("--query-timeout must be more than zero"));
                }
            }
            if let Some(n) = c.page_size {
                if n <= 0 {
                    return Err(Error::config(format!(
                        "config: warehouse.page_size {n}: give a number of rows above 0"
                    )));
                }
                s.page_size = Some(n);
            }
            let catalog_datasets: std::collections::BTreeSet<&str> = catalog
                .processors()
                .map(|(_, p)| p.table.dataset.as_str())
                .chain([
                    catalog.source.table.dataset.as_str(),
                    catalog.processing.failures.dataset.as_str(),
                    catalog.processing.attempts.dataset.as_str(),
                ])
                .collect();
            let is_name = |n: &str| {
                !n.is_empty() && n.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            };
            if !c.dataset_prefix.is_empty() && !is_name(&c.dataset_prefix) {
                return Err(Error::config(format!(
                    "config: warehouse.dataset_prefix `{}` may hold letters, digits and _ only",
                    c.dataset_prefix
                )));
            }
            for (logical, physical) in &c.datasets {
                if !catalog_datasets.contains(logical.as_str()) {
                    return Err(Error::config(format!(
                        "config: warehouse.datasets.{logical}: the catalog has no dataset {logical} (it has {})",
                        catalog_datasets
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                if !is_name(physical) {
                    return Err(Error::config(format!(
                        "config: warehouse.datasets.{logical} = `{physical}` is not a dataset name (letters, digits and _)"
                    )));
                }
            }
            s.datasets = crate::sql::DatasetNames {
                prefix: c.dataset_prefix.clone(),
                map: c.datasets.clone(),
            };
            s.api_url = std::env::var(crate::warehouse::bigquery::API_URL_ENV)
                .ok()
                .filter(|u| !u.is_empty());
        }
    }
    Ok(spec)
}

/// `--estimate`: every check as a dry run, the bytes each would process; runs nothing.
pub fn run_estimate(global: &GlobalSettings, request: &CheckRequest) -> Result<ExitCode, Error> {
    let queries = crate::checks::planned_queries(&global.catalog, request)?;
    let mut warehouse = open_for_reading(&global.warehouse)?;
    let mut estimates = Vec::with_capacity(queries.len());
    for query in &queries {
        let bytes = warehouse.dry_run(query)?.ok_or_else(|| {
            Error::usage(format!(
                "--estimate needs a BigQuery warehouse; {} has no byte estimates",
                warehouse.describe()
            ))
        })?;
        estimates.push((query.name, bytes));
    }
    let total: i64 = estimates.iter().map(|(_, b)| b).sum();
    emit(&crate::render::render_estimate(
        &warehouse.describe(),
        &estimates,
        total,
        global.format,
    ));
    Ok(ExitCode::Healthy)
}
