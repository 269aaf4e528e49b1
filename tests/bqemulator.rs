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
    c.output().expect("run phase4-check").into()
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
