//! The benchmarks of BENCHMARKS.md, each a ratio measured side by side in one run, the
//! median of RUNS interleaved runs of whole processes on seeded warehouses in a temporary
//! directory. Reproduce with `bash benches/bench.sh` (which builds the binary first).
//!
//! `bench [--out FILE]` runs them all; `bench floor DB START END` and `bench per-date DB
//! START END` are the two comparison processes it starts itself.

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use phase4_check::catalog::{Catalog, ProcessorId};
use phase4_check::sql::{Param, Query};
use phase4_check::warehouse::duckdb::DuckDbDialect;

const RUNS: usize = 5;
const FLOOR: &str = include_str!("../sql/bench/floor.sql");
const PER_DATE: &str = include_str!("../sql/bench/per_date.sql");
const GAME_DATES: &str = include_str!("../sql/bench/game_dates.sql");
const CLEAR_RANGE: &str = include_str!("../sql/bench/clear_range.sql");

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("floor") => comparison(&args[1..], floor_process),
        Some("per-date") => comparison(&args[1..], per_date_process),
        Some("--out") => run_all(Path::new(args.get(1).context("--out FILE")?)),
        None => run_all(Path::new("BENCHMARKS.md")),
        Some(other) => bail!("unknown argument {other}: bench [--out FILE]"),
    }
}

/// `DB START END` of a comparison process.
fn comparison(
    args: &[String],
    run: fn(&Path, NaiveDate, NaiveDate) -> Result<usize>,
) -> Result<()> {
    let [db, start, end] = args else {
        bail!("expected DB START END");
    };
    let rows = run(Path::new(db), start.parse()?, end.parse()?)?;
    println!("{rows}");
    Ok(())
}

fn open(db: &Path) -> Result<duckdb::Connection> {
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
    Ok(duckdb::Connection::open_with_flags(db, config)?)
}

/// A query rendered for DuckDB, run on `conn`: its rows, each as its first column.
fn run_query(conn: &duckdb::Connection, query: &Query) -> Result<Vec<Vec<duckdb::types::Value>>> {
    let rendered = query.render(&DuckDbDialect).map_err(anyhow::Error::msg)?;
    let params = phase4_check::warehouse::duckdb::to_sql_params(&rendered);
    let mut stmt = conn.prepare(&rendered.sql)?;
    let mut rows = stmt.query(duckdb::params_from_iter(params.iter()))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let n = row.as_ref().column_count();
        out.push(
            (0..n)
                .map(|i| row.get::<_, duckdb::types::Value>(i))
                .collect::<Result<_, _>>()?,
        );
    }
    Ok(out)
}

fn ranged(name: &'static str, text: &str, start: NaiveDate, end: NaiveDate) -> Query {
    Query::new(name, text)
        .param("start", Param::Date(start))
        .param("end", Param::Date(end))
}

/// The floor: one hand-written query over the range.
fn floor_process(db: &Path, start: NaiveDate, end: NaiveDate) -> Result<usize> {
    let conn = open(db)?;
    Ok(run_query(&conn, &ranged("floor", FLOOR, start, end))?.len())
}

/// Game dates, each with its source rows.
type GameDates = Vec<(NaiveDate, i64)>;

