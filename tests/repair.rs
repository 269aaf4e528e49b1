//! The repair runner with real processes, real signals and real files: the built-in
//! processors and small scripts standing in for flaky, slow or silent processors.

mod common;

use common::bench::{
    BUILTIN_TDZA, Bench, bench_with_every_processor, pid_alive, read_pid, signal, wait_gone,
};
use common::seeded;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

#[test]
fn dry_run_prints_the_plan_in_dependency_order_and_changes_nothing() {
    let b = Bench::new(None);
    let before = std::fs::read(b.dir.join("phase4.duckdb")).unwrap();
    let run = b.run(&["repair", "--range", "2021-12-04", "--format", "json"]);
    assert_eq!(run.code, 1, "a non-empty plan exits 1: {}", run.stderr);
    let pairs: Vec<(String, Vec<String>)> = run.json()["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["processor"].as_str().unwrap().to_string(),
                p["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let codes: Vec<&str> = pairs.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, ["TDZA", "PCF", "PDC", "ML"]);
    assert_eq!(pairs[0].1, ["missing"]);
    assert_eq!(
        pairs[1].1,
        ["failures", "downstream"],
        "downstream is listed with own reasons too"
    );
    assert_eq!(std::fs::read(b.dir.join("phase4.duckdb")).unwrap(), before);
    assert!(!b.dir.join(".phase4").exists(), "a dry run writes no state");

    let table = b.run(&["repair", "--range", "2021-12-04"]);
    assert!(
        table.stdout.contains("stage 1: TDZA (1 dates)"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("dry run"));
}

#[test]
fn processor_filter_and_start_from_shape_the_plan() {
    let b = Bench::new(None);
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--processor",
        "ml",
        "--format",
        "json",
    ]);
    let json = run.json();
    let codes: Vec<&str> = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["processor"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ML"]);
    // Said once: in the JSON, not again on stderr.
    assert!(
        json["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("TDZA 2021-12-04 is defective upstream of ML")),
        "{json}"
    );
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--start-from",
        "pdc",
        "--format",
        "json",
    ]);
    let codes: Vec<String> = run.json()["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["processor"].as_str().unwrap().into())
        .collect();
    assert_eq!(codes, ["PDC", "ML"]);
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--no-downstream",
        "--format",
        "json",
    ]);
    let reasons: Vec<Value> = run.json()["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reasons"].clone())
        .collect();
    assert!(
        reasons
            .iter()
            .all(|r| !r.as_array().unwrap().iter().any(|x| x == "downstream"))
    );
}

