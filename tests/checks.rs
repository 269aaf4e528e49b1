//! The checks against a real seeded warehouse: they must find exactly the defects the
//! seed injected (its manifest), in both directions, and nothing on a healthy seed.

mod common;

use common::{healthy, seeded};
use serde_json::Value;
use std::collections::BTreeSet;

type Key = (String, String, String);

/// (processor, date, kind) of a list of defects: the manifest's or the report's rows.
fn defect_keys(list: &Value) -> BTreeSet<Key> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["processor"].as_str().unwrap().to_string(),
                d["date"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &Value, field: &str) -> BTreeSet<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let processor = p["processor"].as_str().unwrap().to_string();
            p[field]
                .as_array()
                .unwrap()
                .iter()
                .map(move |d| (processor.clone(), d.as_str().unwrap().to_string()))
        })
        .collect()
}

#[test]
fn report_finds_exactly_the_manifest_defects() {
    let s = seeded();
    let run = s.run(&["report", "--range", "2021-22", "--format", "json"]);
    assert_eq!(run.code, 1, "findings must exit 1: {}", run.stderr);
    let report = run.json();

    // A date whose only finding is a failure row without its entity is a ROW of kind
    // null_keys: the manifest lists it among the content defects.
    let mut expected = defect_keys(&s.manifest["defects"]);
    expected.extend(
        defect_keys(&s.manifest["content"])
            .into_iter()
            .filter(|(_, _, kind)| kind == "null_keys"),
    );
    let found = defect_keys(&report["dates"]);
    let missed: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed {missed:?}\nextra {extra:?}"
    );
    assert!(
        expected.len() >= 20,
        "the seed injects at least 20 defective pairs"
    );

    let stale_expected: BTreeSet<(String, String)> = s.manifest["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["processor"].as_str().unwrap().into(),
                p["date"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(pairs(&report["processors"], "stale_dates"), stale_expected);
    assert!(!stale_expected.is_empty());

    let breakers_expected: BTreeSet<(String, String, String)> = s.manifest["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["processor"].as_str().unwrap().into(),
                b["date"].as_str().unwrap().into(),
                b["entity"].as_str().unwrap().into(),
            )
        })
        .collect();
    let breakers_found: BTreeSet<(String, String, String)> = report["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["processor"].as_str().unwrap().into(),
                b["date"].as_str().unwrap().into(),
                b["entity"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(breakers_found, breakers_expected);
    let tripped: u64 = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["breakers_tripped"].as_u64().unwrap())
        .sum();
    assert_eq!(tripped as usize, breakers_expected.len());
}

#[test]
fn missing_and_partial_dates_match_the_manifest() {
    let s = seeded();
    let report = s.run(&["report", "--format", "json"]).json();
    let of_kind = |kind: &str| -> BTreeSet<(String, String)> {
        defect_keys(&s.manifest["defects"])
            .into_iter()
            .filter(|(_, _, k)| k == kind)
            .map(|(p, d, _)| (p, d))
            .collect()
    };
    assert_eq!(
        pairs(&report["processors"], "missing_dates"),
        of_kind("missing")
    );
    assert_eq!(
        pairs(&report["processors"], "partial_dates"),
        of_kind("partial")
    );
    // ML never ran on 10 December dates nor on the season's last 3 (it lags), TDZA on
    // 2021-12-04.
    let ml_missing: Vec<_> = of_kind("missing")
        .into_iter()
        .filter(|(p, _)| p == "ML")
        .collect();
    assert_eq!(ml_missing.len(), 13);
    let december = ml_missing.iter().filter(|(_, d)| d.starts_with("2021-12-"));
    assert_eq!(december.count(), 10);
    let april = ml_missing.iter().filter(|(_, d)| d.starts_with("2022-04-"));
    assert_eq!(april.count(), 3);
    assert!(of_kind("missing").contains(&("TDZA".to_string(), "2021-12-04".to_string())));
}

#[test]
fn every_row_satisfies_the_reconciliation_identity() {
    let s = seeded();
    let report = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    for row in report["dates"].as_array().unwrap() {
        let n = |k: &str| row[k].as_i64().unwrap();
        assert_eq!(
            n("expected"),
            n("produced")
                + n("expected_skips")
                + n("cascades")
                + n("real_failures")
                + n("unaccounted"),
            "{row}"
        );
    }
    for p in report["processors"].as_array().unwrap() {
        let n = |k: &str| p[k].as_i64().unwrap();
        assert_eq!(
            n("expected"),
            n("produced")
                + n("expected_skips")
                + n("cascades")
                + n("real_failures")
                + n("unaccounted"),
            "{p}"
        );
        assert_eq!(
            n("records"),
            n("produced") + n("unexpected") + n("duplicates"),
            "{p}"
        );
        assert!(
            n("game_dates") > 150,
            "a season has about 160 game dates: {p}"
        );
    }
}