/// The game dates of the range, with the source rows of each.
fn game_dates(
    conn: &duckdb::Connection,
    catalog: &Catalog,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<GameDates> {
    let query = ranged("game_dates", GAME_DATES, start, end)
        .table("source", &catalog.source.table)
        .column("date", &catalog.source.date_column);
    run_query(conn, &query)?
        .into_iter()
        .map(|row| match (&row[0], &row[1]) {
            (duckdb::types::Value::Date32(d), duckdb::types::Value::BigInt(n)) => Ok((
                NaiveDate::default() + chrono::Duration::days((*d).into()),
                *n,
            )),
            other => bail!("unexpected game date row {other:?}"),
        })
        .collect()
}

/// The loop a report replaces: one completeness query per processor and game date.
fn per_date_process(db: &Path, start: NaiveDate, end: NaiveDate) -> Result<usize> {
    let conn = open(db)?;
    let catalog = Catalog::builtin()?;
    let mut queries = 0;
    for (date, _) in game_dates(&conn, &catalog, start, end)? {
        for (_, p) in catalog.processors() {
            let query = Query::new("per_date", PER_DATE)
                .table("source", &catalog.source.table)
                .column("source_date", &catalog.source.date_column)
                .column("source_entity", &p.source_entity_column)
                .table("table", &p.table)
                .column("date", &p.date_column)
                .column("entity", &p.entity_column)
                .table("failures", &catalog.processing.failures)
                .param("date", Param::Date(date))
                .param("code", Param::Text(p.code.clone()));
            run_query(&conn, &query)?;
            queries += 1;
        }
    }
    Ok(queries)
}

/// One whole process: wall time, peak RSS (wait4), exit code, stdout.
struct Measured {
    wall: Duration,
    max_rss_kb: i64,
    code: i32,
    stdout: String,
}

fn measure(command: &mut Command) -> Result<Measured> {
    Ok(measure_running(command, None)?.0)
}

/// `measure`, and with a `runs` directory, the peak of the process's anonymous memory
/// (RssAnon, sampled every 20 ms) once a run there has its events file: the runner's own
/// memory while it runs, after the checks that made the plan (whose freed memory it gives
/// back).
fn measure_running(command: &mut Command, runs: Option<&Path>) -> Result<(Measured, i64)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    let t0 = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("start {command:?}"))?;
    let pid = child.id();
    let (done, peak) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicI64::new(0)),
    );
    let sampler = runs.map(|runs| {
        let (done, peak, runs) = (done.clone(), peak.clone(), runs.to_path_buf());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let running = std::fs::read_dir(&runs)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|run| run.path().join("events.jsonl").exists());
                if running {
                    let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
                    let anon = status.ok().and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("RssAnon:"))
                            .and_then(|v| v.split_whitespace().next()?.parse::<i64>().ok())
                    });
                    if let Some(kb) = anon {
                        peak.fetch_max(kb, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    });
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)?;
    }
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it for the child we spawned.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our child's, not yet waited for; both pointers are valid.
    let waited = unsafe { nix::libc::wait4(pid as nix::libc::pid_t, &mut status, 0, &mut usage) };
    let wall = t0.elapsed();
    done.store(true, Ordering::SeqCst);
    if let Some(sampler) = sampler {
        let _ = sampler.join();
    }
    if waited != pid as nix::libc::pid_t {
        bail!("wait4 for {command:?}: {}", std::io::Error::last_os_error());
    }
    let code = if nix::libc::WIFEXITED(status) {
        nix::libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let measured = Measured {
        wall,
        max_rss_kb: usage.ru_maxrss,
        code,
        stdout,
    };
    Ok((measured, peak.load(Ordering::SeqCst)))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// Runs each of `commands` RUNS times, interleaved; the median wall time of each and the
/// largest peak RSS. Fails when a run exits with a code not in `ok`.
fn side_by_side(commands: &mut [Command], ok: &[i32]) -> Result<Vec<(Duration, i64, String)>> {
    let mut walls = vec![Vec::new(); commands.len()];
    let mut rss = vec![0; commands.len()];
    let mut last = vec![String::new(); commands.len()];
    for _ in 0..RUNS {
        for (i, command) in commands.iter_mut().enumerate() {
            let m = measure(command)?;
            if !ok.contains(&m.code) {
                bail!("{command:?} exited with {}", m.code);
            }
            walls[i].push(m.wall);
            rss[i] = rss[i].max(m.max_rss_kb);
            last[i] = m.stdout;
        }
    }
    Ok(walls
        .into_iter()
        .zip(rss)
        .zip(last)
        .map(|((w, r), s)| (median(w), r, s))
        .collect())
}

struct Bench {
    exe: PathBuf,
    me: PathBuf,
    dir: tempfile::TempDir,
    catalog: Catalog,
    out: String,
}

impl Bench {
    fn tool(&self, db: &Path) -> Command {
        let mut c = Command::new(&self.exe);
        c.arg("--warehouse").arg(format!("duckdb:{}", db.display()));
        c.current_dir(db.parent().unwrap_or(Path::new(".")));
        c.env_remove("PHASE4_WAREHOUSE")
            .env_remove("PHASE4_CATALOG");
        c
    }

    fn comparison(&self, mode: &str, db: &Path, start: NaiveDate, end: NaiveDate) -> Command {
        let mut c = Command::new(&self.me);
        c.arg(mode)
            .arg(db)
            .arg(start.to_string())
            .arg(end.to_string());
        c
    }

    /// `repair --apply` of `range` with `catalog`'s processors, unverified, in `state`.
    fn repair_apply(&self, db: &Path, catalog: &Path, range: &str, state: &Path) -> Command {
        let mut c = self.tool(db);
        c.arg("--catalog").arg(catalog);
        c.args([
            "repair",
            "--range",
            range,
            "--apply",
            "--verify",
            "off",
            "--keep-breakers",
        ]);
        c.args(["--progress", "none", "--format", "json", "--state-dir"])
            .arg(state);
        c
    }

    /// A seeded warehouse of its own: `seed` with `args`, in a directory named `name`.
    fn seed(&self, name: &str, args: &[&str]) -> Result<PathBuf> {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("phase4.duckdb");
        let m = measure(self.tool(&db).arg("seed").args(args))?;
        if m.code != 0 {
            bail!("seed {args:?} failed");
        }
        eprintln!("bench: seeded {name} ({} s)", secs(m.wall));
        Ok(db)
    }

    /// Deletes every Phase 4 row of the range: every pair in it is then missing.
    fn clear(&self, db: &Path, start: NaiveDate, end: NaiveDate) -> Result<()> {
        let conn = duckdb::Connection::open(db)?;
        for (_, p) in self.catalog.processors() {
            let query = ranged("clear_range", CLEAR_RANGE, start, end)
                .table("table", &p.table)
                .column("date", &p.date_column);
            run_query(&conn, &query)?;
        }
        Ok(())
    }

    fn first_and_last(&self, db: &Path) -> Result<(NaiveDate, NaiveDate, GameDates)> {
        let conn = open(db)?;
        let dates = game_dates(&conn, &self.catalog, NaiveDate::MIN, NaiveDate::MAX)?;
        let first = dates.first().context("no game dates")?.0;
        let last = dates.last().context("no game dates")?.0;
        Ok((first, last, dates))
    }

    /// A catalog whose processors run `command(code)` (no warehouse writes).
    fn simulated_catalog(&self, name: &str, command: impl Fn(&str) -> String) -> Result<PathBuf> {
        let text = std::fs::read_to_string("checks/catalog.toml")
            .context("run the bench from the repository root")?;
        let mut out = String::new();
        for line in text.lines() {
            let code = line
                .strip_prefix("command = [")
                .and_then(|l| l.split("\"--processor\", \"").nth(1))
                .and_then(|l| l.split('"').next());
            match code {
                Some(code) => writeln!(out, "command = {}", command(code))?,
                None => writeln!(out, "{line}")?,
            }
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, out)?;
        Ok(path)
    }
}

fn run_all(out_path: &Path) -> Result<()> {
    let me = std::env::current_exe()?;
    let exe = me
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("phase4-check"))
        .context("where the binary is")?;
    if !exe.exists() {
        bail!(
            "{} is missing: cargo build --release first (benches/bench.sh does)",
            exe.display()
        );
    }
    let mut b = Bench {
        exe,
        me,
        dir: tempfile::tempdir()?,
        catalog: Catalog::builtin()?,
        out: String::new(),
    };
    // The section benches/roots.sh writes survives this rewrite.
    let kept = std::fs::read_to_string(out_path)
        .ok()
        .and_then(|old| {
            let start = old.find("<!-- roots: bash benches/roots.sh -->")?;
            let end = old.find("<!-- /roots -->")? + "<!-- /roots -->".len();
            Some(old[start..end].to_string())
        })
        .unwrap_or_default();
    let sections: [fn(&mut Bench) -> Result<()>; 6] = [
        header,
        report_vs_loop,
        report_vs_floor,
        simulated_repair,
        runner_overhead,
        builtin_processors,
    ];
    for section in sections {
        section(&mut b)?;
        // Written after every section, so a long run shows what it has measured so far.
        std::fs::write(out_path, format!("{}\n{kept}\n", b.out))?;
    }
    eprintln!("bench: wrote {}", out_path.display());
    Ok(())
}

