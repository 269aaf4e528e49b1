//! Every command with every `--format`: a format a command takes gives a well-formed
//! document of that format (JSON parses, CSV has one header and rows of its width,
//! Markdown has tables, JUnit is XML); a format it does not take is exit 2 with one line
//! naming it, and nothing is written.

mod common;

use common::{Run, run_in, seeded};
use std::path::Path;

const FORMATS: [&str; 5] = ["table", "json", "csv", "markdown", "junit"];

/// What a command prints in a format it takes, checked for well-formedness.
fn assert_well_formed(what: &str, format: &str, run: &Run) {
    let out = &run.stdout;
    assert!(
        !out.trim().is_empty(),
        "{what} --format {format}: no output"
    );
    match format {
        "json" => {
            serde_json::from_str::<serde_json::Value>(out).unwrap_or_else(|e| {
                panic!("{what} --format json is not one JSON document ({e}):\n{out}")
            });
        }
        "csv" => {
            let mut reader = csv::Reader::from_reader(out.as_bytes());
            let width = reader.headers().expect("a header").len();
            assert!(width > 1, "{what} --format csv: header {out}");
            for record in reader.records() {
                let record = record.unwrap_or_else(|e| panic!("{what} --format csv: {e}\n{out}"));
                assert_eq!(record.len(), width, "{what} --format csv: {out}");
            }
        }
        "markdown" => {
            let table = out
                .lines()
                .any(|l| l.starts_with("|---") || l.starts_with("| ---"));
            let heading = out.lines().any(|l| l.starts_with('#'));
            assert!(table || heading, "{what} --format markdown:\n{out}");
            assert!(
                !out.contains('╭'),
                "{what} --format markdown draws boxes:\n{out}"
            );
        }
        "junit" => {
            assert!(out.starts_with("<?xml"), "{what} --format junit:\n{out}");
            assert!(out.contains("<testsuites"), "{what} --format junit:\n{out}");
        }
        "table" => {}
        other => panic!("unknown format {other}"),
    }
}

/// Every file below `dir` with its content, to show that nothing was written.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                out.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A command as it runs in a fresh private directory (a copy of the seeded warehouse,
/// the committed season snapshot beside it).
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    takes: &'static [&'static str],
    exit: i32,
}

fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = seeded().copy();
    let root = dir.path().to_path_buf();
    std::fs::rename(&path, root.join("phase4.duckdb")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/season-2021-22.json"),
        root.join("season.json"),
    )
    .unwrap();
    (dir, root)
}

fn check(case: &Case) {
    for format in FORMATS {
        let (_keep, dir) = workspace();
        let mut args = vec!["--format", format];
        args.extend_from_slice(case.args);
        let before = contents(&dir);
        let run = run_in(&dir, &args);
        if case.takes.contains(&format) {
            assert_eq!(
                run.code, case.exit,
                "{} --format {format}: {}\n{}",
                case.name, run.stdout, run.stderr
            );
            assert_well_formed(case.name, format, &run);
        } else {
            assert_eq!(
                run.code, 2,
                "{} --format {format} is refused: {}",
                case.name, run.stdout
            );
            assert!(run.stdout.is_empty(), "{}: {}", case.name, run.stdout);
            assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
            assert!(
                run.stderr.contains(&format!("--format {format}")),
                "{}: {}",
                case.name,
                run.stderr
            );
            assert!(
                contents(&dir) == before,
                "{} --format {format} wrote something",
                case.name
            );
        }
    }
}

const TABLES: &[&str] = &["table", "json", "csv", "markdown"];
const SUMMARIES: &[&str] = &["table", "json"];

