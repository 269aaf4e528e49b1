//! insta snapshots of what a user sees, on a small range of the seeded warehouse.
//! Durations are filtered; everything else is deterministic for the default seed.

mod common;

use common::seeded;

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"\d+ queries in \d+\.\d+s", "[N] queries in [TIME]");
    s.add_filter(r"on duckdb:\S+", "on duckdb:[WAREHOUSE]");
    s
}

#[test]
fn report_table_for_the_first_week_of_december() {
    let run = seeded().run(&["report", "--range", "2021-12-01..2021-12-07"]);
    assert_eq!(run.code, 1);
    settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn report_json_for_the_first_week_of_december() {
    let run = seeded().run(&[
        "report",
        "--range",
        "2021-12-01..2021-12-07",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn gaps_table_for_ml_in_december() {
    let run = seeded().run(&["gaps", "--processor", "ml", "--range", "2021-12"]);
    assert_eq!(run.code, 1);
    settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn gaps_json_for_pcf_in_november() {
    let run = seeded().run(&[
        "gaps",
        "--processor",
        "PCF",
        "--range",
        "2021-11",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn report_root_summary_of_the_season() {
    let run = seeded().run(&["report", "--range", "2021-22", "--roots-only"]);
    assert_eq!(run.code, 1);
    settings().bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn explain_table_for_a_consequence_of_the_tdza_gap() {
    let run = seeded().run(&["explain", "--processor", "ml", "--date", "2021-12-04"]);
    assert_eq!(run.code, 1);
    let mut s = settings();
    s.add_filter(r"--warehouse duckdb:\S+", "--warehouse duckdb:[WAREHOUSE]");
    s.bind(|| insta::assert_snapshot!(run.stdout));
}

#[test]
fn explain_json_for_a_consequence_of_the_psza_processing_error() {
    let run = seeded().run(&[
        "explain",
        "--processor",
        "pdc",
        "--date",
        "2021-11-17",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let mut s = settings();
    s.add_filter(r"--warehouse duckdb:\S+", "--warehouse duckdb:[WAREHOUSE]");
    s.bind(|| insta::assert_snapshot!(run.stdout));
}
