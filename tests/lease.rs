//! The warehouse's repair lease on the embedded engine: two runners with state
//! directories of their own (two operators, as on two machines) against one warehouse
//! file. The first holds the lease while it runs and renews it past its bound; the second
//! is refused naming it; a stale lease, or one whose holder on this host is dead, is
//! taken over; a run whose lease was taken stops. The BigQuery runs are in
//! tests/bigquery.rs (the fake) and tests/bqemulator.rs (the emulator).

mod common;

use common::bench::{Bench, bench_with_every_processor};
use common::{LEASE_TABLE, lease_config, seeded};
use std::path::Path;
use std::time::{Duration, Instant};

/// The lease row as the warehouse holds it: (holder, operator, host, pid).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    holder: Option<String>,
    operator: Option<String>,
    host: Option<String>,
    pid: Option<i64>,
}

/// Retries while a runner or a processor holds the file.
fn open(path: &Path, write: bool) -> duckdb::Connection {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let config = duckdb::Config::default()
            .access_mode(if write {
                duckdb::AccessMode::ReadWrite
            } else {
                duckdb::AccessMode::ReadOnly
            })
            .unwrap();
        match duckdb::Connection::open_with_flags(path, config) {
            Ok(c) => return c,
            Err(e) => assert!(Instant::now() < deadline, "cannot open {path:?}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn lease(b: &Bench) -> Option<Row> {
    let conn = open(&b.dir.join("phase4.duckdb"), false);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT holder, operator, host, pid FROM {LEASE_TABLE}"
        ))
        .ok()?;
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok(Row {
                holder: r.get(0)?,
                operator: r.get(1)?,
                host: r.get(2)?,
                pid: r.get(3)?,
            })
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert!(rows.len() <= 1, "one lease row: {rows:?}");
    rows.into_iter().next()
}

