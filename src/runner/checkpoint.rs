//! Durable progress of a repair run: a run lock, a snapshot and a journal in the state directory.
//!
//! Layout of the state directory (default `.phase4/`):
//!
//! - `repair.lock`: held with `flock` for the whole run ([`RunLock`]) and holding the holder's
//!   PID as text. It is never deleted; the kernel releases the lock when the holder dies, so a
//!   file left by a dead runner does not block.
//! - `checkpoint.json`: the snapshot ([`Checkpoint`]), replaced durably: temp file in the same
//!   directory, fsync, rename, fsync of the directory.
//! - `journal.jsonl`: one line `{"seq":N,"index":I,"state":{..},"at":".."}` per outcome recorded
//!   since the snapshot, synced before [`CheckpointWriter::record`] returns.
//! - `runs/`: per-run log directories.
//!
//! [`load`] applies the journal lines whose `seq` is greater than the snapshot's `seq`, so a
//! crash between writing a snapshot and truncating the journal is harmless. It never modifies
//! anything: a corrupt state is reported as [`CheckpointError::Corrupt`] and left as it is.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the snapshot and journal format; a state of another version is refused.
pub const SCHEMA_VERSION: u32 = 1;
/// A snapshot is written after this many journal records, or an eighth of the plan when
/// that is more (and by [`CheckpointWriter::finish`]).
pub const COMPACT_EVERY: u64 = 64;

const LOCK_FILE: &str = "repair.lock";
/// A snapshot being written: `.checkpoint.XXXXXX.tmp`, renamed over `checkpoint.json`.
const TEMP_PREFIX: &str = ".checkpoint.";
const TEMP_SUFFIX: &str = ".tmp";
const CHECKPOINT_FILE: &str = "checkpoint.json";
const JOURNAL_FILE: &str = "journal.jsonl";
const RUNS_DIR: &str = "runs";

/// Why the checkpoint state cannot be locked, read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Another live process holds the run lock.
    #[error("another repair run holds {} ({})", path.display(), describe_holder(*pid))]
    LockHeld { path: PathBuf, pid: Option<u32> },
    /// A state file cannot be trusted; nothing was modified.
    #[error("corrupt checkpoint state in {}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    /// An I/O operation on `path` failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// The caller passed something inconsistent (a pair index outside the plan, states not
    /// aligned with the plan, a checkpoint of another schema version).
    #[error("invalid checkpoint use: {reason}")]
    Invalid { reason: String },
}

fn describe_holder(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_string(),
    }
}

fn io_at<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> CheckpointError + 'a {
    move |source| CheckpointError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, reason: String) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

/// The state directory of repair runs and the paths inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl Default for StateDir {
    fn default() -> Self {
        StateDir::new(crate::settings::defaults::STATE_DIR)
    }
}

impl StateDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Creates the directory and its `runs/` subdirectory if missing.
    pub fn ensure(&self) -> Result<(), CheckpointError> {
        let runs = self.runs_dir();
        fs::create_dir_all(&runs).map_err(io_at("create", &runs))
    }

    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        self.root.join(CHECKPOINT_FILE)
    }

    pub fn journal_path(&self) -> PathBuf {
        self.root.join(JOURNAL_FILE)
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join(RUNS_DIR)
    }
}

/// The exclusive lock of a repair run on its state directory.
///
/// Held until the `RunLock` and every [`CheckpointWriter`] made from it are dropped, or until
/// the process dies. The descriptor is close-on-exec, so child processes do not inherit it.
#[derive(Debug)]
pub struct RunLock {
    inner: Arc<LockedFile>,
}

#[derive(Debug)]
struct LockedFile {
    file: Flock<File>,
    state: StateDir,
}

impl Drop for LockedFile {
    fn drop(&mut self) {
        // Still locked here: forget our PID so it is never reported for a later holder.
        // Best effort; the lock itself is released when the descriptor closes.
        let _ = self.file.set_len(0);
    }
}

impl RunLock {
    /// Creates the state directory if needed and takes the run lock without waiting.
    ///
    /// The lock is an `flock(2)` on the separate `repair.lock` (the checkpoint itself is
    /// replaced by rename, so it cannot carry a lock); nix's `Flock` takes it because std's
    /// `File::try_lock` needs Rust 1.89 and the crate declares 1.88. On success our PID is
    /// written into the lock file; if another process holds it,
    /// [`CheckpointError::LockHeld`] carries the PID read from the file, if any.
    pub fn acquire(state: &StateDir) -> Result<RunLock, CheckpointError> {
        state.ensure()?;
        let path = state.lock_path();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_at("open", &path))?;
        let mut file = file;
        let deadline = std::time::Instant::now() + RELEASE_WAIT;
        let file = loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(locked) => break locked,
                Err((held, Errno::EWOULDBLOCK)) => {
                    let pid = read_pid(&held);
                    // The runner that wrote its pid is dead, yet the lock is held: a child
                    // it was forking when it died still has the descriptor, until it
                    // execs or exits. Wait for that, briefly.
                    let holder_dead = pid.is_some_and(|p| !process_alive(p));
                    if holder_dead && std::time::Instant::now() < deadline {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        file = held;
                        continue;
                    }
                    return Err(CheckpointError::LockHeld { path, pid });
                }
                Err((_, errno)) => return Err(io_at("lock", &path)(errno.into())),
            }
        };
        let pid_line = format!("{}\n", std::process::id());
        file.set_len(0).map_err(io_at("write", &path))?;
        file.write_all_at(pid_line.as_bytes(), 0)
            .map_err(io_at("write", &path))?;
        Ok(RunLock {
            inner: Arc::new(LockedFile {
                file,
                state: state.clone(),
            }),
        })
    }

    /// The state directory this lock protects.
    pub fn state_dir(&self) -> &StateDir {
        &self.inner.state
    }
}

/// How long a lock whose runner is dead may still be held by a child it was forking.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A process with this pid runs (a zombie does not count).
pub(crate) fn process_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.trim().chars().next());
            !matches!(state, Some('Z' | 'X'))
        })
        .unwrap_or(false)
}

