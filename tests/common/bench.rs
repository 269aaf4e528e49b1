//! A private copy of the seeded warehouse and a catalog whose commands are scripts:
//! the bench of the runner's tests, with real processes, signals and files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{BIN, Run, seeded};

/// A private copy of the seeded warehouse with a catalog whose TDZA command is `tdza`.
pub struct Bench {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    /// The cgroup its runners start in, where this process can make one (see
    /// [`BenchCgroup`]).
    cgroup: Option<BenchCgroup>,
}

/// A cgroup of one bench. A runner ends the invocation cgroups of dead runners it finds
/// beside its own; the runners of tests running in parallel would otherwise share one
/// cgroup, and one test's runner would end what another test's deliberately killed runner
/// left (before that test's second run could prove it ends it).
struct BenchCgroup {
    dir: PathBuf,
    /// Its `cgroup.procs`, opened before a fork: the child joins with one write(2).
    procs: std::fs::File,
}

impl BenchCgroup {
    fn new() -> Option<BenchCgroup> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let mount = mountinfo.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            right
                .starts_with("cgroup2 ")
                .then(|| left.split(' ').nth(4).map(PathBuf::from))?
        })?;
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let own = own.lines().find_map(|l| l.strip_prefix("0::"))?;
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = mount
            .join(own.trim_start_matches('/'))
            .join(format!("phase4-bench-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).ok()?;
        match std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join("cgroup.procs"))
        {
            Ok(procs) => Some(BenchCgroup { dir, procs }),
            Err(_) => {
                let _ = std::fs::remove_dir(&dir);
                None
            }
        }
    }

    /// Makes the child of `command` join this cgroup before it runs.
    fn enter(&self, command: &mut Command) {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let fd = self.procs.as_raw_fd();
        // SAFETY: between fork and exec only write(2) runs, which is async-signal-safe;
        // the file outlives the spawn (it is the bench's).
        unsafe {
            command.pre_exec(move || {
                let procs = std::os::fd::BorrowedFd::borrow_raw(fd);
                nix::unistd::write(procs, b"0")
                    .map(|_| ())
                    .map_err(std::io::Error::from)
            });
        }
    }
}

impl Drop for BenchCgroup {
    fn drop(&mut self) {
        // Best effort: the kernel refuses a cgroup that still has processes.
        if let Ok(children) = std::fs::read_dir(&self.dir) {
            for child in children.flatten().filter(|c| c.path().is_dir()) {
                let _ = std::fs::remove_dir(child.path());
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

impl Bench {
    pub fn new(tdza_script: Option<&str>) -> Bench {
        let (dir, _) = seeded().copy();
        let path = dir.path().to_path_buf();
        std::fs::rename(path.join("copy.duckdb"), path.join("phase4.duckdb")).unwrap();
        let mut catalog = phase4_check::catalog::DEFAULT_CATALOG.to_string();
        if let Some(body) = tdza_script {
            let script = path.join("tdza.sh");
            std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
            catalog = catalog.replacen(
                r#"command = ["{exe}", "process", "--warehouse", "{warehouse}", "--processor", "TDZA", "--start", "{start}", "--end", "{end}"]"#,
                &format!(r#"command = ["{}", "{{warehouse}}", "{{start}}", "{{end}}"]"#, script.display()),
                1,
            );
        }
        std::fs::write(path.join("catalog.toml"), catalog).unwrap();
        Bench {
            dir: path,
            _dir: dir,
            cgroup: BenchCgroup::new(),
        }
    }

    /// A bench whose TDZA always fails, after a run that left its checkpoint unfinished.
    pub fn with_unfinished_run() -> Bench {
        let b = Bench::new(Some("exit 3"));
        let run = b.run(&[
            "repair",
            "--range",
            "2021-12-04",
            "--apply",
            "--retry-backoff",
            "1ms",
            "--progress",
            "none",
        ]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        b
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(["--catalog", "catalog.toml"])
            .args(args)
            .current_dir(&self.dir)
            .env_remove("PHASE4_WAREHOUSE")
            .env_remove("PHASE4_CATALOG")
            .env("PHASE4_BIN", BIN)
            .env("PHASE4_BUSY_WAIT", "30s");
        if let Some(cgroup) = &self.cgroup {
            cgroup.enter(&mut c);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Every event of every run, in order.
    pub fn events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let runs = self.dir.join(".phase4/runs");
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        dirs.sort();
        for d in dirs {
            let text = std::fs::read_to_string(d.join("events.jsonl")).unwrap_or_default();
            out.extend(text.lines().filter_map(|l| serde_json::from_str(l).ok()));
        }
        out
    }

    /// The directories of every run so far, oldest first.
    pub fn run_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.dir.join(".phase4/runs"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs
    }

    /// The events of one run.
    pub fn events_in(run_dir: &Path) -> Vec<Value> {
        let text = std::fs::read_to_string(run_dir.join("events.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn wait_for_event(&self, pred: impl Fn(&Value) -> bool, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.events().iter().any(&pred) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("event did not happen in {limit:?}: {:#?}", self.events());
    }
}

pub fn pid_alive(pid: i32) -> bool {
    // A zombie is as good as gone: read its state.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.split(") ").nth(1).unwrap_or("").starts_with('Z'),
        Err(_) => false,
    }
}

pub fn wait_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn read_pid(path: &Path) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(t) = std::fs::read_to_string(path)
            && let Ok(p) = t.trim().parse()
        {
            return p;
        }
        assert!(Instant::now() < deadline, "no pid in {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn signal(child: &Child, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
}

pub const BUILTIN_TDZA: &str =
    r#"exec "$PHASE4_BIN" process --warehouse "$1" --processor TDZA --start "$2" --end "$3""#;

/// A bench whose every processor runs `proc.sh CODE WAREHOUSE START END`: `body` decides
/// (fail, sleep) and then hands over to the built-in processor.
pub fn bench_with_every_processor(body: &str) -> Bench {
    let b = Bench::new(None);
    let script = b.dir.join("proc.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncode=$1\n{body}\nexec \"$PHASE4_BIN\" process --warehouse \"$2\" --processor \"$code\" --start \"$3\" --end \"$4\"\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut catalog = phase4_check::catalog::DEFAULT_CATALOG.to_string();
    for code in ["TDZA", "PSZA", "PCF", "PDC", "ML"] {
        catalog = catalog.replacen(
            &format!(r#"command = ["{{exe}}", "process", "--warehouse", "{{warehouse}}", "--processor", "{code}", "--start", "{{start}}", "--end", "{{end}}"]"#),
            &format!(r#"command = ["{}", "{code}", "{{warehouse}}", "{{start}}", "{{end}}"]"#, script.display()),
            1,
        );
    }
    std::fs::write(b.dir.join("catalog.toml"), catalog).unwrap();
    b
}
