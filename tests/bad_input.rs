//! Every bad input gets one clear line naming the problem and its exit code, and
//! nothing is written or lost.

mod common;

use common::{run_in, seeded};

fn assert_error(run: &common::Run, code: i32, needle: &str) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}: {}",
        run.stderr
    );
    assert_eq!(
        run.stderr.trim_end().lines().count(),
        1,
        "one line: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
}

#[test]
fn reversed_range_is_exit_2() {
    let r = seeded().run(&["report", "--range", "2021-12-31..2021-12-01"]);
    assert_error(&r, 2, "reversed");
}

#[test]
fn malformed_range_is_exit_2() {
    let r = seeded().run(&["report", "--range", "last-week"]);
    assert_error(&r, 2, "invalid range `last-week`");
}

#[test]
fn impossible_date_is_exit_2() {
    let r = seeded().run(&["gaps", "--processor", "ml", "--range", "2021-02-30"]);
    assert_error(&r, 2, "2021-02-30 is not a real date");
}

#[test]
fn out_of_bounds_range_is_exit_2() {
    let r = seeded().run(&["report", "--range", "1900-01-01..2021-01-01"]);
    assert_error(&r, 2, "1946-01-01..2100-12-31");
}

#[test]
fn unknown_processor_is_exit_2_and_lists_the_known() {
    let r = seeded().run(&["gaps", "--processor", "xyz"]);
    assert_error(
        &r,
        2,
        "unknown processor `xyz`: the catalog has TDZA, PSZA, PCF, PDC, ML",
    );
    let r = seeded().run(&["report", "--processor", "ml,nope"]);
    assert_error(&r, 2, "unknown processor `nope`");
}

#[test]
fn missing_warehouse_is_exit_3_with_the_command_that_creates_it() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["report"]);
    assert_error(&r, 3, "phase4-check seed");
    assert!(
        !dir.path().join("phase4.duckdb").exists(),
        "never created silently"
    );
}

#[test]
fn corrupted_warehouse_file_is_exit_3_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phase4.duckdb");
    std::fs::write(&path, b"this is not a duckdb file at all, just text").unwrap();
    let r = run_in(dir.path(), &["report"]);
    assert_error(&r, 3, "cannot open warehouse");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is not a duckdb file at all, just text"
    );
}

#[test]
fn missing_table_is_exit_2_naming_it() {
    let (dir, path) = seeded().copy();
    let conn = duckdb::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE nba_precompute.player_daily_cache")
        .unwrap();
    drop(conn);
    let r = run_in(dir.path(), &["--warehouse", "duckdb:copy.duckdb", "report"]);
    assert_error(&r, 2, "table nba_precompute.player_daily_cache is missing");
}

#[test]
fn missing_column_is_exit_2_naming_it() {
    let (dir, path) = seeded().copy();
    let conn = duckdb::Connection::open(&path).unwrap();
    conn.execute_batch("ALTER TABLE nba_processing.precompute_failures DROP COLUMN created_at")
        .unwrap();
    drop(conn);
    let r = run_in(dir.path(), &["--warehouse", "duckdb:copy.duckdb", "report"]);
    assert_error(
        &r,
        2,
        "table nba_processing.precompute_failures has no column created_at",
    );
}

