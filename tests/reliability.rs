//! The promises of RELIABILITY.md, proven with real processes, signals, files and mounts:
//! no orphans whatever a processor does and however its run ends, nothing survives a
//! killed runner, a SIGKILLed runner resumes cleanly every time, a check waits for a busy
//! warehouse, a full or read-only state directory fails clearly.

mod common;

use common::bench::{Bench, pid_alive, read_pid, signal};
use common::{BIN, Run, seeded};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The pids a script wrote, one a line, to `pids` in the bench.
fn pids(b: &Bench) -> Vec<i32> {
    std::fs::read_to_string(b.dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Waits until `n` pids are written.
fn wait_for_pids(b: &Bench, n: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = pids(b);
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "only {found:?} of {n} pids in {}",
            b.dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every pid is gone (or a zombie nobody reaps) within a few seconds.
fn assert_all_gone(what: &str, pids: &[i32]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && pids.iter().any(|&p| pid_alive(p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let alive: Vec<i32> = pids.iter().copied().filter(|&p| pid_alive(p)).collect();
    assert!(alive.is_empty(), "{what}: still alive: {alive:?}");
}

/// A processor that misbehaves, then ends as `ending` says: `exit 0`, or `sleep 300`
/// (for a timeout or a Ctrl-C). Each process it starts writes its pid.
struct Troublemaker {
    name: &'static str,
    /// Started in the background; writes `pids` lines.
    start: &'static str,
    /// How many pids it writes (the script's own included).
    pids: usize,
    /// The name of a process that leaves its process group, if one does.
    escaper: Option<&'static str>,
}

const TROUBLEMAKERS: [Troublemaker; 4] = [
    Troublemaker {
        name: "ignores SIGTERM",
        start: r#"trap '' TERM
sh -c 'echo $$ >> pids; while :; do sleep 1; done' &"#,
        pids: 2,
        escaper: None,
    },
    Troublemaker {
        name: "forks grandchildren",
        start: r#"sh -c 'sleep 300 & echo $! >> pids; echo $$ >> pids; sleep 300' &"#,
        pids: 3,
        escaper: None,
    },
    Troublemaker {
        name: "double-forks out of its group with setsid",
        start: r#"sh -c 'setsid sh -c "echo \$\$ >> pids; exec sleep 300" </dev/null >/dev/null 2>&1 &' &
while [ $(wc -l < pids 2>/dev/null || echo 0) -lt 2 ]; do sleep 0.02; done
p=$(tail -1 pids); while :; do set -- $(cat /proc/$p/stat); [ "$5" = "$p" ] && break; sleep 0.02; done"#,
        pids: 2,
        escaper: Some("sleep"),
    },
    Troublemaker {
        name: "keeps stdout open in a background child",
        start: r#"sh -c 'echo $$ >> pids; while :; do echo tick; sleep 1; done' &"#,
        pids: 2,
        escaper: None,
    },
];

fn troublemaker_bench(t: &Troublemaker, ending: &str) -> Bench {
    // Every process has written its pid before the script ends as told.
    let script = format!(
        "echo $$ >> pids\n{}\nwhile [ $(wc -l < pids) -lt {} ]; do sleep 0.02; done\ntouch started\n{ending}",
        t.start, t.pids
    );
    let b = Bench::new(Some(&script));
    // One attempt: the point is how the run ends, not the retries.
    let catalog = std::fs::read_to_string(b.dir.join("catalog.toml")).unwrap();
    std::fs::write(
        b.dir.join("catalog.toml"),
        catalog.replacen("max_attempts = 3", "max_attempts = 1", 1),
    )
    .unwrap();
    b
}

const ONE_PAIR: [&str; 11] = [
    "repair",
    "--range",
    "2021-12-04",
    "--processor",
    "TDZA",
    "--no-downstream",
    "--apply",
    "--verify",
    "off",
    "--progress",
    "none",
];

/// The containment modes the troublemakers are run under: cgroups where the machine
/// allows them (`auto`), and process groups alone.
const CONTAINMENTS: [&str; 2] = ["auto", "groups"];

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut all = ONE_PAIR.to_vec();
    all.extend_from_slice(&["--grace", "1s", "--format", "json"]);
    all.extend_from_slice(extra);
    all
}

fn assert_escaper_named(t: &Troublemaker, stdout: &str) {
    if let Some(name) = t.escaper {
        let doc: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        let escaped = doc["escaped"].to_string();
        assert!(
            escaped.contains(&format!("({name})")),
            "{}: the escaper is not named: {escaped}",
            t.name
        );
    }
}

#[test]
fn nothing_a_processor_starts_outlives_its_normal_completion() {
    for (t, containment) in TROUBLEMAKERS
        .iter()
        .flat_map(|t| CONTAINMENTS.map(|c| (t, c)))
    {
        let b = troublemaker_bench(t, "exit 0");
        let run: Run = b
            .command(&args(&[]))
            .env("PHASE4_CONTAINMENT", containment)
            .output()
            .unwrap()
            .into();
        let what = format!("{} ({containment})", t.name);
        assert_eq!(run.code, 0, "{what}: {}\n{}", run.stdout, run.stderr);
        assert_all_gone(&what, &wait_for_pids(&b, t.pids));
        assert_escaper_named(t, &run.stdout);
    }
}

#[test]
fn nothing_a_processor_starts_outlives_its_timeout() {
    for (t, containment) in TROUBLEMAKERS
        .iter()
        .flat_map(|t| CONTAINMENTS.map(|c| (t, c)))
    {
        let b = troublemaker_bench(t, "sleep 300");
        let run: Run = b
            .command(&args(&["--timeout", "1s"]))
            .env("PHASE4_CONTAINMENT", containment)
            .output()
            .unwrap()
            .into();
        let what = format!("{} ({containment})", t.name);
        assert_eq!(run.code, 1, "{what}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("timed_out"), "{}", run.stdout);
        assert_all_gone(&what, &wait_for_pids(&b, t.pids));
        assert_escaper_named(t, &run.stdout);
    }
}

#[test]
fn nothing_a_processor_starts_outlives_a_ctrl_c() {
    for t in &TROUBLEMAKERS {
        let b = troublemaker_bench(t, "sleep 300");
        let child = b.spawn(&args(&[]));
        let started = wait_for_pids(&b, t.pids);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !b.dir.join("started").exists() {
            assert!(Instant::now() < deadline, "{}: never started", t.name);
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(&child, nix::sys::signal::Signal::SIGINT);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "{}", t.name);
        assert_all_gone(t.name, &started);
        assert_escaper_named(t, &String::from_utf8_lossy(&out.stdout));
    }
}

/// How a processor's helper leaves its invocation's process group.
#[derive(Clone, Copy)]
enum Escape {
    /// `setsid` from the processor: a child in a session of its own.
    Setsid,
    /// `setsid`, then a double fork: the helper's parent exits at once and the helper
    /// is re-parented to the runner (a subreaper), no descendant of the processor.
    DoubleFork,
}

/// A processor whose script leaves an escaper running, then sleeps; once `second`
/// exists it is the built-in processor.
fn escaper_bench(escape: Escape) -> Bench {
    let start = match escape {
        Escape::Setsid => {
            r#"setsid sh -c 'echo $$ > escaper.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &"#
        }
        Escape::DoubleFork => {
            r#"setsid sh -c 'sh -c "echo \$\$ > escaper.pid; exec sleep 300" & exit 0' </dev/null >/dev/null 2>&1 &"#
        }
    };
    Bench::new(Some(&format!(
        r#"if [ -f second ]; then exec "$PHASE4_BIN" process --warehouse "$1" --processor TDZA --start "$2" --end "$3"; fi
{start}
sleep 300"#
    )))
}

/// The cgroup v2 path of a process (`0::/...` in /proc/<pid>/cgroup).
fn cgroup_of(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("")
        .to_string()
}

/// Set (by .ci/run, on machines where cgroups can be made) when a test that finds the
/// runner without cgroups must fail rather than prove process groups only.
fn cgroups_required() -> bool {
    std::env::var_os("PHASE4_REQUIRE_CGROUPS").is_some_and(|v| v == "1")
}

/// Waits until a group record of the run lists `pid` among the descendants it saw.
fn wait_until_recorded(b: &Bench, pid: i32) {
    let groups = b.dir.join(".phase4").join("groups");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = std::fs::read_dir(&groups)
            .into_iter()
            .flatten()
            .flatten()
            // A record being written is a temp file until its rename: a kill before the
            // rename leaves the previous record, so only a renamed one counts.
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .any(|e| {
                let record: Value = std::fs::read_to_string(e.path())
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Value::Null);
                record["descendants"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|entry| entry[0] == pid))
            });
        if listed {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no record in {} lists pid {pid}",
            groups.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn killed_runner_leaves_nothing(containment: &str, escape: Escape) {
    let b = escaper_bench(escape);
    let mut runner = b
        .command(&[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ])
        .env("PHASE4_CONTAINMENT", containment)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(b.dir.join("runner.err")).unwrap())
        .spawn()
        .unwrap();
    let escaper = read_pid(&b.dir.join("escaper.pid"));
    let in_cgroup = cgroup_of(escaper).contains("/phase4-check-");
    if containment == "groups" {
        assert!(!in_cgroup, "groups: the escaper is in a cgroup");
    } else if cgroups_required() {
        assert!(
            in_cgroup,
            "auto: the escaper is not in an invocation's cgroup ({}); runner said: {}",
            cgroup_of(escaper),
            std::fs::read_to_string(b.dir.join("runner.err")).unwrap_or_default()
        );
    }
    if in_cgroup {
        eprintln!(
            "{containment}: the escaper is in cgroup {}",
            cgroup_of(escaper)
        );
    } else {
        // Without a cgroup the next run knows the escaper only from the record.
        wait_until_recorded(&b, escaper);
    }
    runner.kill().unwrap();
    runner.wait().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        pid_alive(escaper),
        "{containment}: the escaper died with its runner"
    );

    std::fs::write(b.dir.join("second"), "").unwrap();
    let resumed: Run = b
        .command(&[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ])
        .env("PHASE4_CONTAINMENT", containment)
        .output()
        .unwrap()
        .into();
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stderr.contains("leftover of an earlier run"),
        "{}",
        resumed.stderr
    );
    assert_all_gone(&format!("{containment}: the escaper"), &[escaper]);
}

#[test]
fn a_processor_that_escaped_its_group_does_not_outlive_a_killed_runner() {
    killed_runner_leaves_nothing("auto", Escape::Setsid);
}

#[test]
fn a_double_forked_escaper_does_not_outlive_a_killed_runner() {
    killed_runner_leaves_nothing("auto", Escape::DoubleFork);
}

#[test]
fn without_cgroups_an_escaper_seen_while_it_ran_does_not_outlive_a_killed_runner() {
    killed_runner_leaves_nothing("groups", Escape::Setsid);
}

#[test]
fn without_cgroups_a_double_forked_escaper_does_not_outlive_a_killed_runner() {
    killed_runner_leaves_nothing("groups", Escape::DoubleFork);
}

#[test]
fn a_dropped_terminal_ends_the_run_and_everything_it_started() {
    let b = escaper_bench(Escape::Setsid);
    let runner = b.spawn(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--grace",
        "1s",
    ]);
    let escaper = read_pid(&b.dir.join("escaper.pid"));
    signal(&runner, nix::sys::signal::Signal::SIGHUP);
    let out = runner.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_all_gone("the escaper after SIGHUP", &[escaper]);
}

/// Set in the process the holder test starts through its processor: that process
/// then holds the warehouse open for writing until it is killed.
const HOLD_WAREHOUSE: &str = "PHASE4_TEST_HOLD_WAREHOUSE";

#[test]
fn a_dead_runners_escaper_holding_the_warehouse_is_ended_before_the_warehouse_is_opened() {
    if let Ok(path) = std::env::var(HOLD_WAREHOUSE) {
        let _held = duckdb::Connection::open(&path).unwrap();
        std::fs::write("holder.pid", std::process::id().to_string()).unwrap();
        loop {
            std::thread::sleep(Duration::from_secs(60));
        }
    }
    let b = Bench::new(Some(
        r#"if [ -f second ]; then exec "$PHASE4_BIN" process --warehouse "$1" --processor TDZA --start "$2" --end "$3"; fi
PHASE4_TEST_HOLD_WAREHOUSE="$1" setsid "$HOLDER" --exact a_dead_runners_escaper_holding_the_warehouse_is_ended_before_the_warehouse_is_opened --test-threads=1 </dev/null >/dev/null 2>&1 &
sleep 300"#,
    ));
    let holder_exe = std::env::current_exe().unwrap();
    let repair = |busy_wait: &str| {
        let mut c = b.command(&[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--progress",
            "none",
        ]);
        c.env("HOLDER", &holder_exe)
            .env("PHASE4_BUSY_WAIT", busy_wait);
        c
    };
    let mut runner = repair("30s")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let holder = read_pid(&b.dir.join("holder.pid"));
    if !cgroup_of(holder).contains("/phase4-check-") {
        wait_until_recorded(&b, holder);
    }
    runner.kill().unwrap();
    runner.wait().unwrap();
    assert!(pid_alive(holder), "the holder died with its runner");

    // The holder would make the next run wait out its busy wait and exit 3.
    std::fs::write(b.dir.join("second"), "").unwrap();
    let resumed: Run = repair("3s").output().unwrap().into();
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stderr.contains("leftover of an earlier run"),
        "{}",
        resumed.stderr
    );
    assert_all_gone("the holder", &[holder]);
}