#[test]
fn apply_repairs_the_seeded_season_and_runs_downstream_after_upstream() {
    let b = Bench::new(None);
    let run = b.run(&[
        "repair",
        "--range",
        "2021-22",
        "--apply",
        "--progress",
        "plain",
        "--format",
        "json",
    ]);
    // Every pair is done but on the day the seed's source lost a team: PCF's rerun still
    // has its real failures (unverified), so PDC and ML wait (blocked), and the run
    // exits 1.
    assert_eq!(run.code, 1, "stdout {}\nstderr {}", run.stdout, run.stderr);
    let json = run.json();
    let one_team_day = seeded().manifest["source"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "one_team_game")
        .unwrap()["date"]
        .clone();
    let not_done: Vec<(&str, &str)> = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] != "done")
        .inspect(|p| assert_eq!(p["date"], one_team_day, "{p}"))
        .map(|p| {
            (
                p["processor"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        not_done,
        [("PCF", "unverified"), ("PDC", "blocked"), ("ML", "blocked")]
    );
    assert!(
        json["breakers_reset"].as_u64().unwrap() >= 3,
        "the tripped breakers were reset"
    );

    // Every count is whole again but on that day. The seed's content defects (a failure
    // row without its entity, an ML row breaking an invariant) stay too: DOMAIN's plan
    // reruns defective, stale and downstream pairs only.
    let report = b.run(&["report", "--range", "2021-22", "--format", "json"]);
    assert_eq!(report.code, 1, "{}", report.stderr);
    let report = report.json();
    let left: Vec<(&str, &str)> = report["dates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["date"] != one_team_day)
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["processor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [("null_keys", "PCF")],
        "after repair: {}",
        report["dates"]
    );
    // On that day the blocked pairs are stale (PCF reran), and nothing else is.
    let stale: Vec<(&str, &Value)> = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["stale_dates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (p["processor"].as_str().unwrap(), d))
        })
        .collect();
    assert_eq!(stale, [("PDC", &one_team_day), ("ML", &one_team_day)]);
    let null_keys: Vec<i64> = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["null_keys"].as_i64().unwrap() + p["invariant_violations"].as_i64().unwrap())
        .collect();
    assert_eq!(
        null_keys,
        [0, 0, 1, 0, 1],
        "content findings left after repair"
    );
    for p in report["processors"].as_array().unwrap() {
        for k in [
            "unaccounted",
            "duplicates",
            "unexpected",
            "breakers_tripped",
        ] {
            assert_eq!(p[k], 0, "{k}: {p}");
        }
        // Only that day's real failures are left.
        let expected = if ["PCF", "PDC", "ML"].contains(&p["processor"].as_str().unwrap()) {
            8
        } else {
            0
        };
        assert_eq!(p["real_failures"], expected, "{p}");
    }
    let psza = &report["processors"][1];
    assert!(
        psza["expected_skips"].as_i64().unwrap() > 1000,
        "expected skips remain"
    );

    // Pipelined order: no downstream pair started before its upstream same-date pairs ended.
    let events = b.events();
    let time = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    let catalog = phase4_check::catalog::Catalog::builtin().unwrap();
    let starts: Vec<&Value> = events.iter().filter(|e| e["event"] == "start").collect();
    let exits: Vec<&Value> = events.iter().filter(|e| e["event"] == "exit").collect();
    assert!(starts.len() >= 20);
    for s in &starts {
        let down = catalog.find(s["processor"].as_str().unwrap()).unwrap();
        for e in &exits {
            let up = catalog.find(e["processor"].as_str().unwrap()).unwrap();
            if e["start"] == s["start"] && catalog.is_upstream(up, down) {
                assert!(time(s) >= time(e), "{s} started before {e} ended");
            }
        }
    }
    // Within a processor, dates ran oldest first.
    for code in ["TDZA", "PSZA", "PCF", "PDC", "ML"] {
        let dates: Vec<&str> = starts
            .iter()
            .filter(|s| s["processor"] == code)
            .map(|s| s["start"].as_str().unwrap())
            .collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted, "{code}");
    }
    // Count for count, the repaired season is the healthy seed's (the committed snapshot)
    // but for the content defects repair leaves: the changed values and the failure row
    // without its entity.
    let healthy = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/healthy-2021-22.json");
    let gate = b.run(&[
        "gate",
        "--snapshot",
        healthy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(gate.code, 1, "{}{}", gate.stdout, gate.stderr);
    // On the days the seed broke the source, Phase 4 follows the broken source.
    let source_dates: BTreeSet<&str> = seeded().manifest["source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(source_dates.len(), 2);
    let changes: BTreeSet<(String, String, String)> = gate.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !source_dates.contains(c["date"].as_str().unwrap()))
        .map(|c| {
            (
                c["processor"].as_str().unwrap().into(),
                c["date"].as_str().unwrap().into(),
                c["count"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = seeded().manifest["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !source_dates.contains(c["date"].as_str().unwrap()))
        .filter_map(|c| {
            let count = match c["kind"].as_str().unwrap() {
                "content_change" => "content".to_string(),
                "null_keys" => "failures PROCESSING_ERROR".to_string(),
                _ => return None,
            };
            Some((
                c["processor"].as_str().unwrap().into(),
                c["date"].as_str().unwrap().into(),
                count,
            ))
        })
        .collect();
    assert_eq!(changes, expected);

    // What is left to plan is that day alone, until Phase 3 is fixed.
    let again = b
        .run(&["repair", "--range", "2021-22", "--format", "json"])
        .json();
    let planned: Vec<(&str, &Value)> = again["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["processor"].as_str().unwrap(), &p["date"]))
        .collect();
    assert_eq!(
        planned,
        [
            ("PCF", &one_team_day),
            ("PDC", &one_team_day),
            ("ML", &one_team_day)
        ]
    );
}

#[test]
fn a_processor_past_its_timeout_is_ended_with_its_grandchild_and_blocks_downstream() {
    let b = Bench::new(Some("sleep 300 &\necho $! > grandchild.pid\nsleep 300"));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--timeout",
        "1s",
        "--grace",
        "1s",
        "--retry-backoff",
        "10ms",
        "--progress",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    let status: Vec<(&str, &str)> = json["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["processor"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        status,
        [
            ("TDZA", "timed_out"),
            ("PCF", "blocked"),
            ("PDC", "blocked"),
            ("ML", "blocked")
        ]
    );
    let grandchild = read_pid(&b.dir.join("grandchild.pid"));
    assert!(
        wait_gone(grandchild),
        "grandchild {grandchild} outlived the timeout"
    );
    let attempts = b.events().iter().filter(|e| e["event"] == "start").count();
    assert_eq!(attempts, 3, "timeouts are retried up to max_attempts");
}

#[test]
fn a_processor_that_fails_twice_then_succeeds_is_done() {
    let script = format!(
        "n=$(cat attempts 2>/dev/null || echo 0); n=$((n+1)); echo $n > attempts\nif [ $n -lt 3 ]; then echo boom >&2; exit 7; fi\n{BUILTIN_TDZA}"
    );
    let b = Bench::new(Some(&script));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--retry-backoff",
        "10ms",
        "--progress",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(b.dir.join("attempts"))
            .unwrap()
            .trim(),
        "3"
    );
    let status = b.run(&["checkpoint", "status", "--format", "json"]).json();
    assert_eq!(status["counts"]["done"], 4);
    let logs: Vec<Value> = b
        .events()
        .into_iter()
        .filter(|e| e["event"] == "retry")
        .collect();
    assert_eq!(logs.len(), 2);
    assert!(
        logs[0]["error"]
            .as_str()
            .unwrap()
            .contains("exited with code 7")
    );
}

#[test]
fn an_exit_zero_that_writes_nothing_is_unverified() {
    let b = Bench::new(Some("exit 0"));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--progress",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["pairs"][0]["status"], "unverified");
    assert!(
        json["pairs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("still missing"),
        "{json}"
    );
    assert_eq!(json["pairs"][1]["status"], "blocked");
}

#[test]
fn sigint_mid_run_records_interrupted_and_the_resume_finishes_without_rerunning_done_pairs() {
    let script = format!("echo $$ > tdza.pid\nsleep 1\n{BUILTIN_TDZA}");
    let b = Bench::new(Some(&script));
    let args = [
        "repair",
        "--range",
        "2021-12",
        "--apply",
        "--progress",
        "plain",
        "--grace",
        "2s",
    ];
    let child = b.spawn(&args);
    // Wait for the first TDZA invocation, then interrupt.
    b.wait_for_event(
        |e| e["event"] == "start" && e["processor"] == "TDZA",
        Duration::from_secs(60),
    );
    let tdza = read_pid(&b.dir.join("tdza.pid"));
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(wait_gone(tdza), "the processor outlived the interrupt");
    let status = b.run(&["checkpoint", "status", "--format", "json"]).json();
    assert!(
        status["counts"]["interrupted"].as_u64().unwrap() >= 1,
        "{status}"
    );

    let done_before: Vec<(String, String)> = done_pairs(&b.events());
    let resumed = b.run(&args);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("Repair resumed"),
        "{}",
        resumed.stdout
    );
    // No pair that had succeeded ran again; every pair ran to success once.
    let events = b.events();
    let all_done = done_pairs(&events);
    assert!(!all_done.is_empty(), "exit events name their outcome");
    for pair in &done_before {
        assert_eq!(
            all_done.iter().filter(|p| *p == pair).count(),
            1,
            "{pair:?} ran twice"
        );
    }
    let report = b.run(&["report", "--range", "2021-12"]);
    assert_eq!(report.code, 0, "{}", report.stdout);
}

/// (processor, date) of every exit 0, in order (the typed `exit` event of the README).
fn done_pairs(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["event"] == "exit" && e["outcome"] == "exited" && e["code"] == 0)
        .map(|e| {
            (
                e["processor"].as_str().unwrap().into(),
                e["start"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn sigterm_behaves_like_ctrl_c() {
    let b = Bench::new(Some(&format!("sleep 30\n{BUILTIN_TDZA}")));
    let child = b.spawn(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--progress",
        "none",
    ]);
    b.wait_for_event(|e| e["event"] == "start", Duration::from_secs(60));
    signal(&child, nix::sys::signal::Signal::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Interrupted"));
}

#[test]
fn after_a_sigkilled_runner_the_next_run_ends_its_leftovers_and_resumes() {
    let b = Bench::new(Some(&format!(
        "sleep 300 &\necho $! > grandchild.pid\nsleep 300\n{BUILTIN_TDZA}"
    )));
    let args = [
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--progress",
        "none",
        "--grace",
        "1s",
    ];
    let mut child = b.spawn(&args);
    let grandchild = read_pid(&b.dir.join("grandchild.pid"));
    // The record is written just after the spawn: the shell may be quicker. Kill once
    // it is there (a kill before it is the cgroup sweep's case, or an unrecorded group).
    let records = || {
        std::fs::read_dir(b.dir.join(".phase4/groups"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while records() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&child, nix::sys::signal::Signal::SIGKILL);
    child.wait().unwrap();
    assert!(
        pid_alive(grandchild),
        "the grandchild survives a SIGKILLed runner"
    );
    assert_eq!(records(), 1, "the running group was recorded");

    // The next run ends the leftover group first; then resumes (with a working TDZA).
    std::fs::write(
        b.dir.join("tdza.sh"),
        format!("#!/bin/sh\n{BUILTIN_TDZA}\n"),
    )
    .unwrap();
    let run = b.run(&args);
    assert!(run.stderr.contains("leftover"), "{}", run.stderr);
    assert!(
        wait_gone(grandchild),
        "the leftover grandchild was not ended"
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("Repair resumed"), "{}", run.stdout);
}

#[test]
fn a_second_runner_is_refused_while_the_lock_is_held() {
    let b = Bench::new(Some(&format!("sleep 30\n{BUILTIN_TDZA}")));
    let mut first = b.spawn(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--progress",
        "none",
    ]);
    b.wait_for_event(|e| e["event"] == "start", Duration::from_secs(60));
    let second = b.run(&["repair", "--range", "2021-12-04", "--apply"]);
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("pid {}", first.id())),
        "{}",
        second.stderr
    );
    signal(&first, nix::sys::signal::Signal::SIGINT);
    first.wait().unwrap();
}

#[test]
fn a_different_request_is_refused_while_a_run_is_unfinished() {
    let b = Bench::with_unfinished_run();
    let before = std::fs::read(b.dir.join(".phase4/checkpoint.json")).unwrap();
    let other = b.run(&["repair", "--range", "2021-12", "--apply"]);
    assert_eq!(other.code, 2);
    // What differs, in words, and how to start over.
    assert!(
        other.stderr.contains(
            "the range differs: 2021-12-04..2021-12-04 stored, 2021-12-01..2021-12-31 now"
        ),
        "{}",
        other.stderr
    );
    assert!(
        other.stderr.contains("checkpoint clear"),
        "{}",
        other.stderr
    );
    assert!(
        !other.stderr.contains("{\""),
        "no raw JSON: {}",
        other.stderr
    );
    let ours = std::fs::read_to_string(b.dir.join("catalog.toml")).unwrap();
    let other = ours.replacen("timeout = \"30m\"", "timeout = \"31m\"", 1);
    assert_ne!(ours, other);
    std::fs::write(b.dir.join("catalog.toml"), other).unwrap();
    let catalog = b.run(&["repair", "--range", "2021-12-04", "--apply"]);
    assert_eq!(catalog.code, 2, "{}", catalog.stderr);
    assert!(
        catalog.stderr.contains("the catalog differs: "),
        "{}",
        catalog.stderr
    );
    std::fs::write(b.dir.join("catalog.toml"), ours).unwrap();
    assert_eq!(
        std::fs::read(b.dir.join(".phase4/checkpoint.json")).unwrap(),
        before
    );
    // Clearing makes room.
    let clear = b.run(&["checkpoint", "clear"]);
    assert_eq!(clear.code, 0);
    assert!(!b.dir.join(".phase4/checkpoint.json").exists());
}

#[test]
fn a_corrupted_or_truncated_checkpoint_is_refused_and_left_untouched() {
    let b = Bench::with_unfinished_run();
    let path = b.dir.join(".phase4/checkpoint.json");
    let good = std::fs::read(&path).unwrap();
    for bad in [b"{ not json".to_vec(), good[..good.len() / 2].to_vec()] {
        std::fs::write(&path, &bad).unwrap();
        let run = b.run(&["repair", "--range", "2021-12-04", "--apply"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("corrupt checkpoint"), "{}", run.stderr);
        assert_eq!(std::fs::read(&path).unwrap(), bad, "left untouched");
        let status = b.run(&["checkpoint", "status"]);
        assert_eq!(status.code, 2);
    }
}

#[test]
fn pre_flight_lists_every_problem_and_runs_nothing() {
    let b = Bench::new(Some("exit 0"));
    std::fs::remove_file(b.dir.join("tdza.sh")).unwrap();
    let run = b.run(&["repair", "--range", "2021-12-04", "--apply"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("pre-flight failed") && run.stderr.contains("tdza.sh does not exist"),
        "{}",
        run.stderr
    );
    // Nothing of the run is left behind: no state directory at all.
    assert!(
        !b.dir.join(".phase4").exists(),
        "a failed pre-flight left .phase4/"
    );
}

#[test]
fn halt_on_failure_stops_starting_pairs_and_leaves_the_rest_pending_for_a_resume() {
    let b = Bench::new(Some("exit 3"));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12",
        "--apply",
        "--halt-on-failure",
        "--jobs",
        "1",
        "--retry-backoff",
        "1ms",
        "--progress",
        "none",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("Halted after a failure"),
        "{}",
        run.stdout
    );
    let status = b.run(&["checkpoint", "status", "--format", "json"]).json();
    assert_eq!(status["counts"]["failed"], 1, "{status}");
    assert!(
        status["counts"]["pending"].as_u64().unwrap() > 0,
        "{status}"
    );
}

#[test]
fn a_processors_date_never_starts_before_its_earlier_planned_dates_finish() {
    // PSZA fails for good on the date of its seeded PROCESSING_ERROR, so PCF, PDC and ML
    // of that date are blocked; PDC is slow, so its later dates would be ready early.
    let manifest = &seeded().manifest;
    let fail_date = manifest["defects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["processor"] == "PSZA" && d["kind"] == "failures")
        .and_then(|d| d["date"].as_str())
        .unwrap()
        .to_string();
    let b = bench_with_every_processor(&format!(
        "if [ \"$code\" = PSZA ] && [ \"$3\" = {fail_date} ]; then echo 'PSZA fails for good' >&2; exit 9; fi\nif [ \"$code\" = PDC ]; then sleep 0.5; fi"
    ));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-11",
        "--apply",
        "--retry-backoff",
        "1ms",
        "--progress",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);

    let events = b.events();
    let at = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    let starts: Vec<&Value> = events.iter().filter(|e| e["event"] == "start").collect();
    let exits: Vec<&Value> = events.iter().filter(|e| e["event"] == "exit").collect();
    let mut checked = 0;
    for s in &starts {
        for e in exits.iter().filter(|e| {
            e["processor"] == s["processor"] && e["start"].as_str() < s["start"].as_str()
        }) {
            assert!(at(s) >= at(e), "{s} started before the earlier {e} ended");
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} orderings checked");

    // The dates that ran after their processor's blocked date are named.
    let doc = run.json();
    let after_gap: Vec<(String, String)> = doc["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ran_after_gap"] == true)
        .map(|p| {
            (
                p["processor"].as_str().unwrap().into(),
                p["date"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        after_gap
            .iter()
            .any(|(code, date)| code == "PDC" && date.as_str() > fail_date.as_str()),
        "{after_gap:?}"
    );
    assert!(
        after_gap
            .iter()
            .all(|(_, date)| date.as_str() > fail_date.as_str()),
        "{after_gap:?}"
    );
}

#[test]
fn at_80_columns_a_failed_pair_keeps_its_reason_and_log_on_lines_that_fit() {
    let b = Bench::new(Some(
        "echo reading inputs\necho boom: upstream table locked >&2\nexit 3",
    ));
    let run: common::Run = b
        .command(&[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--retry-backoff",
            "1ms",
            "--progress",
            "none",
        ])
        .env("COLUMNS", "80")
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let failed = run
        .stdout
        .lines()
        .position(|l| l.starts_with("TDZA 2021-12-04 failed"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[failed..].iter().any(|l| l.starts_with("  log: ")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("exit"), "the reason: {}", run.stdout);
    // The failed attempt's last output lines, inline, with the attempts spent.
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\.phase4/runs/[0-9TZ-]+", ".phase4/runs/[RUN]");
    settings.add_filter(r"wall time [0-9.]+s", "wall time [T]s");
    settings.bind(|| insta::assert_snapshot!(run.stdout));
    for line in &lines {
        assert!(
            console::measure_text_width(line) <= 80 || line.starts_with("  log: "),
            "{line}"
        );
    }
}

#[test]
fn the_ctrl_c_summary_names_what_stopped_counts_the_pending_and_prints_the_resume_command() {
    let b = Bench::new(Some(&format!("sleep 30\n{BUILTIN_TDZA}")));
    let args = [
        "repair",
        "--range",
        "2021-12-04..2021-12-09",
        "--apply",
        "--jobs",
        "1",
        "--progress",
        "none",
    ];
    let child = b
        .command(&args)
        .env("COLUMNS", "80")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    b.wait_for_event(|e| e["event"] == "start", Duration::from_secs(60));
    signal(&child, nix::sys::signal::Signal::SIGINT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(!stdout.contains("interrupted: interrupted"), "{stdout}");
    // The pairs that never started are one line, with no log.
    assert_eq!(stdout.matches("pending").count(), 2, "{stdout}");
    // The resume command is this very command line, and it resumes.
    let resume = stdout
        .lines()
        .skip_while(|l| !l.ends_with("resume with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .to_string();
    let argv = shlex::split(&resume).unwrap();
    assert_eq!(argv[0], common::BIN, "{resume}");
    assert_eq!(
        argv[1..],
        [&["--catalog", "catalog.toml"][..], &args].concat()
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\.phase4/runs/[0-9TZ-]+", ".phase4/runs/[RUN]");
    settings.add_filter(r"wall time [0-9.]+s", "wall time [T]s");
    settings.add_filter(&regex_escape(common::BIN), "[BIN]");
    settings.add_filter(&regex_escape(&b.dir.display().to_string()), "[DIR]");
    settings.bind(|| insta::assert_snapshot!(stdout));
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn plain_progress_says_each_start_the_retry_with_its_reason_and_each_end() {
    let script = format!(
        "n=$(cat attempts 2>/dev/null || echo 0); n=$((n+1)); echo $n > attempts\nif [ $n -lt 2 ]; then echo boom >&2; exit 7; fi\n{BUILTIN_TDZA}"
    );
    let b = Bench::new(Some(&script));
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--jobs",
        "1",
        "--retry-backoff",
        "10ms",
        "--progress",
        "plain",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\([0-9]+\.[0-9]s\)", "([T]s)");
    settings.bind(|| insta::assert_snapshot!(run.stderr));
}

#[test]
fn a_resumed_run_counts_the_pairs_an_earlier_run_finished() {
    // TDZA is done, PCF fails for good: the second run starts with TDZA done.
    let b = bench_with_every_processor("if [ \"$code\" = PCF ]; then exit 5; fi");
    let args = [
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--retry-backoff",
        "1ms",
        "--progress",
        "plain",
    ];
    let first = b.run(&args);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let second = b.run(&args);
    assert!(
        second
            .stderr
            .starts_with("repair: 4 pairs, 1 pair done by an earlier run, 3 to run"),
        "{}",
        second.stderr
    );
}

#[test]
fn the_plan_warns_once_for_a_planned_day_whose_source_is_broken() {
    let s = seeded();
    let day = s.manifest["source"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "one_team_game")
        .unwrap()["date"]
        .as_str()
        .unwrap()
        .to_string();
    let plan = s.run(&["repair", "--format", "json"]).json();
    let warned: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .filter(|w| w.starts_with("the source has"))
        .collect();
    // The short day has nothing to plan: only the day that lost a team is warned of.
    assert_eq!(
        warned,
        [format!(
            "the source has one_team_game on {day}: its pairs rerun against it and stay defective until Phase 3 is fixed"
        )]
    );
    // A plan that does not reach that day says nothing of it.
    let december = s
        .run(&["repair", "--range", "2021-12", "--format", "json"])
        .json();
    assert!(
        december["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().starts_with("the source has")),
        "{december}"
    );
}
