//! bqemulator, an independent BigQuery emulator (the Python package `bqemulator` 1.4.0:
//! REST API, DuckDB-backed, SQLGlot-translated), on a loopback port for one test: its
//! reading of BigQuery's API and SQL is not ours, so a misreading we share with our own
//! fake server does not pass here.
//!
//! `.ci/run` installs it into a virtual environment and sets PHASE4_BQEMULATOR_PYTHON and
//! PHASE4_REQUIRE_BQEMULATOR (so CI fails without it); elsewhere a machine without it
//! skips these tests loudly.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROJECT: &str = "emu-project";

/// A running emulator holding a copy of a warehouse; stopped when dropped.
pub struct Emulator {
    child: Child,
    python: PathBuf,
    port: u16,
    /// The API root, as `PHASE4_BIGQUERY_API_URL` takes it.
    pub url: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bqemulator")
}

/// The Python that has bqemulator, or `None` (after saying so) when this machine has none
/// and CI does not require it.
pub fn python() -> Option<PathBuf> {
    let python = std::env::var_os("PHASE4_BQEMULATOR_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/phase4-check/bqemulator/bin/python"))
        })
        .filter(|p| {
            Command::new(p)
                .args(["-c", "import bqemulator"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    if python.is_none() {
        assert!(
            std::env::var_os("PHASE4_REQUIRE_BQEMULATOR").is_none(),
            "PHASE4_REQUIRE_BQEMULATOR is set but no Python with bqemulator was found \
             (PHASE4_BQEMULATOR_PYTHON)"
        );
        eprintln!(
            "\n!!! SKIPPED: no bqemulator on this machine (python3 -m venv \
             ~/.cache/phase4-check/bqemulator && ~/.cache/phase4-check/bqemulator/bin/pip \
             install bqemulator==1.4.0 numpy): the BigQuery path was NOT checked against an \
             independent emulator !!!\n"
        );
    }
    python
}

impl Emulator {
    /// Starts an emulator and loads the DuckDB file `warehouse` into it through its REST
    /// API; `None` when bqemulator is not installed (see [`python`]).
    pub fn start(warehouse: &Path) -> Option<Emulator> {
        let python = python()?;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("bqemulator.log");
        let child = Command::new(&python)
            .arg(scripts().join("start.py"))
            .args(["start", "--rest-host", "127.0.0.1", "--rest-port"])
            .arg(port.to_string())
            .args([
                "--grpc-port",
                "0",
                "--project",
                PROJECT,
                "--log-level",
                "warning",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("bqemulator.err")).unwrap())
            .spawn()
            .expect("start bqemulator");
        let emulator = Emulator {
            child,
            python: python.clone(),
            port,
            url: format!("http://127.0.0.1:{port}/bigquery/v2"),
            log,
            _dir: dir,
        };
        emulator.wait_until_ready(port);
        let load = Command::new(&python)
            .arg(scripts().join("load.py"))
            .arg(warehouse)
            .arg(format!("http://127.0.0.1:{port}"))
            .arg(PROJECT)
            .output()
            .expect("run load.py");
        assert!(
            load.status.success(),
            "load.py: {}{}",
            String::from_utf8_lossy(&load.stdout),
            String::from_utf8_lossy(&load.stderr)
        );
        Some(emulator)
    }

    fn wait_until_ready(&self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if get(port, &format!("/bigquery/v2/projects/{PROJECT}/datasets"))
                .is_some_and(|r| r.starts_with("HTTP/1.1 200"))
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let err =
            std::fs::read_to_string(self._dir.path().join("bqemulator.err")).unwrap_or_default();
        panic!("bqemulator did not answer on port {port} within 90 s:\n{err}");
    }

    /// Every table's rows, read through the emulator's REST API (`dump.py`): what a run
    /// wrote is the difference of two dumps.
    pub fn dump(&self) -> serde_json::Map<String, serde_json::Value> {
        self.dump_tables(&[])
    }

    /// [`Emulator::dump`] of the tables named (`dataset.table`) only.
    pub fn dump_tables(&self, tables: &[&str]) -> serde_json::Map<String, serde_json::Value> {
        let out = Command::new(&self.python)
            .arg(scripts().join("dump.py"))
            .arg(format!("http://127.0.0.1:{}", self.port))
            .arg(PROJECT)
            .args(tables)
            .output()
            .expect("run dump.py");
        assert!(
            out.status.success(),
            "dump.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("dump.py prints JSON")
    }

    /// The environment that points phase4-check at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PHASE4_BIGQUERY_API_URL", self.url.clone()),
            ("PHASE4_BIGQUERY_TOKEN", "emulator-token".into()),
        ]
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGTERM lets uvicorn shut down; a kill after a grace ends a hung one.
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on (the emulator binds it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET on loopback: the whole response, or `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}