/// A small generator for the crash trials: the same seed, the same moments.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Live processes whose command line names `needle`.
fn processes_naming(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) && pid_alive(pid) {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_runner_sigkilled_at_random_moments_resumes_to_a_clean_warehouse_every_time() {
    let seed: u64 = std::env::var("PHASE4_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1)
        });
    eprintln!("crash trials: PHASE4_CRASH_SEED={seed}");
    let mut rng = Lcg(seed);
    let args = [
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--progress",
        "none",
        "--retry-backoff",
        "10ms",
    ];
    let trials = 20;
    let mut killed_mid_run = 0;
    for trial in 0..trials {
        let b = Bench::new(None);
        let delay = Duration::from_millis(rng.below(900));
        let mut runner = b
            .command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished_first = runner.try_wait().unwrap().is_some();
        let _ = runner.kill();
        runner.wait().unwrap();
        let what = format!("trial {trial} (seed {seed}, killed after {delay:?})");

        // The checkpoint, if there is one, parses; what it holds done stays done.
        let before = b.run(&["checkpoint", "status", "--format", "json"]);
        assert_eq!(before.code, 0, "{what}: {}", before.stderr);
        let before = before.json();
        let done_before = before["counts"]["done"].as_u64().unwrap_or(0);
        if before["stored"] == true && done_before < 4 && !finished_first {
            killed_mid_run += 1;
        }

        let runs_before = b.run_dirs();
        let resumed = b.run(&args);
        assert_eq!(
            resumed.code, 0,
            "{what}: {}\n{}",
            resumed.stdout, resumed.stderr
        );
        let after = b.run(&["checkpoint", "status", "--format", "json"]).json();
        assert_eq!(after["counts"]["done"], 4, "{what}: {after}");
        assert_eq!(after["counts"]["pending"], 0, "{what}: {after}");
        // A pair recorded done before the kill never runs again.
        let resumed_events: Vec<Value> = b
            .run_dirs()
            .into_iter()
            .filter(|d| !runs_before.contains(d))
            .flat_map(|d| Bench::events_in(&d))
            .collect();
        let started: Vec<&Value> = resumed_events
            .iter()
            .filter(|e| e["event"] == "start")
            .collect();
        if before["stored"] == true {
            assert!(
                started.len() as u64 <= 4 - done_before,
                "{what}: {} starts after {done_before} pairs were done",
                started.len()
            );
        }
        let report = b.run(&["report", "--range", "2021-12-04"]);
        assert_eq!(report.code, 0, "{what}: {}", report.stdout);
        let left = processes_naming(&b.dir.display().to_string());
        assert!(left.is_empty(), "{what}: processes left: {left:?}");
    }
    eprintln!(
        "crash trials: {trials} run, {killed_mid_run} killed mid-run with a stored checkpoint"
    );
    assert!(killed_mid_run > 0, "no trial killed a runner mid-run");
}