fn read_pid(file: &File) -> Option<u32> {
    let mut text = String::new();
    file.take(64).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Outcome of one planned pair.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PairStatus {
    #[default]
    Pending,
    Done,
    Failed,
    TimedOut,
    Blocked,
    Interrupted,
    Unverified,
}

impl PairStatus {
    pub const ALL: [PairStatus; 7] = [
        PairStatus::Pending,
        PairStatus::Done,
        PairStatus::Failed,
        PairStatus::TimedOut,
        PairStatus::Blocked,
        PairStatus::Interrupted,
        PairStatus::Unverified,
    ];

    /// The name used in the checkpoint files and in `checkpoint status`.
    pub fn name(self) -> &'static str {
        match self {
            PairStatus::Pending => "pending",
            PairStatus::Done => "done",
            PairStatus::Failed => "failed",
            PairStatus::TimedOut => "timed_out",
            PairStatus::Blocked => "blocked",
            PairStatus::Interrupted => "interrupted",
            PairStatus::Unverified => "unverified",
        }
    }
}

/// The recorded state of one planned pair.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct PairState {
    pub status: PairStatus,
    pub attempts: u32,
    pub duration_ms: u64,
    pub last_error: Option<String>,
    pub log_path: Option<String>,
}

/// A snapshot of a repair run: the stored plan and the state of each of its pairs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Checkpoint<P> {
    pub schema_version: u32,
    /// [`fingerprint`] of the request that made the plan.
    pub fingerprint: String,
    /// Human-readable description of that request.
    pub request: serde_json::Value,
    /// The stored plan, in run order; resumed as is, never recomputed.
    pub plan: Vec<P>,
    /// Index-aligned with `plan`.
    pub states: Vec<PairState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The last journal sequence number folded into this checkpoint.
    pub seq: u64,
}

impl<P> Checkpoint<P> {
    /// A fresh checkpoint of `plan` with every pair pending.
    pub fn new(fingerprint: String, request: serde_json::Value, plan: Vec<P>) -> Self {
        let now = Utc::now();
        Checkpoint {
            schema_version: SCHEMA_VERSION,
            fingerprint,
            request,
            states: vec![PairState::default(); plan.len()],
            plan,
            created_at: now,
            updated_at: now,
            seq: 0,
        }
    }

    fn shape_error(&self) -> Option<String> {
        if self.schema_version != SCHEMA_VERSION {
            Some(format!(
                "schema version {} is not the supported version {SCHEMA_VERSION}",
                self.schema_version
            ))
        } else if self.states.len() != self.plan.len() {
            Some(format!(
                "{} pair states for a plan of {} pairs",
                self.states.len(),
                self.plan.len()
            ))
        } else {
            None
        }
    }
}

/// SHA-256 (hex) of the canonical JSON of `value`: object keys sorted at every level, no
/// whitespace. Stable under field and key order; changes when any value changes.
pub fn fingerprint(value: &impl Serialize) -> Result<String, serde_json::Error> {
    let mut canonical = serde_json::to_value(value)?;
    // serde_json's `preserve_order` feature is on: sort keys explicitly.
    canonical.sort_all_objects();
    let bytes = serde_json::to_vec(&canonical)?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[derive(Deserialize)]
struct SnapshotHeader {
    schema_version: u32,
}

#[derive(Serialize)]
struct JournalRecord<'a> {
    seq: u64,
    index: usize,
    state: &'a PairState,
    at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct JournalEntry {
    seq: u64,
    index: usize,
    state: PairState,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

/// Reads the checkpoint: the snapshot with the journal lines newer than it applied.
///
/// `Ok(None)` when there is no snapshot (a journal without a snapshot, left by an
/// interrupted [`clear`], is ignored). Never modifies or deletes anything. Read under the
/// [`RunLock`] to resume; without it the result is a consistent but possibly slightly stale
/// view (enough for `checkpoint status`, e.g. with `P = serde_json::Value`).
pub fn load<P: DeserializeOwned>(
    state: &StateDir,
) -> Result<Option<Checkpoint<P>>, CheckpointError> {
    let snapshot_path = state.checkpoint_path();
    let snapshot = match fs::read(&snapshot_path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_at("read", &snapshot_path)(error)),
    };
    let mut checkpoint =
        parse_snapshot::<P>(&snapshot).map_err(|reason| corrupt(&snapshot_path, reason))?;
    let journal_path = state.journal_path();
    let journal = match fs::read(&journal_path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(io_at("read", &journal_path)(error)),
    };
    apply_journal(&mut checkpoint, &journal).map_err(|reason| corrupt(&journal_path, reason))?;
    Ok(Some(checkpoint))
}

fn parse_snapshot<P: DeserializeOwned>(bytes: &[u8]) -> Result<Checkpoint<P>, String> {
    // The version first: a snapshot of another version may not even have our fields.
    let text = String::from_utf8_lossy(bytes);
    let invalid = |error: serde_json::Error| {
        format!(
            "invalid snapshot: {}",
            crate::error::json_error_line(&error, &text)
        )
    };
    let header: SnapshotHeader = serde_json::from_slice(bytes).map_err(invalid)?;
    if header.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "schema version {} is not the supported version {SCHEMA_VERSION}",
            header.schema_version
        ));
    }
    let checkpoint: Checkpoint<P> = serde_json::from_slice(bytes).map_err(invalid)?;
    match checkpoint.shape_error() {
        Some(reason) => Err(reason),
        None => Ok(checkpoint),
    }
}

/// Applies the journal lines newer than the snapshot. The last line may be torn by a crash
/// during its append (its record never returned): if it does not parse, it is ignored. Any
/// other bad line, a pair index outside the plan, a sequence going backwards or a gap after
/// the snapshot's sequence is an error.
fn apply_journal<P>(checkpoint: &mut Checkpoint<P>, bytes: &[u8]) -> Result<(), String> {
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&byte| byte == b'\n').collect();
    let mut previous_seq: Option<u64> = None;
    for (position, line) in lines.iter().enumerate() {
        let number = position + 1;
        let entry: JournalEntry = match serde_json::from_slice(line) {
            Ok(entry) => entry,
            Err(_) if number == lines.len() => break,
            Err(error) => return Err(format!("line {number}: {error}")),
        };
        if let Some(previous) = previous_seq
            && entry.seq <= previous
        {
            return Err(format!(
                "line {number}: seq {} does not follow seq {previous}",
                entry.seq
            ));
        }
        previous_seq = Some(entry.seq);
        if entry.index >= checkpoint.plan.len() {
            return Err(format!(
                "line {number}: pair index {} is outside the plan of {} pairs",
                entry.index,
                checkpoint.plan.len()
            ));
        }
        if entry.seq <= checkpoint.seq {
            // Already folded into the snapshot (crash between snapshot and truncation).
            continue;
        }
        if entry.seq != checkpoint.seq + 1 {
            return Err(format!(
                "line {number}: seq {} after seq {}: records are missing",
                entry.seq, checkpoint.seq
            ));
        }
        checkpoint.states[entry.index] = entry.state;
        checkpoint.seq = entry.seq;
        if let Some(at) = entry.at {
            checkpoint.updated_at = at;
        }
    }
    Ok(())
}

