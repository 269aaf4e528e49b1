//! Root causes (DOMAIN.md, "Root causes"): on the seeded warehouse against its manifest,
//! on small warehouses built by hand row by row, and `explain` end to end.

mod common;

use common::{Run, run_in, seeded};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The ROW of (processor, date) in a list of ROWs.
fn row<'a>(rows: &'a Value, processor: &str, date: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["processor"] == processor && r["date"] == date)
        .unwrap_or_else(|| panic!("no ROW for {processor} {date} in {rows:#}"))
}

#[test]
fn every_injected_defect_is_a_root_and_every_derived_one_names_exactly_its_root() {
    let s = seeded();
    let report = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    let defects = s.manifest["defects"].as_array().unwrap();
    let mut consequences_of: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut derived = 0;
    for d in defects {
        let (p, date) = (
            d["processor"].as_str().unwrap(),
            d["date"].as_str().unwrap(),
        );
        let cause = &row(&report["dates"], p, date)["cause"];
        match d["caused_by"].as_str() {
            None => assert!(
                cause.is_null(),
                "{p} {date} is injected: a root, got {cause}"
            ),
            Some(root) => {
                derived += 1;
                assert_eq!(
                    cause,
                    &json!([{"processor": root, "date": date}]),
                    "{p} {date} is derived from {root}"
                );
                *consequences_of
                    .entry((root.to_string(), date.to_string()))
                    .or_default() += 1;
            }
        }
    }
    assert_eq!(
        derived, 8,
        "the seed derives PCF, PDC, ML from PSZA and TDZA, PDC and ML from PCF"
    );

    // `roots`: exactly the injected defects, each counting its consequences.
    let roots = report["roots"].as_array().unwrap();
    let injected: Vec<&Value> = defects
        .iter()
        .filter(|d| d["caused_by"].is_null())
        .collect();
    assert_eq!(roots.len(), injected.len(), "{roots:#?}");
    for d in injected {
        let key = (
            d["processor"].as_str().unwrap().to_string(),
            d["date"].as_str().unwrap().to_string(),
        );
        let root = roots
            .iter()
            .find(|r| r["processor"] == key.0.as_str() && r["date"] == key.1.as_str())
            .unwrap_or_else(|| panic!("{key:?} is not among the roots"));
        assert_eq!(root["kind"], d["kind"]);
        assert_eq!(
            root["consequences"].as_u64().unwrap() as usize,
            consequences_of.get(&key).copied().unwrap_or(0),
            "{key:?}"
        );
    }
}