/// Another operator's run holds the lease (as from another machine), its heartbeat
/// `age` old by the warehouse's clock.
fn hold(b: &Bench, holder: &str, host: &str, pid: i64, age: Duration) {
    let conn = open(&b.dir.join("phase4.duckdb"), true);
    let changed = conn
        .execute(
            &format!(
                "UPDATE {LEASE_TABLE} SET holder = ?, operator = 'ops', host = ?, pid = ?, \
                 plan_fingerprint = 'feedfacecafe0123', \
                 heartbeat_us = epoch_us(current_timestamp) - ?"
            ),
            duckdb::params![holder, host, pid, age.as_micros() as i64],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bench with a lease of `stale_after` in its phase4.toml.
fn with_lease(b: Bench, stale_after: &str) -> Bench {
    std::fs::write(b.dir.join("phase4.toml"), lease_config(stale_after)).unwrap();
    b
}

fn repair(range: &str, state_dir: &str) -> Vec<String> {
    [
        "repair",
        "--range",
        range,
        "--apply",
        "--retry-backoff",
        "1ms",
        "--progress",
        "none",
        "--state-dir",
        state_dir,
    ]
    .map(str::to_string)
    .to_vec()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Defective dates of the seed other than `but`, whose plans are not empty.
fn other_defective_dates(but: &[&str]) -> Vec<String> {
    let mut dates: Vec<String> = seeded().manifest["defects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "missing" || d["kind"] == "failures")
        .map(|d| d["date"].as_str().unwrap().to_string())
        .filter(|d| !but.contains(&d.as_str()))
        .collect();
    dates.sort();
    dates.dedup();
    dates
}

#[test]
fn a_second_operator_is_refused_while_a_repair_holds_the_warehouse_lease() {
    // Every pair takes 2 s: the first run lasts well past the lease's 2 s bound.
    let b = with_lease(bench_with_every_processor("sleep 2"), "2s");
    let mut first = b.spawn(&args(&repair("2021-12-04", "state-a")));
    wait_until(
        "the first run holds the lease",
        Duration::from_secs(60),
        || lease(&b).is_some_and(|l| l.holder.is_some()),
    );
    let held = lease(&b).unwrap();
    assert_eq!(held.pid, Some(i64::from(first.id())), "{held:?}");
    // Longer than the bound: only its heartbeats keep the lease its own.
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run still runs"
    );

    let second = b.run(&args(&repair("2021-11-17", "state-b")));
    assert_eq!(second.code, 2, "{}", second.stderr);
    let line = second.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for needle in [
        "the repair lease of this warehouse (nba_processing.phase4_repair_lease) is held by",
        &format!("@{} (pid {}", held.host.clone().unwrap(), first.id()),
        "its heartbeat",
        "older than 2s",
    ] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
    // It ran nothing: no checkpoint, no run of its own.
    assert!(!b.dir.join("state-b/checkpoint.json").exists());
    let runs = std::fs::read_dir(b.dir.join("state-b/runs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(runs, 0, "no run of its own");

    let out = first.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let freed = lease(&b).unwrap();
    assert_eq!(freed.holder, None, "freed at the end: {freed:?}");

    // Now the second operator's turn.
    let again = b.run(&args(&repair("2021-11-17", "state-b")));
    assert!(matches!(again.code, 0 | 1), "{}", again.stderr);
    assert_eq!(lease(&b).unwrap().holder, None);
}

#[test]
fn a_stale_lease_or_one_whose_holder_here_is_dead_is_taken_over_and_a_live_one_is_not() {
    let b = with_lease(bench_with_every_processor(""), "2s");
    let dates = other_defective_dates(&[]);
    assert!(dates.len() >= 4, "{dates:?}");
    // The first run creates the table and its row, and frees it.
    let first = b.run(&args(&repair(&dates[0], "state-a")));
    assert!(matches!(first.code, 0 | 1), "{}", first.stderr);
    assert_eq!(lease(&b).unwrap().holder, None);

    // Another machine's run, its heartbeat fresh: refused.
    hold(&b, "other-run", "elsewhere", 77, Duration::ZERO);
    let refused = b.run(&args(&repair(&dates[1], "state-b")));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("is held by ops@elsewhere (pid 77, plan feedfacecafe)"),
        "{}",
        refused.stderr
    );

    // Its heartbeat older than the bound: taken over, and said.
    hold(&b, "other-run", "elsewhere", 77, Duration::from_secs(10));
    let took = b.run(&args(&repair(&dates[1], "state-b")));
    assert!(matches!(took.code, 0 | 1), "{}", took.stderr);
    assert!(
        took.stderr
            .contains("took over the repair lease of ops@elsewhere (pid 77, plan feedfacecafe), its heartbeat 10s old"),
        "{}",
        took.stderr
    );
    assert_eq!(lease(&b).unwrap().holder, None);

    // A run of this very host whose process is gone: taken over at once, fresh or not.
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = i64::from(gone.id());
    gone.wait().unwrap();
    hold(&b, "dead-run", &host, dead, Duration::ZERO);
    let took = b.run(&args(&repair(&dates[2], "state-c")));
    assert!(matches!(took.code, 0 | 1), "{}", took.stderr);
    assert!(
        took.stderr.contains(&format!(
            "took over the repair lease of ops@{host} (pid {dead}"
        )),
        "{}",
        took.stderr
    );
}

#[test]
fn a_run_whose_lease_another_run_took_over_stops() {
    let b = with_lease(bench_with_every_processor("sleep 2"), "2s");
    let mut run = b.spawn(&args(&repair("2021-12-04", "state-a")));
    wait_until("the run holds the lease", Duration::from_secs(60), || {
        lease(&b).is_some_and(|l| l.holder.is_some())
    });
    // Another operator's run takes it over (its heartbeat fresh, as a takeover leaves it).
    hold(&b, "thief", "elsewhere", 77, Duration::ZERO);
    let started = Instant::now();
    let out = loop {
        if let Some(_status) = run.try_wait().unwrap() {
            break run.wait_with_output().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("another run took the repair lease in nba_processing.phase4_repair_lease over: stopping this one"),
        "{stderr}"
    );
    // The lease stays the other run's: a stopped run frees only its own.
    assert_eq!(lease(&b).unwrap().holder.as_deref(), Some("thief"));
}