/// Records the outcomes of a run: each [`record`](Self::record) is one synced journal line;
/// every [`COMPACT_EVERY`] records, and in [`finish`](Self::finish), the journal is folded
/// into a new snapshot.
///
/// Made from a [`RunLock`] and keeping that lock held while it lives.
#[derive(Debug)]
pub struct CheckpointWriter<P> {
    _lock: Arc<LockedFile>,
    state: StateDir,
    checkpoint: Checkpoint<P>,
    journal: File,
    journal_path: PathBuf,
    since_compaction: u64,
    /// A failed append may have left a partial line: compact before the next append.
    journal_dirty: bool,
}

impl<P: Serialize> CheckpointWriter<P> {
    /// Starts a new checkpoint: empties the journal, then writes the snapshot durably.
    ///
    /// The journal is emptied first so that no line of a previous run can ever be applied
    /// to the new plan.
    pub fn create(lock: &RunLock, checkpoint: Checkpoint<P>) -> Result<Self, CheckpointError> {
        check_shape(&checkpoint)?;
        let state = lock.state_dir().clone();
        remove_stale_temps(&state);
        let (journal, journal_path) = open_journal(&state)?;
        truncate_journal(&journal, &journal_path)?;
        write_snapshot(&state, &checkpoint)?;
        Ok(Self::from_parts(
            lock,
            state,
            checkpoint,
            journal,
            journal_path,
        ))
    }

    /// Continues a checkpoint returned by [`load`] (the caller may have changed states, e.g.
    /// interrupted pairs back to pending): writes it as the new snapshot durably, then empties
    /// the journal, which also drops a torn last line before anything is appended after it.
    pub fn resume(lock: &RunLock, checkpoint: Checkpoint<P>) -> Result<Self, CheckpointError> {
        check_shape(&checkpoint)?;
        let state = lock.state_dir().clone();
        remove_stale_temps(&state);
        write_snapshot(&state, &checkpoint)?;
        let (journal, journal_path) = open_journal(&state)?;
        truncate_journal(&journal, &journal_path)?;
        Ok(Self::from_parts(
            lock,
            state,
            checkpoint,
            journal,
            journal_path,
        ))
    }

    fn from_parts(
        lock: &RunLock,
        state: StateDir,
        checkpoint: Checkpoint<P>,
        journal: File,
        journal_path: PathBuf,
    ) -> Self {
        CheckpointWriter {
            _lock: Arc::clone(&lock.inner),
            state,
            checkpoint,
            journal,
            journal_path,
            since_compaction: 0,
            journal_dirty: false,
        }
    }

    /// Records the state of pair `index` durably (one journal line, `fdatasync`); see
    /// [`record_all`](Self::record_all).
    pub fn record(&mut self, index: usize, state: PairState) -> Result<(), CheckpointError> {
        self.record_all(vec![(index, state)])
    }

    /// Records the states of several pairs durably: one journal line each, one
    /// `fdatasync` for them all (outcomes that arrived together cost one sync), then
    /// compacts once enough records have accumulated: [`COMPACT_EVERY`], or an eighth of
    /// the plan when that is more, so a snapshot (as long as the plan) is rewritten a
    /// bounded number of times per pair whatever the plan's size.
    ///
    /// On `Err` the in-memory checkpoint is unchanged unless the error came from the
    /// compaction (the lines themselves are then durable); recording the same states again
    /// is harmless either way.
    pub fn record_all(&mut self, records: Vec<(usize, PairState)>) -> Result<(), CheckpointError> {
        let plan_len = self.checkpoint.plan.len();
        if let Some((index, _)) = records.iter().find(|(index, _)| *index >= plan_len) {
            return Err(CheckpointError::Invalid {
                reason: format!("pair index {index} is outside the plan of {plan_len} pairs"),
            });
        }
        if records.is_empty() {
            return Ok(());
        }
        let count = records.len() as u64;
        let last_seq =
            self.checkpoint
                .seq
                .checked_add(count)
                .ok_or_else(|| CheckpointError::Invalid {
                    reason: "journal sequence number exhausted".to_string(),
                })?;
        if self.journal_dirty {
            self.compact()?;
        }
        let at = Utc::now();
        let mut lines = Vec::new();
        for (seq, (index, state)) in (self.checkpoint.seq + 1..).zip(&records) {
            let record = JournalRecord {
                seq,
                index: *index,
                state,
                at,
            };
            serde_json::to_writer(&mut lines, &record)
                .map_err(|error| io_at("write", &self.journal_path)(error.into()))?;
            lines.push(b'\n');
        }
        if let Err(error) = append_synced(&mut self.journal, &lines) {
            self.journal_dirty = true;
            return Err(io_at("write", &self.journal_path)(error));
        }
        for (index, state) in records {
            self.checkpoint.states[index] = state;
        }
        self.checkpoint.seq = last_seq;
        self.checkpoint.updated_at = at;
        self.since_compaction += count;
        if self.since_compaction >= COMPACT_EVERY.max(plan_len as u64 / 8) {
            self.compact()?;
        }
        Ok(())
    }

    /// Writes the current checkpoint as the snapshot durably, then empties the journal.
    pub fn compact(&mut self) -> Result<(), CheckpointError> {
        write_snapshot(&self.state, &self.checkpoint)?;
        if let Err(error) = truncate_journal(&self.journal, &self.journal_path) {
            // Lines left in the journal are all folded into the snapshot; retry later.
            self.journal_dirty = true;
            return Err(error);
        }
        self.since_compaction = 0;
        self.journal_dirty = false;
        Ok(())
    }