fn header(b: &mut Bench) -> Result<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    writeln!(
        b.out,
        "# Benchmarks\n\nReproduce all of it: `bash benches/bench.sh` (release build; writes this file).\n\
         Machine: {cores} cores ({cpu}), {mem_gb:.0} GB of memory; {}.\n\
         Every figure is the median of {RUNS} runs of whole processes, interleaved with what it is\n\
         compared with; peak RSS is the largest of those runs (wait4). These machines are shared:\n\
         the ratios, measured side by side, are the numbers to read.\n",
        chrono::Utc::now().format("%Y-%m-%d")
    )?;
    Ok(())
}

/// `report` against the per-date loop of the original validation, on one seeded season.
fn report_vs_loop(b: &mut Bench) -> Result<()> {
    let db = b.seed("loop", &[])?;
    let (first, last, dates) = b.first_and_last(&db)?;
    let range = format!("{first}..{last}");
    let mut commands = [
        {
            let mut c = b.tool(&db);
            c.args(["report", "--range", &range, "--format", "json"]);
            c
        },
        b.comparison("per-date", &db, first, last),
    ];
    let r = side_by_side(&mut commands, &[0, 1])?;
    let queries = r[1].2.trim().to_string();
    writeln!(
        b.out,
        "## `report` against the per-date loop it replaces\n\n\
         One seeded season (2021-22, {} game dates). The loop is the original validation's: one\n\
         completeness query per processor and game date (`sql/bench/per_date.sql`), {queries}\n\
         queries on one connection in one process (`bench per-date`).\n\n\
         | what | queries | wall (ms) |\n|---|---|---|\n\
         | `phase4-check report --range {range}` | 5 | {} |\n\
         | per-date loop | {queries} | {} |\n\n\
         The report is **{:.0}x** faster.\n",
        dates.len(),
        ms(r[0].0),
        ms(r[1].0),
        r[1].0.as_secs_f64() / r[0].0.as_secs_f64()
    )?;
    eprintln!("bench: report vs loop done");
    Ok(())
}