#[test]
fn the_check_commands_take_table_json_csv_and_markdown() {
    for case in [
        Case {
            name: "report",
            args: &["report", "--range", "2021-12-01..2021-12-07"],
            takes: TABLES,
            exit: 1,
        },
        Case {
            name: "gaps",
            args: &["gaps", "--processor", "ml", "--range", "2021-12"],
            takes: TABLES,
            exit: 1,
        },
        Case {
            name: "repair",
            args: &["repair", "--range", "2021-12-04"],
            takes: TABLES,
            exit: 1,
        },
    ] {
        check(&case);
    }
}

#[test]
fn the_gate_takes_every_format() {
    check(&Case {
        name: "gate",
        args: &["gate", "--snapshot", "season.json"],
        takes: &FORMATS,
        exit: 0,
    });
}

#[test]
fn gate_update_takes_table_json_csv_and_markdown() {
    check(&Case {
        name: "gate --update",
        args: &["gate", "--snapshot", "season.json", "--update"],
        takes: TABLES,
        exit: 0,
    });
}

#[test]
fn repair_apply_takes_table_json_csv_and_markdown() {
    check(&Case {
        name: "repair --apply",
        args: &[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ],
        takes: TABLES,
        exit: 0,
    });
}

#[test]
fn the_summary_commands_take_table_and_json() {
    for case in [
        Case {
            name: "seed",
            args: &["--warehouse", "duckdb:new.duckdb", "seed"],
            takes: SUMMARIES,
            exit: 0,
        },
        Case {
            name: "process",
            args: &["process", "--processor", "tdza", "--date", "2021-12-04"],
            takes: SUMMARIES,
            exit: 0,
        },
        Case {
            name: "checkpoint status",
            args: &["checkpoint", "status"],
            takes: SUMMARIES,
            exit: 0,
        },
        Case {
            name: "config",
            args: &["config"],
            takes: SUMMARIES,
            exit: 0,
        },
        Case {
            name: "checkpoint clear",
            args: &["checkpoint", "clear"],
            takes: SUMMARIES,
            exit: 0,
        },
    ] {
        check(&case);
    }
}

#[test]
fn the_demo_is_a_table_for_a_person_and_ends_healthy() {
    check(&Case {
        name: "demo",
        args: &["--warehouse", "duckdb:demo.duckdb", "demo"],
        takes: &["table"],
        exit: 0,
    });
}

/// The CSV of `args` holds every row of its JSON: each array of objects (or of plain
/// values) is a table, each field a column under its JSON name, each value the same
/// (numbers as numbers, rates as fractions); a `table` column when there are several.
fn assert_csv_holds_the_json(dir: &Path, args: &[&str]) -> usize {
    assert_csv_of_holds_the_json_of(dir, dir, args)
}