    /// The checkpoint with every recorded state.
    pub fn checkpoint(&self) -> &Checkpoint<P> {
        &self.checkpoint
    }

    /// Compacts and returns the final checkpoint; the run lock is released with it unless the
    /// caller still holds its [`RunLock`].
    pub fn finish(mut self) -> Result<Checkpoint<P>, CheckpointError> {
        self.compact()?;
        Ok(self.checkpoint)
    }
}

/// Removes the temp files of compactions a killed run never renamed into place (under
/// the lock, so no compaction is under way). Best effort: they are only clutter.
fn remove_stale_temps(state: &StateDir) {
    let Ok(entries) = fs::read_dir(state.path()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn check_shape<P>(checkpoint: &Checkpoint<P>) -> Result<(), CheckpointError> {
    match checkpoint.shape_error() {
        Some(reason) => Err(CheckpointError::Invalid { reason }),
        None => Ok(()),
    }
}

fn append_synced(journal: &mut File, line: &[u8]) -> io::Result<()> {
    journal.write_all(line)?;
    journal.sync_data()
}

fn open_journal(state: &StateDir) -> Result<(File, PathBuf), CheckpointError> {
    let path = state.journal_path();
    let journal = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_at("open", &path))?;
    // The journal may have just been created: make its directory entry durable.
    sync_dir(state.path())?;
    Ok((journal, path))
}

fn truncate_journal(journal: &File, path: &Path) -> Result<(), CheckpointError> {
    journal.set_len(0).map_err(io_at("truncate", path))?;
    journal.sync_all().map_err(io_at("sync", path))
}

fn write_snapshot<P: Serialize>(
    state: &StateDir,
    checkpoint: &Checkpoint<P>,
) -> Result<(), CheckpointError> {
    let path = state.checkpoint_path();
    let mut bytes = serde_json::to_vec_pretty(checkpoint)
        .map_err(|error| io_at("write", &path)(error.into()))?;
    bytes.push(b'\n');
    replace_durably(state.path(), &path, &bytes)
}

/// Replaces `target` (in `dir`) by `bytes` so that after a crash it holds either the old or
/// the new content, and the new content once this returns.
fn replace_durably(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io_at("create a temporary file in", dir))?;
    let temp_path = temp.path().to_path_buf();
    temp.write_all(bytes).map_err(io_at("write", &temp_path))?;
    temp.as_file()
        .sync_all()
        .map_err(io_at("sync", &temp_path))?;
    temp.persist(target)
        .map_err(|error| io_at("replace", target)(error.error))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_at("sync", dir))
}

fn remove_if_present(path: &Path) -> Result<(), CheckpointError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io_at("remove", path)(error)),
    }
}

/// Discards the checkpoint and its journal (the snapshot first: a journal left alone by a
/// crash is ignored by [`load`] and emptied by [`CheckpointWriter::create`]).
pub fn clear(lock: &RunLock) -> Result<(), CheckpointError> {
    let state = lock.state_dir();
    remove_if_present(&state.checkpoint_path())?;
    sync_dir(state.path())?;
    remove_if_present(&state.journal_path())?;
    sync_dir(state.path())
}

/// Number of pairs in each status.
#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub pending: usize,
    pub done: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub blocked: usize,
    pub interrupted: usize,
    pub unverified: usize,
}

impl StatusCounts {
    pub fn get(&self, status: PairStatus) -> usize {
        match status {
            PairStatus::Pending => self.pending,
            PairStatus::Done => self.done,
            PairStatus::Failed => self.failed,
            PairStatus::TimedOut => self.timed_out,
            PairStatus::Blocked => self.blocked,
            PairStatus::Interrupted => self.interrupted,
            PairStatus::Unverified => self.unverified,
        }
    }

    pub fn total(&self) -> usize {
        PairStatus::ALL.iter().map(|&status| self.get(status)).sum()
    }

    /// Every pair is done.
    pub fn all_done(&self) -> bool {
        self.done == self.total()
    }

    fn count(&mut self, status: PairStatus) {
        let slot = match status {
            PairStatus::Pending => &mut self.pending,
            PairStatus::Done => &mut self.done,
            PairStatus::Failed => &mut self.failed,
            PairStatus::TimedOut => &mut self.timed_out,
            PairStatus::Blocked => &mut self.blocked,
            PairStatus::Interrupted => &mut self.interrupted,
            PairStatus::Unverified => &mut self.unverified,
        };
        *slot += 1;
    }
}