#[test]
fn roots_only_lists_just_the_roots_in_report_and_gaps() {
    let s = seeded();
    let all = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    let only = s.run(&[
        "report",
        "--range",
        "2021-22",
        "--roots-only",
        "--format",
        "json",
    ]);
    assert_eq!(only.code, 1);
    let only = only.json();
    let roots: Vec<&Value> = all["dates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["cause"].is_null())
        .collect();
    assert_eq!(
        only["dates"].as_array().unwrap().iter().collect::<Vec<_>>(),
        roots
    );
    assert_eq!(only["roots"], all["roots"]);

    let gaps = s
        .run(&[
            "gaps",
            "--processor",
            "pcf",
            "--range",
            "2021-22",
            "--roots-only",
            "--format",
            "json",
        ])
        .json();
    let dates: Vec<&str> = gaps["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["date"].as_str().unwrap())
        .collect();
    // PCF's consequences (Nov 17 of PSZA, Dec 4 of TDZA) are left out; its failure row
    // without an entity (Jan 19) has no cause upstream, so it is a root of its own, as
    // are the failures of the day the source lost a team (Feb 2).
    assert_eq!(
        dates,
        ["2021-11-10", "2021-11-13", "2022-01-19", "2022-02-02"]
    );
    let table = s.run(&["gaps", "--processor", "pcf", "--range", "2021-22"]);
    for (date, cause) in [
        ("2021-12-04", "caused by TDZA"),
        ("2021-11-17", "caused by PSZA"),
    ] {
        assert!(
            table
                .stdout
                .lines()
                .any(|l| l.contains(date) && l.contains(cause)),
            "{}",
            table.stdout
        );
    }
}

#[test]
fn the_report_leads_with_its_roots_and_marks_every_defective_row() {
    let s = seeded();
    let run = s.run(&["report", "--range", "2021-22"]);
    let out = &run.stdout;
    let summary = out
        .find("21 root causes explain 29 defective dates")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(summary < out.find("Defective dates").unwrap());
    assert!(
        out.contains("  TDZA 2021-12-04 missing -> PCF, PDC, ML\n"),
        "{out}"
    );
    assert!(
        out.contains("  PSZA 2021-11-17 failures -> PCF, PDC, ML\n"),
        "{out}"
    );
    // 21 root dates: the ten missing December ML dates in a row are one line, the
    // three of April another.
    let rows = out.lines().filter(|l| l.contains("│ root ")).count();
    let caused = out.lines().filter(|l| l.contains("│ caused by ")).count();
    assert_eq!((rows, caused), (10, 8), "{out}");
    // The root on the day the source lost a team says so.
    assert!(
        out.contains("  PCF 2022-02-02 failures -> PDC, ML (source: one_team_game that day)\n"),
        "{out}"
    );
    assert!(out.contains("2021-12-08..12-17 (10) │ missing"), "{out}");
}

#[test]
fn the_plan_marks_roles_and_roots_only_says_it_covers_the_full_plan() {
    let s = seeded();
    let full = s
        .run(&["repair", "--range", "2021-12-04", "--format", "json"])
        .json();
    let roles: Vec<(&str, &str)> = full["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["processor"].as_str().unwrap(),
                p["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("TDZA", "root"),
            ("PCF", "consequence"),
            ("PDC", "consequence"),
            ("ML", "consequence")
        ]
    );
    let roots = s.run(&["repair", "--range", "2021-22", "--roots-only"]);
    assert!(
        roots
            .stdout
            .contains("Roots only: this plan covers every pair of the full plan."),
        "{}",
        roots.stdout
    );
    let json = s
        .run(&[
            "repair",
            "--range",
            "2021-22",
            "--roots-only",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(json["left_out"], json!([]));

    // Without the downstream reruns, the consequences are left out, and named.
    let narrow = s.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--roots-only",
        "--no-downstream",
    ]);
    assert!(
        narrow.stdout.contains(
            "leaves out 3 pairs of the full plan: PCF 2021-12-04 (root TDZA 2021-12-04 planned; --no-downstream), PDC"
        ),
        "{}",
        narrow.stdout
    );
    let narrow = s
        .run(&[
            "repair",
            "--range",
            "2021-12-04",
            "--roots-only",
            "--no-downstream",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(narrow["pairs"].as_array().unwrap().len(), 1);
    assert_eq!(narrow["left_out"].as_array().unwrap().len(), 3);
}

// ---- hand-built warehouses -------------------------------------------------------

const CREATE: &str = include_str!("../sql/create_warehouse.sql");
const PROCESSED: &str = "TIMESTAMP '2022-01-20 08:00:00'";

/// Players and their teams: (player, team, opponent). Two games: A-B and C-D.
const PLAYERS: [(&str, &str, &str); 6] = [
    ("a1", "A", "B"),
    ("a2", "A", "B"),
    ("b1", "B", "A"),
    ("c1", "C", "D"),
    ("c2", "C", "D"),
    ("d1", "D", "C"),
];

/// One day of a hand-built warehouse: which rows each processor has, and its failure
/// rows. Processors not named have a row for every expected entity.
#[derive(Default)]
struct Day {
    date: &'static str,
    /// Processor code -> entities without a row.
    absent: Vec<(&'static str, Vec<&'static str>)>,
    /// (processor, entity, category).
    failures: Vec<(&'static str, &'static str, &'static str)>,
    /// (processor, entity) written twice.
    duplicated: Vec<(&'static str, &'static str)>,
}

fn build(path: &Path, days: &[Day]) {
    let db = duckdb::Connection::open(path).unwrap();
    db.execute_batch(CREATE).unwrap();
    let mut sql = String::new();
    let tables = [
        (
            "TDZA",
            "nba_precompute.team_defense_zone_analysis",
            "team_abbr",
            "analysis_date",
        ),
        (
            "PSZA",
            "nba_precompute.player_shot_zone_analysis",
            "player_lookup",
            "analysis_date",
        ),
        (
            "PCF",
            "nba_precompute.player_composite_factors",
            "player_lookup",
            "analysis_date",
        ),
        (
            "PDC",
            "nba_precompute.player_daily_cache",
            "player_lookup",
            "cache_date",
        ),
        (
            "ML",
            "nba_predictions.ml_feature_store_v2",
            "player_lookup",
            "game_date",
        ),
    ];
    for day in days {
        let d = day.date;
        for (player, team, opp) in PLAYERS {
            sql += &format!(
                "INSERT INTO nba_analytics.player_game_summary (game_id, game_date, season_year, player_lookup, team_abbr, opponent_team_abbr) VALUES ('{d}-{team}{opp}', DATE '{d}', 2021, '{player}', '{team}', '{opp}');\n"
            );
        }
        for (code, table, entity, date_column) in tables {
            let entities: Vec<&str> = if code == "TDZA" {
                vec!["A", "B", "C", "D"]
            } else {
                PLAYERS.iter().map(|p| p.0).collect()
            };
            let absent: &[&str] = day
                .absent
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, e)| e.as_slice())
                .unwrap_or(&[]);
            for e in entities.iter().filter(|e| !absent.contains(e)) {
                let times = if day.duplicated.contains(&(code, *e)) {
                    2
                } else {
                    1
                };
                for _ in 0..times {
                    sql += &format!(
                        "INSERT INTO {table} ({entity}, {date_column}, processed_at) VALUES ('{e}', DATE '{d}', {PROCESSED});\n"
                    );
                }
            }
        }
        for (code, entity, category) in &day.failures {
            sql += &format!(
                "INSERT INTO nba_processing.precompute_failures VALUES ('{code}', DATE '{d}', '{entity}', '{category}', 'hand-built', {PROCESSED});\n"
            );
        }
    }
    db.execute_batch(&sql).unwrap();
}

fn hand_built(days: &[Day]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    build(&dir.path().join("hand.duckdb"), days);
    (dir, "duckdb:hand.duckdb".into())
}

fn report(dir: &Path, warehouse: &str, range: &str) -> Value {
    let run = run_in(
        dir,
        &[
            "--warehouse",
            warehouse,
            "report",
            "--range",
            range,
            "--format",
            "json",
        ],
    );
    assert!(run.code <= 1, "{}", run.stderr);
    run.json()
}

fn cause(report: &Value, processor: &str, date: &str) -> Value {
    row(&report["dates"], processor, date)["cause"].clone()
}

#[test]
fn a_tdza_gap_explains_players_only_through_their_opponents() {
    // Day 1: TDZA lacks B; PCF's a1 and a2 (opponent B) fail with MISSING_DEPENDENCY.
    // Day 2: the same, and c2 (opponent D, whose TDZA row exists) fails as well.
    let md = "MISSING_DEPENDENCY";
    let (dir, wh) = hand_built(&[
        Day {
            date: "2022-01-10",
            absent: vec![("TDZA", vec!["B"]), ("PCF", vec!["a1", "a2"])],
            failures: vec![("PCF", "a1", md), ("PCF", "a2", md)],
            ..Day::default()
        },
        Day {
            date: "2022-01-11",
            absent: vec![("TDZA", vec!["B"]), ("PCF", vec!["a1", "a2", "c2"])],
            failures: vec![("PCF", "a1", md), ("PCF", "a2", md), ("PCF", "c2", md)],
            ..Day::default()
        },
    ]);
    let r = report(dir.path(), &wh, "2022-01-10..2022-01-11");
    assert_eq!(
        cause(&r, "PCF", "2022-01-10"),
        json!([{"processor": "TDZA", "date": "2022-01-10"}])
    );
    assert!(
        cause(&r, "PCF", "2022-01-11").is_null(),
        "c2's opponent D has its TDZA row: not explained, so PCF is a root"
    );
    assert!(cause(&r, "TDZA", "2022-01-10").is_null());
}

#[test]
fn a_processing_error_beside_an_upstream_gap_stays_a_root() {
    let (dir, wh) = hand_built(&[Day {
        date: "2022-01-10",
        absent: vec![("TDZA", vec!["B"]), ("PCF", vec!["a1", "a2"])],
        failures: vec![
            ("PCF", "a1", "MISSING_DEPENDENCY"),
            ("PCF", "a2", "PROCESSING_ERROR"),
        ],
        ..Day::default()
    }]);
    let r = report(dir.path(), &wh, "2022-01-10");
    assert!(cause(&r, "PCF", "2022-01-10").is_null(), "{r:#}");
    let roots: Vec<&str> = r["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["processor"].as_str().unwrap())
        .collect();
    assert_eq!(roots, ["TDZA", "PCF"]);
}

#[test]
fn a_date_missing_everywhere_below_a_missing_upstream_date_is_a_consequence() {
    let players: Vec<&str> = PLAYERS.iter().map(|p| p.0).collect();
    let (dir, wh) = hand_built(&[Day {
        date: "2022-01-12",
        absent: vec![
            ("TDZA", vec!["A", "B", "C", "D"]),
            ("PCF", players.clone()),
            ("PDC", players.clone()),
            ("ML", players),
        ],
        ..Day::default()
    }]);
    let r = report(dir.path(), &wh, "2022-01-12");
    for p in ["PCF", "PDC", "ML"] {
        assert_eq!(row(&r["dates"], p, "2022-01-12")["kind"], "missing");
        assert_eq!(
            cause(&r, p, "2022-01-12"),
            json!([{"processor": "TDZA", "date": "2022-01-12"}]),
            "{p}"
        );
    }
    assert_eq!(r["roots"][0]["consequences"], 3);
}

#[test]
fn duplicates_make_a_root_even_when_every_failure_is_explained() {
    let md = "MISSING_DEPENDENCY";
    let (dir, wh) = hand_built(&[Day {
        date: "2022-01-13",
        absent: vec![("TDZA", vec!["B"]), ("PCF", vec!["a1", "a2"])],
        failures: vec![("PCF", "a1", md), ("PCF", "a2", md)],
        duplicated: vec![("PCF", "c1")],
    }]);
    let r = report(dir.path(), &wh, "2022-01-13");
    let pcf = row(&r["dates"], "PCF", "2022-01-13");
    assert_eq!(
        (pcf["kind"].as_str(), pcf["duplicates"].as_i64()),
        (Some("failures"), Some(1))
    );
    assert!(pcf["cause"].is_null(), "{pcf:#}");
}

// ---- explain ------------------------------------------------------------------------

fn explain(s: &common::Seeded, processor: &str, date: &str, json: bool) -> Run {
    let mut args = vec!["explain", "--processor", processor, "--date", date];
    if json {
        args.extend(["--format", "json"]);
    }
    s.run(&args)
}

#[test]
fn explain_follows_a_consequence_down_to_its_root_with_counts_reasons_and_the_fix() {
    let s = seeded();
    let run = explain(s, "ml", "2021-12-04", false);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.starts_with("ML 2021-12-04 is a consequence of TDZA 2021-12-04"),
        "{out}"
    );
    assert!(
        out.contains("└── 81 explained by TDZA 2021-12-04 missing"),
        "{out}"
    );
    assert!(out.contains("no TDZA row for opponent"), "{out}");
    let warehouse = s.warehouse_arg();
    assert!(
        out.contains(&format!(
            "phase4-check --warehouse {warehouse} repair --range 2021-12-04 --processor TDZA,PCF,PDC,ML --apply"
        )),
        "{out}"
    );

    let j = explain(s, "ml", "2021-12-04", true).json();
    assert_eq!(j["verdict"], "consequence");
    assert_eq!(
        j["cause"],
        json!([{"processor": "TDZA", "date": "2021-12-04"}])
    );
    assert_eq!(
        j["repair"]["processors"],
        json!(["TDZA", "PCF", "PDC", "ML"])
    );
    assert!(
        j["queries"].as_u64().unwrap() <= 7,
        "the six checks and the samples: {j}"
    );
}

#[test]
fn explain_says_healthy_root_and_no_games_with_their_exit_codes() {
    let s = seeded();
    let healthy = explain(s, "ml", "2021-12-03", false);
    assert_eq!(healthy.code, 0);
    assert!(healthy.stdout.contains("is healthy"), "{}", healthy.stdout);
    assert!(
        !healthy.stdout.contains("phase4-check"),
        "{}",
        healthy.stdout
    );

    let root = explain(s, "psza", "2021-11-17", true);
    assert_eq!(root.code, 1);
    let j = root.json();
    assert_eq!(j["verdict"], "root");
    assert!(j["cause"].is_null());
    assert!(
        j["failure_samples"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("ZeroDivisionError")
    );

    let none = explain(s, "ml", "2021-12-24", false);
    assert_eq!(none.code, 0);
    assert!(
        none.stdout.starts_with("2021-12-24 has no games"),
        "{}",
        none.stdout
    );

    let bad = explain(s, "ml", "2021-13-01", false);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    let unknown = explain(s, "nope", "2021-12-04", false);
    assert_eq!(unknown.code, 2);
}

#[test]
fn the_repair_command_explain_prints_fixes_the_pair() {
    let s = seeded();
    let (dir, path) = s.copy();
    let warehouse = format!("duckdb:{}", path.display());
    let j = run_in(
        dir.path(),
        &[
            "--warehouse",
            &warehouse,
            "explain",
            "--processor",
            "pdc",
            "--date",
            "2021-12-04",
            "--format",
            "json",
        ],
    )
    .json();
    let command = j["repair"]["command"].as_str().unwrap().to_string();
    let words = shlex::split(&command).unwrap();
    assert_eq!(words[0], "phase4-check");
    let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    args.extend(["--progress", "none"]);
    let run = run_in(dir.path(), &args);
    assert_eq!(run.code, 0, "{command}\n{}\n{}", run.stdout, run.stderr);
    let after = run_in(
        dir.path(),
        &[
            "--warehouse",
            &warehouse,
            "explain",
            "--processor",
            "pdc",
            "--date",
            "2021-12-04",
        ],
    );
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert!(
        after.stdout.contains("PDC 2021-12-04 is healthy"),
        "{}",
        after.stdout
    );
}

#[test]
fn a_mapping_column_the_source_lacks_or_holds_no_text_in_is_exit_2_naming_it() {
    let s = seeded();
    for (column, says) in [
        (
            "rival_abbr",
            "table nba_analytics.player_game_summary has no column rival_abbr",
        ),
        (
            "game_date",
            "column nba_analytics.player_game_summary.game_date is DATE, not text",
        ),
        ("season_year", "player_game_summary.season_year is"),
    ] {
        let catalog = phase4_check::catalog::DEFAULT_CATALOG.replace(
            r#"TDZA = "opponent_team_abbr" }"#,
            &format!(r#"TDZA = "{column}" }}"#),
        );
        let file = format!("mapping-{column}.toml");
        std::fs::write(s.dir.join(&file), catalog).unwrap();
        let run = s.run(&["--catalog", &file, "report", "--range", "2021-12"]);
        assert_eq!(run.code, 2, "{column}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{column}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1);
    }
}

/// The built-in catalog with its processor blocks in reverse order: the same graph.
fn reversed_catalog() -> String {
    let text = phase4_check::catalog::DEFAULT_CATALOG;
    let first = text.find("[[processor]]").unwrap();
    let end = text.find("[categories]").unwrap();
    let blocks: Vec<&str> = text[first..end]
        .split("[[processor]]")
        .filter(|b| !b.trim().is_empty())
        .collect();
    let reversed: String = blocks
        .iter()
        .rev()
        .map(|b| format!("[[processor]]{}\n", b.trim_end()))
        .collect();
    format!("{}{reversed}\n{}", &text[..first], &text[end..])
}

#[test]
fn roots_and_causes_do_not_depend_on_the_order_of_the_catalog() {
    let s = seeded();
    std::fs::write(s.dir.join("reversed.toml"), reversed_catalog()).unwrap();
    let by_pair = |v: &Value| -> BTreeMap<(String, String), Value> {
        v["dates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let key = (
                    r["processor"].as_str().unwrap().into(),
                    r["date"].as_str().unwrap().into(),
                );
                // Causes as a set: their order follows the catalog.
                let mut cause = r["cause"].clone();
                if let Some(list) = cause.as_array_mut() {
                    list.sort_by_key(|c| c["processor"].as_str().unwrap().to_string());
                }
                (key, cause)
            })
            .collect()
    };
    let default = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    let reversed = s.run(&[
        "--catalog",
        "reversed.toml",
        "report",
        "--range",
        "2021-22",
        "--format",
        "json",
    ]);
    assert_eq!(reversed.code, 1, "{}", reversed.stderr);
    assert_eq!(by_pair(&default), by_pair(&reversed.json()));
    for (processor, date) in [("ml", "2021-12-04"), ("pdc", "2021-11-17")] {
        let a = s.run(&["explain", "--processor", processor, "--date", date]);
        let b = s.run(&[
            "--catalog",
            "reversed.toml",
            "explain",
            "--processor",
            processor,
            "--date",
            date,
        ]);
        let tree = |out: &str| -> Vec<String> {
            out.lines()
                .filter(|l| l.contains("explained by"))
                .map(String::from)
                .collect()
        };
        assert_eq!(tree(&a.stdout), tree(&b.stdout), "{}", b.stdout);
    }
}

#[test]
fn a_root_partly_explained_upstream_gets_a_repair_command_that_reruns_those_roots_too() {
    // One team's TDZA row gone on Nov 20, PCF rerun (its opponents' players fail with
    // MISSING_DEPENDENCY), and one more PCF player failing with nothing upstream to blame.
    let s = seeded();
    let (dir, path) = s.copy();
    let warehouse = format!("duckdb:{}", path.display());
    let date = "2021-11-20";
    let db = duckdb::Connection::open(&path).unwrap();
    let team: String = db
        .query_row(
            "SELECT MIN(team_abbr) FROM nba_analytics.player_game_summary WHERE game_date = DATE '2021-11-20'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "DELETE FROM nba_precompute.team_defense_zone_analysis WHERE analysis_date = DATE '2021-11-20' AND team_abbr = ?",
        [&team],
    )
    .unwrap();
    db.close().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["--warehouse", warehouse.as_str()];
        all.extend_from_slice(args);
        run_in(dir.path(), &all)
    };
    assert_eq!(
        run(&["process", "--processor", "pcf", "--date", date]).code,
        0
    );
    let db = duckdb::Connection::open(&path).unwrap();
    let player: String = db
        .query_row(
            "SELECT MIN(p.player_lookup) FROM nba_precompute.player_composite_factors AS p
             JOIN nba_analytics.player_game_summary AS g
               ON g.player_lookup = p.player_lookup AND g.game_date = p.analysis_date
             WHERE p.analysis_date = DATE '2021-11-20' AND g.opponent_team_abbr <> ?",
            [&team],
            |r| r.get(0),
        )
        .unwrap();
    db.execute_batch(&format!(
        "DELETE FROM nba_precompute.player_composite_factors WHERE analysis_date = DATE '{date}' AND player_lookup = '{player}';
         INSERT INTO nba_processing.precompute_failures VALUES ('PCF', DATE '{date}', '{player}', 'MISSING_DEPENDENCY', 'hand-made', TIMESTAMP '2030-01-01 00:00:00');"
    ))
    .unwrap();
    db.close().unwrap();

    let j = run(&[
        "explain",
        "--processor",
        "pcf",
        "--date",
        date,
        "--format",
        "json",
    ])
    .json();
    assert_eq!(j["verdict"], "root", "{j:#}");
    assert_eq!(j["chain"]["steps"][0]["processor"], "TDZA", "{j:#}");
    assert_eq!(
        j["repair"]["processors"],
        json!(["TDZA", "PCF", "PDC", "ML"])
    );
    // Every failure row quoted or counted is one the identity counts as a real failure.
    let pcf_rows = j["failure_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["processor"] == "PCF")
        .unwrap()["rows"]
        .clone();
    assert_eq!(pcf_rows, j["row"]["real_failures"]);

    let command = j["repair"]["command"].as_str().unwrap();
    let words = shlex::split(command).unwrap();
    let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    args.extend(["--progress", "none"]);
    let applied = run_in(dir.path(), &args);
    assert_eq!(
        applied.code, 0,
        "{command}\n{}\n{}",
        applied.stdout, applied.stderr
    );
    let after = run(&["explain", "--processor", "pcf", "--date", date]);
    assert_eq!(after.code, 0, "{}", after.stdout);
}

#[test]
fn failure_rows_of_entities_that_have_a_row_are_neither_counted_nor_quoted() {
    let md = "MISSING_DEPENDENCY";
    let (dir, wh) = hand_built(&[Day {
        date: "2022-01-10",
        absent: vec![("TDZA", vec!["B"]), ("PCF", vec!["a1", "a2"])],
        // c1 has its PCF row: an old PROCESSING_ERROR row of it does not count.
        failures: vec![
            ("PCF", "a1", md),
            ("PCF", "a2", md),
            ("PCF", "c1", "PROCESSING_ERROR"),
        ],
        ..Day::default()
    }]);
    let j = run_in(
        dir.path(),
        &[
            "--warehouse",
            &wh,
            "explain",
            "--processor",
            "pcf",
            "--date",
            "2022-01-10",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(j["verdict"], "consequence", "{j:#}");
    assert_eq!(j["row"]["real_failures"], 2);
    let quoted: Vec<&str> = j["failure_samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["processor"] == "PCF")
        .map(|s| s["entity"].as_str().unwrap())
        .collect();
    assert_eq!(quoted, ["a1", "a2"]);
    assert_eq!(j["failure_rows"][1], json!({"processor": "PCF", "rows": 2}));
}
