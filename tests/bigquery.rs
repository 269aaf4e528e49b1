//! The BigQuery path over a real HTTP wire, with no Google account and no network: the
//! real binary, pointed at a fake BigQuery on 127.0.0.1 that answers the real check SQL
//! from a seeded DuckDB file. Same numbers as the embedded path, page by page; bounded
//! waits, retries, and clear errors.

mod common;

use common::fake_bigquery::{Behaviour, FakeBigQuery, Received, env_for};
use common::{BIN, Run, seeded};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const PROJECT: &str = "fake-project";

/// Runs the binary against `fake` from a fresh directory (HOME without credentials).
fn run_bq(fake: &FakeBigQuery, args: &[&str]) -> Run {
    run_bq_in(fake, tempfile::tempdir().unwrap().path(), args)
}

fn run_bq_in(fake: &FakeBigQuery, dir: &Path, args: &[&str]) -> Run {
    bq_command(fake, dir, args)
        .output()
        .expect("run phase4-check")
        .into()
}

/// The binary against `fake`, from `dir` (its phase4.toml, HOME without credentials).
fn bq_command(fake: &FakeBigQuery, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--warehouse")
        .arg(format!("bigquery:{PROJECT}"))
        .args(args)
        .current_dir(dir)
        .env_remove("PHASE4_WAREHOUSE")
        .env_remove("PHASE4_CATALOG")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS");
    for (k, v) in env_for(fake, dir) {
        c.env(k, v);
    }
    c
}

/// A fake BigQuery over the shared seeded warehouse.
fn fake_with(behaviour: Behaviour) -> FakeBigQuery {
    FakeBigQuery::start(&seeded().path, behaviour)
}

fn posts(received: &[Received]) -> Vec<&Received> {
    received.iter().filter(|r| r.method == "POST").collect()
}

/// The same command's JSON through DuckDB and through BigQuery.
fn both_paths(args: &[&str]) -> (Value, Value, FakeBigQuery) {
    let fake = fake_with(Behaviour {
        page_size: Some(37),
        ..Default::default()
    });
    let local = seeded().run(args);
    let remote = run_bq(&fake, args);
    assert_eq!(remote.code, local.code, "{}", remote.stderr);
    (local.json(), remote.json(), fake)
}

#[test]
fn report_json_is_identical_through_bigquery_and_duckdb() {
    let (local, remote, fake) = both_paths(&["report", "--range", "2021-22", "--format", "json"]);
    assert_eq!(local, remote);
    assert_eq!(remote["queries"], 6);
    // Six queries went over the wire, and the reconciliation came back in many pages.
    let received = fake.received();
    assert_eq!(posts(&received).len(), 6);
    let pages = received
        .iter()
        .filter(|r| r.method == "GET" && r.url.contains("pageToken="))
        .count();
    assert!(pages >= 20, "only {pages} further pages were read");
    eprintln!(
        "report 2021-22 over the wire: {} requests ({} jobs.query, {} getQueryResults pages of 37 rows)",
        received.len(),
        posts(&received).len(),
        pages
    );
}

#[test]
fn gaps_json_is_identical_through_bigquery_and_duckdb() {
    let (local, remote, _) = both_paths(&[
        "gaps",
        "--processor",
        "pcf",
        "--range",
        "2021-11",
        "--format",
        "json",
    ]);
    assert_eq!(local, remote);
    assert!(!local["dates"].as_array().unwrap().is_empty());
}

#[test]
fn explain_json_is_identical_through_bigquery_and_duckdb() {
    let (local, remote, fake) = both_paths(&[
        "explain",
        "--processor",
        "ml",
        "--date",
        "2021-12-04",
        "--format",
        "json",
    ]);
    // The repair command names each run's own warehouse.
    let without_command = |mut v: Value| {
        v["repair"]["command"] = Value::Null;
        v
    };
    assert_eq!(without_command(local.clone()), without_command(remote));
    assert_eq!(local["verdict"], "consequence");
    assert_eq!(
        posts(&fake.received()).len(),
        7,
        "the checks and the samples"
    );
}

#[test]
fn the_repair_plan_is_identical_through_bigquery_and_duckdb() {
    let (local, remote, _) = both_paths(&["repair", "--range", "2021-22", "--format", "json"]);
    assert_eq!(local, remote);
    assert_eq!(local["pairs"].as_array().unwrap().len(), 41);
}