/// `report` against the single reconciling query, over ranges of growing size.
fn report_vs_floor(b: &mut Bench) -> Result<()> {
    let db = b.seed("four", &["--seasons", "2021-22,2022-23,2023-24,2024-25"])?;
    let (first, last, dates) = b.first_and_last(&db)?;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
    let ranges = [
        ("1 week", d("2021-12-01")?, d("2021-12-07")?),
        ("1 month", d("2021-12-01")?, d("2021-12-31")?),
        ("1 season", first, d("2022-04-10")?),
        ("4 seasons", first, last),
    ];
    writeln!(
        b.out,
        "## `report` against the floor\n\n\
         Four seeded seasons (2021-22..2024-25). The floor is one hand-written DuckDB query that\n\
         reconciles the five processors per date entity by entity and does nothing else\n\
         (`sql/bench/floor.sql`, run by `bench floor`: a whole process too, opening the file).\n\
         Rows read: the source's, the Phase 4 tables' and the failure rows in the range.\n\n\
         | range | game dates | (processor, date) pairs | rows read | report (ms) | floor (ms) | report / floor | report ms per 100k rows | report peak RSS (MB) |\n\
         |---|---|---|---|---|---|---|---|---|"
    )?;
    for (label, start, end) in ranges {
        let range = format!("{start}..{end}");
        let mut commands = [
            {
                let mut c = b.tool(&db);
                c.args(["report", "--range", &range, "--format", "json"]);
                c
            },
            b.comparison("floor", &db, start, end),
        ];
        let r = side_by_side(&mut commands, &[0, 1])?;
        let report: Value = serde_json::from_str(&r[0].2)?;
        let in_range: Vec<_> = dates
            .iter()
            .filter(|(g, _)| start <= *g && *g <= end)
            .collect();
        let source: i64 = in_range.iter().map(|(_, n)| n).sum();
        let processors = report["processors"].as_array().context("processors")?;
        let records: i64 = processors
            .iter()
            .filter_map(|p| p["records"].as_i64())
            .sum();
        let failures: i64 = processors
            .iter()
            .flat_map(|p| p["failures_by_category"].as_object().into_iter().flatten())
            .filter_map(|(_, n)| n.as_i64())
            .sum();
        let rows = source + records + failures;
        writeln!(
            b.out,
            "| {label} (`{range}`) | {} | {} | {rows} | {} | {} | {:.2} | {:.1} | {:.0} |",
            in_range.len(),
            in_range.len() * b.catalog.processors().len(),
            ms(r[0].0),
            ms(r[1].0),
            r[0].0.as_secs_f64() / r[1].0.as_secs_f64(),
            r[0].0.as_secs_f64() * 1000.0 / (rows as f64 / 100_000.0),
            r[0].1 as f64 / 1024.0,
        )?;
    }
    // One processor, one day.
    let mut gaps = [{
        let mut c = b.tool(&db);
        c.args([
            "gaps",
            "--processor",
            "tdza",
            "--range",
            "2021-12-04",
            "--format",
            "json",
        ]);
        c
    }];
    let g = side_by_side(&mut gaps, &[0, 1])?;
    writeln!(
        b.out,
        "\n`phase4-check gaps --processor tdza --range 2021-12-04` on the same warehouse: {} ms, peak RSS {:.0} MB.\n",
        ms(g[0].0),
        g[0].1 as f64 / 1024.0
    )?;
    eprintln!("bench: report vs floor done");
    Ok(())
}