#[test]
fn a_check_started_while_the_warehouse_is_held_waits_then_answers_or_names_the_holder() {
    let (_keep, path) = seeded().copy();
    let holder = duckdb::Connection::open(&path).unwrap();
    let report = |wait: &str| -> Command {
        let mut c = Command::new(BIN);
        c.args([
            "--warehouse",
            &format!("duckdb:{}", path.display()),
            "report",
            "--range",
            "2021-12-04",
            "--format",
            "json",
        ])
        .env("PHASE4_BUSY_WAIT", wait);
        c
    };
    // Held for longer than the wait: exit 3, naming the holder (this test's process).
    let refused: Run = report("300ms").output().unwrap().into();
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("is busy"), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("PID {}", std::process::id())),
        "{}",
        refused.stderr
    );
    // Released during the wait: it answers, and as an uncontended run does.
    let mut waiting = report("30s")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "the check did not wait for the held warehouse"
    );
    drop(holder);
    let answered: Run = waiting.wait_with_output().unwrap().into();
    assert_eq!(answered.code, 1, "{}", answered.stderr);
    let uncontended: Run = report("1s").output().unwrap().into();
    let strip = |mut v: Value| {
        v.as_object_mut().map(|o| o.remove("elapsed"));
        v
    };
    assert_eq!(strip(answered.json()), strip(uncontended.json()));
}