#[test]
fn the_gate_passes_through_bigquery_with_the_committed_snapshot() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/season-2021-22.json");
    let args = [
        "gate",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ];
    let (mut local, mut remote, _) = both_paths(&args);
    assert_eq!(local["passed"], true);
    assert_eq!(remote["warehouse"], format!("bigquery:{PROJECT}"));
    local["warehouse"] = Value::Null;
    remote["warehouse"] = Value::Null;
    // The committed snapshot's fingerprints are DuckDB's hash: BigQuery compares counts
    // only, and says so once.
    assert_eq!(local["content_compared"], true);
    assert_eq!(remote["content_compared"], false);
    let notes = remote["notes"].as_array().unwrap().clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .contains("the warehouse's with bigquery FARM_FINGERPRINT"),
        "{notes:?}"
    );
    for side in [&mut local, &mut remote] {
        side["content_compared"] = Value::Null;
        side["notes"] = Value::Null;
    }
    assert_eq!(local, remote);
}

#[test]
fn a_bigquery_snapshot_compares_bigquery_fingerprints() {
    // Written through BigQuery, the snapshot records its hash; read back through it,
    // content is compared (and matches).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bq.json");
    let path = path.to_str().unwrap();
    let fake = fake_with(Behaviour::default());
    let written = run_bq(
        &fake,
        &["gate", "--snapshot", path, "--update", "--format", "json"],
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("\"fingerprint_hash\": \"bigquery FARM_FINGERPRINT\""));
    assert!(text.contains("\"fingerprint\": \""));
    let run = run_bq(&fake, &["gate", "--snapshot", path, "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let remote = run.json();
    assert_eq!(remote["content_compared"], true, "{remote}");
}

#[test]
fn parameters_arrive_typed_and_named_never_pasted_into_the_sql() {
    let fake = fake_with(Behaviour::default());
    let run = run_bq(
        &fake,
        &["report", "--range", "2021-11", "--processor", "psza"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    for post in posts(&fake.received()) {
        let body = &post.body;
        assert_eq!(post.authorization.as_deref(), Some("Bearer test-token"));
        assert_eq!(body["useLegacySql"], false);
        assert_eq!(body["location"], "US");
        let sql = body["query"].as_str().unwrap();
        assert!(!sql.contains("2021-"), "a date pasted into {sql}");
        assert!(!sql.contains("'PSZA'"), "a code pasted into {sql}");
        let params = body["queryParameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in &params {
            let name = p["name"].as_str().unwrap();
            let ty = p["parameterType"]["type"].as_str().unwrap();
            let value = p["parameterValue"]["value"].as_str().unwrap();
            assert!(sql.contains(&format!("@{name}")), "@{name} unused in {sql}");
            // The range's ends are dates, the invariants' bounds numbers, every other
            // value a name.
            let expected = if name == "start" || name == "end" {
                "DATE"
            } else if name.starts_with("low_") || name.starts_with("high_") {
                "FLOAT64"
            } else {
                "STRING"
            };
            assert_eq!(ty, expected, "{name} = {value}");
        }
        if post.body["query"]
            .as_str()
            .unwrap()
            .contains("analysis_date")
        {
            assert_eq!(body["parameterMode"], "NAMED");
            assert!(!params.is_empty());
        }
    }
    let reconcile = posts(&fake.received())
        .into_iter()
        .find(|p| {
            p.body["query"]
                .as_str()
                .unwrap()
                .contains("category_classes")
        })
        .cloned()
        .unwrap();
    let params = reconcile.body["queryParameters"].as_array().unwrap();
    let get = |n: &str| {
        params
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("no {n}"))
            .clone()
    };
    assert_eq!(get("start")["parameterValue"]["value"], "2021-11-01");
    assert_eq!(get("end")["parameterValue"]["value"], "2021-11-30");
    assert_eq!(get("start")["parameterType"]["type"], "DATE");
}

#[test]
fn a_slow_job_times_out_with_its_job_id() {
    let fake = fake_with(Behaviour {
        never_complete: true,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let run = run_bq(
        &fake,
        &["--query-timeout", "2s", "report", "--range", "2021-12"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    // The five jobs were in flight together: the error is the first check's, naming its job.
    let job = run
        .stderr
        .split_once("query layout_columns: BigQuery job ")
        .and_then(|(_, rest)| rest.split_once(" did not complete within 2s"))
        .map(|(job, _)| job.to_string())
        .unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let polls = fake
        .received()
        .iter()
        .filter(|r| {
            let path = r.url.split('?').next().unwrap_or_default();
            r.method == "GET" && path.ends_with(&format!("/queries/{job}"))
        })
        .count();
    assert!(polls >= 2, "the job was polled {polls} times");
}

#[test]
fn a_500_is_retried_then_succeeds() {
    let fake = fake_with(Behaviour {
        fail_with_500: 2,
        ..Default::default()
    });
    let run = run_bq(&fake, &["report", "--range", "2021-12", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.json(),
        seeded()
            .run(&["report", "--range", "2021-12", "--format", "json"])
            .json()
    );
    // Six queries, in flight together: the two requests that met a 500 were sent again,
    // each the same request (its requestId too), then answered.
    let received = fake.received();
    assert_eq!(posts(&received).len(), 6 + 2);
    assert_eq!(received.len(), 6 + 2, "one page each: no getQueryResults");
    let mut by_request: std::collections::BTreeMap<String, Vec<&Value>> = Default::default();
    for r in &received {
        let id = r.body["requestId"]
            .as_str()
            .expect("a requestId")
            .to_string();
        by_request.entry(id).or_default().push(&r.body);
    }
    assert_eq!(by_request.len(), 6, "one requestId per query");
    let sends: Vec<usize> = by_request.values().map(Vec::len).collect();
    assert_eq!(sends.iter().filter(|&&n| n == 2).count(), 2, "{sends:?}");
    for bodies in by_request.values() {
        assert!(
            bodies.iter().all(|b| *b == bodies[0]),
            "a retry is the same request"
        );
    }
}

#[test]
fn a_quota_error_is_one_clear_line_and_exit_3() {
    let fake = fake_with(Behaviour {
        quota_exceeded: true,
        ..Default::default()
    });
    let run = run_bq(&fake, &["report", "--range", "2021-12"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("BigQuery replied 403 quotaExceeded: Quota exceeded"),
        "{}",
        run.stderr
    );
    // The six queries were in flight together; none was sent twice.
    let received = fake.received();
    let ids: std::collections::BTreeSet<String> = posts(&received)
        .iter()
        .map(|r| r.body["requestId"].to_string())
        .collect();
    assert_eq!(posts(&received).len(), 6);
    assert_eq!(ids.len(), 6, "a quota error is not retried");
    assert!(run.stdout.is_empty());
}

#[test]
fn job_errors_inside_a_200_reply_are_errors() {
    let fake = fake_with(Behaviour {
        job_error: true,
        ..Default::default()
    });
    let run = run_bq(&fake, &["report", "--range", "2021-12"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("query layout_columns: BigQuery job job_fake_")
            && run
                .stderr
                .contains(" failed: resourcesExceeded: Resources exceeded"),
        "{}",
        run.stderr
    );
}

#[test]
fn estimate_dry_runs_every_check_and_runs_nothing() {
    let fake = fake_with(Behaviour::default());
    let run = run_bq(
        &fake,
        &[
            "--estimate",
            "report",
            "--range",
            "2021-22",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let queries: Vec<&str> = json["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["query"].as_str().unwrap())
        .collect();
    assert_eq!(
        queries,
        [
            "layout_columns",
            "seasons",
            "reconcile",
            "failures",
            "breakers",
            "content"
        ]
    );
    let total: i64 = json["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(json["total_bytes"].as_i64().unwrap(), total);
    assert!(total > 10 * 1024 * 1024, "{total}");
    eprintln!("dry-run estimate, 2021-22: {json}");
    let received = fake.received();
    assert_eq!(received.len(), 6);
    assert!(received.iter().all(|r| r.body["dryRun"] == true));

    let table = run_bq(&fake, &["--estimate", "report", "--range", "2021-22"]);
    assert!(
        table
            .stdout
            .starts_with("Dry run on bigquery:fake-project: 6 queries would process "),
        "{}",
        table.stdout
    );
}

#[test]
fn max_bytes_billed_caps_every_query() {
    let fake = fake_with(Behaviour::default());
    let run = run_bq(
        &fake,
        &["--max-bytes-billed", "1000", "report", "--range", "2021-12"],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("400 bytesBilledLimitExceeded"),
        "{}",
        run.stderr
    );
    assert_eq!(
        posts(&fake.received())[0].body["maximumBytesBilled"],
        "1000"
    );
    let generous = run_bq(
        &fake,
        &[
            "--max-bytes-billed",
            "1000000000",
            "report",
            "--range",
            "2021-12",
        ],
    );
    assert_eq!(generous.code, 1, "{}", generous.stderr);
}

#[test]
fn datasets_are_renamed_from_phase4_toml() {
    let fake = fake_with(Behaviour {
        dataset_prefix: "dev_".into(),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    // Without the prefix, the datasets are not found: BigQuery's 404 names the first,
    // and it is bad input (exit 2), asked once (never retried), nothing else run.
    let before = fake.received().len();
    let missing = run_bq_in(&fake, dir.path(), &["report", "--range", "2021-12"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("Not found: Dataset fake-project:nba_analytics"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    // The checks are in flight together: each asked once, none retried.
    let asked = posts(&fake.received()[before..]).len();
    assert!(asked <= 6, "{asked} queries for 6 checks");
    std::fs::write(
        dir.path().join("phase4.toml"),
        "[warehouse]\ndataset_prefix = \"dev_\"\nlocation = \"EU\"\n",
    )
    .unwrap();
    let run = run_bq_in(
        &fake,
        dir.path(),
        &["report", "--range", "2021-12", "--format", "json"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.json(),
        seeded()
            .run(&["report", "--range", "2021-12", "--format", "json"])
            .json()
    );
    let received = fake.received();
    let breakers = received
        .iter()
        .rev()
        .find(|r| {
            r.body["query"]
                .as_str()
                .is_some_and(|q| q.contains("reprocess_attempts"))
        })
        .expect("the breakers query");
    assert!(
        breakers.body["query"]
            .as_str()
            .unwrap()
            .contains("`fake-project.dev_nba_processing.reprocess_attempts`")
    );
    assert_eq!(breakers.body["location"], "EU");

    // The warehouse itself may come from phase4.toml: no --warehouse at all.
    std::fs::write(
        dir.path().join("phase4.toml"),
        format!("[warehouse]\nurl = \"bigquery:{PROJECT}\"\ndataset_prefix = \"dev_\"\n"),
    )
    .unwrap();
    let mut c = Command::new(BIN);
    c.args([
        "gaps",
        "--processor",
        "ml",
        "--range",
        "2021-12",
        "--format",
        "json",
    ])
    .current_dir(dir.path())
    .env_remove("PHASE4_WAREHOUSE")
    .env_remove("GOOGLE_APPLICATION_CREDENTIALS");
    for (k, v) in env_for(&fake, dir.path()) {
        c.env(k, v);
    }
    let from_config: Run = c.output().unwrap().into();
    assert_eq!(from_config.code, 1, "{}", from_config.stderr);
    assert_eq!(
        from_config.json(),
        seeded()
            .run(&[
                "gaps",
                "--processor",
                "ml",
                "--range",
                "2021-12",
                "--format",
                "json"
            ])
            .json()
    );
    assert!(fake.received().len() > 5 + 5, "the gaps went over the wire");

    std::fs::write(
        dir.path().join("phase4.toml"),
        "[warehouse.datasets]\nnba_nothing = \"x\"\n",
    )
    .unwrap();
    let bad = run_bq_in(&fake, dir.path(), &["report"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("warehouse.datasets.nba_nothing: the catalog has no dataset"),
        "{}",
        bad.stderr
    );
}

#[test]
fn without_credentials_bigquery_is_exit_3_saying_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    let run = |extra: &[(&str, &str)]| -> Run {
        let mut c = Command::new(BIN);
        c.args(["--warehouse", "bigquery:p", "report"])
            .current_dir(home.path())
            .env("HOME", home.path())
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("PHASE4_BIGQUERY_API_URL");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap().into()
    };
    let none = run(&[]);
    assert_eq!(none.code, 3, "{}", none.stderr);
    assert!(
        none.stderr.contains("no Google credentials found"),
        "{}",
        none.stderr
    );
    assert!(none.stderr.contains("GOOGLE_APPLICATION_CREDENTIALS"));
    let bad_path = run(&[("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")]);
    assert_eq!(bad_path.code, 3);
    assert!(
        bad_path
            .stderr
            .contains("/nonexistent/key.json, which is not a file"),
        "{}",
        bad_path.stderr
    );
    let key = home.path().join("key.json");
    std::fs::write(&key, "{not json").unwrap();
    let bad_key = run(&[("GOOGLE_APPLICATION_CREDENTIALS", key.to_str().unwrap())]);
    assert_eq!(bad_key.code, 3, "{}", bad_key.stderr);
    assert!(
        bad_key.stderr.contains("is not a usable key file"),
        "{}",
        bad_key.stderr
    );
}

#[test]
fn repair_apply_on_bigquery_runs_the_users_commands_and_verifies_each_pair_over_the_wire() {
    // The user's processors write the warehouse themselves (here: the built-in processor
    // on the DuckDB file behind the fake); phase4-check reads BigQuery, and writes only
    // its own statements (none here: no breaker is tripped in this range).
    let (dir, path) = seeded().copy();
    let fake = FakeBigQuery::start(&path, Behaviour::default());
    let catalog = phase4_check::catalog::DEFAULT_CATALOG.replace(
        "\"--warehouse\", \"{warehouse}\"",
        &format!("\"--warehouse\", \"duckdb:{}\"", path.display()),
    );
    assert_ne!(catalog, phase4_check::catalog::DEFAULT_CATALOG);
    std::fs::write(dir.path().join("catalog.toml"), catalog).unwrap();
    let args = [
        "-v",
        "--catalog",
        "catalog.toml",
        "repair",
        "--range",
        "2021-12-08..2021-12-10",
        "--apply",
        "--progress",
        "none",
        "--format",
        "json",
    ];
    let run = run_bq_in(&fake, dir.path(), &args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let pairs = run.json()["pairs"].as_array().unwrap().clone();
    assert_eq!(pairs.len(), 3);
    assert!(
        pairs
            .iter()
            .all(|p| p["processor"] == "ML" && p["status"] == "done"),
        "{pairs:?}"
    );
    // Plan (the checks) plus one verification query per pair, all over the wire, and
    // every one of them through the run's one client on its one runtime.
    let queries = run.stderr.matches("bigquery query").count();
    assert!(queries >= 5 + 3, "{queries} queries:\n{}", run.stderr);
    assert!(posts(&fake.received()).len() >= 5 + 3);
    assert_eq!(
        run.stderr.matches("bigquery client built").count(),
        1,
        "one client for the run:\n{}",
        run.stderr
    );
    assert!(dml(&fake.received()).is_empty());
    let report = run_bq_in(
        &fake,
        dir.path(),
        &[
            "--catalog",
            "catalog.toml",
            "report",
            "--range",
            "2021-12-08..2021-12-10",
        ],
    );
    assert_eq!(report.code, 0, "{}", report.stdout);
}

/// The statements (DML, DDL) among the requests: what phase4-check wrote.
fn dml(received: &[Received]) -> Vec<String> {
    posts(received)
        .into_iter()
        .filter(|r| r.body["dryRun"] != true)
        .filter_map(|r| r.body["query"].as_str())
        .filter(|q| {
            let first = q
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            matches!(
                first.as_str(),
                "UPDATE" | "INSERT" | "DELETE" | "MERGE" | "CREATE"
            )
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn repair_apply_on_bigquery_resets_the_tripped_breakers_and_writes_nothing_else() {
    let (dir, path) = seeded().copy();
    let fake = FakeBigQuery::start(&path, Behaviour::default());
    // Processors that write nothing: every change to the warehouse is phase4-check's.
    std::fs::write(
        dir.path().join("catalog.toml"),
        common::catalog_running(&["true"]),
    )
    .unwrap();
    let (date, entities) = common::seeded_breakers();
    let before = common::dump_tables(&path);

    // --estimate prices the reset with the plan's checks, and runs nothing.
    let estimate = run_bq_in(
        &fake,
        dir.path(),
        &[
            "--catalog",
            "catalog.toml",
            "--estimate",
            "repair",
            "--range",
            &date,
            "--format",
            "json",
        ],
    );
    assert_eq!(estimate.code, 0, "{}", estimate.stderr);
    let priced = estimate.json();
    let reset = priced["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"] == "reset_breakers")
        .unwrap_or_else(|| panic!("the reset is priced: {priced}"));
    assert!(reset["bytes"].as_i64().unwrap() > 0, "{priced}");
    assert!(
        priced["notes"][0]
            .as_str()
            .unwrap()
            .contains("one such statement per unit")
    );
    assert!(fake.received().iter().all(|r| r.body["dryRun"] == true));

    let run = run_bq_in(&fake, dir.path(), &common::unverified_repair(&date));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["breakers_reset"], 3, "{json}");
    assert!(json["pairs"].as_array().unwrap().len() > 1, "{json}");
    // One parameterised reset, by the one unit whose breakers the plan found tripped
    // (the others run none), and no other statement.
    let statements = dml(&fake.received());
    assert_eq!(statements.len(), 1, "{statements:#?}");
    for s in &statements {
        assert!(
            s.starts_with("UPDATE `fake-project.nba_processing.reprocess_attempts`")
                && s.contains("@processor")
                && !s.contains(&date),
            "{s}"
        );
    }

    // Every table as it was, but the three tripped rows, now reset.
    let after = common::dump_tables(&path);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &before {
        if table != "nba_processing.reprocess_attempts" {
            assert_eq!(rows, &after[table], "{table} was written");
        }
    }
    let of_entities = |r: &String| {
        r.contains("Text(\"PCF\")") && entities.iter().any(|e| r.contains(&format!("Text({e:?})")))
    };
    let split = |rows: &[String]| -> (Vec<String>, Vec<String>) {
        rows.iter().cloned().partition(|r| of_entities(r))
    };
    let attempts = "nba_processing.reprocess_attempts";
    let ((was, others_before), (now, others_after)) =
        (split(&before[attempts]), split(&after[attempts]));
    assert_eq!((was.len(), now.len()), (3, 3), "{was:#?}");
    assert!(
        was.iter().all(|r| r.ends_with("Boolean(true)]")),
        "{was:#?}"
    );
    assert!(
        now.iter()
            .all(|r| r.ends_with("Boolean(false)]") && r.contains("Int(0)")),
        "{now:#?}"
    );
    assert_eq!(others_before, others_after, "other attempts were written");

    // And the report no longer lists them.
    let report = run_bq_in(
        &fake,
        dir.path(),
        &[
            "--catalog",
            "catalog.toml",
            "report",
            "--range",
            &date,
            "--format",
            "json",
        ],
    );
    assert_eq!(
        report.json()["breakers"],
        serde_json::json!([]),
        "{}",
        report.stdout
    );
}

/// The lease row in the file behind the fake: (holder, pid); `None` before first use.
fn lease_in(path: &Path) -> Option<(Option<String>, Option<i64>)> {
    let conn = common::open_when_free(path, false);
    conn.query_row(
        "SELECT holder, pid FROM nba_processing.phase4_repair_lease",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .ok()
}

#[test]
fn two_runners_on_one_bigquery_warehouse_take_turns_on_its_lease() {
    let (dir, path) = seeded().copy();
    let fake = FakeBigQuery::start(&path, Behaviour::default());
    // Processors that write nothing and wait for the gate file: the first run lasts
    // until the test opens it.
    std::fs::write(dir.path().join("catalog.toml"), common::gated_catalog()).unwrap();
    std::fs::write(dir.path().join("phase4.toml"), common::lease_config("3s")).unwrap();
    let gate = dir.path().join("gate");
    let run = |range, state| -> Run {
        bq_command(&fake, dir.path(), &common::lease_run(range, state))
            .env("PHASE4_TEST_GATE", &gate)
            .output()
            .unwrap()
            .into()
    };
    let first = bq_command(
        &fake,
        dir.path(),
        &common::lease_run("2021-12-04", "state-a"),
    )
    .env("PHASE4_TEST_GATE", &gate)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while lease_in(&path).is_none_or(|(holder, _)| holder.is_none()) {
        assert!(std::time::Instant::now() < deadline, "the lease is taken");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(lease_in(&path).unwrap().1, Some(i64::from(first.id())));
    // Longer than the bound: only its heartbeats keep the lease its own.
    std::thread::sleep(std::time::Duration::from_secs(4));

    let second = run("2021-11-17", "state-b");
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("(pid {}", first.id()))
            && second.stderr.contains("is held by"),
        "{}",
        second.stderr
    );
    assert_eq!(lease_in(&path).unwrap().1, Some(i64::from(first.id())));
    std::fs::write(&gate, "").unwrap();
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lease_in(&path).unwrap().0, None, "freed at the end");
    // The lease's statements, and nothing else, were written (no breaker reset asked).
    let statements = dml(&fake.received());
    assert!(
        statements
            .iter()
            .all(|s| s.contains("`fake-project.nba_processing.phase4_repair_lease`")),
        "{statements:#?}"
    );
    let renewals = statements
        .iter()
        .filter(|s| s.starts_with("UPDATE") && s.contains("SET heartbeat_us"))
        .count();
    assert!(renewals >= 4, "{statements:#?}");

    let again = run("2021-11-17", "state-b");
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("took over"), "{}", again.stderr);
}

#[test]
fn a_breaker_reset_bigquery_refuses_is_said_and_the_run_goes_on() {
    let (dir, path) = seeded().copy();
    let fake = FakeBigQuery::start(
        &path,
        Behaviour {
            refuse_writes: true,
            ..Default::default()
        },
    );
    std::fs::write(
        dir.path().join("catalog.toml"),
        common::catalog_running(&["true"]),
    )
    .unwrap();
    let (date, _) = common::seeded_breakers();
    let before = common::dump_tables(&path);
    let run = run_bq_in(&fake, dir.path(), &common::unverified_repair(&date));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["breakers_reset"], 0);
    let said: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("its tripped breakers were not reset"))
        .collect();
    assert_eq!(said.len(), 1, "{}", run.stderr);
    assert!(
        said[0].starts_with(&format!("phase4-check: warning: PCF {date}:"))
            && said[0].contains("bigquery.tables.updateData")
            && said[0].contains("nba_processing.reprocess_attempts"),
        "{}",
        said[0]
    );
    assert_eq!(before, common::dump_tables(&path), "nothing was written");
}

#[test]
fn a_lease_table_in_a_dataset_that_does_not_exist_is_exit_2_naming_it() {
    let (dir, path) = seeded().copy();
    let fake = FakeBigQuery::start(&path, Behaviour::default());
    std::fs::write(
        dir.path().join("catalog.toml"),
        common::catalog_running(&["true"]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("phase4.toml"),
        "[repair]\nlease_table = \"nowhere.phase4_repair_lease\"\n",
    )
    .unwrap();
    let run = run_bq_in(&fake, dir.path(), &common::lease_run("2021-12-04", "state"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Not found: Dataset fake-project:nowhere"),
        "{}",
        run.stderr
    );
    // One line, beside --verify off's warning.
    let errors = run.stderr.lines().filter(|l| l.contains("error:")).count();
    assert_eq!(errors, 1, "{}", run.stderr);
    // Refused before the plan: no check ran, nothing was written, no state directory.
    assert!(!dir.path().join("state").exists());
    let received = fake.received();
    let asked: Vec<&str> = posts(&received)
        .iter()
        .filter_map(|r| r.body["query"].as_str())
        .collect();
    assert!(asked.iter().all(|q| q.contains("nowhere")), "{asked:#?}");
}

#[test]
fn every_rendered_bigquery_query_parses_as_bigquery_sql() {
    use phase4_check::catalog::Catalog;
    use phase4_check::checks::{CheckRequest, planned_queries};
    use phase4_check::warehouse::bigquery::{BigQueryDialect, DatasetNames};
    let catalog = Catalog::builtin().unwrap();
    let dialect = BigQueryDialect {
        project: "my-project".into(),
        location: "US".into(),
        datasets: DatasetNames::default(),
    };
    let mut rendered = 0;
    for range in [None, Some("2021-12".parse().unwrap())] {
        for processors in [
            vec![],
            vec![catalog.find("ML").unwrap()],
            vec![catalog.find("TDZA").unwrap()],
        ] {
            let request = CheckRequest {
                range,
                processors: processors.clone(),
                max_lag: None,
            };
            let mut queries = planned_queries(&catalog, &request).unwrap();
            if let (Some(day), Some(&p)) = (range, processors.first()) {
                queries.push(phase4_check::checks::explain::failure_samples_query(
                    &catalog,
                    &catalog.with_upstream(&[p]),
                    day,
                ));
            }
            for q in queries {
                let r = q.render(&dialect).unwrap();
                sqlparser::parser::Parser::parse_sql(
                    &sqlparser::dialect::BigQueryDialect {},
                    &r.sql,
                )
                .unwrap_or_else(|e| {
                    panic!("{} does not parse as BigQuery: {e}\n{}", r.name, r.sql)
                });
                assert!(
                    !r.sql.contains('"'),
                    "{}: double quotes are not BigQuery identifiers",
                    r.name
                );
                assert!(!r.sql.contains("epoch_us"), "{}", r.name);
                if r.name != "layout_columns" {
                    // Every table read is bounded by the range on its date (partition)
                    // column: as many BETWEEN @... as table references.
                    let tables = r.sql.matches("`my-project.").count();
                    let bounded = r.sql.matches(" BETWEEN @start").count();
                    assert!(
                        tables > 0 && tables == bounded,
                        "{}: {tables} tables, {bounded} bounded\n{}",
                        r.name,
                        r.sql
                    );
                }
                rendered += 1;
            }
        }
    }
    assert_eq!(rendered, 38, "36 checks and 2 failure-sample queries");
}

#[test]
fn an_unreachable_endpoint_is_retried_a_bounded_number_of_times_then_exit_3() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let run: Run = Command::new(BIN)
        .args(["--warehouse", "bigquery:p", "report", "--range", "2021-12"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env(
            "PHASE4_BIGQUERY_API_URL",
            format!("http://127.0.0.1:{port}/bigquery/v2"),
        )
        .output()
        .unwrap()
        .into();
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
    assert!(run.stderr.contains("(after 4 attempts)"), "{}", run.stderr);
}

/// The queries among `posts` that were in flight together with the first of them: sent
/// before it was answered.
fn in_flight_with_first(posts: &[&Received]) -> usize {
    let first_answered = posts[0].answered.expect("the first query was answered");
    posts.iter().filter(|r| r.arrived < first_answered).count()
}

#[test]
fn the_check_queries_of_a_report_are_in_flight_together_on_bigquery() {
    let delay = std::time::Duration::from_secs(3);
    let fake = fake_with(Behaviour {
        query_delay: Some(delay),
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let run = run_bq(
        &fake,
        &[
            "report",
            "--range",
            "2021-12-01..2021-12-07",
            "--format",
            "json",
        ],
    );
    let wall = started.elapsed();
    assert!(run.code <= 1, "{}", run.stderr);
    assert_eq!(run.json()["queries"], 6);
    let received = fake.received();
    let mut queries = posts(&received);
    queries.sort_by_key(|r| r.arrived);
    assert_eq!(queries.len(), 6);
    // With a range nothing waits: all six were sent before any was answered, so the
    // command waits about one delay, where one query after another waits six.
    let offsets: Vec<_> = queries
        .iter()
        .map(|r| {
            (
                r.arrived - queries[0].arrived,
                r.answered.map(|a| a - queries[0].arrived),
            )
        })
        .collect();
    assert_eq!(
        in_flight_with_first(&queries),
        6,
        "sent, answered: {offsets:?}"
    );
    assert!(
        wall < delay * 6,
        "{wall:?} for six queries delayed {delay:?} each"
    );
    eprintln!("report: 6 queries delayed {delay:?} each, wall {wall:?}");

    // Without a range, the seasons query settles the range first: the layout and the
    // seasons go together, then the four checks that read the range.
    let fake = fake_with(Behaviour {
        query_delay: Some(delay),
        ..Default::default()
    });
    let run = run_bq(&fake, &["report", "--format", "json"]);
    assert!(run.code <= 1, "{}", run.stderr);
    let received = fake.received();
    let mut queries = posts(&received);
    queries.sort_by_key(|r| r.arrived);
    assert_eq!(queries.len(), 6);
    assert_eq!(in_flight_with_first(&queries), 2);
    assert_eq!(in_flight_with_first(&queries[2..]), 4);
}