/// Simulated durations per date (ms) of the repair benchmark.
const SIMULATED_MS: [(&str, u64); 5] = [
    ("TDZA", 40),
    ("PSZA", 40),
    ("PCF", 90),
    ("PDC", 75),
    ("ML", 50),
];

fn simulated_ms(code: &str) -> u64 {
    SIMULATED_MS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(0, |(_, ms)| *ms)
}

/// The plan's pairs (processor code, date) in run order.
fn plan_pairs(
    b: &Bench,
    db: &Path,
    catalog: &Path,
    range: &str,
) -> Result<Vec<(String, NaiveDate)>> {
    let m = measure(
        b.tool(db)
            .arg("--catalog")
            .arg(catalog)
            .args(["repair", "--range", range, "--format", "json"]),
    )?;
    let plan: Value = serde_json::from_str(&m.stdout).context("the plan's JSON")?;
    plan["pairs"]
        .as_array()
        .context("pairs")?
        .iter()
        .map(|p| {
            Ok((
                p["processor"].as_str().context("processor")?.to_string(),
                p["date"].as_str().context("date")?.parse()?,
            ))
        })
        .collect()
}

/// The critical path of the plan with unlimited lanes: a pair starts when its processor's
/// previous date and its upstream processors' same date are done (DOMAIN.md); and the
/// processor-by-processor order of the original orchestrator (the processors of one depth
/// side by side, each depth after the one before).
fn schedule_bounds(catalog: &Catalog, pairs: &[(String, NaiveDate)]) -> (Duration, Duration) {
    let mut done: BTreeMap<(ProcessorId, NaiveDate), u64> = BTreeMap::new();
    let mut last_of: BTreeMap<ProcessorId, u64> = BTreeMap::new();
    let mut total_of: BTreeMap<ProcessorId, u64> = BTreeMap::new();
    for (code, date) in pairs {
        let Some(id) = catalog.by_code(code) else {
            continue;
        };
        let upstream = catalog
            .get(id)
            .depends_on
            .iter()
            .filter_map(|u| done.get(&(*u, *date)))
            .max()
            .copied()
            .unwrap_or(0);
        let start = upstream.max(last_of.get(&id).copied().unwrap_or(0));
        let end = start + simulated_ms(code);
        done.insert((id, *date), end);
        last_of.insert(id, end);
        *total_of.entry(id).or_default() += simulated_ms(code);
    }
    let critical = done.values().max().copied().unwrap_or(0);
    let mut by_depth: BTreeMap<usize, u64> = BTreeMap::new();
    for (id, total) in total_of {
        let depth = depth(catalog, id);
        let slot = by_depth.entry(depth).or_default();
        *slot = (*slot).max(total);
    }
    let staged = by_depth.values().sum();
    (
        Duration::from_millis(critical),
        Duration::from_millis(staged),
    )
}

fn depth(catalog: &Catalog, id: ProcessorId) -> usize {
    catalog
        .get(id)
        .depends_on
        .iter()
        .map(|u| depth(catalog, *u) + 1)
        .max()
        .unwrap_or(0)
}

