//! The coverage page (`--html`): rendered by a real browser (headless Chromium), its
//! cells per state against the report's JSON and the warehouse itself, its detail panel
//! filled by its script, warehouse text escaped, no network, bad paths refused.
//!
//! Chromium is Debian's package (`.ci/run` installs it and sets PHASE4_REQUIRE_CHROMIUM,
//! so CI fails without it); elsewhere a machine without it skips these tests loudly.

mod common;

use common::{Seeded, seeded};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser, or `None` (said on stderr) when this machine has none and CI does not
/// require one.
fn chromium() -> Option<PathBuf> {
    let named = std::env::var_os("PHASE4_CHROMIUM").map(PathBuf::from);
    let found = named.or_else(|| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| {
                std::env::split_paths(&std::env::var_os("PATH")?)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
    });
    if found.is_none() {
        assert!(
            std::env::var_os("PHASE4_REQUIRE_CHROMIUM").is_none(),
            "PHASE4_REQUIRE_CHROMIUM is set but no Chromium is installed"
        );
        eprintln!(
            "\n!!! SKIPPED: no Chromium on this machine (install Debian's `chromium`, or set \
             PHASE4_CHROMIUM): the coverage page was NOT checked in a browser !!!\n"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `args`, offline (every host name fails to
/// resolve), with a fresh profile, killed after a minute; its stdout.
fn headless(browser: &Path, page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium failed: {status}");
    reader.join().unwrap().unwrap()
}

/// Writes the page of `args` (a `heatmap` or `report` command) into a temp dir.
fn page(s: &Seeded, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("coverage.html");
    let mut all: Vec<&str> = args.to_vec();
    let shown = path.display().to_string();
    all.extend(["--html", &shown]);
    let run = s.run(&all);
    assert!(run.code <= 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("wrote the coverage page"),
        "{}",
        run.stderr
    );
    (dir, path)
}

fn select<'a>(dom: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    dom.select(&Selector::parse(css).unwrap()).collect()
}

fn attr<'a>(e: &ElementRef<'a>, name: &str) -> &'a str {
    e.value().attr(name).unwrap_or("")
}

fn int(e: &ElementRef, name: &str) -> i64 {
    attr(e, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} of {:?}", e.value()))
}

/// Dates with failure rows, by processor code, read from the warehouse itself.
fn dates_with_failure_rows(warehouse: &Path) -> BTreeSet<(String, String)> {
    let db = duckdb::Connection::open_with_flags(
        warehouse,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .unwrap();
    let mut stmt = db
        .prepare(
            "SELECT DISTINCT processor_name, CAST(analysis_date AS VARCHAR) \
             FROM nba_processing.precompute_failures",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_page_renders_in_chromium_with_the_cells_per_state_of_the_report() {
    let Some(browser) = chromium() else { return };
    let s = seeded();
    let (dir, path) = page(s, &["heatmap", "--range", "2021-22"]);
    let report: Value = s
        .run(&["report", "--range", "2021-22", "--format", "json"])
        .json();
    let dom = Html::parse_document(&headless(&browser, &path, &["--dump-dom"]));
    let with_skips = dates_with_failure_rows(&s.path);

    let cells = select(&dom, "td[data-state]");
    let mut by_pair: BTreeMap<(String, String), ElementRef> = BTreeMap::new();
    for c in &cells {
        let key = (
            attr(c, "data-processor").to_string(),
            attr(c, "data-date").to_string(),
        );
        // Every cell holds the reconciliation identity.
        assert_eq!(
            int(c, "data-expected"),
            int(c, "data-produced")
                + int(c, "data-expected-skips")
                + int(c, "data-cascades")
                + int(c, "data-real-failures")
                + int(c, "data-unaccounted"),
            "{key:?}"
        );
        assert!(by_pair.insert(key.clone(), *c).is_none(), "{key:?} twice");
    }

    // A ROW of kind null_keys (rows without a key, counts whole) is a content finding:
    // its cell shows the state of its counts.
    let rows: Vec<&Value> = report["dates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] != "null_keys")
        .collect();
    for p in report["processors"].as_array().unwrap() {
        let code = p["processor"].as_str().unwrap();
        let count = |state: &str, role: Option<&str>| {
            cells
                .iter()
                .filter(|c| attr(c, "data-processor") == code && attr(c, "data-state") == state)
                .filter(|c| c.value().attr("data-role") == role)
                .count()
        };
        let of = |kinds: &[&str], root: bool| {
            rows.iter()
                .filter(|r| r["processor"] == code && kinds.contains(&r["kind"].as_str().unwrap()))
                .filter(|r| r["cause"].is_null() == root)
                .count()
        };
        for (state, kinds) in [
            ("missing", &["missing"][..]),
            ("partial", &["partial"]),
            ("failures", &["failures"]),
            ("duplicates_or_unexpected", &["duplicates", "unexpected"]),
        ] {
            assert_eq!(
                count(state, Some("root")),
                of(kinds, true),
                "{code} {state}"
            );
            assert_eq!(
                count(state, Some("consequence")),
                of(kinds, false),
                "{code} {state} consequences"
            );
        }
        let defective: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r["processor"] == code)
            .map(|r| r["date"].as_str().unwrap())
            .collect();
        let stale: BTreeSet<&str> = p["stale_dates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .filter(|d| !defective.contains(d))
            .collect();
        assert_eq!(count("stale", None), stale.len(), "{code} stale");
        for d in &stale {
            assert_eq!(
                attr(&by_pair[&(code.to_string(), d.to_string())], "data-state"),
                "stale"
            );
        }
        // The healthy game dates: with failure rows (skips, cascades) or without.
        let healthy = p["game_dates"].as_u64().unwrap() as usize
            - rows
                .iter()
                .filter(|r| r["processor"] == code && r["expected"].as_i64() > Some(0))
                .count()
            - stale.len();
        let skipped = by_pair
            .iter()
            .filter(|((c, d), cell)| {
                c == code
                    && !defective.contains(d.as_str())
                    && !stale.contains(d.as_str())
                    && int(cell, "data-expected") > 0
                    && with_skips.contains(&(c.clone(), d.clone()))
            })
            .count();
        assert_eq!(count("complete_with_skips", None), skipped, "{code} skips");
        assert_eq!(
            count("complete", None),
            healthy - skipped,
            "{code} complete"
        );
        // A day without games expects nothing.
        for c in cells
            .iter()
            .filter(|c| attr(c, "data-processor") == code && attr(c, "data-state") == "no_games")
        {
            assert_eq!(int(c, "data-expected"), 0);
        }
    }

    // Each defective date's counts are the report's, with a command that repairs it.
    for r in &rows {
        let key = (
            r["processor"].as_str().unwrap().to_string(),
            r["date"].as_str().unwrap().to_string(),
        );
        let cell = &by_pair[&key];
        for (json, data) in [
            ("expected", "data-expected"),
            ("produced", "data-produced"),
            ("expected_skips", "data-expected-skips"),
            ("cascades", "data-cascades"),
            ("real_failures", "data-real-failures"),
            ("unaccounted", "data-unaccounted"),
            ("duplicates", "data-duplicates"),
            ("unexpected", "data-unexpected"),
        ] {
            assert_eq!(Some(int(cell, data)), r[json].as_i64(), "{key:?} {json}");
        }
        let repair = attr(cell, "data-repair");
        assert!(
            repair.starts_with(&format!(
                "phase4-check --warehouse {} repair --range {}",
                s.warehouse_arg(),
                key.1
            )) && repair.ends_with(" --apply"),
            "{key:?}: {repair}"
        );
    }

    // The script ran: the detail panel shows the first root, its counts and its repair.
    let first_root = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| {
            rows.iter()
                .filter(|r| r["processor"] == p["processor"] && r["cause"].is_null())
                .filter_map(|r| r["date"].as_str())
                .min()
                .map(|d| (p["processor"].as_str().unwrap().to_string(), d.to_string()))
        })
        .unwrap();
    let detail = select(&dom, "aside#detail")[0];
    assert_eq!(
        (attr(&detail, "data-processor"), attr(&detail, "data-date")),
        (first_root.0.as_str(), first_root.1.as_str())
    );
    let text: String = detail.text().collect();
    assert!(text.contains("a root cause"), "{text}");
    assert!(
        text.contains(attr(&by_pair[&first_root], "data-repair")),
        "{text}"
    );
    let identity = select(&dom, "aside#detail table.identity tr.total td.num");
    assert_eq!(
        identity[0].text().collect::<String>(),
        attr(&by_pair[&first_root], "data-expected")
    );

    // The summary table and the failure classes are there, one row per processor.
    assert_eq!(select(&dom, "#summary tbody tr").len(), 5);
    let classes: String = select(&dom, "#failure-classes")[0].text().collect();
    for category in [
        "INSUFFICIENT_DATA",
        "MISSING_DEPENDENCY",
        "PROCESSING_ERROR",
    ] {
        assert!(classes.contains(category), "{classes}");
    }

    // And it draws: a screenshot of the window's size with something on it.
    let png = dir.path().join("coverage.png");
    headless(
        &browser,
        &path,
        &[
            "--window-size=1400,1800",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (1400, 1800));
    assert!(
        bytes.len() > 50_000,
        "a blank screenshot: {} bytes",
        bytes.len()
    );
}

#[test]
fn the_page_needs_no_network_and_no_other_file() {
    let (_dir, path) = page(seeded(), &["heatmap", "--range", "2021-12"]);
    let html = std::fs::read_to_string(&path).unwrap();
    for outside in ["http:", "https:", "<link", " src=", "@import", "url("] {
        assert!(!html.contains(outside), "the page refers to {outside}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<script>").count(), 1);
}

#[test]
fn warehouse_text_is_escaped_on_the_page() {
    let Some(browser) = chromium() else { return };
    let (dir, warehouse) = seeded().copy();
    let hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let db = duckdb::Connection::open(&warehouse).unwrap();
    db.execute(
        "INSERT INTO nba_processing.precompute_failures VALUES \
         ('PCF', DATE '2021-12-01', ?, ?, 'x', TIMESTAMP '2021-12-02 00:00:00')",
        duckdb::params![hostile, hostile],
    )
    .unwrap();
    db.execute(
        "INSERT INTO nba_processing.reprocess_attempts VALUES \
         ('PCF', ?, DATE '2021-12-01', 3, TIMESTAMP '2021-12-02 00:00:00', true)",
        duckdb::params![hostile],
    )
    .unwrap();
    drop(db);
    let path = dir.path().join("page.html");
    let run = common::run_in(
        dir.path(),
        &[
            "--warehouse",
            &format!("duckdb:{}", warehouse.display()),
            "report",
            "--range",
            "2021-12",
            "--html",
            &path.display().to_string(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(!html.contains(hostile));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let dom = Html::parse_document(&headless(&browser, &path, &["--dump-dom"]));
    assert!(select(&dom, "img").is_empty());
    assert_eq!(select(&dom, "script").len(), 1);
    let classes: String = select(&dom, "#failure-classes")[0].text().collect();
    assert!(classes.contains(hostile), "{classes}");
    let breakers: String = select(&dom, "#breakers")[0].text().collect();
    assert!(breakers.contains(hostile), "{breakers}");
}

#[test]
fn the_report_writes_the_page_beside_its_json() {
    let s = seeded();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/sub/page.html");
    let run = s.run(&[
        "report",
        "--format",
        "json",
        "--range",
        "2021-12",
        "--html",
        &path.display().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.json();
    assert!(path.is_file(), "missing directories are created");
}

#[test]
fn a_symlinked_page_is_written_through_its_link() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("site")).unwrap();
    std::fs::write(dir.path().join("site/coverage.html"), "old").unwrap();
    let link = dir.path().join("coverage.html");
    std::os::unix::fs::symlink("site/coverage.html", &link).unwrap();
    let run = seeded().run(&[
        "heatmap",
        "--range",
        "2021-12",
        "--html",
        &link.display().to_string(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let page = std::fs::read_to_string(dir.path().join("site/coverage.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
}

#[test]
fn a_page_path_that_cannot_be_written_is_refused_before_any_query() {
    let s = seeded();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    for (path, says) in [
        (dir.path().display().to_string(), "a directory"),
        (format!("{}/.", dir.path().display()), "a directory"),
        ("/dev/null".to_string(), "not a regular file"),
        ("/proc/coverage.html".to_string(), "cannot write in /proc"),
        (
            format!("{}/", dir.path().join("nope").display()),
            "a directory",
        ),
        (format!("{}/page.html", file.display()), "is a file"),
        (String::new(), "a value is required"),
    ] {
        let run = s.run(&["heatmap", "--range", "2021-12", "--html", &path]);
        assert_eq!(run.code, 2, "{path}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(says), "{path}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let run = s.run(&["report", "--estimate", "--html", "p.html"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--estimate"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
}
