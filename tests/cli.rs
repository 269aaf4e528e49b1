//! The command line as a user meets it: help with examples and grouped options, shell
//! completions, the manual page, the version, the catalog in use, an empty range, and
//! warnings said once.

mod common;

use common::{run_in, run_in_env, seeded};

const COMMANDS: [&str; 14] = [
    "seed",
    "report",
    "gaps",
    "explain",
    "heatmap",
    "process",
    "repair",
    "checkpoint",
    "demo",
    "gate",
    "catalog",
    "config",
    "completions",
    "man",
];

#[test]
fn every_command_has_help_with_examples_and_global_options_apart() {
    let dir = tempfile::tempdir().unwrap();
    for command in COMMANDS {
        let run = run_in_env(dir.path(), &[command, "--help"], &[("COLUMNS", "100")]);
        assert_eq!(run.code, 0, "{command}: {}", run.stderr);
        assert!(
            run.stdout.contains("\nExamples:\n  phase4-check "),
            "{command}"
        );
        assert!(run.stdout.contains("\nGlobal options:\n"), "{command}");
        assert!(run.stdout.contains("\nBigQuery options:\n"), "{command}");
        insta::assert_snapshot!(format!("help_{command}"), run.stdout);
    }
}

#[test]
fn completions_for_every_shell_and_bash_parses_its_own() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = run_in(dir.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("repair"), "{shell}");
        assert!(run.stdout.contains("warehouse"), "{shell}");
        let script = dir.path().join(format!("completions.{shell}"));
        std::fs::write(&script, &run.stdout).unwrap();
        // Each shell that is installed reads its script without running it.
        let check: Option<(&str, &[&str])> = match shell {
            "bash" => Some(("bash", &["-n"])),
            "zsh" => Some(("zsh", &["-n"])),
            "fish" => Some(("fish", &["--no-execute"])),
            _ => None,
        };
        if let Some((program, flags)) = check {
            match std::process::Command::new(program)
                .args(flags)
                .arg(&script)
                .output()
            {
                Ok(out) => assert!(
                    out.status.success(),
                    "{program} rejects its completions: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(_) if shell == "bash" => panic!("bash is needed to check its completions"),
                Err(_) => eprintln!("{program} is not installed: its completions are not parsed"),
            }
        }
    }
    let bad = run_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
}

#[test]
fn the_manual_page_is_roff_naming_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(".ie"), "{}", &run.stdout[..80]);
    assert!(run.stdout.contains(".TH phase4-check"));
    for command in ["report", "gaps", "repair", "gate", "heatmap"] {
        assert!(run.stdout.contains(command), "{command}");
    }
}

#[test]
fn the_version_names_the_bundled_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["--version"]);
    assert_eq!(run.code, 0);
    let line = run.stdout.trim();
    assert!(
        line.starts_with(&format!(
            "phase4-check {} (bundled DuckDB v",
            env!("CARGO_PKG_VERSION")
        )),
        "{line}"
    );
}