/// `repair --apply` of simulated processors against the critical path and the
/// processor-by-processor order.
fn simulated_repair(b: &mut Bench) -> Result<()> {
    let db = b.seed("sim", &["--healthy"])?;
    let (first, last, _) = b.first_and_last(&db)?;
    b.clear(&db, first, last)?;
    let catalog = b.simulated_catalog("sim.toml", |code| {
        format!("[\"sleep\", \"{:.3}\"]", simulated_ms(code) as f64 / 1000.0)
    })?;
    writeln!(
        b.out,
        "## `repair --apply` against the critical path\n\n\
         A healthy seeded season with every Phase 4 row deleted, repaired by simulated processors\n\
         (`sleep`: {}), `--verify off`, one lane per processor. The critical path is the\n\
         schedule's lower bound with unlimited lanes (a pair waits for its processor's previous\n\
         date and its upstream processors' same date); processor by processor is the original\n\
         orchestrator's order (TDZA and PSZA side by side, then PCF, PDC, ML).\n\n\
         | range | pairs | wall (s) | critical path (s) | wall / critical path | processor by processor (s) | ms added per pair on the PCF chain | runner peak RSS (MB) |\n\
         |---|---|---|---|---|---|---|---|",
        SIMULATED_MS
            .iter()
            .map(|(c, ms)| format!("{c} {ms} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    for (label, range) in [
        ("1 month", "2021-12".to_string()),
        ("1 season", format!("{first}..{last}")),
    ] {
        let pairs = plan_pairs(b, &db, &catalog, &range)?;
        let (critical, staged) = schedule_bounds(&b.catalog, &pairs);
        let state = b.dir.path().join("sim-state");
        let mut walls = Vec::new();
        let mut rss = 0;
        for _ in 0..RUNS {
            let _ = std::fs::remove_dir_all(&state);
            let m = measure(&mut b.repair_apply(&db, &catalog, &range, &state))?;
            if m.code != 0 {
                bail!("the simulated repair of {range} exited with {}", m.code);
            }
            walls.push(m.wall);
            rss = rss.max(m.max_rss_kb);
        }
        let wall = median(walls);
        let pcf = pairs.iter().filter(|(c, _)| c == "PCF").count().max(1);
        writeln!(
            b.out,
            "| {label} (`{range}`) | {} | {} | {} | {:.3} | {} | {:.1} | {:.0} |",
            pairs.len(),
            secs(wall),
            secs(critical),
            wall.as_secs_f64() / critical.as_secs_f64(),
            secs(staged),
            (wall.as_secs_f64() - critical.as_secs_f64()) * 1000.0 / pcf as f64,
            rss as f64 / 1024.0
        )?;
        eprintln!("bench: simulated repair {label} done");
    }
    writeln!(b.out)?;
    Ok(())
}

/// The runner's own cost per pair, with processors that exit at once.
fn runner_overhead(b: &mut Bench) -> Result<()> {
    let seasons: Vec<String> = (2009..=2021)
        .map(|y| format!("{y}-{:02}", (y + 1) % 100))
        .collect();
    let db = b.seed("overhead", &["--healthy", "--seasons", &seasons.join(",")])?;
    let (first, last, dates) = b.first_and_last(&db)?;
    b.clear(&db, first, last)?;
    let catalog = b.simulated_catalog("true.toml", |_| "[\"true\"]".into())?;
    let processors = b.catalog.processors().len();
    writeln!(
        b.out,
        "## The runner's overhead per pair\n\n\
         Thirteen healthy seeded seasons (2009-10..2021-22) with every Phase 4 row deleted; the\n\
         first N / {processors} game dates repaired by processors that exit at once (`true`),\n\
         `--verify off`, one lane per processor. Overhead per pair is the wall time over the pairs.\n\
         Peak RSS is the whole process's, the checks that make the plan included (they read the\n\
         range); the runner's own memory is its anonymous memory (RssAnon) sampled every 20 ms\n\
         while it runs.\n\n\
         | pairs | wall (s) | overhead per pair (ms) | peak RSS (MB) | runner's anonymous memory while running, peak (MB) |\n|---|---|---|---|---|"
    )?;
    for n in [100usize, 1_000, 10_000] {
        let dates_needed = n.div_ceil(processors);
        let Some((end, _)) = dates.get(dates_needed - 1) else {
            bail!(
                "{n} pairs need {dates_needed} game dates; the warehouse has {}",
                dates.len()
            );
        };
        let range = format!("{first}..{end}");
        let state = b.dir.path().join("true-state");
        let mut walls = Vec::new();
        let mut rss = 0;
        let mut running_kb = 0;
        let mut pairs = 0;
        for _ in 0..RUNS {
            let _ = std::fs::remove_dir_all(&state);
            let (m, anon) = measure_running(
                &mut b.repair_apply(&db, &catalog, &range, &state),
                Some(&state.join("runs")),
            )?;
            running_kb = running_kb.max(anon);
            if m.code != 0 {
                bail!("the repair of {range} exited with {}", m.code);
            }
            let run: Value = serde_json::from_str(&m.stdout)?;
            pairs = run["pairs"].as_array().map_or(0, Vec::len);
            walls.push(m.wall);
            rss = rss.max(m.max_rss_kb);
        }
        let wall = median(walls);
        writeln!(
            b.out,
            "| {pairs} | {} | {:.2} | {:.0} | {:.1} |",
            secs(wall),
            wall.as_secs_f64() * 1000.0 / pairs.max(1) as f64,
            rss as f64 / 1024.0,
            running_kb as f64 / 1024.0
        )?;
        eprintln!("bench: runner overhead {n} done");
    }
    writeln!(b.out)?;
    Ok(())
}

/// The built-in reference processors: a season's five tables, and where the time goes.
fn builtin_processors(b: &mut Bench) -> Result<()> {
    writeln!(
        b.out,
        "## The built-in processors\n\n\
         A healthy seeded season with every Phase 4 row deleted, rebuilt one processor at a time\n\
         in dependency order by `phase4-check -v process --processor P --start FIRST --end LAST`\n\
         (one invocation per processor for the whole season). The query and statement times are\n\
         what `-v` logs; the rest of the wall time is the process: start, opening the file, the\n\
         appends and the commit.\n\
         {RUNS} rebuilds; the medians.\n\n\
         | processor | game dates | wall (s) | per date (ms) | in queries (ms) | where the query time goes (ms) |\n|---|---|---|---|---|---|"
    )?;
    let db = b.seed("builtin", &["--healthy"])?;
    let (first, last, dates) = b.first_and_last(&db)?;
    let mut walls: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    let mut queries: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for _ in 0..RUNS {
        b.clear(&db, first, last)?;
        for &id in b.catalog.run_order() {
            let code = b.catalog.code(id).to_string();
            let mut c = b.tool(&db);
            c.args([
                "-v",
                "process",
                "--processor",
                &code,
                "--start",
                &first.to_string(),
                "--end",
                &last.to_string(),
            ]);
            c.stderr(Stdio::piped()).stdout(Stdio::null());
            let started = Instant::now();
            let out = c.output()?;
            let wall = started.elapsed();
            if !out.status.success() {
                bail!(
                    "process {code} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            walls.entry(code.clone()).or_default().push(wall);
            let mut per_query: BTreeMap<String, f64> = BTreeMap::new();
            for line in String::from_utf8_lossy(&out.stderr).lines() {
                let name = line
                    .split("query=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next());
                let took = line
                    .split(" ms=")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next()?.parse::<f64>().ok());
                if let (Some(name), Some(took)) = (name, took) {
                    *per_query.entry(name.to_string()).or_default() += took;
                }
            }
            for (name, took) in per_query {
                queries
                    .entry(code.clone())
                    .or_default()
                    .entry(name)
                    .or_default()
                    .push(took);
            }
        }
    }
    for &id in b.catalog.run_order() {
        let code = b.catalog.code(id);
        let wall = median(walls.remove(code).unwrap_or_default());
        let mut parts: Vec<(String, f64)> = queries
            .remove(code)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, mut t)| {
                t.sort_by(f64::total_cmp);
                (name, t[t.len() / 2])
            })
            .collect();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        let in_queries: f64 = parts.iter().map(|(_, t)| t).sum();
        writeln!(
            b.out,
            "| {code} | {} | {} | {:.1} | {:.0} | {} |",
            dates.len(),
            secs(wall),
            wall.as_secs_f64() * 1000.0 / dates.len() as f64,
            in_queries,
            parts
                .iter()
                .map(|(n, t)| format!("{n} {t:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(b.out)?;
    eprintln!("bench: built-in processors done");
    Ok(())
}
