//! The built-in reference processors on a real embedded warehouse.

mod common;

use common::{Run, run_in, seeded};

fn gaps(dir: &std::path::Path, code: &str, range: &str) -> Run {
    run_in(
        dir,
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "gaps",
            "--processor",
            code,
            "--range",
            range,
            "--format",
            "json",
        ],
    )
}

#[test]
fn rerunning_a_processor_is_idempotent() {
    let (dir, _) = seeded().copy();
    let args = [
        "--warehouse",
        "duckdb:copy.duckdb",
        "process",
        "--processor",
        "psza",
        "--date",
        "2021-12-01",
    ];
    let first = run_in(dir.path(), &args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = run_in(dir.path(), &args);
    assert_eq!(
        first.stdout, second.stdout,
        "same rows and failure rows on a rerun"
    );
    assert!(
        first.stdout.contains("INSUFFICIENT_DATA"),
        "{}",
        first.stdout
    );
    let report = run_in(
        dir.path(),
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "report",
            "--range",
            "2021-12-01",
            "--processor",
            "psza",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(report["processors"][0]["duplicates"], 0);
    assert_eq!(report["processors"][0]["unaccounted"], 0);
}

#[test]
fn rerunning_fixes_duplicates_and_unexpected_rows_and_a_day_without_games_ends_empty() {
    let s = seeded();
    let (dir, _) = s.copy();
    let defect = |kind: &str| {
        s.manifest["defects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == kind)
            .unwrap()
            .clone()
    };
    for kind in ["duplicates", "unexpected", "partial"] {
        let d = defect(kind);
        let (code, date) = (
            d["processor"].as_str().unwrap(),
            d["date"].as_str().unwrap(),
        );
        assert_eq!(gaps(dir.path(), code, date).code, 1);
        let run = run_in(
            dir.path(),
            &[
                "--warehouse",
                "duckdb:copy.duckdb",
                "process",
                "--processor",
                code,
                "--date",
                date,
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let after = gaps(dir.path(), code, date);
        assert_eq!(
            after.code, 0,
            "{kind} {code} {date} still defective: {}",
            after.stdout
        );
    }
    // 2022-02-20 is in the All-Star break: no games, so no rows.
    let run = run_in(
        dir.path(),
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "process",
            "--processor",
            "ml",
            "--date",
            "2022-02-20",
        ],
    );
    assert!(
        run.stdout.contains(": 0 rows, 0 failure rows"),
        "{}",
        run.stdout
    );
}

#[test]
fn tripped_breakers_are_skipped_and_keep_their_failure_rows() {
    let s = seeded();
    let (dir, _) = s.copy();
    let breaker = &s.manifest["breakers"][0];
    let date = breaker["date"].as_str().unwrap();
    let run = run_in(
        dir.path(),
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "process",
            "--processor",
            "pcf",
            "--date",
            date,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = &gaps(dir.path(), "pcf", date).json()["dates"][0];
    assert_eq!(
        row["kind"], "failures",
        "tripped entities stay failed until a repair resets them"
    );
    assert_eq!(
        row["real_failures"].as_u64().unwrap() as usize,
        s.manifest["breakers"].as_array().unwrap().len()
    );
}

#[test]
fn process_refuses_a_catalog_processor_without_a_builtin() {
    let (dir, _) = seeded().copy();
    let text = phase4_check::catalog::DEFAULT_CATALOG.replace(r#"code = "ML""#, r#"code = "ML2""#);
    std::fs::write(dir.path().join("c.toml"), text).unwrap();
    let run = run_in(
        dir.path(),
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "--catalog",
            "c.toml",
            "process",
            "--processor",
            "ml2",
            "--date",
            "2021-12-01",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no built-in reference processor"),
        "{}",
        run.stderr
    );
}