#[test]
fn catalog_show_prints_the_catalog_in_use_and_it_reads_back_as_the_same() {
    let s = seeded();
    let shown = s.run(&["catalog", "show"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(shown.stdout, phase4_check::catalog::DEFAULT_CATALOG);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        shown
            .stdout
            .replacen("timeout = \"30m\"", "timeout = \"20m\"", 1),
    )
    .unwrap();
    let path = path.display().to_string();
    let mine = s.run(&["--catalog", &path, "catalog", "show"]);
    assert_eq!(mine.stdout, std::fs::read_to_string(&path).unwrap());
    // The shown catalog is a working starting point.
    let report = s.run(&[
        "--catalog",
        &path,
        "report",
        "--range",
        "2021-12",
        "--format",
        "json",
    ]);
    let default = s.run(&["report", "--range", "2021-12", "--format", "json"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    assert_eq!(report.json()["processors"], default.json()["processors"]);
}

#[test]
fn an_empty_range_warns_with_the_warehouse_game_dates_and_fails_report_and_gate() {
    let s = seeded();
    let report = s.run(&["report", "--range", "2019-07"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let warning = report.stderr.trim();
    assert!(
        warning.contains("no game dates in 2019-07-01..2019-07-31"),
        "{warning}"
    );
    assert!(
        warning.contains("its game dates run 2021-10-19..2022-04-10"),
        "{warning}"
    );
    assert!(warning.contains("--allow-empty"), "{warning}");
    assert!(
        report
            .stdout
            .contains("EMPTY: no game dates in 2019-07-01..2019-07-31"),
        "never HEALTHY: {}",
        report.stdout
    );
    let allowed = s.run(&["report", "--range", "2019-07", "--allow-empty"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(allowed.stderr.contains("no game dates"), "it still warns");
    // gaps and the grid warn, and are not findings.
    let gaps = s.run(&["gaps", "--processor", "ml", "--range", "2019-07"]);
    assert_eq!(gaps.code, 0);
    assert!(gaps.stderr.contains("no game dates"));
    // The gate compares nothing: a finding, and --update writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("empty.json").display().to_string();
    let update = s.run(&[
        "gate",
        "--snapshot",
        &snapshot,
        "--range",
        "2019-07",
        "--update",
    ]);
    assert_eq!(update.code, 1, "{}", update.stderr);
    assert!(!std::path::Path::new(&snapshot).exists());
    let update = s.run(&[
        "gate",
        "--snapshot",
        &snapshot,
        "--range",
        "2019-07",
        "--update",
        "--allow-empty",
    ]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let gate = s.run(&["gate", "--snapshot", &snapshot]);
    assert_eq!(gate.code, 1, "{}", gate.stderr);
    assert!(gate.stderr.contains("no game dates"), "{}", gate.stderr);
}

#[test]
fn a_plan_warning_is_said_once() {
    let run = seeded().run(&["repair", "--processor", "ml", "--range", "2021-11-27"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(
        run.stdout
            .matches("PCF 2021-11-27 is defective upstream of ML")
            .count(),
        1,
        "{}",
        run.stdout
    );
}

#[test]
fn one_is_singular() {
    let s = seeded();
    let gaps = s.run(&["gaps", "--processor", "tdza", "--range", "2021-12"]);
    assert!(
        gaps.stdout.contains(": 1 defective date, 0 stale"),
        "{}",
        gaps.stdout
    );
    let plan = s.run(&[
        "repair",
        "--range",
        "2021-11-10",
        "--processor",
        "pcf",
        "--no-downstream",
    ]);
    assert!(
        plan.stdout.contains("Repair plan: 1 pair "),
        "{}",
        plan.stdout
    );
    let report = s.run(&["report", "--range", "2021-11-10", "--processor", "pcf"]);
    assert!(
        report
            .stdout
            .contains("FINDINGS: 1 defective (processor, date) pair, "),
        "{}",
        report.stdout
    );
}

#[test]
fn quiet_by_default_v_shows_each_query_vv_its_sql_and_q_silences_warnings() {
    let s = seeded();
    let args = ["report", "--range", "2021-12"];
    let plain = s.run(&args);
    assert!(plain.stderr.is_empty(), "{}", plain.stderr);
    let verbose = s.run(&["-v", "report", "--range", "2021-12"]);
    assert_eq!(verbose.stdout.lines().count(), plain.stdout.lines().count());
    for query in [
        "layout_columns",
        "seasons",
        "reconcile",
        "failures",
        "breakers",
    ] {
        assert!(
            verbose
                .stderr
                .lines()
                .any(|l| l.contains("duckdb query") && l.contains(&format!("query=\"{query}\""))),
            "{query}: {}",
            verbose.stderr
        );
    }
    assert!(!verbose.stderr.contains("sql="));
    let debug = s.run(&["-vv", "report", "--range", "2021-12"]);
    assert!(debug.stderr.contains("sql="), "{}", debug.stderr);
    let env = s.run_env(&args, &[("RUST_LOG", "phase4_check=debug")]);
    assert!(env.stderr.contains("sql="), "RUST_LOG: {}", env.stderr);
    let quiet = s.run(&["-q", "report", "--range", "2019-07"]);
    assert_eq!(quiet.code, 1);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let both = s.run(&["-q", "-v", "report"]);
    assert_eq!(both.code, 2);
    assert_eq!(both.stderr.lines().count(), 1, "{}", both.stderr);
}

#[test]
fn markdown_right_aligns_numbers_and_opens_with_a_heading() {
    let md = seeded().run(&["report", "--range", "2021-12", "--format", "markdown"]);
    assert!(md.stdout.starts_with("# Phase 4 report"), "{}", md.stdout);
    let lines: Vec<&str> = md.stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("| processor"))
        .unwrap();
    let rule: Vec<&str> = lines[header + 1].split('|').collect();
    // | processor | game dates | ...: text left, every count right (`---:`).
    assert!(rule[1].ends_with('-'), "{}", lines[header + 1]);
    assert!(
        rule[2..rule.len() - 1].iter().all(|c| c.ends_with(':')),
        "{}",
        lines[header + 1]
    );
    let row = lines[header + 2];
    assert!(row.starts_with("| TDZA"), "{row}");
    assert!(
        row.contains("|         30 |"),
        "numbers padded on the left: {row}"
    );
}

#[test]
fn config_prints_each_effective_value_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        "[warehouse]\nurl = \"duckdb:team.duckdb\"\n",
    )
    .unwrap();
    let from_file = run_in(dir.path(), &["--format", "json", "config"]).json();
    let find = |doc: &serde_json::Value, name: &str| {
        let e = doc["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["setting"] == name)
            .unwrap_or_else(|| panic!("{name}: {doc}"))
            .clone();
        (
            e["value"].as_str().unwrap().to_string(),
            e["source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        find(&from_file, "warehouse"),
        ("duckdb:team.duckdb".into(), "phase4.toml".into())
    );
    assert_eq!(find(&from_file, "config").0, "phase4.toml");
    let from_env = run_in_env(
        dir.path(),
        &["--format", "json", "config"],
        &[
            ("PHASE4_WAREHOUSE", "duckdb:env.duckdb"),
            ("PHASE4_BUSY_WAIT", "5s"),
        ],
    )
    .json();
    assert_eq!(
        find(&from_env, "warehouse"),
        ("duckdb:env.duckdb".into(), "env PHASE4_WAREHOUSE".into())
    );
    assert_eq!(
        find(&from_env, "busy_wait"),
        ("5s".into(), "env PHASE4_BUSY_WAIT".into())
    );
    let from_flag = run_in(dir.path(), &["--warehouse", "duckdb:flag.duckdb", "config"]);
    assert_eq!(from_flag.code, 0, "{}", from_flag.stderr);
    assert!(
        from_flag
            .stdout
            .lines()
            .any(|l| l.contains("duckdb:flag.duckdb") && l.contains("flag --warehouse")),
        "{}",
        from_flag.stdout
    );
    // config opens no warehouse: none of these files was created.
    for name in ["team.duckdb", "env.duckdb", "flag.duckdb"] {
        assert!(!dir.path().join(name).exists(), "{name}");
    }
}