/// A tmpfs mounted for the test, unmounted when it ends.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(at)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "this test needs to mount a tmpfs (root, as in CI): mount -t tmpfs -o {options} tmpfs {}",
            at.display()
        );
        Mount(at.to_path_buf())
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_state_directory_that_fills_up_mid_run_ends_clearly_and_resumes() {
    // Each invocation leaves a helper in a session of its own, named by the warehouse.
    let b = Bench::new(Some(
        r#"setsid sh -c 'while :; do sleep 1; done' "$1" </dev/null >/dev/null 2>&1 &
exec "$PHASE4_BIN" process --warehouse "$1" --processor TDZA --start "$2" --end "$3""#,
    ));
    let state = b.dir.join("state");
    let mount = Mount::tmpfs(&state, "size=48k");
    let args = [
        "repair",
        "--range",
        "2021-12",
        "--apply",
        "--progress",
        "none",
        "--state-dir",
        "state",
        "--retry-backoff",
        "10ms",
    ];
    let full = b.run(&args);
    assert_eq!(full.code, 4, "{}\n{}", full.stdout, full.stderr);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !processes_naming(&b.dir.display().to_string()).is_empty() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = processes_naming(&b.dir.display().to_string());
    assert!(
        left.is_empty(),
        "a full disk left processes behind: {left:?}"
    );
    assert_eq!(
        full.stderr
            .trim_end()
            .lines()
            .last()
            .map(|l| l.matches("No space left").count()),
        Some(1),
        "{}",
        full.stderr
    );
    let status = b.run(&[
        "checkpoint",
        "status",
        "--state-dir",
        "state",
        "--format",
        "json",
    ]);
    assert_eq!(
        status.code, 0,
        "the checkpoint stays readable: {}",
        status.stderr
    );
    assert_eq!(status.json()["stored"], true);

    mount.remount("size=16m");
    let resumed = b.run(&args);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert!(
        resumed.stdout.contains("Repair resumed"),
        "{}",
        resumed.stdout
    );
    let report = b.run(&["report", "--range", "2021-12"]);
    assert_eq!(report.code, 0, "{}", report.stdout);
}

#[test]
fn a_read_only_state_directory_is_refused_at_pre_flight() {
    let b = Bench::new(None);
    let _mount = Mount::tmpfs(&b.dir.join("ro"), "ro,size=1m");
    let run = b.run(&[
        "repair",
        "--range",
        "2021-12-04",
        "--apply",
        "--state-dir",
        "ro",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("pre-flight failed"), "{}", run.stderr);
    assert!(run.stderr.contains("not writable"), "{}", run.stderr);
}
