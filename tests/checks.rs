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

    let expected = defect_keys(&s.manifest["defects"]);
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
    // ML never ran on 10 December dates, TDZA on 2021-12-04.
    let ml_missing: Vec<_> = of_kind("missing")
        .into_iter()
        .filter(|(p, _)| p == "ML")
        .collect();
    assert_eq!(ml_missing.len(), 10);
    assert!(ml_missing.iter().all(|(_, d)| d.starts_with("2021-12-")));
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