/// Counts the pairs per status.
pub fn summarize(states: &[PairState]) -> StatusCounts {
    let mut counts = StatusCounts::default();
    for state in states {
        counts.count(state.status);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use anyhow::{Context, Result, bail};
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    use serde_json::json;
    use tempfile::TempDir;

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    struct Pair {
        table: String,
        game_date: String,
    }

    fn state_dir() -> Result<(TempDir, StateDir)> {
        let tmp = tempfile::tempdir()?;
        let state = StateDir::new(tmp.path().join(".phase4"));
        Ok((tmp, state))
    }

    fn sample_checkpoint(pairs: usize) -> Result<Checkpoint<Pair>> {
        let request = json!({"from": "2024-10-22", "to": "2025-04-13", "tables": ["player_props"]});
        let plan = (0..pairs)
            .map(|i| Pair {
                table: "player_props".to_string(),
                game_date: format!("2024-11-{:02}", i % 30 + 1),
            })
            .collect();
        Ok(Checkpoint::new(fingerprint(&request)?, request, plan))
    }

    fn outcome(status: PairStatus, attempts: u32) -> PairState {
        PairState {
            status,
            attempts,
            duration_ms: 1000 + u64::from(attempts),
            last_error: (status == PairStatus::Failed).then(|| "exit 1: boom".to_string()),
            log_path: Some(format!("runs/r1/{attempts}.log")),
        }
    }

    fn load_pairs(state: &StateDir) -> Result<Checkpoint<Pair>> {
        load::<Pair>(state)?.context("no checkpoint")
    }

    fn journal_lines(state: &StateDir) -> Result<usize> {
        Ok(fs::read_to_string(state.journal_path())?.lines().count())
    }

    fn snapshot_on_disk(state: &StateDir) -> Result<Checkpoint<Pair>> {
        Ok(serde_json::from_slice(&fs::read(state.checkpoint_path())?)?)
    }

    /// Every file of the state directory and its content.
    fn files_of(state: &StateDir) -> Result<BTreeMap<String, Vec<u8>>> {
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(state.path())? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                files.insert(name, fs::read(entry.path())?);
            }
        }
        Ok(files)
    }

    /// A journal of `records` outcomes behind a snapshot with seq 0, left by a dead run.
    fn run_with_journal(state: &StateDir, records: usize) -> Result<Checkpoint<Pair>> {
        let lock = RunLock::acquire(state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(10)?)?;
        for i in 0..records {
            writer.record(i, outcome(PairStatus::Done, 1))?;
        }
        Ok(writer.checkpoint().clone())
    }

    fn expect_corrupt(state: &StateDir, file: &Path) -> Result<String> {
        let before = files_of(state)?;
        let reason = match load::<Pair>(state) {
            Err(CheckpointError::Corrupt { path, reason }) => {
                assert_eq!(path, file);
                reason
            }
            other => bail!("expected Corrupt, got {other:?}"),
        };
        assert!(!reason.contains('\n'), "reason is one line: {reason:?}");
        assert_eq!(files_of(state)?, before, "load modified the state");
        Ok(reason)
    }

    #[test]
    fn roundtrip_create_record_load() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        assert!(load::<Pair>(&state)?.is_none());
        let lock = RunLock::acquire(&state)?;
        assert!(state.runs_dir().is_dir());
        let original = sample_checkpoint(5)?;
        let mut writer = CheckpointWriter::create(&lock, original.clone())?;
        writer.record(0, outcome(PairStatus::Done, 1))?;
        writer.record(3, outcome(PairStatus::Failed, 2))?;
        let finished = writer.finish()?;

        let loaded = load_pairs(&state)?;
        assert_eq!(loaded, finished);
        assert_eq!(loaded.plan, original.plan);
        assert_eq!(loaded.fingerprint, original.fingerprint);
        assert_eq!(loaded.request, original.request);
        assert_eq!(loaded.states[0], outcome(PairStatus::Done, 1));
        assert_eq!(loaded.states[3], outcome(PairStatus::Failed, 2));
        assert_eq!(loaded.states[1], PairState::default());
        assert_eq!(loaded.seq, 2);
        Ok(())
    }

    #[test]
    fn resume_without_compaction_replays_the_journal() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let in_memory = run_with_journal(&state, 3)?;
        // Nothing was compacted: the snapshot on disk has no outcome, the journal has all.
        assert_eq!(snapshot_on_disk(&state)?.seq, 0);
        assert_eq!(journal_lines(&state)?, 3);

        let loaded = load_pairs(&state)?;
        assert_eq!(loaded.states, in_memory.states);
        assert_eq!(loaded.seq, 3);
        assert_eq!(loaded.updated_at, in_memory.updated_at);

        // Resuming makes the loaded state the snapshot and continues the sequence.
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::resume(&lock, loaded)?;
        assert_eq!(journal_lines(&state)?, 0);
        assert_eq!(snapshot_on_disk(&state)?.seq, 3);
        writer.record(7, outcome(PairStatus::TimedOut, 1))?;
        drop(writer);
        let reloaded = load_pairs(&state)?;
        assert_eq!(reloaded.seq, 4);
        assert_eq!(reloaded.states[7].status, PairStatus::TimedOut);
        assert_eq!(summarize(&reloaded.states).done, 3);
        Ok(())
    }

    #[test]
    fn compacts_every_64_records_and_on_finish() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(100)?)?;
        for i in 0..63 {
            writer.record(i, outcome(PairStatus::Done, 1))?;
        }
        assert_eq!(journal_lines(&state)?, 63);
        assert_eq!(snapshot_on_disk(&state)?.seq, 0);

        writer.record(63, outcome(PairStatus::Done, 1))?;
        assert_eq!(journal_lines(&state)?, 0);
        let snapshot = snapshot_on_disk(&state)?;
        assert_eq!(snapshot.seq, 64);
        assert_eq!(summarize(&snapshot.states).done, 64);

        writer.record(64, outcome(PairStatus::Blocked, 0))?;
        assert_eq!(journal_lines(&state)?, 1);
        let finished = writer.finish()?;
        assert_eq!(fs::metadata(state.journal_path())?.len(), 0);
        let snapshot = snapshot_on_disk(&state)?;
        assert_eq!(snapshot, finished);
        assert_eq!(snapshot.seq, 65);
        assert_eq!(snapshot.states[64].status, PairStatus::Blocked);
        assert_eq!(load_pairs(&state)?, finished);
        // No temp file is left behind by the replacements.
        assert_eq!(
            files_of(&state)?.into_keys().collect::<Vec<_>>(),
            ["checkpoint.json", "journal.jsonl", "repair.lock"]
        );
        Ok(())
    }

    #[test]
    fn outcomes_recorded_together_are_one_journal_write_each_a_line() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(10)?)?;
        writer.record_all(vec![
            (2, outcome(PairStatus::Done, 1)),
            (5, outcome(PairStatus::Failed, 3)),
            (7, outcome(PairStatus::Done, 2)),
        ])?;
        assert_eq!(journal_lines(&state)?, 3);
        drop(writer);
        drop(lock);
        let loaded = load_pairs(&state)?;
        assert_eq!(loaded.seq, 3);
        assert_eq!(loaded.states[5], outcome(PairStatus::Failed, 3));
        assert_eq!(summarize(&loaded.states).done, 2);
        // An index outside the plan refuses the whole group: nothing is written.
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::resume(&lock, loaded)?;
        let refused = writer.record_all(vec![
            (1, outcome(PairStatus::Done, 1)),
            (10, outcome(PairStatus::Done, 1)),
        ]);
        assert!(matches!(refused, Err(CheckpointError::Invalid { .. })));
        assert_eq!(journal_lines(&state)?, 0);
        assert_eq!(writer.checkpoint().states[1], PairState::default());
        Ok(())
    }

    #[test]
    fn a_large_plan_compacts_every_eighth_of_its_pairs() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(1024)?)?;
        for i in 0..127 {
            writer.record(i, outcome(PairStatus::Done, 1))?;
        }
        // 64 records are not enough for a plan of 1,024: its snapshot is rewritten after 128.
        assert_eq!(journal_lines(&state)?, 127);
        assert_eq!(snapshot_on_disk(&state)?.seq, 0);
        writer.record(127, outcome(PairStatus::Done, 1))?;
        assert_eq!(journal_lines(&state)?, 0);
        assert_eq!(snapshot_on_disk(&state)?.seq, 128);
        Ok(())
    }

    #[test]
    fn torn_last_journal_line_is_ignored() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 2)?;
        let mut journal = OpenOptions::new().append(true).open(state.journal_path())?;
        journal.write_all(br#"{"seq":3,"index":2,"state":{"status":"do"#)?;
        drop(journal);

        let loaded = load_pairs(&state)?;
        assert_eq!(loaded.seq, 2);
        assert_eq!(loaded.states[1].status, PairStatus::Done);
        assert_eq!(loaded.states[2].status, PairStatus::Pending);

        // Resuming drops the torn line, so later appends do not follow garbage.
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::resume(&lock, loaded)?;
        writer.record(2, outcome(PairStatus::Done, 1))?;
        drop(writer);
        let reloaded = load_pairs(&state)?;
        assert_eq!(reloaded.seq, 3);
        assert_eq!(reloaded.states[2].status, PairStatus::Done);
        Ok(())
    }

    #[test]
    fn garbage_middle_journal_line_is_corrupt_and_untouched() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 3)?;
        let text = fs::read_to_string(state.journal_path())?;
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = "not json at all";
        fs::write(state.journal_path(), lines.join("\n") + "\n")?;

        let reason = expect_corrupt(&state, &state.journal_path())?;
        assert!(reason.starts_with("line 2:"), "{reason}");
        Ok(())
    }

    #[test]
    fn journal_index_outside_plan_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 1)?;
        let mut journal = OpenOptions::new().append(true).open(state.journal_path())?;
        journal.write_all(b"{\"seq\":2,\"index\":10,\"state\":{\"status\":\"done\",\"attempts\":1,\"duration_ms\":5,\"last_error\":null,\"log_path\":null}}\n")?;
        drop(journal);

        let reason = expect_corrupt(&state, &state.journal_path())?;
        assert!(reason.contains("index 10"), "{reason}");
        Ok(())
    }

    #[test]
    fn journal_gap_after_snapshot_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 3)?;
        let text = fs::read_to_string(state.journal_path())?;
        let kept: Vec<&str> = text.lines().skip(1).collect();
        fs::write(state.journal_path(), kept.join("\n") + "\n")?;

        let reason = expect_corrupt(&state, &state.journal_path())?;
        assert!(reason.contains("missing"), "{reason}");
        Ok(())
    }

    #[test]
    fn truncated_snapshot_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 0)?;
        let bytes = fs::read(state.checkpoint_path())?;
        fs::write(state.checkpoint_path(), &bytes[..bytes.len() / 2])?;

        let reason = expect_corrupt(&state, &state.checkpoint_path())?;
        assert!(reason.contains("EOF"), "{reason}");
        Ok(())
    }

    #[test]
    fn empty_snapshot_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 0)?;
        fs::write(state.checkpoint_path(), b"")?;
        expect_corrupt(&state, &state.checkpoint_path())?;
        Ok(())
    }

    #[test]
    fn wrong_schema_version_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 0)?;
        let mut snapshot: serde_json::Value =
            serde_json::from_slice(&fs::read(state.checkpoint_path())?)?;
        snapshot["schema_version"] = json!(SCHEMA_VERSION + 1);
        fs::write(state.checkpoint_path(), serde_json::to_vec(&snapshot)?)?;

        let reason = expect_corrupt(&state, &state.checkpoint_path())?;
        assert!(reason.contains("schema version 2"), "{reason}");
        Ok(())
    }

    #[test]
    fn states_not_aligned_with_plan_is_corrupt() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 0)?;
        let mut snapshot = snapshot_on_disk(&state)?;
        snapshot.states.pop();
        fs::write(state.checkpoint_path(), serde_json::to_vec(&snapshot)?)?;

        let reason = expect_corrupt(&state, &state.checkpoint_path())?;
        assert!(
            reason.contains("9 pair states for a plan of 10"),
            "{reason}"
        );
        Ok(())
    }

    #[test]
    fn stale_journal_after_crash_between_snapshot_and_truncate_is_ignored() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 0)?;
        {
            let lock = RunLock::acquire(&state)?;
            let mut writer = CheckpointWriter::resume(&lock, load_pairs(&state)?)?;
            writer.record(0, outcome(PairStatus::Interrupted, 1))?;
            writer.record(1, outcome(PairStatus::Done, 1))?;
        }
        let stale_journal = fs::read(state.journal_path())?;

        // The caller resumes with the interrupted pair reset to pending: the snapshot now
        // disagrees with the journal lines it folded in.
        let mut loaded = load_pairs(&state)?;
        assert_eq!(loaded.states[0].status, PairStatus::Interrupted);
        loaded.states[0] = PairState::default();
        let lock = RunLock::acquire(&state)?;
        drop(CheckpointWriter::resume(&lock, loaded)?);
        // Crash between the snapshot's rename and the journal's truncation.
        fs::write(state.journal_path(), &stale_journal)?;

        let reloaded = load_pairs(&state)?;
        assert_eq!(reloaded.seq, 2);
        assert_eq!(reloaded.states[0].status, PairStatus::Pending);
        assert_eq!(reloaded.states[1].status, PairStatus::Done);

        // A line appended after the stale ones (truncation failed, the run went on) applies.
        let mut journal = OpenOptions::new().append(true).open(state.journal_path())?;
        journal.write_all(b"{\"seq\":3,\"index\":0,\"state\":{\"status\":\"done\",\"attempts\":2,\"duration_ms\":5,\"last_error\":null,\"log_path\":null}}\n")?;
        drop(journal);
        let reloaded = load_pairs(&state)?;
        assert_eq!(reloaded.seq, 3);
        assert_eq!(reloaded.states[0].status, PairStatus::Done);
        assert_eq!(reloaded.states[0].attempts, 2);
        Ok(())
    }

    #[test]
    fn create_discards_a_previous_journal() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 4)?;
        let lock = RunLock::acquire(&state)?;
        drop(CheckpointWriter::create(&lock, sample_checkpoint(10)?)?);
        assert_eq!(journal_lines(&state)?, 0);
        let loaded = load_pairs(&state)?;
        assert_eq!(loaded.seq, 0);
        assert_eq!(summarize(&loaded.states).pending, 10);
        Ok(())
    }

    #[test]
    fn clear_discards_checkpoint_and_journal() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        run_with_journal(&state, 2)?;
        let lock = RunLock::acquire(&state)?;
        clear(&lock)?;
        assert!(load::<Pair>(&state)?.is_none());
        assert!(!state.checkpoint_path().exists());
        assert!(!state.journal_path().exists());
        clear(&lock)?; // idempotent
        Ok(())
    }

    #[test]
    fn record_outside_plan_is_refused_without_writing() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(2)?)?;
        let result = writer.record(2, outcome(PairStatus::Done, 1));
        assert!(
            matches!(result, Err(CheckpointError::Invalid { .. })),
            "{result:?}"
        );
        assert_eq!(journal_lines(&state)?, 0);
        assert_eq!(writer.checkpoint().seq, 0);
        Ok(())
    }

    #[test]
    fn writer_refuses_states_not_aligned_with_plan() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let mut checkpoint = sample_checkpoint(2)?;
        checkpoint.states.push(PairState::default());
        let result = CheckpointWriter::create(&lock, checkpoint);
        assert!(
            matches!(result, Err(CheckpointError::Invalid { .. })),
            "{result:?}"
        );
        assert!(!state.checkpoint_path().exists());
        Ok(())
    }

    #[test]
    fn second_acquire_while_held_reports_our_pid() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let _first = RunLock::acquire(&state)?;
        assert_eq!(
            fs::read_to_string(state.lock_path())?,
            format!("{}\n", std::process::id())
        );
        match RunLock::acquire(&state) {
            Err(CheckpointError::LockHeld { path, pid }) => {
                assert_eq!(path, state.lock_path());
                assert_eq!(pid, Some(std::process::id()));
            }
            other => bail!("expected LockHeld, got {other:?}"),
        }
        Ok(())
    }

    #[test]
    fn lock_is_free_again_after_drop() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let first = RunLock::acquire(&state)?;
        assert!(RunLock::acquire(&state).is_err());
        drop(first);
        let _second = RunLock::acquire(&state)?;
        Ok(())
    }

    #[test]
    fn writer_keeps_the_lock_after_the_run_lock_is_dropped() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        let lock = RunLock::acquire(&state)?;
        let writer = CheckpointWriter::create(&lock, sample_checkpoint(1)?)?;
        drop(lock);
        let result = RunLock::acquire(&state);
        assert!(
            matches!(result, Err(CheckpointError::LockHeld { .. })),
            "{result:?}"
        );
        drop(writer);
        let _again = RunLock::acquire(&state)?;
        Ok(())
    }

    #[test]
    fn stale_lock_file_with_dead_pid_does_not_block() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        state.ensure()?;
        let mut dead = Command::new("true").spawn()?;
        let dead_pid = dead.id();
        dead.wait()?;
        fs::write(state.lock_path(), format!("{dead_pid}\n"))?;

        let _lock = RunLock::acquire(&state)?;
        assert_eq!(
            fs::read_to_string(state.lock_path())?,
            format!("{}\n", std::process::id())
        );
        Ok(())
    }

    /// Kills the whole process group of the child (flock and the command it runs) on drop.
    struct ProcessGroup(Child);

    impl Drop for ProcessGroup {
        fn drop(&mut self) {
            if let Ok(pgid) = i32::try_from(self.0.id()) {
                let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            }
            let _ = self.0.wait();
        }
    }

    #[test]
    fn lock_held_by_another_process_blocks_until_it_dies() -> Result<()> {
        let (_tmp, state) = state_dir()?;
        state.ensure()?;
        let lock_path = state.lock_path();
        // flock(1) takes the lock, then the shell writes its PID into the lock file like a
        // runner would and reports it.
        let mut child = Command::new("flock")
            .arg("-n")
            .arg(&lock_path)
            .args([
                "sh",
                "-c",
                r#"echo $$ > "$1"; echo $$; exec sleep 30"#,
                "sh",
            ])
            .arg(&lock_path)
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let holder = ProcessGroup(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let holder_pid: u32 = line
            .trim()
            .parse()
            .context("flock did not run the command")?;

        match RunLock::acquire(&state) {
            Err(CheckpointError::LockHeld { pid, .. }) => assert_eq!(pid, Some(holder_pid)),
            other => bail!("expected LockHeld, got {other:?}"),
        }

        // The kernel releases the lock when its holders die, whatever the file says.
        drop(holder);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match RunLock::acquire(&state) {
                Ok(_) => break,
                Err(CheckpointError::LockHeld { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => bail!("lock not released after the holder died: {error}"),
            }
        }
        Ok(())
    }

    #[test]
    fn fingerprint_ignores_key_order_and_sees_value_changes() -> Result<()> {
        let a = json!({"from": "2024-10-22", "tables": ["a", "b"], "options": {"x": 1, "y": [{"p": 1, "q": 2}]}});
        let b = json!({"options": {"y": [{"q": 2, "p": 1}], "x": 1}, "tables": ["a", "b"], "from": "2024-10-22"});
        // preserve_order is on: the two serialize differently, yet fingerprint the same.
        assert_ne!(serde_json::to_string(&a)?, serde_json::to_string(&b)?);
        assert_eq!(fingerprint(&a)?, fingerprint(&b)?);
        assert_eq!(fingerprint(&a)?.len(), 64);

        let changed = json!({"from": "2024-10-22", "tables": ["a", "b"], "options": {"x": 1, "y": [{"p": 1, "q": 3}]}});
        assert_ne!(fingerprint(&a)?, fingerprint(&changed)?);
        let reordered_array = json!({"from": "2024-10-22", "tables": ["b", "a"], "options": {"x": 1, "y": [{"p": 1, "q": 2}]}});
        assert_ne!(fingerprint(&a)?, fingerprint(&reordered_array)?);
        Ok(())
    }

    /// Set in the process the kill test starts: it is then the worker, in that directory.
    const WORKER_DIR: &str = "PHASE4_TEST_COMPACTION_WORKER";

    /// The worker the kill test runs in a process of its own: it records and compacts
    /// until it is killed.
    fn compact_forever(dir: &str) -> Result<()> {
        let state = StateDir::new(dir);
        let lock = RunLock::acquire(&state)?;
        let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(200)?)?;
        for n in 0u32.. {
            writer.record(n as usize % 200, outcome(PairStatus::Done, n % 7 + 1))?;
            writer.compact()?;
        }
        Ok(())
    }

    #[test]
    fn a_sigkill_during_compaction_leaves_the_previous_checkpoint_intact() -> Result<()> {
        if let Ok(dir) = std::env::var(WORKER_DIR) {
            return compact_forever(&dir);
        }
        let exe = std::env::current_exe()?;
        let mut seed: u64 = 0x5eed;
        // Kills with a temp file left: mid-write (the temp is partial), and after the
        // write but before the rename (the temp is a whole checkpoint).
        let (mut trials, mut during_write, mut before_rename) = (0, 0, 0);
        while trials < 300 && (trials < 30 || before_rename < 3) {
            trials += 1;
            let (_tmp, state) = state_dir()?;
            let mut worker = Command::new(&exe)
                .args([
                    "--exact",
                    "runner::checkpoint::tests::a_sigkill_during_compaction_leaves_the_previous_checkpoint_intact",
                    "--test-threads=1",
                ])
                .env(WORKER_DIR, state.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let started = Instant::now() + Duration::from_secs(20);
            while !state.checkpoint_path().exists() {
                anyhow::ensure!(
                    Instant::now() < started,
                    "the worker never wrote a checkpoint"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            std::thread::sleep(Duration::from_micros(500 + (seed >> 33) % 20_000));
            worker.kill()?;
            worker.wait()?;
            for temp in fs::read_dir(state.path())?
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            {
                let text = fs::read(temp.path())?;
                match serde_json::from_slice::<serde_json::Value>(&text) {
                    Ok(_) => before_rename += 1,
                    Err(_) => during_write += 1,
                }
            }
            // Whatever the moment, the snapshot on disk is a whole one, and with the
            // journal it loads.
            let on_disk = snapshot_on_disk(&state).context("the snapshot is torn")?;
            assert_eq!(on_disk.plan.len(), 200);
            let loaded = load_pairs(&state)?;
            assert_eq!(loaded.states.len(), 200);
            // A resumed writer clears what the killed compaction left.
            let lock = RunLock::acquire(&state)?;
            drop(CheckpointWriter::resume(&lock, loaded)?);
            let left = fs::read_dir(state.path())?
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
                .count();
            assert_eq!(left, 0, "temp files left after a resume");
        }
        assert!(
            before_rename > 0,
            "no kill in {trials} trials fell between a whole temp write and its rename"
        );
        eprintln!(
            "compaction kills: {trials} trials, {during_write} during a temp write, {before_rename} after a whole temp write and before its rename"
        );
        Ok(())
    }

    #[test]
    fn summarize_counts_each_status() -> Result<()> {
        let states: Vec<PairState> = [
            PairStatus::Done,
            PairStatus::Done,
            PairStatus::Failed,
            PairStatus::TimedOut,
            PairStatus::Pending,
            PairStatus::Unverified,
        ]
        .into_iter()
        .map(|status| outcome(status, 1))
        .collect();
        let counts = summarize(&states);
        assert_eq!(counts.done, 2);
        assert_eq!(counts.failed, 1);
        assert_eq!(counts.timed_out, 1);
        assert_eq!(counts.pending, 1);
        assert_eq!(counts.unverified, 1);
        assert_eq!(counts.blocked + counts.interrupted, 0);
        assert_eq!(counts.total(), states.len());
        assert_eq!(
            serde_json::to_value(PairStatus::TimedOut)?,
            json!(PairStatus::TimedOut.name())
        );
        Ok(())
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::{any_bytes, any_text};
        use proptest::prelude::*;

        /// A real snapshot and journal of a run with some outcomes recorded.
        fn sample_files() -> (Vec<u8>, Vec<u8>) {
            let (_tmp, state) = state_dir().expect("state dir");
            let lock = RunLock::acquire(&state).expect("lock");
            let mut writer = CheckpointWriter::create(&lock, sample_checkpoint(6).expect("sample"))
                .expect("writer");
            for i in 0..5 {
                writer
                    .record(i, outcome(PairStatus::Failed, i as u32 + 1))
                    .expect("record");
            }
            (
                fs::read(state.checkpoint_path()).expect("snapshot"),
                fs::read(state.journal_path()).expect("journal"),
            )
        }

        proptest! {
            #[test]
            fn any_bytes_are_a_snapshot_or_a_reason(bytes in any_bytes()) {
                let _ = parse_snapshot::<serde_json::Value>(&bytes);
            }

            #[test]
            fn any_text_is_a_snapshot_or_a_reason_in_one_line(text in any_text()) {
                if let Err(reason) = parse_snapshot::<serde_json::Value>(text.as_bytes()) {
                    prop_assert!(!reason.contains('\n'));
                }
            }

            #[test]
            fn a_damaged_snapshot_or_journal_loads_or_is_corrupt_never_a_panic(
                cut in 0usize..4000,
                noise in any_bytes(),
                in_journal in any::<bool>(),
            ) {
                let (snapshot, journal) = sample_files();
                let (_tmp, state) = state_dir().expect("state dir");
                state.ensure().expect("dir");
                let damage = |bytes: &[u8]| {
                    let at = cut.min(bytes.len());
                    let mut out = bytes[..at].to_vec();
                    out.extend_from_slice(&noise);
                    out
                };
                let (snapshot, journal) = if in_journal {
                    (snapshot, damage(&journal))
                } else {
                    (damage(&snapshot), journal)
                };
                fs::write(state.checkpoint_path(), &snapshot).expect("write");
                fs::write(state.journal_path(), &journal).expect("write");
                match load::<serde_json::Value>(&state) {
                    Ok(Some(c)) => prop_assert_eq!(c.states.len(), c.plan.len()),
                    Ok(None) => prop_assert!(false, "a snapshot file is there"),
                    Err(CheckpointError::Corrupt { .. }) => {}
                    Err(other) => prop_assert!(false, "not a corruption: {other}"),
                }
            }
        }
    }
}
