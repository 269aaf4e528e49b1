//! The BigQuery path against bqemulator, an emulator written by other hands: the real
//! binary over REST, the seeded warehouse loaded through the emulator's own API, and the
//! same JSON as on the embedded DuckDB path, page by page. What an emulator cannot do
//! (injected 500s, 429s, slow jobs, quota errors) stays with the fake server
//! (tests/bigquery.rs).

mod common;

use common::bqemulator::{Emulator, PROJECT};
use common::{BIN, Run, seeded};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs the binary on the emulator from `dir` (its phase4.toml, HOME without credentials).
fn run_on(emulator: &Emulator, dir: &Path, args: &[&str]) -> Run {
    command_on(emulator, dir, args)
        .output()
        .expect("run phase4-check")
        .into()
}

fn command_on(emulator: &Emulator, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--warehouse")
        .arg(format!("bigquery:{PROJECT}"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("PHASE4_WAREHOUSE")
        .env_remove("PHASE4_CATALOG")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS");
    for (k, v) in emulator.env() {
        c.env(k, v);
    }
    c
}

/// A directory whose phase4.toml asks for `page_size` rows per page.
fn workdir(page_size: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        format!("[warehouse]\npage_size = {page_size}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn report_gaps_and_the_plan_are_the_same_json_on_bqemulator_as_on_duckdb() {
    let s = seeded();
    let Some(emulator) = Emulator::start(&s.path) else {
        return;
    };
    // Small pages: the reconcile rows of a season (830) come in many of them.
    let dir = workdir(97);
    for args in [
        &["report", "--range", "2021-22", "--format", "json"][..],
        &["report", "--range", "2021-12", "--format", "json"],
        &[
            "gaps",
            "--processor",
            "ml",
            "--range",
            "2021-22",
            "--format",
            "json",
        ],
        &[
            "gaps",
            "--processor",
            "pcf",
            "--range",
            "2021-22",
            "--format",
            "json",
        ],
        &["repair", "--range", "2021-22", "--format", "json"],
        &[
            "explain",
            "--processor",
            "pcf",
            "--date",
            "2021-12-04",
            "--format",
            "json",
        ],
    ] {
        let local = s.run(args);
        let remote = run_on(&emulator, dir.path(), args);
        assert_eq!(
            remote.code,
            local.code,
            "{args:?}: {}\n(emulator log: {})",
            remote.stderr,
            std::fs::read_to_string(&emulator.log).unwrap_or_default()
        );
        // explain's repair command names each run's own warehouse.
        let comparable = |mut v: Value| {
            if v["repair"].is_object() {
                v["repair"]["command"] = Value::Null;
            }
            v
        };
        assert_eq!(
            comparable(remote.json()),
            comparable(local.json()),
            "{args:?}"
        );
    }
}

#[test]
fn the_gate_and_estimate_run_on_bqemulator() {
    let s = seeded();
    let Some(emulator) = Emulator::start(&s.path) else {
        return;
    };
    let dir = workdir(500);
    // The committed DuckDB snapshot: counts equal, fingerprints of another hash not
    // compared (said once).
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/season-2021-22.json");
    let gate = run_on(
        &emulator,
        dir.path(),
        &[
            "gate",
            "--snapshot",
            committed.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(gate.code, 0, "{}{}", gate.stdout, gate.stderr);
    let json: Value = gate.json();
    assert_eq!(json["content_compared"], false, "{json}");
    // A snapshot of the emulator's own: its fingerprints compare, and match.
    let own = dir.path().join("emulator.json");
    let own = own.to_str().unwrap();
    let update = run_on(
        &emulator,
        dir.path(),
        &["gate", "--snapshot", own, "--range", "2021-22", "--update"],
    );
    assert_eq!(update.code, 0, "{}", update.stderr);
    let again = run_on(
        &emulator,
        dir.path(),
        &["gate", "--snapshot", own, "--format", "json"],
    );
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(again.json()["content_compared"], true);

    let estimate = run_on(
        &emulator,
        dir.path(),
        &[
            "report",
            "--range",
            "2021-22",
            "--estimate",
            "--format",
            "json",
        ],
    );
    assert_eq!(estimate.code, 0, "{}", estimate.stderr);
    assert!(estimate.json().is_object());
}

/// BigQuery answers a missing dataset's INFORMATION_SCHEMA with 404 "Not found: Dataset"
/// (the fake server proves that path, tests/bigquery.rs); bqemulator answers no rows.
/// Either way: exit 2, one line naming what is missing.
#[test]
fn a_dataset_missing_on_bqemulator_is_exit_2_naming_its_tables() {
    let s = seeded();
    let Some(emulator) = Emulator::start(&s.path) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        "[warehouse]\ndataset_prefix = \"nope_\"\n",
    )
    .unwrap();
    let run = run_on(&emulator, dir.path(), &["report", "--range", "2021-12"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("table nba_analytics.player_game_summary is missing"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn repair_resets_the_breakers_on_bqemulator_and_writes_nothing_else() {
    let s = seeded();
    let Some(emulator) = Emulator::start(&s.path) else {
        return;
    };
    let dir = workdir(500);
    // Processors that write nothing: every change is phase4-check's own.
    std::fs::write(
        dir.path().join("catalog.toml"),
        common::catalog_running(&["true"]),
    )
    .unwrap();
    let (date, entities) = common::seeded_breakers();
    assert_eq!(entities.len(), 3);
    let estimate = run_on(
        &emulator,
        dir.path(),
        &[
            "--catalog",
            "catalog.toml",
            "--estimate",
            "repair",
            "--range",
            &date,
            "--format",
            "json",
        ],
    );
    assert_eq!(estimate.code, 0, "{}", estimate.stderr);
    assert!(
        estimate.json()["queries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["query"] == "reset_breakers"),
        "{}",
        estimate.stdout
    );

    let before = emulator.dump();
    let run = run_on(&emulator, dir.path(), &common::unverified_repair(&date));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["breakers_reset"], 3, "{}", run.stdout);
    let after = emulator.dump();
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let attempts = "nba_processing.reprocess_attempts";
    for (table, rows) in &before {
        if table != attempts {
            assert_eq!(rows, &after[table], "{table} was written");
        }
    }
    // Exactly three rows changed: tripped before, reset after.
    let rows = |dump: &serde_json::Map<String, Value>| -> Vec<String> {
        dump[attempts]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    };
    let (was, now) = (rows(&before), rows(&after));
    let gone: Vec<&String> = was.iter().filter(|r| !now.contains(r)).collect();
    let new: Vec<&String> = now.iter().filter(|r| !was.contains(r)).collect();
    assert_eq!((gone.len(), new.len()), (3, 3), "{gone:#?}\n{new:#?}");
    assert!(gone.iter().all(|r| r.contains("\"true\"")), "{gone:#?}");
    // processor_name, entity_id, analysis_date, attempt_count, last_attempt_at,
    // circuit_breaker_tripped: PCF's, their attempts zeroed, no longer tripped.
    assert!(
        new.iter().all(|r| {
            let row: Value = serde_json::from_str(r).unwrap();
            let f = &row["f"];
            f[0]["v"] == "PCF"
                && f[2]["v"] == date.as_str()
                && f[3]["v"] == "0"
                && f[5]["v"] == "false"
        }),
        "{new:#?}"
    );
    let report = run_on(
        &emulator,
        dir.path(),
        &["report", "--range", &date, "--format", "json"],
    );
    assert_eq!(report.json()["breakers"], serde_json::json!([]));
}

#[test]
fn two_runners_on_bqemulator_take_turns_on_the_lease() {
    let s = seeded();
    let Some(emulator) = Emulator::start(&s.path) else {
        return;
    };
    let dir = workdir(500);
    // Processors that write nothing and wait for the gate file.
    std::fs::write(dir.path().join("catalog.toml"), common::gated_catalog()).unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        format!(
            "[warehouse]\npage_size = 500\n{}",
            common::lease_config("6s")
        ),
    )
    .unwrap();
    let gate = dir.path().join("gate");
    let command = |range, state| {
        let mut c = command_on(&emulator, dir.path(), &common::lease_run(range, state));
        c.env("PHASE4_TEST_GATE", &gate);
        c
    };
    // Columns: lease_name, holder, operator, host, instance, pid, ...
    let lease = || -> Option<Vec<Value>> {
        let dump = emulator.dump_tables(&["nba_processing.phase4_repair_lease"]);
        let rows = dump.get("nba_processing.phase4_repair_lease")?.as_array()?;
        assert!(rows.len() <= 1, "{rows:?}");
        let row: Value = serde_json::from_str(rows.first()?.as_str()?).unwrap();
        Some(
            row["f"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["v"].clone())
                .collect(),
        )
    };
    let mut first = command("2021-12-04", "state-a")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while lease().is_none_or(|row| row[1].is_null()) {
        if first.try_wait().unwrap().is_some() {
            let out = first.wait_with_output().unwrap();
            panic!(
                "the first run ended before its lease was seen: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(std::time::Instant::now() < deadline, "the lease is taken");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(lease().unwrap()[5], first.id().to_string());
    // Longer than the bound: only its heartbeats keep the lease its own.
    std::thread::sleep(std::time::Duration::from_secs(7));

    let second: Run = command("2021-11-17", "state-b").output().unwrap().into();
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("(pid {}", first.id())),
        "{}",
        second.stderr
    );
    assert_eq!(lease().unwrap()[5], first.id().to_string(), "still its own");
    std::fs::write(&gate, "").unwrap();
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lease().unwrap()[1].is_null(), "freed at the end");
    let again: Run = command("2021-11-17", "state-b").output().unwrap().into();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("took over"), "{}", again.stderr);
}