#[test]
fn extra_columns_and_tables_are_ignored() {
    let (dir, path) = seeded().copy();
    let conn = duckdb::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE nba_precompute.player_daily_cache ADD COLUMN note VARCHAR;
         CREATE TABLE nba_precompute.something_else (x INTEGER);",
    )
    .unwrap();
    drop(conn);
    let r = run_in(
        dir.path(),
        &[
            "--warehouse",
            "duckdb:copy.duckdb",
            "report",
            "--range",
            "2021-12",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

fn catalog_error(edit: impl Fn(&str) -> String, needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let text = edit(phase4_check::catalog::DEFAULT_CATALOG);
    std::fs::write(dir.path().join("bad.toml"), text).unwrap();
    let s = seeded();
    let r = run_in(
        dir.path(),
        &[
            "--warehouse",
            &s.warehouse_arg(),
            "--catalog",
            "bad.toml",
            "report",
        ],
    );
    assert_error(&r, 2, needle);
    assert!(
        r.stderr.contains("bad.toml"),
        "names the file: {}",
        r.stderr
    );
}

#[test]
fn catalog_with_unknown_dependency_is_exit_2() {
    catalog_error(
        |t| {
            t.replace(
                r#"depends_on = ["TDZA", "PSZA"]"#,
                r#"depends_on = ["TDZA", "PZSA"]"#,
            )
        },
        "depends on unknown processor `PZSA`",
    );
}

#[test]
fn catalog_with_a_cycle_is_exit_2() {
    catalog_error(
        |t| t.replacen("depends_on = []", r#"depends_on = ["PDC"]"#, 1),
        "dependency cycle",
    );
}

#[test]
fn catalog_with_duplicate_code_is_exit_2() {
    catalog_error(
        |t| t.replace(r#"code = "PDC""#, r#"code = "PCF""#),
        "duplicate processor code `PCF`",
    );
}

#[test]
fn catalog_with_missing_field_is_exit_2() {
    catalog_error(
        |t| t.replacen("date_column = \"cache_date\"\n", "", 1),
        "missing field `date_column`",
    );
}

#[test]
fn unreadable_catalog_is_exit_2() {
    let r = seeded().run(&["--catalog", "/nonexistent/catalog.toml", "report"]);
    assert_error(&r, 2, "cannot read catalog /nonexistent/catalog.toml");
}

#[test]
fn bad_warehouse_spec_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["--warehouse", "postgres:x", "report"]);
    assert_error(&r, 2, "invalid warehouse `postgres:x`");
}

#[test]
fn seed_refuses_to_replace_a_file_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phase4.duckdb");
    std::fs::write(&path, b"precious").unwrap();
    let r = run_in(dir.path(), &["seed"]);
    assert_error(&r, 2, "refusing to replace phase4.duckdb");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");
}

#[test]
fn bad_seasons_are_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (arg, needle) in [
        ("2021-23", "--seasons"),
        ("2021", "--seasons"),
        ("2021-22,2021-22", "listed twice"),
        ("", "at least one season"),
    ] {
        let r = run_in(dir.path(), &["seed", "--seasons", arg]);
        assert_error(&r, 2, needle);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn process_with_a_bad_date_is_exit_2() {
    let r = seeded().run(&["process", "--processor", "psza", "--date", "2021-12-32"]);
    assert_error(&r, 2, "--date");
    let r = seeded().run(&["process", "--processor", "psza", "--date", "2021-12"]);
    assert_error(&r, 2, "is not a date");
}

#[test]
fn a_broken_phase4_toml_is_exit_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        "[warehouse]\nurl = \"duckdb:x.duckdb\"\nmax_bytes = 5\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["report"]);
    assert_error(
        &r,
        2,
        "config phase4.toml: line 3: unknown field `max_bytes`",
    );
    let r = run_in(dir.path(), &["--config", "absent.toml", "report"]);
    assert_error(&r, 2, "config absent.toml: cannot be read");
}

#[test]
fn bigquery_settings_are_checked_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            &["--location", "us central", "report"][..],
            "`us central` is not a BigQuery location",
        ),
        (
            &["--max-bytes-billed", "0", "report"][..],
            "--max-bytes-billed 0: give a number of bytes above 0",
        ),
        (
            &["--query-timeout", "soon", "report"][..],
            "--query-timeout `soon`",
        ),
    ] {
        let mut all = vec!["--warehouse", "bigquery:p"];
        all.extend_from_slice(args);
        assert_error(&run_in(dir.path(), &all), 2, needle);
    }
    assert_error(
        &seeded().run(&["--location", "EU", "report"]),
        2,
        "--location is for BigQuery warehouses",
    );
    assert_error(
        &run_in(dir.path(), &["--warehouse", "bigquery:p", "seed"]),
        2,
        "`seed` writes the embedded warehouse only",
    );
}

#[test]
fn estimate_on_an_engine_that_cannot_price_queries_is_exit_2() {
    let r = seeded().run(&["--estimate", "report", "--range", "2021-12"]);
    assert_error(&r, 2, "--estimate needs an engine that prices queries");
}

#[test]
fn seed_with_a_manifest_in_a_missing_directory_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["seed", "--manifest", "missing/m.json"]);
    assert_error(&r, 2, "directory missing does not exist");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}
