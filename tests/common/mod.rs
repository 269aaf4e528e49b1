//! Shared fixtures: the real binary against real embedded warehouses.
#![allow(dead_code)]

pub mod bench;
pub mod bqemulator;
pub mod fake_bigquery;
pub mod http_server;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BIN: &str = env!("CARGO_BIN_EXE_phase4-check");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs the binary in `dir` with `args`, no inherited warehouse, width or colour settings.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_in_env(dir, args, &[])
}

/// [`run_in`] with environment variables set.
pub fn run_in_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("PHASE4_WAREHOUSE")
        .env_remove("PHASE4_CATALOG")
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env("PHASE4_BUSY_WAIT", "20s")
        .envs(env.iter().copied())
        .output()
        .expect("run phase4-check")
        .into()
}

/// A seeded warehouse shared (read-only) by the tests of one test binary.
pub struct Seeded {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    pub path: PathBuf,
    pub manifest: Value,
}

impl Seeded {
    pub fn warehouse_arg(&self) -> String {
        format!("duckdb:{}", self.path.display())
    }

    /// Runs against this warehouse.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs against this warehouse with environment variables set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["--warehouse".to_string(), self.warehouse_arg()];
        all.extend(args.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        run_in_env(&self.dir, &refs, env)
    }

    /// A private copy, for tests that write.
    pub fn copy(&self) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.duckdb");
        std::fs::copy(&self.path, &path).unwrap();
        (dir, path)
    }
}

fn seed(extra: &[&str]) -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phase4.duckdb");
    let manifest_path = dir.path().join("manifest.json");
    let mut args = vec![
        "--warehouse",
        "duckdb:phase4.duckdb",
        "seed",
        "--manifest",
        "manifest.json",
    ];
    args.extend_from_slice(extra);
    let run = run_in(dir.path(), &args);
    assert_eq!(run.code, 0, "seed failed: {}\n{}", run.stdout, run.stderr);
    let manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    Seeded {
        dir: dir.path().to_path_buf(),
        path,
        manifest,
        _dir: dir,
    }
}

/// The default seeded season 2021-22 with its defects.
pub fn seeded() -> &'static Seeded {
    static SEEDED: OnceLock<Seeded> = OnceLock::new();
    SEEDED.get_or_init(|| seed(&[]))
}

/// A healthy seeded season.
pub fn healthy() -> &'static Seeded {
    static HEALTHY: OnceLock<Seeded> = OnceLock::new();
    HEALTHY.get_or_init(|| seed(&["--healthy"]))
}

/// The built-in catalog with every processor's command replaced by `argv` (TOML strings,
/// e.g. `"true"`): runs that write nothing of their own.
pub fn catalog_running(argv: &[&str]) -> String {
    let command = format!(
        "command = [{}]",
        argv.iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let catalog: Vec<String> = phase4_check::catalog::DEFAULT_CATALOG
        .lines()
        .map(|l| {
            if l.starts_with("command = [") {
                command.clone()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(
        catalog.iter().filter(|l| **l == command).count(),
        5,
        "every processor's command replaced"
    );
    catalog.join("\n")
}

/// Every table of an embedded warehouse file, `schema.table` -> its rows (each as text,
/// sorted): two dumps compare what a run wrote.
pub fn dump_tables(path: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let config = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .unwrap();
    let conn = duckdb::Connection::open_with_flags(path, config).unwrap();
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for (schema, table) in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{schema}\".\"{table}\""))
            .unwrap();
        let mut result = stmt.query([]).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = result.next().unwrap() {
            let width = row.as_ref().column_count();
            let values: Vec<duckdb::types::Value> =
                (0..width).map(|i| row.get(i).unwrap()).collect();
            rows.push(format!("{values:?}"));
        }
        rows.sort();
        out.insert(format!("{schema}.{table}"), rows);
    }
    out
}

/// The lease table the lease tests name in `[repair] lease_table`.
pub const LEASE_TABLE: &str = "nba_processing.phase4_repair_lease";

/// phase4.toml's `[repair]` section: the lease, taken over after `stale_after`.
pub fn lease_config(stale_after: &str) -> String {
    format!("[repair]\nlease_table = \"{LEASE_TABLE}\"\nlease_stale_after = \"{stale_after}\"\n")
}

/// `repair --apply` of `range` from a state directory of its own (another operator),
/// with `catalog.toml`'s processors, no re-count and no breaker reset: the runs of the
/// lease tests, whose only writes are the lease's.
pub fn lease_run<'a>(range: &'a str, state_dir: &'a str) -> [&'a str; 13] {
    [
        "--catalog",
        "catalog.toml",
        "repair",
        "--range",
        range,
        "--apply",
        "--verify",
        "off",
        "--keep-breakers",
        "--progress",
        "none",
        "--state-dir",
        state_dir,
    ]
}

/// [`catalog_running`] processors that write nothing and wait until the file named by
/// `PHASE4_TEST_GATE` exists: a run lasts until its test opens the gate.
pub fn gated_catalog() -> String {
    catalog_running(&[
        "sh",
        "-c",
        r#"while [ ! -f "$PHASE4_TEST_GATE" ]; do sleep 0.05; done"#,
    ])
}

/// Opens an embedded warehouse file, retrying while a runner or a processor holds it.
pub fn open_when_free(path: &Path, write: bool) -> duckdb::Connection {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mode = if write {
            duckdb::AccessMode::ReadWrite
        } else {
            duckdb::AccessMode::ReadOnly
        };
        let config = duckdb::Config::default().access_mode(mode).unwrap();
        match duckdb::Connection::open_with_flags(path, config) {
            Ok(c) => return c,
            Err(e) => assert!(
                std::time::Instant::now() < deadline,
                "cannot open {}: {e}",
                path.display()
            ),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `repair --apply` of `range` with `catalog.toml`'s processors, no re-count, JSON out:
/// the runs whose every write is phase4-check's own (the breaker tests).
pub fn unverified_repair(range: &str) -> [&str; 12] {
    [
        "--catalog",
        "catalog.toml",
        "repair",
        "--range",
        range,
        "--apply",
        "--verify",
        "off",
        "--progress",
        "none",
        "--format",
        "json",
    ]
}

/// The seeded breakers: PCF entities tripped on one date, by the manifest.
pub fn seeded_breakers() -> (String, Vec<String>) {
    let breakers = seeded().manifest["breakers"].as_array().unwrap().clone();
    let date = breakers[0]["date"].as_str().unwrap().to_string();
    let entities = breakers
        .iter()
        .inspect(|b| {
            assert_eq!(
                (b["processor"].as_str(), b["date"].as_str()),
                (Some("PCF"), Some(date.as_str()))
            )
        })
        .map(|b| b["entity"].as_str().unwrap().to_string())
        .collect();
    (date, entities)
}