/// [`assert_csv_holds_the_json`] for a command that changes what it runs on (`repair
/// --apply`): its JSON from one copy of the workspace, its CSV from another.
fn assert_csv_of_holds_the_json_of(csv_dir: &Path, json_dir: &Path, args: &[&str]) -> usize {
    let json = run_in(json_dir, &[&["--format", "json"], args].concat()).json();
    let csv_run = run_in(csv_dir, &[&["--format", "csv"], args].concat());
    let mut reader = csv::Reader::from_reader(csv_run.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let tables: Vec<(&String, &Vec<serde_json::Value>)> = json
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
        .collect();
    let several = header.first().map(String::as_str) == Some("table");
    assert_eq!(several, tables.len() > 1, "{args:?}: {header:?}");
    let column = |name: &str| header.iter().position(|h| h == name);
    let mut compared = 0;
    for (name, rows) in &tables {
        let mine: Vec<&csv::StringRecord> = records
            .iter()
            .filter(|r| !several || &r[0] == name.as_str())
            .collect();
        assert_eq!(
            mine.len(),
            rows.len(),
            "{args:?}: rows of {name}\n{}",
            csv_run.stdout
        );
        for (row, record) in rows.iter().zip(mine) {
            let fields: Vec<(&str, &serde_json::Value)> = match row.as_object() {
                Some(o) => o.iter().map(|(k, v)| (k.as_str(), v)).collect(),
                None => Vec::new(),
            };
            for (key, value) in fields {
                let at = column(key)
                    .unwrap_or_else(|| panic!("{args:?}: {name}.{key} has no column: {header:?}"));
                let cell = &record[at];
                match value {
                    serde_json::Value::Null => assert_eq!(cell, "", "{name}.{key}"),
                    serde_json::Value::Number(n) => assert_eq!(
                        cell.parse::<f64>().ok(),
                        n.as_f64(),
                        "{args:?}: {name}.{key} is a number: {cell:?}"
                    ),
                    serde_json::Value::String(text) => assert_eq!(cell, text, "{name}.{key}"),
                    serde_json::Value::Bool(b) => assert_eq!(cell, b.to_string(), "{name}.{key}"),
                    serde_json::Value::Array(a) => {
                        assert_eq!(cell.is_empty(), a.is_empty(), "{name}.{key}: {cell:?}")
                    }
                    serde_json::Value::Object(o) => {
                        assert_eq!(cell.is_empty(), o.is_empty(), "{name}.{key}: {cell:?}")
                    }
                }
                compared += 1;
            }
        }
    }
    compared
}

#[test]
fn csv_has_every_row_and_field_of_the_json_under_its_json_names() {
    let (_keep, dir) = workspace();
    let mut compared = 0;
    for args in [
        &["report", "--range", "2021-11"][..],
        &["report", "--range", "2021-11", "--roots-only"],
        &["gaps", "--processor", "pcf", "--range", "2021-11"],
        &["repair", "--range", "2021-11-10..2021-11-17"],
        &[
            "repair",
            "--processor",
            "ml",
            "--range",
            "2021-12",
            "--roots-only",
        ],
    ] {
        compared += assert_csv_holds_the_json(&dir, args);
    }
    // A run, then the gate that sees what it changed.
    let run = run_in(
        &dir,
        &[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(dir.join(".phase4")).unwrap();
    compared += assert_csv_holds_the_json(&dir, &["gate", "--snapshot", "season.json"]);
    let ((_keep2, one), (_keep3, other)) = (workspace(), workspace());
    compared += assert_csv_of_holds_the_json_of(
        &one,
        &other,
        &[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ],
    );
    assert!(compared > 500, "only {compared} values compared");
    // gaps keeps its stale dates, naming the processor.
    let gaps = run_in(
        &dir,
        &[
            "--format",
            "csv",
            "gaps",
            "--processor",
            "pcf",
            "--range",
            "2021-11",
        ],
    );
    assert!(
        gaps.stdout.contains("stale_dates,PCF,2021-11-27"),
        "{}",
        gaps.stdout
    );
}

#[test]
fn checkpoint_status_as_json_says_whether_a_run_is_stored() {
    let (_keep, dir) = workspace();
    let none = run_in(&dir, &["--format", "json", "checkpoint", "status"]).json();
    assert_eq!(none["stored"], false, "{none}");
    let run = run_in(
        &dir,
        &[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stored = run_in(&dir, &["--format", "json", "checkpoint", "status"]).json();
    assert_eq!(stored["stored"], true, "{stored}");
    assert_eq!(stored["counts"]["done"], 4, "{stored}");
}

#[test]
fn a_stdout_that_cannot_be_written_is_exit_4_naming_it() {
    let dev_full = Path::new("/dev/full");
    if !dev_full.exists() {
        panic!("/dev/full is missing: this test needs Linux's full device");
    }
    let out = std::fs::OpenOptions::new()
        .write(true)
        .open(dev_full)
        .unwrap();
    let run: Run = std::process::Command::new(common::BIN)
        .args([
            "--warehouse",
            &seeded().warehouse_arg(),
            "report",
            "--range",
            "2021-12-04",
        ])
        .stdout(out)
        .env_remove("PHASE4_WAREHOUSE")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write standard output"),
        "{}",
        run.stderr
    );
}
