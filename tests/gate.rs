//! The CI gate against real seeded warehouses and the snapshots committed in
//! `snapshots/`: a pass, a deliberately changed count (diff, JUnit, Markdown, JSON),
//! tolerances, --update, and snapshots that are missing, corrupted or taken otherwise.

mod common;

use common::{Run, healthy, run_in, seeded};
use std::path::{Path, PathBuf};

fn committed(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(name)
}

/// A private copy of the seeded warehouse, with the committed season snapshot beside it
/// as `season.json` (relative paths keep the output stable).
struct Workspace {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let (dir, path) = seeded().copy();
        let root = dir.path().to_path_buf();
        std::fs::rename(&path, root.join("phase4.duckdb")).unwrap();
        std::fs::copy(committed("season-2021-22.json"), root.join("season.json")).unwrap();
        Workspace {
            _dir: dir,
            dir: root,
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--warehouse", "duckdb:phase4.duckdb"];
        all.extend_from_slice(args);
        run_in(&self.dir, &all)
    }

    fn gate(&self, extra: &[&str]) -> Run {
        let mut args = vec!["gate", "--snapshot", "season.json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn snapshot(&self) -> String {
        std::fs::read_to_string(self.dir.join("season.json")).unwrap()
    }

    fn write_snapshot(&self, text: &str) {
        std::fs::write(self.dir.join("season.json"), text).unwrap();
    }

    /// One PSZA row deleted on 2021-12-01 and one TDZA row duplicated on 2021-12-02.
    fn change_two_counts(&self) {
        let db = duckdb::Connection::open(self.dir.join("phase4.duckdb")).unwrap();
        let deleted = db
            .execute(
                "DELETE FROM nba_precompute.player_shot_zone_analysis
                 WHERE analysis_date = DATE '2021-12-01' AND player_lookup = (
                   SELECT MIN(player_lookup) FROM nba_precompute.player_shot_zone_analysis
                   WHERE analysis_date = DATE '2021-12-01')",
                [],
            )
            .unwrap();
        let duplicated = db
            .execute(
                "INSERT INTO nba_precompute.team_defense_zone_analysis
                 SELECT * FROM nba_precompute.team_defense_zone_analysis
                 WHERE analysis_date = DATE '2021-12-02' AND team_abbr = (
                   SELECT MIN(team_abbr) FROM nba_precompute.team_defense_zone_analysis
                   WHERE analysis_date = DATE '2021-12-02')",
                [],
            )
            .unwrap();
        assert_eq!((deleted, duplicated), (1, 1));
    }

    /// One PSZA row's paint_rate moved on 2021-12-04: every count stays the same.
    fn change_one_value(&self) {
        let db = duckdb::Connection::open(self.dir.join("phase4.duckdb")).unwrap();
        let changed = db
            .execute(
                "UPDATE nba_precompute.player_shot_zone_analysis
                 SET paint_rate = paint_rate / 2, processed_at = processed_at
                 WHERE analysis_date = DATE '2021-12-04' AND player_lookup = (
                   SELECT MIN(player_lookup) FROM nba_precompute.player_shot_zone_analysis
                   WHERE analysis_date = DATE '2021-12-04')",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
}

fn assert_one_line_error(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(
        run.code, code,
        "stdout {}\nstderr {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {}", run.stderr);
    }
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn the_committed_season_snapshot_matches_the_seeded_season() {
    let snapshot = committed("season-2021-22.json");
    let run = seeded().run(&["gate", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.starts_with("Gate passed: "), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("2021-07-01..2022-06-30 (5 processors, 830 processor-dates)"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1);
}

#[test]
fn the_committed_healthy_snapshot_matches_the_healthy_seed() {
    let snapshot = committed("healthy-2021-22.json");
    let run = healthy().run(&["gate", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // ... and the defective seed does not pass it.
    let run = seeded().run(&["gate", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("Gate failed: "), "{}", run.stdout);
}

#[test]
fn a_changed_count_fails_with_a_unified_diff_naming_processor_and_date() {
    let w = Workspace::new();
    w.change_two_counts();
    let run = w.gate(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn on_a_terminal_the_diff_is_coloured() {
    let w = Workspace::new();
    w.change_two_counts();
    let out = std::process::Command::new(common::BIN)
        .args([
            "--warehouse",
            "duckdb:phase4.duckdb",
            "gate",
            "--snapshot",
            "season.json",
        ])
        .current_dir(&w.dir)
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\u{1b}[31m-PSZA 2021-12-01"), "{stdout}");
    assert!(stdout.contains("\u{1b}[32m+PSZA 2021-12-01"), "{stdout}");
    // Piped (the other tests), there are no escape codes.
    assert!(!w.gate(&[]).stdout.contains('\u{1b}'));
}

#[test]
fn junit_has_one_failed_test_case_per_changed_processor_date() {
    let w = Workspace::new();
    w.change_two_counts();
    let run = w.gate(&["--format", "junit"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout.matches("<failure ").count(), 2);
    assert!(
        run.stdout
            .contains(r#"<testcase name="PSZA 2021-12-01" classname="gate.PSZA">"#)
    );
    assert!(
        run.stdout
            .contains(r#"<testcase name="TDZA 2021-12-02" classname="gate.TDZA">"#)
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn markdown_is_a_table_of_the_changed_counts() {
    let w = Workspace::new();
    w.change_two_counts();
    let run = w.gate(&["--format", "markdown"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_lists_every_changed_count() {
    let w = Workspace::new();
    w.change_two_counts();
    let run = w.gate(&["--format", "json"]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["passed"], false);
    let changes: Vec<(String, String, String, i64)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["processor"].as_str().unwrap().to_string(),
                c["date"].as_str().unwrap().to_string(),
                c["count"].as_str().unwrap().to_string(),
                c["delta"].as_i64().unwrap(),
            )
        })
        .collect();
    let expect = |p: &str, d: &str, c: &str, n: i64| (p.into(), d.into(), c.into(), n);
    assert_eq!(
        changes,
        vec![
            expect("TDZA", "2021-12-02", "records", 1),
            expect("TDZA", "2021-12-02", "duplicates", 1),
            expect("PSZA", "2021-12-01", "records", -1),
            expect("PSZA", "2021-12-01", "produced", -1),
            expect("PSZA", "2021-12-01", "unaccounted", 1),
        ]
    );
    for c in json["changes"].as_array().unwrap() {
        assert_eq!(
            c["warehouse"].as_i64().unwrap() - c["snapshot"].as_i64().unwrap(),
            c["delta"].as_i64().unwrap()
        );
    }
}

#[test]
fn tolerances_on_the_command_line_let_counts_move_within_their_limit() {
    let w = Workspace::new();
    w.change_two_counts();
    let moved = ["--allow", "produced,unaccounted,duplicates"];
    // records moved by 1 on two dates: an absolute limit of 1 passes, 0 does not.
    let pass = w.gate(&[moved[0], moved[1], "--tolerance", "records=1"]);
    assert_eq!(pass.code, 0, "{}", pass.stdout);
    assert!(
        pass.stdout.contains("5 changes within tolerance"),
        "{}",
        pass.stdout
    );
    let fail = w.gate(&[moved[0], moved[1], "--tolerance", "records=0"]);
    assert_eq!(fail.code, 1);
    assert!(
        fail.stdout
            .contains("2 counts changed on 2 dates of 2 processors (TDZA, PSZA)")
    );
    // A percentage is of the snapshot's value: +1 of TDZA's 6 records on 2021-12-02 is
    // 16.7%, -1 of PSZA's 95 on 2021-12-01 is 1.05%.
    let pct = |p: &str| w.gate(&[moved[0], moved[1], "--tolerance", p]);
    assert_eq!(pct("records=20%").code, 0);
    let tdza_only = pct("records=10%");
    assert_eq!(tdza_only.code, 1);
    assert!(
        tdza_only
            .stdout
            .contains("1 count changed on 1 date of 1 processor (TDZA)"),
        "{}",
        tdza_only.stdout
    );
    assert_eq!(pct("records=1%").code, 1);
    assert_eq!(pct("records=16.6%").code, 1);
    assert_eq!(pct("records=16.7%").code, 0);
    // Allowing only some counts leaves the others exact.
    let partly = w.gate(&["--allow", "records"]);
    assert_eq!(partly.code, 1);
    assert!(
        partly.stdout.contains("3 counts changed"),
        "{}",
        partly.stdout
    );
}

#[test]
fn tolerances_written_in_the_snapshot_apply_and_survive_an_update() {
    let w = Workspace::new();
    let text = w.snapshot().replacen(
        "\"tolerances\": {},\n  \"allow\": [],",
        "\"tolerances\": {\"records\": \"20%\"},\n  \"allow\": [\"produced\", \"unaccounted\", \"duplicates\"],",
        1,
    );
    assert_ne!(text, w.snapshot());
    w.write_snapshot(&text);
    w.change_two_counts();
    let run = w.gate(&[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The command line overrides the file.
    assert_eq!(w.gate(&["--tolerance", "records=0"]).code, 1);

    let update = w.gate(&["--update"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let after = w.snapshot();
    assert!(
        after.contains("\"tolerances\": {\"records\": \"20%\"},"),
        "{after}"
    );
    assert!(
        after.contains("\"allow\": [\"duplicates\", \"produced\", \"unaccounted\"],"),
        "{after}"
    );
}

#[test]
fn update_rewrites_the_snapshot_says_what_changed_and_is_stable() {
    let w = Workspace::new();
    w.change_two_counts();
    let update = w.gate(&["--update"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert!(
        update
            .stdout
            .starts_with("Updated snapshot season.json: 5 counts changed on 2 dates of 2 processors (TDZA, PSZA)."),
        "{}",
        update.stdout
    );
    assert!(
        update.stdout.contains("PSZA 2021-12-01 produced: "),
        "{}",
        update.stdout
    );
    let first = w.snapshot();
    // Exactly the two changed dates' lines differ from the committed snapshot.
    let committed_text = std::fs::read_to_string(committed("season-2021-22.json")).unwrap();
    let diff = similar::TextDiff::from_lines(&committed_text, &first);
    let changed: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() == similar::ChangeTag::Insert)
        .map(|c| c.value().trim().chars().take(12).collect())
        .collect();
    assert_eq!(changed, vec!["\"2021-12-02\"", "\"2021-12-01\""]);

    assert_eq!(w.gate(&[]).code, 0);
    let again = w.gate(&["--update"]);
    assert_eq!(again.stdout, "Snapshot season.json is unchanged.\n");
    assert_eq!(w.snapshot(), first, "byte for byte");
}

#[test]
fn a_missing_snapshot_is_exit_2_with_the_command_that_creates_it() {
    let w = Workspace::new();
    let run = w.run(&[
        "gate",
        "--snapshot",
        "snapshots/new.json",
        "--range",
        "2021-12",
    ]);
    assert_one_line_error(
        &run,
        2,
        &[
            "snapshots/new.json does not exist",
            "`phase4-check gate --snapshot snapshots/new.json --range 2021-12 --update`",
        ],
    );
    assert!(!w.dir.join("snapshots").exists());

    let create = w.run(&[
        "gate",
        "--snapshot",
        "new.json",
        "--range",
        "2021-12",
        "--update",
    ]);
    assert_eq!(create.code, 0, "{}", create.stderr);
    assert!(
        create
            .stdout
            .starts_with("Wrote snapshot new.json: 2021-12-01..2021-12-31")
    );
    assert_eq!(w.run(&["gate", "--snapshot", "new.json"]).code, 0);
}

#[test]
fn corrupted_or_hand_edited_snapshots_are_exit_2_naming_file_and_field() {
    let w = Workspace::new();
    let good = w.snapshot();
    let cases: [(&str, String, &str); 6] = [
        (
            "bad JSON",
            good.replacen("{\n", "{\n<<<<<<< HEAD\n", 1),
            "snapshot season.json: not valid JSON: ",
        ),
        (
            "a missing field",
            good.replacen("\"produced\": 46, ", "", 1),
            "snapshot season.json: processors.PSZA.dates.2021-11-03.produced: missing",
        ),
        (
            "an unknown processor",
            good.replacen("\"PDC\": {", "\"PDQ\": {", 1),
            "snapshot season.json: processors.PDQ: unknown processor (the catalog has TDZA, PSZA, PCF, PDC, ML)",
        ),
        (
            "a count that breaks the identity",
            good.replacen("\"records\": 51,", "\"records\": 52,", 1),
            "snapshot season.json: processors.PSZA.dates.2021-11-03: records 52 is not produced + unexpected + duplicates = 51",
        ),
        (
            "a mistyped field",
            good.replacen("\"allow\"", "\"alow\"", 1),
            "snapshot season.json: alow: unknown field",
        ),
        (
            "a bad tolerance",
            good.replacen(
                "\"tolerances\": {}",
                "\"tolerances\": {\"records\": \"-1%\"}",
                1,
            ),
            "snapshot season.json: tolerances.records: `-1%` is not a percentage",
        ),
    ];
    for (what, text, message) in cases {
        assert_ne!(text, good, "{what}: the edit applies");
        w.write_snapshot(&text);
        for extra in [&[][..], &["--update"][..]] {
            let run = w.gate(extra);
            assert_one_line_error(&run, 2, &[message]);
            assert_eq!(w.snapshot(), text, "{what}: the file is left as it was");
        }
    }
}

#[test]
fn another_catalog_or_range_is_exit_2_not_a_silent_mismatch() {
    let w = Workspace::new();
    let range = w.gate(&["--range", "2021-12"]);
    assert_one_line_error(
        &range,
        2,
        &["season.json covers 2021-07-01..2022-06-30, not --range 2021-12-01..2021-12-31"],
    );
    let catalog =
        phase4_check::catalog::DEFAULT_CATALOG.replacen("timeout = \"", "timeout = \"1", 1);
    assert_ne!(catalog, phase4_check::catalog::DEFAULT_CATALOG);
    std::fs::write(w.dir.join("catalog.toml"), catalog).unwrap();
    let other = w.gate(&["--catalog", "catalog.toml"]);
    assert_one_line_error(&other, 2, &["season.json was taken with another catalog"]);
    let before = w.snapshot();
    assert_eq!(w.gate(&["--catalog", "catalog.toml", "--update"]).code, 0);
    assert_ne!(w.snapshot(), before, "--update records the new fingerprint");
}

#[test]
fn bad_tolerance_flags_and_junit_elsewhere_are_exit_2() {
    let w = Workspace::new();
    assert_one_line_error(&w.gate(&["--tolerance", "records"]), 2, &["COUNT=LIMIT"]);
    assert_one_line_error(
        &w.gate(&["--tolerance", "rows=1%"]),
        2,
        &["`rows` is not a count"],
    );
    assert_one_line_error(
        &w.gate(&["--tolerance", "records=-2"]),
        2,
        &["`-2` is not a limit"],
    );
    assert_one_line_error(&w.gate(&["--allow", "skips"]), 2, &["--allow: `skips`"]);
    assert_one_line_error(
        &w.run(&["report", "--format", "junit"]),
        2,
        &["junit is for `gate` only"],
    );
}

#[test]
fn a_silently_changed_value_is_a_content_change_on_its_own_diff_line() {
    let w = Workspace::new();
    w.change_one_value();
    let run = w.gate(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("Gate failed: content changed on 1 date of 1 processor (PSZA)"),
        "{}",
        run.stdout
    );
    // Exactly one line out and one in: the date's content line, not its counts.
    let removed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let added: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(removed.len(), 1, "{}", run.stdout);
    assert_eq!(added.len(), 1, "{}", run.stdout);
    assert!(removed[0].starts_with("-PSZA 2021-12-04 content="));
    assert!(added[0].starts_with("+PSZA 2021-12-04 content="));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_content_change_is_its_own_junit_case_and_json_change() {
    let w = Workspace::new();
    w.change_one_value();
    w.change_two_counts();
    let junit = w.gate(&["--format", "junit"]);
    assert_eq!(junit.code, 1);
    assert_eq!(
        junit.stdout.matches("<failure ").count(),
        3,
        "{}",
        junit.stdout
    );
    assert!(
        junit
            .stdout
            .contains(r#"<testcase name="PSZA 2021-12-04 content" classname="gate.PSZA">"#),
        "{}",
        junit.stdout
    );
    assert_eq!(junit.stdout.matches(r#"type="content changed""#).count(), 1);
    assert_eq!(junit.stdout.matches(r#"type="count changed""#).count(), 2);

    let json = w.gate(&["--format", "json"]).json();
    assert_eq!(json["content_compared"], true);
    assert_eq!(
        json["summary"],
        "5 counts changed on 2 dates and content on 1 date, of 2 processors (TDZA, PSZA)"
    );
    let content: Vec<&serde_json::Value> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["count"] == "content")
        .collect();
    assert_eq!(content.len(), 1, "{json}");
    let c = content[0];
    assert_eq!(
        (c["processor"].as_str(), c["date"].as_str()),
        (Some("PSZA"), Some("2021-12-04"))
    );
    assert_eq!(c["snapshot"], c["warehouse"]);
    assert_eq!(c["delta"], 0);
    let before = c["snapshot_fingerprint"].as_str().unwrap();
    let after = c["warehouse_fingerprint"].as_str().unwrap();
    assert_ne!(before, after);
    // The snapshot's fingerprint is the committed one.
    let committed_text = std::fs::read_to_string(committed("season-2021-22.json")).unwrap();
    assert!(committed_text.contains(&format!("\"fingerprint\": \"{before}\"")));
}

#[test]
fn a_changed_count_is_not_also_called_a_content_change() {
    let w = Workspace::new();
    w.change_two_counts();
    let json = w.gate(&["--format", "json"]).json();
    assert!(
        json["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"] != "content"),
        "{json}"
    );
}

#[test]
fn allow_content_accepts_content_changes_and_only_those() {
    let w = Workspace::new();
    w.change_one_value();
    let run = w.gate(&["--allow", "content"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("1 change within tolerance (content any)"),
        "{}",
        run.stdout
    );
    w.change_two_counts();
    assert_eq!(w.gate(&["--allow", "content"]).code, 1);
    // Written in the snapshot, it applies too; a limit is refused.
    w.write_snapshot(
        &w.snapshot()
            .replacen("\"allow\": [],", "\"allow\": [\"content\"],", 1),
    );
    let run = w.gate(&[
        "--tolerance",
        "records=1",
        "--allow",
        "produced,unaccounted,duplicates",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_one_line_error(
        &w.gate(&["--tolerance", "content=3"]),
        2,
        &["`content` takes no limit", "--allow content"],
    );
}

#[test]
fn fingerprints_of_another_hash_are_not_compared_and_that_is_said_once() {
    let w = Workspace::new();
    let text = w.snapshot();
    let ours = text
        .lines()
        .find(|l| l.contains("\"fingerprint_hash\""))
        .expect("the committed snapshot records its hash")
        .to_string();
    assert!(ours.contains("duckdb v"), "{ours}");
    w.write_snapshot(&text.replacen(
        &ours,
        "  \"fingerprint_hash\": \"bigquery FARM_FINGERPRINT\",",
        1,
    ));
    w.change_one_value();
    let run = w.gate(&[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.stdout.matches("content not compared").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bigquery FARM_FINGERPRINT"),
        "{}",
        run.stdout
    );
    let json = w.gate(&["--format", "json"]).json();
    assert_eq!(json["content_compared"], false);
    assert_eq!(json["notes"].as_array().unwrap().len(), 1);

    // A snapshot from before fingerprints: counts only, and how to record them.
    let old: String = text
        .lines()
        .filter(|l| !l.contains("\"fingerprint_hash\""))
        .map(|l| match l.find(", \"fingerprint\": ") {
            Some(at) => format!(
                "{}}}{}\n",
                &l[..at],
                if l.ends_with(',') { "," } else { "" }
            ),
            None => format!("{l}\n"),
        })
        .collect();
    assert!(!old.contains("\"fingerprint\""), "{old}");
    w.write_snapshot(&old);
    let run = w.gate(&[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Note: content not compared: the snapshot has no fingerprints (rewrite it with --update to record them)."),
        "{}",
        run.stdout
    );
    let update = w.gate(&["--update"]);
    assert!(
        update
            .stdout
            .contains("Also: fingerprints made with nothing -> duckdb v"),
        "{}",
        update.stdout
    );
    assert_eq!(w.gate(&[]).stdout.matches("Note:").count(), 0);
}
