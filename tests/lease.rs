//! The warehouse's repair lease on the embedded engine: runners with state directories
//! of their own (two operators, as on two machines) against one warehouse file. The
//! first holds the lease while it runs and renews it past its bound; the second is
//! refused naming it; a stale lease is taken over, and so at once is the lease of a
//! SIGKILLed run by the run that resumes it; Ctrl-C frees it; a run whose lease was taken
//! stops. Processors wait for a gate file the test creates, so no run's length is
//! guessed. The BigQuery runs are in tests/bigquery.rs (the fake) and
//! tests/bqemulator.rs (the emulator).

mod common;

use common::bench::{Bench, bench_with_every_processor, signal};
use common::{LEASE_TABLE, lease_config, seeded};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The lease row as the warehouse holds it: (holder, operator, host, pid).
#[derive(Debug, Clone, PartialEq)]
struct Row {
    holder: Option<String>,
    operator: Option<String>,
    host: Option<String>,
    pid: Option<i64>,
}

fn lease(b: &Bench) -> Option<Row> {
    let conn = common::open_when_free(&b.dir.join("phase4.duckdb"), false);
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
    let conn = common::open_when_free(&b.dir.join("phase4.duckdb"), true);
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

/// The bench with a lease of `stale_after` in its phase4.toml, whose processors wait
/// for its gate file (`gate`) before they run.
fn gated_bench(stale_after: &str) -> Bench {
    let b =
        bench_with_every_processor(r#"while [ ! -f "$PHASE4_TEST_GATE" ]; do sleep 0.05; done"#);
    std::fs::write(b.dir.join("phase4.toml"), lease_config(stale_after)).unwrap();
    b
}

fn open_gate(b: &Bench) {
    std::fs::write(b.dir.join("gate"), "").unwrap();
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

/// A run of `range` from `state_dir`, its processors behind the gate.
fn start(b: &Bench, range: &str, state_dir: &str) -> Child {
    b.command(&args(&repair(range, state_dir)))
        .env("PHASE4_TEST_GATE", b.dir.join("gate"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(b: &Bench, range: &str, state_dir: &str) -> common::Run {
    b.command(&args(&repair(range, state_dir)))
        .env("PHASE4_TEST_GATE", b.dir.join("gate"))
        .output()
        .unwrap()
        .into()
}

/// Waits until `child`'s run holds the lease (failing with its output if it ended).
fn wait_for_lease(b: &Bench, child: &mut Child) -> Row {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(row) = lease(b).filter(|l| l.pid == Some(i64::from(child.id()))) {
            return row;
        }
        if child.try_wait().unwrap().is_some() {
            let out = child.stderr.take().map(std::io::read_to_string);
            panic!("the run ended before it held the lease: {out:?}");
        }
        assert!(Instant::now() < deadline, "the run holds the lease");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Defective dates of the seed, each with a plan of its own.
fn defective_dates() -> Vec<String> {
    let mut dates: Vec<String> = seeded().manifest["defects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "missing" || d["kind"] == "failures")
        .map(|d| d["date"].as_str().unwrap().to_string())
        .collect();
    dates.sort();
    dates.dedup();
    dates
}

#[test]
fn a_second_operator_is_refused_while_a_repair_holds_the_warehouse_lease() {
    let b = gated_bench("3s");
    let mut first = start(&b, "2021-12-04", "state-a");
    let held = wait_for_lease(&b, &mut first);
    // Longer than the bound: only its heartbeats keep the lease its own.
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run waits at its gate"
    );

    let second = run(&b, "2021-11-17", "state-b");
    assert_eq!(second.code, 2, "{}", second.stderr);
    let line = second.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{line}");
    for needle in [
        "the repair lease of this warehouse (nba_processing.phase4_repair_lease) is held by",
        &format!("@{} (pid {}", held.host.clone().unwrap(), first.id()),
        "its heartbeat",
        "older than 3s",
    ] {
        assert!(line.contains(needle), "{needle}: {line}");
    }
    // Refused before it planned or touched anything: no state directory at all.
    assert!(!b.dir.join("state-b").exists());
    assert_eq!(lease(&b).unwrap().pid, Some(i64::from(first.id())));

    open_gate(&b);
    let (code, stderr) = finish(first);
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    assert_eq!(lease(&b).unwrap().holder, None, "freed at the end");
    // Now the second operator's turn.
    let again = run(&b, "2021-11-17", "state-b");
    assert!(matches!(again.code, 0 | 1), "{}", again.stderr);
    assert_eq!(lease(&b).unwrap().holder, None);
}

#[test]
fn a_stale_lease_is_taken_over_and_a_live_one_of_another_machine_is_not() {
    let b = gated_bench("2s");
    open_gate(&b);
    let dates = defective_dates();
    assert!(dates.len() >= 3, "{dates:?}");
    // The first run creates the table and its row, and frees it.
    let first = run(&b, &dates[0], "state-a");
    assert!(matches!(first.code, 0 | 1), "{}", first.stderr);
    assert_eq!(lease(&b).unwrap().holder, None);

    // Another machine's run, its heartbeat fresh: refused.
    hold(&b, "other-run", "elsewhere", 77, Duration::ZERO);
    let refused = run(&b, &dates[1], "state-b");
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
    let took = run(&b, &dates[1], "state-b");
    assert!(matches!(took.code, 0 | 1), "{}", took.stderr);
    assert!(
        took.stderr.contains(
            "took over the repair lease of ops@elsewhere (pid 77, plan feedfacecafe), its heartbeat 1"
        ),
        "{}",
        took.stderr
    );
    assert_eq!(lease(&b).unwrap().holder, None);
}

#[test]
fn the_lease_of_a_sigkilled_run_is_taken_over_at_once_by_its_resume_only() {
    let b = gated_bench("30s");
    let mut killed = start(&b, "2021-12-04", "state-a");
    wait_for_lease(&b, &mut killed);
    signal(&killed, nix::sys::signal::Signal::SIGKILL);
    let pid = killed.id();
    let _ = finish(killed);
    // Another state directory: the dead run's heartbeat is fresh, so it waits.
    let other = run(&b, "2021-11-17", "state-b");
    assert_eq!(other.code, 2, "{}", other.stderr);
    // The resume of the killed run (same state directory, same machine) takes it at
    // once, ends what the dead run left, and finishes its plan.
    open_gate(&b);
    let resumed = run(&b, "2021-12-04", "state-a");
    assert!(matches!(resumed.code, 0 | 1), "{}", resumed.stderr);
    assert!(
        resumed.stderr.contains("took over the repair lease of ")
            && resumed.stderr.contains(&format!("(pid {pid},")),
        "{}",
        resumed.stderr
    );
    assert_eq!(lease(&b).unwrap().holder, None);
}

/// Has a run of `state_dir` started a processor (its first log file)?
fn processor_started(state_dir: &Path) -> bool {
    std::fs::read_dir(state_dir.join("runs"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|run| {
            std::fs::read_dir(run.path().join("logs")).is_ok_and(|mut logs| logs.next().is_some())
        })
}

#[test]
fn ctrl_c_frees_the_lease() {
    let b = gated_bench("30s");
    let mut run = start(&b, "2021-12-04", "state-a");
    wait_for_lease(&b, &mut run);
    // Once a processor runs (a Ctrl-C while the run plans ends it before its signal
    // handling is in place: its lease waits for the resume, or for its bound).
    let deadline = Instant::now() + Duration::from_secs(60);
    while !processor_started(&b.dir.join("state-a")) {
        assert!(Instant::now() < deadline, "a processor starts");
        std::thread::sleep(Duration::from_millis(50));
    }
    signal(&run, nix::sys::signal::Signal::SIGINT);
    let (code, stderr) = finish(run);
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(lease(&b).unwrap().holder, None, "{stderr}");
}

#[test]
fn a_run_whose_lease_another_run_took_over_stops() {
    let b = gated_bench("2s");
    let mut run = start(&b, "2021-12-04", "state-a");
    wait_for_lease(&b, &mut run);
    // Another operator's run takes it over (its heartbeat fresh, as a takeover leaves it).
    hold(&b, "thief", "elsewhere", 77, Duration::ZERO);
    let started = Instant::now();
    while run.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (code, stderr) = finish(run);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("the repair lease in nba_processing.phase4_repair_lease: another run took it over; stopping this run"),
        "{stderr}"
    );
    // The lease stays the other run's: a stopped run frees only its own.
    assert_eq!(lease(&b).unwrap().holder.as_deref(), Some("thief"));
}