#[test]
fn expected_skips_are_not_failures_and_cascade_downstream() {
    let s = seeded();
    let report = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    let proc = |code: &str| {
        report["processors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["processor"] == code)
            .unwrap()
            .clone()
    };
    let psza = proc("PSZA");
    let pcf = proc("PCF");
    assert!(psza["expected_skips"].as_i64().unwrap() > 1000);
    assert!(
        psza["failures_by_category"]["INSUFFICIENT_DATA"]
            .as_i64()
            .unwrap()
            > 1000
    );
    // Every PSZA skip shows up as a cascade downstream (PCF), not as a failure.
    assert!(pcf["cascades"].as_i64().unwrap() > 1000);
    assert_eq!(pcf["expected_skips"].as_i64().unwrap(), 0);
    // Failure rate excludes skips and cascades: tiny for a season with a few defects.
    assert!(pcf["true_failure_rate"].as_f64().unwrap() < 0.01);
    // The unknown category is listed by name.
    assert!(
        proc("PDC")["failures_by_category"]["UPSTREAM_TIMEOUT"]
            .as_i64()
            .unwrap()
            > 0
    );
}

#[test]
fn tdza_gap_makes_downstream_missing_dependency_real_failures() {
    let s = seeded();
    let gaps = s.run(&[
        "gaps",
        "--processor",
        "pcf",
        "--range",
        "2021-12-04",
        "--format",
        "json",
    ]);
    assert_eq!(gaps.code, 1);
    let json = gaps.json();
    assert_eq!(json["processor"], "PCF");
    let row = &json["dates"][0];
    assert_eq!(row["kind"], "failures");
    // Players with a PSZA skip stay cascades; every other player is a real failure.
    assert_eq!(row["produced"], 0);
    assert_eq!(row["unaccounted"], 0);
    let real = row["real_failures"].as_i64().unwrap();
    let cascades = row["cascades"].as_i64().unwrap();
    assert_eq!(real + cascades, row["expected"].as_i64().unwrap());
    assert!(
        real > cascades,
        "most players have 10 games by December: {row}"
    );
}

#[test]
fn report_runs_at_most_six_queries_whatever_the_range() {
    let s = seeded();
    for range in [None, Some("2021-12-04"), Some("2021-12"), Some("2021-22")] {
        let mut args = vec!["report", "--format", "json"];
        if let Some(r) = range {
            args.extend(["--range", r]);
        }
        let q = s.run(&args).json()["queries"].as_u64().unwrap();
        assert!((5..=6).contains(&q), "{range:?}: {q} queries");
    }
    let q = s
        .run(&["report", "--processor", "ml", "--format", "json"])
        .json()["queries"]
        .as_u64()
        .unwrap();
    assert!(q <= 6);
}

#[test]
fn processor_filter_keeps_only_that_processor() {
    let s = seeded();
    let report = s
        .run(&["report", "--processor", "Ml,psza", "--format", "json"])
        .json();
    let codes: Vec<&str> = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["processor"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["PSZA", "ML"], "catalog order");
    assert!(
        report["dates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["processor"] == "PSZA" || d["processor"] == "ML")
    );
}

#[test]
fn gaps_lists_one_processors_defective_dates_oldest_first() {
    let s = seeded();
    let run = s.run(&[
        "gaps",
        "--processor",
        "ml",
        "--range",
        "2021-12",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["range"]["start"], "2021-12-01");
    let dates: Vec<&str> = json["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    let expected: BTreeSet<String> = defect_keys(&s.manifest["defects"])
        .into_iter()
        .filter(|(p, d, _)| p == "ML" && d.starts_with("2021-12"))
        .map(|(_, d, _)| d)
        .collect();
    let found: BTreeSet<String> = dates.iter().map(|d| d.to_string()).collect();
    assert_eq!(found, expected);
}

#[test]
fn healthy_seed_reports_no_defects_and_exits_zero() {
    let h = healthy();
    assert_eq!(h.manifest["defects"].as_array().unwrap().len(), 0);
    let run = h.run(&["report", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["dates"].as_array().unwrap().len(), 0);
    for p in report["processors"].as_array().unwrap() {
        for k in [
            "real_failures",
            "unaccounted",
            "duplicates",
            "unexpected",
            "breakers_tripped",
        ] {
            assert_eq!(p[k], 0, "{k} in {p}");
        }
        assert_eq!(p["stale_dates"].as_array().unwrap().len(), 0);
    }
    let table = h.run(&["report"]);
    assert_eq!(table.code, 0);
    assert!(table.stdout.contains("HEALTHY"), "{}", table.stdout);
}

#[test]
fn psza_skip_share_lands_in_its_weekly_bands() {
    let h = healthy();
    let report = h.run(&["report", "--format", "json"]).json();
    let weeks = report["skip_share"].as_array().unwrap();
    assert!(weeks.len() > 20, "a season has about 25 weeks");
    let anomalies: Vec<&Value> = weeks.iter().filter(|w| w["anomaly"] == true).collect();
    assert!(
        anomalies.is_empty(),
        "weeks outside their band: {anomalies:#?}"
    );
}

#[test]
fn csv_and_markdown_formats_render_the_same_counts() {
    let s = seeded();
    let csv = s.run(&["report", "--range", "2021-12", "--format", "csv"]);
    let mut lines = csv.stdout.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("table,processor,game_dates,"),
        "{}",
        csv.stdout
    );
    assert_eq!(lines.filter(|l| l.starts_with("processors,")).count(), 5);
    let md = s.run(&[
        "gaps",
        "--processor",
        "tdza",
        "--range",
        "2021-12",
        "--format",
        "markdown",
    ]);
    assert!(md.stdout.starts_with("# TDZA"), "{}", md.stdout);
    assert!(
        md.stdout.contains("| 2021-12-04 | missing"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.contains("2021-12-04"));
}

/// (kind, processor, date, item) of the manifest's content defects of `kinds`.
fn content_keys(manifest: &Value, kinds: &[&str]) -> BTreeSet<(String, String, String)> {
    manifest["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| kinds.contains(&c["kind"].as_str().unwrap()))
        .map(|c| {
            (
                c["processor"].as_str().unwrap().to_string(),
                c["date"].as_str().unwrap().to_string(),
                c["item"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn report_finds_exactly_the_manifest_content_defects() {
    let s = seeded();
    let run = s.run(&["report", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let found = |section: &str, item: &str| -> BTreeSet<(String, String, String)> {
        json[section]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["processor"].as_str().unwrap().to_string(),
                    n["date"].as_str().unwrap_or("NULL").to_string(),
                    n[item].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Both directions: every injected one is found, nothing else is.
    assert_eq!(
        found("null_keys", "table"),
        content_keys(&s.manifest, &["null_keys"])
    );
    assert_eq!(
        found("invariants", "column"),
        content_keys(&s.manifest, &["invariant"])
    );
    // A failure row without an entity is a ROW of its own kind, and not a defect.
    for (processor, date, _) in content_keys(&s.manifest, &["null_keys"]) {
        let row = json["dates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["processor"] == processor.as_str() && r["date"] == date.as_str())
            .unwrap_or_else(|| panic!("no ROW for {processor} {date}"));
        assert_eq!(row["kind"], "null_keys");
        assert_eq!(row["null_keys"], 1);
        let gaps = s
            .run(&["gaps", "--processor", &processor, "--format", "json"])
            .json();
        assert!(
            gaps["dates"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["date"] == date.as_str() && r["kind"] == "null_keys"),
            "{gaps}"
        );
        assert_eq!(gaps["null_keys"].as_array().unwrap().len(), 1, "{gaps}");
        let plan = s.run(&["repair", "--format", "json"]).json();
        assert!(
            !plan["pairs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["processor"] == processor.as_str() && p["date"] == date.as_str()),
            "a failure row without an entity is not rerun: {plan}"
        );
    }
}

#[test]
fn the_gate_finds_exactly_the_manifest_content_changes_against_the_healthy_seed() {
    // The healthy seed's snapshot, compared with the defective seed: content changed
    // on exactly the dates the manifest lists (elsewhere counts differ, or nothing).
    let h = healthy();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("healthy.json");
    let snapshot = snapshot.to_str().unwrap();
    let update = h.run(&["gate", "--snapshot", snapshot, "--update"]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    let s = seeded();
    let run = s.run(&["gate", "--snapshot", snapshot, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let changed: BTreeSet<(String, String, String)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["count"] == "content")
        .map(|c| {
            (
                c["processor"].as_str().unwrap().to_string(),
                c["date"].as_str().unwrap().to_string(),
                String::new(),
            )
        })
        .collect();
    assert_eq!(changed, content_keys(&s.manifest, &["content_change"]));
}

#[test]
fn the_healthy_seed_has_no_content_findings() {
    let h = healthy();
    assert_eq!(h.manifest["content"].as_array().unwrap().len(), 0);
    let json = h.run(&["report", "--format", "json"]).json();
    for section in ["null_keys", "invariants", "source"] {
        assert_eq!(json[section].as_array().unwrap().len(), 0, "{section}");
    }
    for f in json["freshness"].as_array().unwrap() {
        assert_eq!(f["lag"], 0, "{f}");
    }
    // Even with --max-lag 0, a healthy season has no finding.
    let strict = h.run(&["report", "--max-lag", "0"]);
    assert_eq!(strict.code, 0, "{}", strict.stdout);
}

#[test]
fn report_finds_exactly_the_manifest_source_defects_and_lag() {
    let s = seeded();
    let json = s.run(&["report", "--format", "json"]).json();
    let key = |kind: &Value, date: &Value, game: &Value| {
        (
            kind.as_str().unwrap().to_string(),
            date.as_str().unwrap().to_string(),
            game.as_str().map(String::from),
        )
    };
    let found: BTreeSet<_> = json["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| key(&i["kind"], &i["date"], &i["subject"]))
        .collect();
    let expected: BTreeSet<_> = s.manifest["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| key(&i["kind"], &i["date"], &i["game"]))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(expected.len(), 2, "a one-team game and a short day");
    let one_team = json["source"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "one_team_game")
        .unwrap();
    assert_eq!(one_team["teams"], 1);

    // Phase 4 was re-run on the broken days: on the short day its counts reconcile
    // against the source, so no ROW names it and only the source section can tell. The
    // day a team was lost, PCF's failures are a root that names the source's issue.
    let on = |date: &str| -> Vec<String> {
        json["dates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["date"] == date)
            .map(|r| {
                format!(
                    "{} {}",
                    r["processor"].as_str().unwrap(),
                    r["kind"].as_str().unwrap()
                )
            })
            .collect()
    };
    for (kind, date, _) in &expected {
        match kind.as_str() {
            "short_day" => assert!(on(date).is_empty(), "{date}: {:?}", on(date)),
            _ => {
                assert_eq!(on(date), ["PCF failures", "PDC failures", "ML failures"]);
                let root = json["roots"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["date"] == date.as_str())
                    .unwrap();
                assert_eq!(root["processor"], "PCF");
                assert_eq!(root["source_issues"], serde_json::json!(["one_team_game"]));
            }
        }
    }
    // No other root is on a day the source is broken.
    let suspect = json["roots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["source_issues"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(suspect, 1);

    // Freshness: every processor's lag is the manifest's (0 when not listed).
    let lag_of = |code: &str| {
        s.manifest["lagging"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["processor"] == code)
            .map_or(0, |l| l["lag"].as_u64().unwrap())
    };
    for f in json["freshness"].as_array().unwrap() {
        let code = f["processor"].as_str().unwrap();
        assert_eq!(f["lag"].as_u64().unwrap(), lag_of(code), "{f}");
        assert_eq!(f["finding"], false, "no --max-lag, no finding");
    }
    let lag = lag_of("ML");
    assert!(lag > 0);
    // --max-lag: at the lag, no finding; one below it, ML is one.
    let at = s
        .run(&["report", "--max-lag", &lag.to_string(), "--format", "json"])
        .json();
    assert!(
        at["freshness"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["finding"] == false)
    );
    let below = s
        .run(&[
            "report",
            "--max-lag",
            &(lag - 1).to_string(),
            "--format",
            "json",
        ])
        .json();
    let lagging: Vec<&str> = below["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["finding"] == true)
        .map(|f| f["processor"].as_str().unwrap())
        .collect();
    assert_eq!(lagging, ["ML"]);
    let text = s.run(&["report", "--max-lag", &(lag - 1).to_string()]);
    assert!(
        text.stdout.contains(&format!(
            "{lag} game dates behind (more than --max-lag {})",
            lag - 1
        )),
        "{}",
        text.stdout
    );
}
