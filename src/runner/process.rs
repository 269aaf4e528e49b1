//! Running one processor invocation safely.
//!
//! An invocation is an argv (no shell) run in its own process group, stdin from
//! `/dev/null`, stdout and stderr into one log file. A `tokio::select!` loop watches the
//! group leader, the deadline and the shutdown level (the shape of cargo-nextest's
//! executor). The runner ends a group with SIGTERM, a grace period, then SIGKILL; a
//! second shutdown request ([`Shutdown::Immediate`]) kills at once. When the leader has
//! exited, whatever is left of its group gets SIGKILL, so background jobs never outlive
//! the invocation.
//!
//! Three nets for what escapes that:
//! - `PR_SET_PDEATHSIG` kills a direct child when the runner dies;
//! - [`become_subreaper`] + [`end_escaped_descendants`] end descendants that left the
//!   group (`setsid`, daemons) and were re-parented to the runner;
//! - the [`GroupRegistry`] keeps a record of every running group on disk, so after a
//!   runner was SIGKILLed the next one ends the groups it left ([`GroupRegistry::end_leftovers`]).
//!
//! Pid reuse: the leader is reaped only after the select loop has ended and after the
//! final SIGKILL to its group. Until it is reaped its pid (and so its group id) cannot be
//! given to another process, so every signal this module sends to a group reaches that
//! invocation and nothing else. Once the leader is reaped the group id is never used
//! again: what is left is ended through its cgroup, or pid by pid with each process's
//! start time checked.
//!
//! Linux only: `prctl`, `/proc`, `waitid(WNOWAIT)`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

#[path = "process/linux.rs"]
mod os;

#[path = "process/cgroup.rs"]
mod cgroup;

use cgroup::{Cgroup, CgroupRoot};

/// How often the supervision loop looks at the leader when no SIGCHLD arrives (a
/// fallback: SIGCHLD normally wakes it at once).
const LEADER_POLL: Duration = Duration::from_millis(250);
/// How long to wait for the members of a killed group to die before giving up.
const GROUP_EXIT_WAIT: Duration = Duration::from_secs(2);
/// How long to wait for SIGKILLed escaped descendants before leaving them for the next sweep.
const REAP_WAIT: Duration = Duration::from_secs(2);
/// How long a dropped invocation waits for its SIGKILLed processes (blocking: it is
/// the error path).
const DROP_EXIT_WAIT: Duration = Duration::from_millis(500);
/// The polling step of the waits above.
const POLL_STEP: Duration = Duration::from_millis(10);

/// Gives the memory the checks freed (DuckDB's query memory) back to the kernel before a
/// run: every invocation forks this process, and a fork copies the page tables of all it
/// maps, so a smaller process starts each processor sooner.
pub fn shrink_before_run() {
    os::return_free_memory();
}

/// One processor command to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Program and arguments; no shell.
    pub argv: Vec<String>,
    /// stdout and stderr both go here; parent directories are created, the file truncated.
    pub log_path: PathBuf,
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// Extra environment variables (the runner's own environment is inherited).
    pub env: Vec<(String, String)>,
    pub current_dir: Option<PathBuf>,
}

/// The shutdown level, broadcast through a `tokio::sync::watch` channel. It only rises:
/// `Running` -> `Graceful` (first Ctrl-C / SIGTERM) -> `Immediate` (second one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    Running,
    /// SIGTERM to the group, grace, then SIGKILL.
    Graceful,
    /// SIGKILL to the group at once.
    Immediate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// Normal exit with this code. `-1` only if the exit status was lost (the leader was
    /// reaped by someone else, which a caller doing `waitpid(-1)` would cause).
    Exited(i32),
    /// Died of a signal the runner did not send.
    Signaled(i32),
    /// The deadline passed: the group got SIGTERM, then SIGKILL after the grace.
    TimedOut,
    /// A shutdown level other than `Running` arrived (or was already set: then nothing
    /// was started and the report has no pid).
    Interrupted,
    /// Could not start (program not found, not executable, log file not writable...);
    /// the message names the program.
    SpawnFailed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvocationReport {
    pub outcome: InvocationOutcome,
    /// From just before the spawn to the reaping of the leader.
    pub duration: Duration,
    /// The leader's pid (= its process group id); `None` if nothing was started.
    pub pid: Option<u32>,
    pub log_path: PathBuf,
    /// Processes it started that left its process group (`setsid`, daemons), by pid and
    /// name; all of them were ended with it.
    pub escaped: Vec<(u32, String)>,
    /// Why it ran without the cgroup it should have had (the registry uses cgroups, but
    /// none could be made or joined): what leaves its group may then be missed.
    pub uncontained: Option<String>,
}

/// Errors about the on-disk records of running groups. Every variant names its path.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot write group record {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read group record {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("group record {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("group record {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot remove group record {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
    #[error("cannot list group records in {path}: {source}")]
    List { path: PathBuf, source: io::Error },
    #[error("cannot read the start time of pid {pid} from /proc/{pid}/stat: {source}")]
    StartTime { pid: u32, source: io::Error },
}

/// The on-disk record `<pgid>.json` of a running invocation's process group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The leader; always equal to `pgid` (the leader was started with `process_group(0)`).
    pub pid: u32,
    pub pgid: u32,
    /// Field 22 of `/proc/<pid>/stat`: tells the leader from a later process with its pid.
    pub start_time: u64,
    pub argv: Vec<String>,
    /// The runner that wrote the record, to leave alone the groups of a runner that is
    /// still alive. Absent: treated as a dead runner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_start_time: Option<u64>,
    /// The invocation's cgroup, when it has one: everything in it is the invocation's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<PathBuf>,
    /// Without a cgroup: the descendants seen while it ran, by pid and start time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descendants: Vec<(u32, u64)>,
}

/// What [`GroupRegistry::end_leftovers`] found for one record and did about it.
#[derive(Debug)]
pub struct LeftoverReport {
    pub record_path: PathBuf,
    /// `None` when the record could not be read.
    pub record: Option<GroupRecord>,
    pub action: LeftoverAction,
    /// The record was meant to be removed but could not be.
    pub remove_error: Option<RecordError>,
}

#[derive(Debug)]
pub enum LeftoverAction {
    /// The group was still running: it got SIGTERM, and SIGKILL after the grace if
    /// `killed`. `members` are the pids found in it. Record removed.
    Ended { members: Vec<u32>, killed: bool },
    /// Even SIGKILL did not end these members (uninterruptible sleep?). Record kept.
    StillRunning { pids: Vec<u32> },
    /// Neither the leader nor any member of its group is running. Record removed.
    AlreadyGone,
    /// The pid now belongs to another process (its start time differs): nothing was
    /// signalled. Record removed.
    NotSameProcess { found_start_time: u64 },
    /// The runner that wrote the record is still alive: not a leftover. Record kept.
    RunnerAlive { runner_pid: u32 },
    /// The record could not be read or is not one this module writes. Nothing was
    /// signalled; record removed.
    Unreadable(RecordError),
}

impl fmt::Display for LeftoverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.record {
            Some(r) => write!(
                f,
                "process group {} (pid {}, `{}`): ",
                r.pgid,
                r.pid,
                r.argv.join(" ")
            )?,
            None => write!(f, "{}: ", self.record_path.display())?,
        }
        match &self.action {
            LeftoverAction::Ended { members, killed } => write!(
                f,
                "ended {} process(es) with SIGTERM{}",
                members.len(),
                if *killed { " then SIGKILL" } else { "" }
            )?,
            LeftoverAction::StillRunning { pids } => {
                write!(f, "still running after SIGKILL: {pids:?}")?
            }
            LeftoverAction::AlreadyGone => write!(f, "already gone")?,
            LeftoverAction::NotSameProcess { .. } => {
                write!(f, "not the same process any more, left alone")?
            }
            LeftoverAction::RunnerAlive { runner_pid } => write!(
                f,
                "its runner (pid {runner_pid}) is still alive, left alone"
            )?,
            LeftoverAction::Unreadable(e) => write!(f, "{e}")?,
        }
        if let Some(e) = &self.remove_error {
            write!(f, " ({e})")?;
        }
        Ok(())
    }
}

/// Every invocation running in this process, whatever its registry: leader pid -> its
/// cgroup, `None` when it has none. The lock is held across spawn + insert and across
/// the scan + kill of [`end_escaped_descendants`], so a sweep never mistakes a child
/// being spawned for an escaped descendant.
static LIVE: Mutex<BTreeMap<u32, Option<PathBuf>>> = Mutex::new(BTreeMap::new());

fn live_invocations() -> MutexGuard<'static, BTreeMap<u32, Option<PathBuf>>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Children of this process re-parented to it (it is a subreaper) that no running
/// invocation can claim: not a leader, not in a running invocation's cgroup. Zombies
/// too (they are to be reaped).
fn orphans<'p>(
    live: &BTreeMap<u32, Option<PathBuf>>,
    all: &'p [os::ProcStat],
) -> impl Iterator<Item = &'p os::ProcStat> {
    let me = std::process::id();
    let contained: BTreeSet<u32> = live
        .values()
        .flatten()
        .flat_map(|dir| Cgroup::at(dir).members())
        .collect();
    all.iter().filter(move |p| {
        p.ppid == me && p.pid != me && !live.contains_key(&p.pid) && !contained.contains(&p.pid)
    })
}

/// The records of running process groups: one `<pgid>.json` per running invocation in
/// a directory (e.g. `<state_dir>/groups/`), written as soon as the child is spawned and
/// removed once its group is gone.
#[derive(Debug)]
pub struct GroupRegistry {
    dir: PathBuf,
    running: Mutex<BTreeSet<u32>>,
    containment: Containment,
}

/// How invocations are contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainmentMode {
    /// One cgroup per invocation where a writable cgroup v2 hierarchy allows it, else
    /// process groups.
    Auto,
    /// Process groups and the descendants seen while an invocation ran.
    Groups,
}

#[derive(Debug)]
enum Containment {
    Cgroups(CgroupRoot),
    /// Why there are no cgroups.
    Groups(String),
}

impl GroupRegistry {
    /// Opens (creating it if needed) the record directory, with cgroups when it can.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        GroupRegistry::open_with(dir, ContainmentMode::Auto)
    }

    /// Opens the record directory, containing invocations as `mode` says.
    pub fn open_with(dir: impl Into<PathBuf>, mode: ContainmentMode) -> io::Result<Self> {
        let dir = dir.into();
        fs_err::create_dir_all(&dir)?;
        let containment = match mode {
            ContainmentMode::Auto => match CgroupRoot::discover() {
                Ok(root) => Containment::Cgroups(root),
                Err(why) => Containment::Groups(why),
            },
            ContainmentMode::Groups => Containment::Groups("PHASE4_CONTAINMENT=groups".into()),
        };
        Ok(GroupRegistry {
            dir,
            running: Mutex::new(BTreeSet::new()),
            containment,
        })
    }

    /// Does every invocation get a cgroup of its own?
    pub fn uses_cgroups(&self) -> bool {
        matches!(self.containment, Containment::Cgroups(_))
    }

    /// Without cgroups, what cannot be promised, and why.
    pub fn containment_warning(&self) -> Option<String> {
        match &self.containment {
            Containment::Cgroups(_) => None,
            Containment::Groups(why) => Some(format!(
                "no cgroup per invocation ({why}): processes that leave their process group (setsid, daemons) are ended only if they were seen while their invocation ran"
            )),
        }
    }

    /// A cgroup for a new invocation: `Ok(None)` without cgroups, the reason when one
    /// should have been made and could not.
    fn new_cgroup(&self) -> Result<Option<Cgroup>, String> {
        match &self.containment {
            Containment::Cgroups(root) => root.create().map(Some).map_err(|e| e.to_string()),
            Containment::Groups(_) => Ok(None),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record file of group `pgid`.
    pub fn record_path(&self, pgid: u32) -> PathBuf {
        self.dir.join(format!("{pgid}.json"))
    }

    /// Leader pids of the invocations this registry's runner has running now.
    pub fn running_pids(&self) -> Vec<u32> {
        self.running_set().iter().copied().collect()
    }

    fn running_set(&self) -> MutexGuard<'_, BTreeSet<u32>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes a record by temp file + rename, so a reader never sees half of one. No
    /// fsync: a record only matters while its processes may be alive, and none survive
    /// a power loss.
    fn write_record(&self, record: &GroupRecord) -> Result<PathBuf, RecordError> {
        let path = self.record_path(record.pgid);
        let write_error = |source| RecordError::Write {
            path: path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(record).map_err(|e| write_error(e.into()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(write_error)?;
        tmp.write_all(&json).map_err(write_error)?;
        tmp.persist(&path).map_err(|e| write_error(e.error))?;
        Ok(path)
    }

    fn read_record(path: &Path) -> Result<GroupRecord, RecordError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecordError::Read {
            path: path.to_owned(),
            source,
        })?;
        let record: GroupRecord =
            serde_json::from_str(&text).map_err(|source| RecordError::Parse {
                path: path.to_owned(),
                source,
            })?;
        let invalid = |reason: String| RecordError::Invalid {
            path: path.to_owned(),
            reason,
        };
        if record.pid != record.pgid {
            return Err(invalid(format!(
                "pid {} is not the group leader of pgid {}",
                record.pid, record.pgid
            )));
        }
        if record.pgid <= 1 || i32::try_from(record.pgid).is_err() {
            return Err(invalid(format!("pgid {} is out of range", record.pgid)));
        }
        let stem = path.file_stem().and_then(|s| s.to_str());
        if stem != Some(record.pgid.to_string().as_str()) {
            return Err(invalid(format!(
                "file name does not match pgid {}",
                record.pgid
            )));
        }
        // Everything in a record's cgroup is signalled: it must be one its runner made.
        if let Some(dir) = &record.cgroup {
            cgroup::check_recorded(dir, record.runner_pid, record.runner_start_time)
                .map_err(invalid)?;
        }
        Ok(record)
    }

    fn remove_record(path: &Path) -> Result<(), RecordError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(RecordError::Remove {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Ends what a runner that died without cleaning up (SIGKILL, OOM killer, a dropped
    /// terminal) left running, and removes its records.
    ///
    /// For each record: if the pid is alive with the recorded start time, or (leader
    /// gone) processes of that group started no earlier than the leader, the group gets
    /// SIGTERM; so do the processes of its cgroup, or without one the descendants the
    /// record names (still alive with their start time). After `grace` those still alive
    /// get SIGKILL (`cgroup.kill` for a cgroup). A pid that now belongs to another process
    /// is left alone. Groups of this registry's running invocations and of a runner still
    /// alive are skipped. Cgroups of dead runners without a record (killed between the
    /// spawn and the record) are ended too.
    ///
    /// Blocking: sleeps up to `grace` plus a few seconds. Call it before starting
    /// invocations, from a blocking context (`spawn_blocking` is fine: it starts no
    /// process).
    pub fn end_leftovers(&self, grace: Duration) -> Vec<LeftoverReport> {
        let mut reports = Vec::new();
        let mut targets: Vec<(usize, Leftover)> = Vec::new();
        let mut claimed: BTreeSet<PathBuf> = BTreeSet::new();
        for (path, record) in self.leftover_records(&mut reports) {
            let cgroup = record
                .cgroup
                .as_ref()
                .filter(|dir| dir.is_dir())
                .map(|dir| Cgroup::at(dir));
            if let Some(c) = &cgroup {
                claimed.insert(c.dir().to_path_buf());
            }
            let (group, other) = match identify_group(&record) {
                GroupState::Other { found_start_time } => {
                    // The group is another's now; its cgroup and descendants are still ours.
                    (None, Some(found_start_time))
                }
                GroupState::Gone => (None, None),
                GroupState::Running { .. } => (Some(record.pgid), None),
            };
            let leftover = Leftover {
                group,
                group_start_time: record.start_time,
                cgroup,
                descendants: record.descendants.clone(),
            };
            let members = leftover.alive();
            if members.is_empty() {
                let remove_error = Self::remove_record(&path).err();
                if let Some(c) = &leftover.cgroup {
                    let _ = c.remove();
                }
                reports.push(LeftoverReport {
                    record_path: path,
                    record: Some(record),
                    action: match other {
                        Some(found_start_time) => {
                            LeftoverAction::NotSameProcess { found_start_time }
                        }
                        None => LeftoverAction::AlreadyGone,
                    },
                    remove_error,
                });
                continue;
            }
            leftover.signal(Signal::SIGTERM);
            // Ours: SIGCONT too, so stopped members act on the SIGTERM.
            leftover.signal(Signal::SIGCONT);
            targets.push((reports.len(), leftover));
            reports.push(LeftoverReport {
                record_path: path,
                record: Some(record),
                action: LeftoverAction::Ended {
                    members,
                    killed: false,
                },
                remove_error: None,
            });
        }
        if let Containment::Cgroups(root) = &self.containment {
            for cgroup in root.leftovers() {
                if claimed.contains(cgroup.dir()) {
                    continue;
                }
                let leftover = Leftover {
                    group: None,
                    group_start_time: 0,
                    cgroup: Some(cgroup),
                    descendants: Vec::new(),
                };
                let members = leftover.alive();
                let dir = leftover
                    .cgroup
                    .as_ref()
                    .map(|c| c.dir().to_path_buf())
                    .unwrap_or_default();
                if members.is_empty() {
                    if let Some(c) = &leftover.cgroup {
                        let _ = c.remove();
                    }
                    continue;
                }
                leftover.signal(Signal::SIGTERM);
                leftover.signal(Signal::SIGCONT);
                targets.push((reports.len(), leftover));
                reports.push(LeftoverReport {
                    record_path: dir,
                    record: None,
                    action: LeftoverAction::Ended {
                        members,
                        killed: false,
                    },
                    remove_error: None,
                });
            }
        }
        if targets.is_empty() {
            return reports;
        }

        let grace_end = Instant::now().checked_add(grace);
        while grace_end.is_none_or(|end| Instant::now() < end)
            && targets.iter().any(|(_, l)| !l.alive().is_empty())
        {
            std::thread::sleep(POLL_STEP);
        }
        let mut killed = BTreeSet::new();
        for (index, leftover) in &targets {
            // `alive` re-checks every identity just before the signal.
            if !leftover.alive().is_empty() {
                leftover.signal(Signal::SIGKILL);
                killed.insert(*index);
            }
        }
        let kill_end = Instant::now() + GROUP_EXIT_WAIT;
        while Instant::now() < kill_end && targets.iter().any(|(_, l)| !l.alive().is_empty()) {
            std::thread::sleep(POLL_STEP);
        }
        for (index, leftover) in targets {
            let survivors = leftover.alive();
            let report = &mut reports[index];
            if survivors.is_empty() {
                if let LeftoverAction::Ended { members, .. } = &report.action {
                    report.action = LeftoverAction::Ended {
                        members: members.clone(),
                        killed: killed.contains(&index),
                    };
                }
                if let Some(c) = &leftover.cgroup {
                    let _ = c.remove();
                }
                if report.record.is_some() {
                    report.remove_error = Self::remove_record(&report.record_path).err();
                }
            } else {
                report.action = LeftoverAction::StillRunning { pids: survivors };
            }
        }
        reports
    }

    /// The readable records of dead runners (unreadable ones are reported and removed;
    /// those of this runner's invocations and of runners still alive are left alone).
    fn leftover_records(&self, reports: &mut Vec<LeftoverReport>) -> Vec<(PathBuf, GroupRecord)> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(source) => {
                reports.push(LeftoverReport {
                    record_path: self.dir.clone(),
                    record: None,
                    action: LeftoverAction::Unreadable(RecordError::List {
                        path: self.dir.clone(),
                        source,
                    }),
                    remove_error: None,
                });
                return Vec::new();
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().is_some_and(|ext| ext == "json")
                    && p.file_stem()
                        .and_then(|s| s.to_str())
                        .is_some_and(|s| s.parse::<u32>().is_ok())
            })
            .collect();
        paths.sort();

        let ours = self.running_pids();
        let me = std::process::id();
        let my_start = os::own_start_time().ok();
        let mut records = Vec::new();
        for path in paths {
            let record = match Self::read_record(&path) {
                Ok(record) => record,
                Err(e) => {
                    let remove_error = Self::remove_record(&path).err();
                    reports.push(LeftoverReport {
                        record_path: path,
                        record: None,
                        action: LeftoverAction::Unreadable(e),
                        remove_error,
                    });
                    continue;
                }
            };
            if ours.contains(&record.pgid) || live_invocations().contains_key(&record.pgid) {
                continue;
            }
            if let (Some(runner_pid), Some(runner_start)) =
                (record.runner_pid, record.runner_start_time)
            {
                let is_me = runner_pid == me && Some(runner_start) == my_start;
                let alive = os::read_stat(runner_pid)
                    .is_ok_and(|s| s.start_time == runner_start && !s.is_zombie());
                if alive && !is_me {
                    reports.push(LeftoverReport {
                        record_path: path,
                        record: Some(record),
                        action: LeftoverAction::RunnerAlive { runner_pid },
                        remove_error: None,
                    });
                    continue;
                }
            }
            records.push((path, record));
        }
        records
    }
}

/// What a dead runner left of one invocation.
struct Leftover {
    /// Its process group, while any of it is still there.
    group: Option<u32>,
    group_start_time: u64,
    cgroup: Option<Cgroup>,
    /// The descendants its record names, by pid and start time.
    descendants: Vec<(u32, u64)>,
}

impl Leftover {
    /// The pids still alive, each checked to be the recorded process.
    fn alive(&self) -> Vec<u32> {
        let mut pids: BTreeSet<u32> = BTreeSet::new();
        if let Some(pgid) = self.group {
            let record = GroupRecord {
                pid: pgid,
                pgid,
                start_time: self.group_start_time,
                argv: Vec::new(),
                runner_pid: None,
                runner_start_time: None,
                cgroup: None,
                descendants: Vec::new(),
            };
            if let GroupState::Running { members } = identify_group(&record) {
                pids.extend(members);
            }
        }
        if let Some(cgroup) = &self.cgroup {
            pids.extend(cgroup.members());
        }
        for &(pid, start) in &self.descendants {
            if os::read_stat(pid).is_ok_and(|s| s.start_time == start && !s.is_zombie()) {
                pids.insert(pid);
            }
        }
        pids.into_iter().collect()
    }

    fn signal(&self, sig: Signal) {
        if let Some(pgid) = self.group
            && !self.alive().is_empty()
        {
            let _ = os::signal_group(pgid, sig);
        }
        if let Some(cgroup) = &self.cgroup {
            if sig == Signal::SIGKILL {
                let _ = cgroup.kill();
            } else {
                cgroup.signal(sig);
            }
        }
        for &(pid, start) in &self.descendants {
            if os::read_stat(pid).is_ok_and(|s| s.start_time == start) {
                let _ = os::signal_process(pid, sig);
            }
        }
    }
}

/// What is left of a recorded group.
enum GroupState {
    /// The leader with the recorded start time is alive, or has gone but members of its
    /// group that started no earlier than it are alive.
    Running { members: Vec<u32> },
    /// Nothing of the group is running.
    Gone,
    /// The pid belongs to another process now.
    Other { found_start_time: u64 },
}

fn identify_group(record: &GroupRecord) -> GroupState {
    match os::read_stat(record.pid) {
        Ok(stat) if stat.start_time != record.start_time => GroupState::Other {
            found_start_time: stat.start_time,
        },
        // The leader is alive (or a zombie): its pid and so its group id are still
        // taken, any member of the group is part of it.
        Ok(_) => {
            let members = os::live_group_members(record.pgid, 0);
            if members.is_empty() {
                GroupState::Gone
            } else {
                GroupState::Running { members }
            }
        }
        // The leader is gone: only processes of the group that started after it can
        // be its descendants.
        Err(_) => {
            let members = os::live_group_members(record.pgid, record.start_time);
            if members.is_empty() {
                GroupState::Gone
            } else {
                GroupState::Running { members }
            }
        }
    }
}

/// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`),
/// so a descendant that leaves its invocation's group (`setsid`, a daemon) is re-parented
/// here instead of to init, where [`end_escaped_descendants`] can find it. Process-wide
/// and inherited by nothing; call it once at startup.
pub fn become_subreaper() -> io::Result<()> {
    os::set_child_subreaper()
}

/// Ends the children of this process that are not in `known_children` and that no
/// running invocation claims: descendants that escaped their group and were re-parented
/// here because we are a subreaper. Each gets SIGKILL and is reaped with `waitpid` on its
/// own pid (never `waitpid(-1)`, which would steal tokio's children). Returns the pids
/// ended, with their names.
///
/// A running invocation claims its leader and its cgroup's members. While one without
/// a cgroup runs, nothing is ended: an orphan could be its helper, and a later sweep (the
/// run's last) ends it.
///
/// Any other child of this process not listed in `known_children` (one started with
/// `std::process::Command` elsewhere) would be ended too: list it.
///
/// Blocking: may wait up to about two seconds for the killed processes to die; a pid
/// that does not die in that time is returned and reaped by a later sweep.
pub fn end_escaped_descendants(known_children: &[u32]) -> Vec<(u32, String)> {
    // Orphans are children of ours: with none but known ones, there is nothing to end
    // (the usual case, answered without a look through /proc).
    if os::own_children().is_some_and(|c| c.iter().all(|pid| known_children.contains(pid))) {
        return Vec::new();
    }
    let zombies: Vec<u32>;
    let ended: Vec<(u32, String)> = {
        let live = live_invocations();
        if live.values().any(Option::is_none) {
            return Vec::new();
        }
        let all = os::processes();
        let found: Vec<&os::ProcStat> = orphans(&live, &all)
            .filter(|p| !known_children.contains(&p.pid))
            .collect();
        // Zombies (ended already, by their cgroup's kill) are only reaped.
        zombies = found
            .iter()
            .filter(|p| p.is_zombie())
            .map(|p| p.pid)
            .collect();
        let escaped: Vec<(u32, String)> = found
            .iter()
            .filter(|p| !p.is_zombie())
            .map(|p| (p.pid, os::name(p.pid)))
            .collect();
        for &(pid, _) in &escaped {
            // Our child: its pid stays ours until we reap it, so this cannot hit another process.
            let _ = os::signal_process(pid, Signal::SIGKILL);
        }
        escaped
    };
    let mut pending: Vec<u32> = ended.iter().map(|(pid, _)| *pid).chain(zombies).collect();
    let end = Instant::now() + REAP_WAIT;
    loop {
        pending.retain(|&pid| os::reap(pid) == os::Reap::StillRunning);
        if pending.is_empty() || Instant::now() >= end {
            break;
        }
        std::thread::sleep(POLL_STEP);
    }
    ended
}

/// Why the runner ended an invocation itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopReason {
    Deadline,
    Shutdown,
}

/// The processes of one spawned invocation: its process group, its cgroup when it has
/// one (else the descendants seen while it ran), and its bookkeeping, undone whatever
/// happens, including when the `run_invocation` future is dropped: then everything gets
/// SIGKILL (the leader is not reaped yet, so its group id is still ours) and tokio's
/// `kill_on_drop` reaps the leader.
struct SpawnedGroup<'a> {
    registry: &'a GroupRegistry,
    pgid: u32,
    cgroup: Option<Cgroup>,
    /// The record as written, rewritten when new descendants are seen (without cgroup).
    record: Option<GroupRecord>,
    record_path: Option<PathBuf>,
    /// Without a cgroup: every descendant seen, by pid, with its start time.
    seen: BTreeMap<u32, u64>,
    /// Processes seen outside the group: their name.
    escaped: BTreeMap<u32, String>,
    reaped: bool,
    keep_record: bool,
}

impl SpawnedGroup<'_> {
    /// Sends `sig` to the group and to everything else the invocation started. Once the
    /// leader is reaped its group id may be another's: then only the cgroup, or the
    /// processes seen (each by pid and start time).
    fn signal(&mut self, sig: Signal) {
        if !self.reaped {
            self.observe();
            let _ = os::signal_group(self.pgid, sig);
        }
        match &self.cgroup {
            Some(cgroup) if sig == Signal::SIGKILL => {
                let _ = cgroup.kill();
            }
            Some(cgroup) => cgroup.signal(sig),
            None => {
                for (&pid, &start) in &self.seen {
                    if os::read_stat(pid).is_ok_and(|s| s.start_time == start) {
                        let _ = os::signal_process(pid, sig);
                    }
                }
            }
        }
    }

    /// Looks at what the invocation runs now: notes processes outside the group and,
    /// without a cgroup, records every descendant seen (so a later run can end them if
    /// this runner is killed). Without a cgroup a double fork's orphan is re-parented to
    /// the runner and is no descendant any more: it is taken as this invocation's when
    /// no other invocation without a cgroup runs, which would make it ambiguous. Only
    /// while the leader is not reaped: its pid names the group.
    fn observe(&mut self) {
        if self.reaped {
            return;
        }
        let outside = match &self.cgroup {
            Some(cgroup) => cgroup.members(),
            None => {
                let all = os::processes();
                let mut found: Vec<(u32, u64)> = os::descendants(&all, self.pgid)
                    .into_iter()
                    .map(|p| (p.pid, p.start_time))
                    .collect();
                {
                    let live = live_invocations();
                    let uncontained = live.values().filter(|c| c.is_none()).count();
                    if uncontained == 1 && live.get(&self.pgid) == Some(&None) {
                        found.extend(
                            orphans(&live, &all)
                                .filter(|p| !p.is_zombie())
                                .map(|p| (p.pid, p.start_time)),
                        );
                    }
                }
                let new = found
                    .iter()
                    .filter(|&&(pid, start)| self.seen.insert(pid, start).is_none())
                    .count();
                if new > 0
                    && let (Some(record), Some(_)) = (self.record.as_mut(), &self.record_path)
                {
                    record.descendants = self.seen.iter().map(|(&p, &t)| (p, t)).collect();
                    let _ = self.registry.write_record(record);
                }
                found.into_iter().map(|(pid, _)| pid).collect()
            }
        };
        for pid in outside {
            if let Ok(stat) = os::read_stat(pid)
                && stat.pgrp != self.pgid
                && !stat.is_zombie()
            {
                // Its name now: a `sh -c` that exec'd is known by what it runs.
                self.escaped.insert(pid, os::name(pid));
            }
        }
    }

    /// Nothing of the invocation is alive.
    fn is_gone(&self) -> bool {
        // No process in the group at all (the usual end) needs no look through /proc.
        let group = !os::group_exists(self.pgid) || os::live_group_members(self.pgid, 0).is_empty();
        let rest = match &self.cgroup {
            Some(cgroup) => !cgroup.is_populated(),
            None => self.seen.iter().all(|(&pid, &start)| {
                os::read_stat(pid).map_or(true, |s| s.start_time != start || s.is_zombie())
            }),
        };
        group && rest
    }
}

impl Drop for SpawnedGroup<'_> {
    fn drop(&mut self) {
        if !self.reaped {
            // Dropped mid-run (an aborted task, an error): end everything, and keep the
            // record unless it all died soon, so the next run ends what did not.
            self.signal(Signal::SIGKILL);
            let end = Instant::now() + DROP_EXIT_WAIT;
            while !self.is_gone() && Instant::now() < end {
                std::thread::sleep(POLL_STEP);
            }
            self.keep_record |= !self.is_gone();
        }
        live_invocations().remove(&self.pgid);
        self.registry.running_set().remove(&self.pgid);
        if let Some(cgroup) = &self.cgroup
            && !cgroup.is_populated()
        {
            let _ = cgroup.remove();
        }
        if let Some(path) = &self.record_path
            && !self.keep_record
        {
            let _ = GroupRegistry::remove_record(path);
        }
    }
}

/// Runs one invocation to its end and reports how it ended. Never panics on bad input;
/// every failure is an outcome.
///
/// If the shutdown level is already not `Running`, nothing is started (`Interrupted`,
/// no pid).
///
/// The child gets `PR_SET_PDEATHSIG = SIGKILL`, which fires when the *thread* that
/// forked it exits, not the process. Call this from a task on a long-lived runtime
/// thread (a `tokio::spawn`ed task or `block_on`); never from `spawn_blocking`, whose
/// threads exit after a few idle seconds and would kill the processor with them.
pub async fn run_invocation(
    inv: &Invocation,
    mut shutdown: watch::Receiver<Shutdown>,
    registry: &GroupRegistry,
) -> InvocationReport {
    let started = Instant::now();
    let report = |outcome, pid, escaped: Vec<(u32, String)>| InvocationReport {
        outcome,
        duration: started.elapsed(),
        pid,
        log_path: inv.log_path.clone(),
        escaped,
        uncontained: None,
    };
    if *shutdown.borrow_and_update() != Shutdown::Running {
        return report(InvocationOutcome::Interrupted, None, Vec::new());
    }
    let Some(program) = inv.argv.first() else {
        return report(
            InvocationOutcome::SpawnFailed("empty argv: no program to run".to_owned()),
            None,
            Vec::new(),
        );
    };
    let spawn_failed = |reason: String| {
        InvocationOutcome::SpawnFailed(format!("cannot start `{program}`: {reason}"))
    };
    let Spawned {
        mut child,
        cgroup,
        uncontained,
    } = match spawn(inv, registry) {
        Ok(spawned) => spawned,
        Err(e) => return report(spawn_failed(e.to_string()), None, Vec::new()),
    };
    let Some(pgid) = child.id() else {
        // tokio only forgets the pid after reaping, which nothing did yet.
        return report(
            spawn_failed("no pid after spawn".to_owned()),
            None,
            Vec::new(),
        );
    };
    registry.running_set().insert(pgid);
    // Declared after `child`, so on drop it runs first: the group gets SIGKILL before
    // tokio's kill_on_drop hands the leader to its reaper.
    let mut group = SpawnedGroup {
        registry,
        pgid,
        cgroup,
        record: None,
        record_path: None,
        seen: BTreeMap::new(),
        escaped: BTreeMap::new(),
        reaped: false,
        keep_record: false,
    };

    let record = os::read_stat(pgid)
        .map_err(|source| RecordError::StartTime { pid: pgid, source })
        .map(|stat| GroupRecord {
            pid: pgid,
            pgid,
            start_time: stat.start_time,
            argv: inv.argv.clone(),
            runner_pid: Some(std::process::id()),
            runner_start_time: os::own_start_time().ok(),
            cgroup: group.cgroup.as_ref().map(|c| c.dir().to_path_buf()),
            descendants: Vec::new(),
        });
    match record.and_then(|r| registry.write_record(&r).map(|path| (r, path))) {
        Ok((r, path)) => {
            group.record = Some(r);
            group.record_path = Some(path);
        }
        Err(e) => {
            // Not reaped: the group id is still ours.
            group.signal(Signal::SIGKILL);
            let _ = child.wait().await;
            group.reaped = true;
            drop(group);
            return report(
                spawn_failed(format!("stopped at once: {e}")),
                Some(pgid),
                Vec::new(),
            );
        }
    }

    let deadline = started
        .checked_add(inv.timeout)
        .map(tokio::time::Instant::from_std);
    let (stop, leader) = supervise(&mut group, deadline, inv.grace, &mut shutdown).await;

    if leader == os::LeaderState::Exited {
        // The leader is a zombie: its pid cannot be reused yet, the group id is still
        // ours. Whatever it left running ends with it.
        group.signal(Signal::SIGKILL);
    }
    let status = child.wait().await;
    group.reaped = true;

    let outcome = match (stop, status) {
        (Some(StopReason::Deadline), _) => InvocationOutcome::TimedOut,
        (Some(StopReason::Shutdown), _) => InvocationOutcome::Interrupted,
        (None, Ok(status)) => match (status.code(), status.signal()) {
            (Some(code), _) => InvocationOutcome::Exited(code),
            (None, Some(signal)) => InvocationOutcome::Signaled(signal),
            (None, None) => InvocationOutcome::Exited(-1),
        },
        (None, Err(_)) => InvocationOutcome::Exited(-1),
    };

    group.keep_record = !wait_for_exit(&mut group).await;
    let mut escaped = std::mem::take(&mut group.escaped);
    drop(group);

    if os::is_child_subreaper() {
        let known = registry.running_pids();
        // Orphans no running invocation claims: most likely this one's, named with it.
        if let Ok(ended) =
            tokio::task::spawn_blocking(move || end_escaped_descendants(&known)).await
        {
            escaped.extend(ended);
        }
    }
    let escaped: Vec<(u32, String)> = escaped.into_iter().collect();
    InvocationReport {
        uncontained,
        ..report(outcome, Some(pgid), escaped)
    }
}

/// A started invocation: its leader, its cgroup, and why it has none when it should.
struct Spawned {
    child: tokio::process::Child,
    cgroup: Option<Cgroup>,
    uncontained: Option<String>,
}

/// Spawns the invocation, into a cgroup of its own when the registry makes one; if no
/// cgroup can be made or the child cannot join it, once more without, saying why.
fn spawn(inv: &Invocation, registry: &GroupRegistry) -> io::Result<Spawned> {
    let uncontained = match registry.new_cgroup() {
        Ok(None) => None,
        Ok(Some(cgroup)) => match spawn_in(inv, &cgroup) {
            Ok(child) => {
                return Ok(Spawned {
                    child,
                    cgroup: Some(cgroup),
                    uncontained: None,
                });
            }
            Err(e) => {
                let _ = cgroup.remove();
                Some(format!(
                    "cannot start it in cgroup {}: {e}",
                    cgroup.dir().display()
                ))
            }
        },
        Err(e) => Some(format!("cannot create its cgroup: {e}")),
    };
    spawn_leader(build_command(inv, None)?, None)
        .map(|child| Spawned {
            child,
            cgroup: None,
            uncontained,
        })
        .map_err(|e| match &inv.current_dir {
            Some(dir) => io::Error::new(
                e.kind(),
                format!("{e} (working directory {})", dir.display()),
            ),
            None => e,
        })
}

/// Spawns into `cgroup`.
fn spawn_in(inv: &Invocation, cgroup: &Cgroup) -> io::Result<tokio::process::Child> {
    let procs = cgroup.procs()?;
    spawn_leader(
        build_command(inv, Some(cgroup::raw(&procs)))?,
        Some(cgroup.dir().to_path_buf()),
    )
}

/// Spawns with the live-invocation lock held, so a sweep never takes it for an escaper.
fn spawn_leader(
    mut command: tokio::process::Command,
    cgroup: Option<PathBuf>,
) -> io::Result<tokio::process::Child> {
    let mut live = live_invocations();
    let spawned = command.spawn();
    if let Some(pid) = spawned.as_ref().ok().and_then(|c| c.id()) {
        live.insert(pid, cgroup);
    }
    spawned
}

/// The command of `inv`: its own process group, stdin from /dev/null, both streams to
/// the log, SIGKILL when the runner's thread dies, and into the cgroup whose
/// `cgroup.procs` is open as `cgroup_procs` before it execs.
fn build_command(
    inv: &Invocation,
    cgroup_procs: Option<std::os::fd::RawFd>,
) -> io::Result<tokio::process::Command> {
    let log = open_log(&inv.log_path)?;
    let log_for_stderr = log.try_clone().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot duplicate log file {}: {e}", inv.log_path.display()),
        )
    })?;
    let mut command = tokio::process::Command::new(&inv.argv[0]);
    command
        .args(&inv.argv[1..])
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_for_stderr))
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &inv.current_dir {
        command.current_dir(dir);
    }
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
    // syscalls (write to an open descriptor, getpid, prctl, getppid): no allocation, no
    // lock.
    unsafe {
        command.pre_exec(move || {
            if let Some(procs) = cgroup_procs {
                cgroup::join(procs)?;
            }
            os::arm_parent_death_signal(parent)
        });
    }
    Ok(command)
}

/// Creates the log file (and its parent directories), truncating an old one.
fn open_log(path: &Path) -> io::Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent)?;
    }
    Ok(fs_err::File::create(path)?.into_file())
}

/// The select loop: leader exit vs deadline vs shutdown level vs end of the grace.
/// Returns why the runner stopped the invocation (if it did) and how the leader ended.
/// Never reaps the leader, so every signal sent here reaches our group.
async fn supervise(
    group: &mut SpawnedGroup<'_>,
    deadline: Option<tokio::time::Instant>,
    grace: Duration,
    shutdown: &mut watch::Receiver<Shutdown>,
) -> (Option<StopReason>, os::LeaderState) {
    use tokio::signal::unix::{SignalKind, signal};

    let mut sigchld = signal(SignalKind::child()).ok();
    let mut poll = tokio::time::interval(LEADER_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stop: Option<StopReason> = None;
    let mut kill_at: Option<tokio::time::Instant> = None;
    let mut killed = false;
    let mut watching_shutdown = true;

    let terminate = |group: &mut SpawnedGroup<'_>,
                     stop: &mut Option<StopReason>,
                     kill_at: &mut Option<tokio::time::Instant>,
                     reason: StopReason| {
        *stop = Some(reason);
        group.signal(Signal::SIGTERM);
        // Stopped members would keep the SIGTERM pending until the SIGKILL.
        group.signal(Signal::SIGCONT);
        // A grace too long to add is no grace limit at all.
        *kill_at = tokio::time::Instant::now().checked_add(grace);
    };

    loop {
        match os::leader_state(group.pgid) {
            os::LeaderState::Running => group.observe(),
            state => return (stop, state),
        }
        tokio::select! {
            () = next_signal(&mut sigchld) => {}
            _ = poll.tick() => {}
            () = sleep_until(deadline), if stop.is_none() => {
                terminate(group, &mut stop, &mut kill_at, StopReason::Deadline);
            }
            () = sleep_until(kill_at), if !killed => {
                group.signal(Signal::SIGKILL);
                killed = true;
            }
            changed = shutdown.changed(), if watching_shutdown => {
                if changed.is_err() {
                    // The sender is gone: no more shutdown requests can come.
                    watching_shutdown = false;
                    continue;
                }
                let level = *shutdown.borrow_and_update();
                match level {
                    Shutdown::Running => {}
                    Shutdown::Graceful => {
                        if stop.is_none() {
                            terminate(group, &mut stop, &mut kill_at, StopReason::Shutdown);
                        }
                    }
                    Shutdown::Immediate => {
                        stop.get_or_insert(StopReason::Shutdown);
                        if !killed {
                            group.signal(Signal::SIGKILL);
                            killed = true;
                        }
                    }
                }
            }
        }
    }
}

async fn next_signal(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            if s.recv().await.is_none() {
                *signal = None;
            }
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Waits until nothing of the invocation is alive (after its SIGKILL), ending again what
/// is still there. `false` if some are still there after [`GROUP_EXIT_WAIT`].
async fn wait_for_exit(group: &mut SpawnedGroup<'_>) -> bool {
    let end = Instant::now() + GROUP_EXIT_WAIT;
    loop {
        if group.is_gone() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        group.signal(Signal::SIGKILL);
        tokio::time::sleep(POLL_STEP).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    use std::sync::Arc;

    /// The tests start real processes, and `end_escaped_descendants` ends every child of
    /// the test process it does not know: run them one at a time.
    static PROCESS_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// Clears the subreaper attribute when a test that set it ends, even by a panic.
    struct SubreaperGuard;
    impl Drop for SubreaperGuard {
        fn drop(&mut self) {
            os::clear_child_subreaper().expect("clear subreaper");
        }
    }

    fn sh(dir: &Path, script: &str) -> Invocation {
        Invocation {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            log_path: dir.join("logs").join("invocation.log"),
            timeout: Duration::from_secs(60),
            grace: Duration::from_secs(5),
            env: Vec::new(),
            current_dir: Some(dir.to_owned()),
        }
    }

    fn registry(dir: &Path) -> GroupRegistry {
        GroupRegistry::open(dir.join("state").join("groups")).expect("open registry")
    }

    /// Gone: no such process, or a zombie (it has exited; the test host's init may not
    /// reap orphans).
    fn is_gone(pid: u32) -> bool {
        match os::read_stat(pid) {
            Ok(stat) => stat.is_zombie(),
            Err(_) => true,
        }
    }

    async fn wait_gone(pid: u32) -> bool {
        for _ in 0..500 {
            if is_gone(pid) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    async fn wait_for_file(path: &Path) -> String {
        for _ in 0..1000 {
            if let Ok(text) = std::fs::read_to_string(path)
                && text.ends_with('\n')
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{} did not appear", path.display());
    }

    async fn read_pid(path: &Path) -> u32 {
        wait_for_file(path).await.trim().parse().expect("a pid")
    }

    fn record_files(registry: &GroupRegistry) -> Vec<PathBuf> {
        std::fs::read_dir(registry.dir())
            .expect("read registry dir")
            .flatten()
            .map(|e| e.path())
            .collect()
    }

    /// Waits until the background `setsid sleep 300` has left the group: after
    /// setsid() its process group id is its own pid.
    const ESCAPE: &str = r#"setsid sleep 300 &
p=$!; echo $p > escaped.pid
while :; do set -- $(cat /proc/$p/stat); [ "$5" = "$p" ] && break; sleep 0.05; done"#;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line =
            "4242 (odd) (name) S 1 4240 4240 0 -1 4194560 94 0 1 0 0 0 0 0 20 0 1 0 56715 0 0";
        let stat = os::parse_stat(line).expect("parse");
        assert_eq!(
            stat,
            os::ProcStat {
                pid: 4242,
                state: 'S',
                ppid: 1,
                pgrp: 4240,
                start_time: 56715,
            }
        );
        assert_eq!(os::parse_stat("4242 (truncated) S 1"), None);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn exit_codes_are_reported_and_both_streams_reach_the_log() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);

        let ok = run_invocation(&sh(dir.path(), "exit 0"), rx.clone(), &reg).await;
        assert_eq!(ok.outcome, InvocationOutcome::Exited(0));
        assert!(ok.pid.is_some());

        let inv = sh(dir.path(), "echo to-stdout; echo to-stderr >&2; exit 3");
        let failed = run_invocation(&inv, rx, &reg).await;
        assert_eq!(failed.outcome, InvocationOutcome::Exited(3));
        assert_eq!(failed.log_path, inv.log_path);
        let log = std::fs::read_to_string(&inv.log_path).expect("log");
        assert!(log.contains("to-stdout"), "log: {log:?}");
        assert!(log.contains("to-stderr"), "log: {log:?}");
        assert!(record_files(&reg).is_empty());
        assert!(reg.running_pids().is_empty());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_log_is_truncated_and_env_and_working_directory_are_applied() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("mkdir");
        let mut inv = sh(dir.path(), "echo \"value=$PHASE4_TEST_VALUE\"; pwd");
        inv.env = vec![("PHASE4_TEST_VALUE".into(), "forty two".into())];
        inv.current_dir = Some(work.clone());
        std::fs::create_dir_all(inv.log_path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&inv.log_path, "old content\n").expect("write");

        let report = run_invocation(&inv, rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::Exited(0));
        let log = std::fs::read_to_string(&inv.log_path).expect("log");
        assert!(!log.contains("old content"), "log: {log:?}");
        assert!(log.contains("value=forty two"), "log: {log:?}");
        assert!(log.contains(&work.display().to_string()), "log: {log:?}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn stdin_is_dev_null() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        let inv = sh(dir.path(), "readlink /proc/self/fd/0; cat; echo read-done");
        let report = run_invocation(&inv, rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::Exited(0));
        let log = std::fs::read_to_string(&inv.log_path).expect("log");
        assert!(log.contains("/dev/null\nread-done"), "log: {log:?}");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_signal_the_runner_did_not_send_is_reported_as_signaled() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        let report = run_invocation(&sh(dir.path(), "kill -USR1 $$"), rx, &reg).await;
        assert_eq!(
            report.outcome,
            InvocationOutcome::Signaled(Signal::SIGUSR1 as i32)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn sleeping_past_the_timeout_is_timed_out_and_the_group_with_its_grandchild_is_gone() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        let mut inv = sh(dir.path(), "sleep 300 & echo $! > gc.pid; sleep 300");
        inv.timeout = Duration::from_secs(3);

        let report = run_invocation(&inv, rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::TimedOut);
        assert!(report.duration >= inv.timeout);
        assert!(report.duration < Duration::from_secs(60));
        let leader = report.pid.expect("pid");
        let grandchild = read_pid(&dir.path().join("gc.pid")).await;
        assert!(wait_gone(leader).await, "leader {leader} still running");
        assert!(
            wait_gone(grandchild).await,
            "grandchild {grandchild} still running"
        );
        assert!(os::live_group_members(leader, 0).is_empty());
        assert!(record_files(&reg).is_empty());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn background_jobs_left_by_a_leader_that_exits_are_killed() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        let inv = sh(dir.path(), "sleep 300 & echo $! > bg.pid; exit 0");

        let report = run_invocation(&inv, rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::Exited(0));
        let background = read_pid(&dir.path().join("bg.pid")).await;
        assert!(
            wait_gone(background).await,
            "background job {background} still running"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_child_ignoring_sigterm_is_killed_after_the_grace() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        // The trap runs (and says so) but the shell goes on: only SIGKILL ends it.
        let mut inv = sh(
            dir.path(),
            "trap 'echo got-term' TERM; while :; do sleep 1; done",
        );
        inv.timeout = Duration::from_secs(3);
        inv.grace = Duration::from_secs(2);

        let report = run_invocation(&inv, rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::TimedOut);
        assert!(
            report.duration >= inv.timeout + inv.grace,
            "returned after {:?}, before the grace ended",
            report.duration
        );
        let log = std::fs::read_to_string(&inv.log_path).expect("log");
        assert!(log.contains("got-term"), "SIGTERM first; log: {log:?}");
        assert!(wait_gone(report.pid.expect("pid")).await);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn graceful_shutdown_mid_run_is_interrupted_and_the_group_is_gone() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Arc::new(registry(dir.path()));
        let (tx, rx) = watch::channel(Shutdown::Running);
        let inv = sh(dir.path(), "sleep 300 & echo $! > gc.pid; sleep 300");
        let task = {
            let (inv, reg) = (inv.clone(), reg.clone());
            tokio::spawn(async move { run_invocation(&inv, rx, &reg).await })
        };
        let grandchild = read_pid(&dir.path().join("gc.pid")).await;

        // While it runs, its group is recorded.
        let running = reg.running_pids();
        assert_eq!(running.len(), 1);
        let leader = running[0];
        let record_text =
            std::fs::read_to_string(reg.record_path(leader)).expect("record while running");
        let record: GroupRecord = serde_json::from_str(&record_text).expect("record json");
        assert_eq!((record.pid, record.pgid), (leader, leader));
        assert_eq!(record.argv, inv.argv);
        assert_eq!(
            record.start_time,
            os::read_stat(leader).expect("stat").start_time
        );

        tx.send(Shutdown::Graceful).expect("send");
        let report = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("returned")
            .expect("join");
        assert_eq!(report.outcome, InvocationOutcome::Interrupted);
        assert_eq!(report.pid, Some(leader));
        assert!(wait_gone(leader).await);
        assert!(wait_gone(grandchild).await, "grandchild still running");
        assert!(record_files(&reg).is_empty(), "record left behind");
        assert!(reg.running_pids().is_empty());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn immediate_shutdown_kills_without_waiting_for_the_grace() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Arc::new(registry(dir.path()));
        let (tx, rx) = watch::channel(Shutdown::Running);
        let mut inv = sh(dir.path(), "trap '' TERM; echo > ready; sleep 300");
        inv.grace = Duration::from_secs(60);
        inv.timeout = Duration::from_secs(600);
        let task = {
            let (inv, reg) = (inv.clone(), reg.clone());
            tokio::spawn(async move { run_invocation(&inv, rx, &reg).await })
        };
        wait_for_file(&dir.path().join("ready")).await;

        tx.send(Shutdown::Immediate).expect("send");
        let report = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("killed before the grace ended")
            .expect("join");
        assert_eq!(report.outcome, InvocationOutcome::Interrupted);
        assert!(wait_gone(report.pid.expect("pid")).await);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn immediate_during_the_grace_of_a_graceful_shutdown_kills_at_once() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = Arc::new(registry(dir.path()));
        let (tx, rx) = watch::channel(Shutdown::Running);
        let mut inv = sh(dir.path(), "trap '' TERM; echo > ready; sleep 300");
        inv.grace = Duration::from_secs(60);
        inv.timeout = Duration::from_secs(600);
        let task = {
            let (inv, reg) = (inv.clone(), reg.clone());
            tokio::spawn(async move { run_invocation(&inv, rx, &reg).await })
        };
        wait_for_file(&dir.path().join("ready")).await;

        tx.send(Shutdown::Graceful).expect("send");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!task.is_finished(), "a TERM-ignoring child got no grace");
        tx.send(Shutdown::Immediate).expect("send");
        let report = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("killed before the grace ended")
            .expect("join");
        assert_eq!(report.outcome, InvocationOutcome::Interrupted);
        assert!(wait_gone(report.pid.expect("pid")).await);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_shutdown_requested_before_the_start_starts_nothing() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (tx, rx) = watch::channel(Shutdown::Running);
        tx.send(Shutdown::Graceful).expect("send");
        let report = run_invocation(&sh(dir.path(), "echo > started"), rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::Interrupted);
        assert_eq!(report.pid, None);
        assert!(!dir.path().join("started").exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_missing_or_non_executable_program_is_spawn_failed_naming_it() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);

        let mut inv = sh(dir.path(), "");
        inv.argv = vec!["phase4-no-such-processor".into(), "--date".into()];
        let report = run_invocation(&inv, rx.clone(), &reg).await;
        match &report.outcome {
            InvocationOutcome::SpawnFailed(msg) => {
                assert!(msg.contains("phase4-no-such-processor"), "{msg}")
            }
            other => panic!("expected SpawnFailed, got {other:?}"),
        }
        assert_eq!(report.pid, None);

        let script = dir.path().join("not-executable.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("write");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        inv.argv = vec![script.display().to_string()];
        let report = run_invocation(&inv, rx.clone(), &reg).await;
        match &report.outcome {
            InvocationOutcome::SpawnFailed(msg) => {
                assert!(msg.contains("not-executable.sh"), "{msg}")
            }
            other => panic!("expected SpawnFailed, got {other:?}"),
        }

        inv.argv = Vec::new();
        let report = run_invocation(&inv, rx, &reg).await;
        assert!(matches!(report.outcome, InvocationOutcome::SpawnFailed(_)));
        assert!(record_files(&reg).is_empty());
        assert!(reg.running_pids().is_empty());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_escaped_descendant_is_ended_by_end_escaped_descendants_after_become_subreaper() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        become_subreaper().expect("subreaper");
        let _reset = SubreaperGuard;

        // A parent that lets a descendant escape with setsid, then exits: the descendant
        // is re-parented to us.
        let status = std::process::Command::new("sh")
            .args(["-c", ESCAPE])
            .current_dir(dir.path())
            .status()
            .expect("run sh");
        assert!(status.success());
        let escaped = read_pid(&dir.path().join("escaped.pid")).await;
        let stat = os::read_stat(escaped).expect("escaped is alive");
        assert_eq!(stat.ppid, std::process::id(), "re-parented to us");
        assert!(!stat.is_zombie());

        let ended = end_escaped_descendants(&[]);
        assert_eq!(ended, vec![(escaped, "sleep".to_string())]);
        // Killed and reaped by us: not even a zombie.
        assert!(!Path::new(&format!("/proc/{escaped}")).exists());
    }

    /// An invocation that double-forks a helper out of its group (re-parented to the
    /// runner), waits for `other-done`, then exits 0 only if its helper is still alive.
    const KEEPS_A_HELPER: &str = r#"setsid sh -c 'sh -c "echo \$\$ > helper.pid; exec sleep 300" & exit 0' </dev/null >/dev/null 2>&1 &
while [ ! -s helper.pid ]; do sleep 0.02; done
while [ ! -f other-done ]; do sleep 0.02; done
kill -0 $(cat helper.pid)"#;

    #[tokio::test(flavor = "multi_thread")]
    async fn an_invocation_ending_leaves_the_helpers_of_one_still_running_alone() {
        let _serial = PROCESS_TESTS.lock().await;
        become_subreaper().expect("subreaper");
        let _reset = SubreaperGuard;
        for mode in [ContainmentMode::Auto, ContainmentMode::Groups] {
            let dir = tempfile::tempdir().expect("tempdir");
            let reg = GroupRegistry::open_with(dir.path().join("groups"), mode).expect("registry");
            let (_tx, rx) = watch::channel(Shutdown::Running);
            let keeper = sh(dir.path(), KEEPS_A_HELPER);
            let mut quick = sh(dir.path(), "exit 0");
            quick.log_path = dir.path().join("logs").join("quick.log");
            let (kept, quick_ended) =
                tokio::join!(run_invocation(&keeper, rx.clone(), &reg), async {
                    let helper = read_pid(&dir.path().join("helper.pid")).await;
                    let report = run_invocation(&quick, rx.clone(), &reg).await;
                    std::fs::write(dir.path().join("other-done"), "").expect("other-done");
                    (helper, report)
                });
            let (helper, quick_report) = quick_ended;
            assert_eq!(
                quick_report.outcome,
                InvocationOutcome::Exited(0),
                "{mode:?}"
            );
            assert_eq!(
                kept.outcome,
                InvocationOutcome::Exited(0),
                "{mode:?}: the helper of the running invocation was ended by the other's end"
            );
            // ... and it ends with its own invocation.
            for _ in 0..500 {
                if is_gone(helper) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(
                is_gone(helper),
                "{mode:?}: the helper outlived its invocation"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn run_invocation_ends_a_descendant_that_escaped_its_group() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let (_tx, rx) = watch::channel(Shutdown::Running);
        become_subreaper().expect("subreaper");
        let _reset = SubreaperGuard;

        let report = run_invocation(&sh(dir.path(), ESCAPE), rx, &reg).await;
        assert_eq!(report.outcome, InvocationOutcome::Exited(0));
        let escaped = read_pid(&dir.path().join("escaped.pid")).await;
        assert!(!Path::new(&format!("/proc/{escaped}")).exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_group_exists_until_its_last_process_is_reaped_and_children_are_listed() {
        let _serial = PROCESS_TESTS.lock().await;
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = child.id();
        assert!(os::group_exists(pid));
        assert!(os::own_children().is_some_and(|c| c.contains(&pid)));
        // Killed and reaped at once: another test's escaped-descendant sweep, in this same
        // process, would end and reap a child of ours it finds waiting.
        let _ = child.kill();
        let _ = child.wait();
        assert!(!os::group_exists(pid));
        assert!(os::own_children().is_some_and(|c| !c.contains(&pid)));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_escaped_descendants_spares_known_children() {
        let _serial = PROCESS_TESTS.lock().await;
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .expect("spawn");
        let ended = end_escaped_descendants(&[child.id()]);
        assert!(ended.iter().all(|(pid, _)| *pid != child.id()));
        assert_eq!(
            child.try_wait().expect("try_wait"),
            None,
            "known child killed"
        );
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    /// Starts `sleep 300` as a group leader outside run_invocation, as a processor a
    /// dead runner left behind, and writes its record the way the runner does.
    fn leftover_sleep(reg: &GroupRegistry, start_time_shift: i64) -> std::process::Child {
        let child = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let start_time = os::read_stat(pid).expect("stat").start_time as i64 + start_time_shift;
        let record = format!(
            r#"{{"pid": {pid}, "pgid": {pid}, "start_time": {start_time}, "argv": ["sleep", "300"]}}"#
        );
        std::fs::write(reg.record_path(pid), record).expect("write record");
        child
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_leftovers_ends_a_group_left_by_a_dead_runner_and_removes_its_record() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let mut child = leftover_sleep(&reg, 0);
        let pid = child.id();

        let reports = reg.end_leftovers(Duration::from_secs(10));
        assert_eq!(reports.len(), 1, "{reports:?}");
        match &reports[0].action {
            LeftoverAction::Ended { members, killed } => {
                assert_eq!(members, &vec![pid]);
                assert!(!killed, "sleep dies of SIGTERM");
            }
            other => panic!("expected Ended, got {other:?}"),
        }
        assert_eq!(reports[0].record.as_ref().map(|r| r.pgid), Some(pid));
        assert!(reports[0].to_string().contains("ended 1 process"));
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(Signal::SIGTERM as i32));
        assert!(!reg.record_path(pid).exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_leftovers_kills_a_group_that_ignores_sigterm_after_the_grace() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let mut child = std::process::Command::new("sh")
            .args(["-c", "trap '' TERM; echo > ready; sleep 300"])
            .current_dir(dir.path())
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let start_time = os::read_stat(pid).expect("stat").start_time;
        wait_for_file(&dir.path().join("ready")).await;
        let record = GroupRecord {
            pid,
            pgid: pid,
            start_time,
            argv: vec!["sh".into()],
            runner_pid: None,
            runner_start_time: None,
            cgroup: None,
            descendants: Vec::new(),
        };
        std::fs::write(
            reg.record_path(pid),
            serde_json::to_string(&record).expect("json"),
        )
        .expect("write record");

        let reports = reg.end_leftovers(Duration::from_millis(500));
        assert!(
            matches!(
                reports[0].action,
                LeftoverAction::Ended { killed: true, .. }
            ),
            "{reports:?}"
        );
        let status = child.wait().expect("wait");
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        assert!(!reg.record_path(pid).exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_leftovers_ends_the_members_of_a_group_whose_leader_is_gone() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let mut leader = std::process::Command::new("sh")
            .args(["-c", "sleep 300 & echo $! > member.pid"])
            .current_dir(dir.path())
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pid = leader.id();
        let start_time = os::read_stat(pid).expect("stat").start_time;
        assert!(leader.wait().expect("wait").success());
        let member = read_pid(&dir.path().join("member.pid")).await;
        assert_eq!(os::read_stat(member).expect("member").pgrp, pid);
        std::fs::write(
            reg.record_path(pid),
            format!(r#"{{"pid":{pid},"pgid":{pid},"start_time":{start_time},"argv":["sh"]}}"#),
        )
        .expect("write record");

        let reports = reg.end_leftovers(Duration::from_secs(10));
        match &reports[0].action {
            LeftoverAction::Ended { members, .. } => assert_eq!(members, &vec![member]),
            other => panic!("expected Ended, got {other:?}"),
        }
        assert!(wait_gone(member).await);
        assert!(!reg.record_path(pid).exists());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_leftovers_removes_a_record_with_another_start_time_without_killing() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let mut child = leftover_sleep(&reg, -1);
        let pid = child.id();

        let reports = reg.end_leftovers(Duration::from_secs(10));
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert!(
            matches!(
                reports[0].action,
                LeftoverAction::NotSameProcess { found_start_time } if found_start_time > 0
            ),
            "{reports:?}"
        );
        assert!(reports[0].to_string().contains("not the same process"));
        assert!(!reg.record_path(pid).exists(), "record kept");
        assert_eq!(child.try_wait().expect("try_wait"), None, "process killed");
        assert!(!is_gone(pid));
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn end_leftovers_leaves_alone_the_groups_of_a_runner_still_alive_and_bad_records() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        let mut child = leftover_sleep(&reg, 0);
        let pid = child.id();
        // Rewrite the record as written by a runner that is alive: init.
        let init_start = os::read_stat(1).expect("init").start_time;
        let mut record: GroupRecord =
            serde_json::from_str(&std::fs::read_to_string(reg.record_path(pid)).expect("read"))
                .expect("json");
        record.runner_pid = Some(1);
        record.runner_start_time = Some(init_start);
        std::fs::write(
            reg.record_path(pid),
            serde_json::to_string(&record).expect("json"),
        )
        .expect("write");
        // A record naming pgid 0 (our own group if it were signalled) and a corrupt one.
        std::fs::write(
            reg.record_path(0),
            r#"{"pid":0,"pgid":0,"start_time":0,"argv":[]}"#,
        )
        .expect("write");
        std::fs::write(reg.record_path(77), "{not json").expect("write");

        let reports = reg.end_leftovers(Duration::from_secs(10));
        assert_eq!(reports.len(), 3, "{reports:?}");
        let alive = reports
            .iter()
            .find(|r| r.record_path == reg.record_path(pid))
            .expect("report");
        assert!(matches!(
            alive.action,
            LeftoverAction::RunnerAlive { runner_pid: 1 }
        ));
        assert!(
            reg.record_path(pid).exists(),
            "record of a live runner removed"
        );
        assert_eq!(child.try_wait().expect("try_wait"), None, "process killed");
        for bad in [reg.record_path(0), reg.record_path(77)] {
            let report = reports
                .iter()
                .find(|r| r.record_path == bad)
                .expect("report");
            assert!(matches!(report.action, LeftoverAction::Unreadable(_)));
            assert!(!bad.exists());
        }
        child.kill().expect("kill");
        child.wait().expect("wait");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_record_naming_a_cgroup_its_runner_did_not_make_signals_nothing() {
        let _serial = PROCESS_TESTS.lock().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let reg = registry(dir.path());
        // A live process the records point at through its cgroup-like directory.
        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .expect("spawn");
        let fake = dir.path().join("phase4-check-1-1-0");
        std::fs::create_dir(&fake).expect("mkdir");
        std::fs::write(fake.join("cgroup.procs"), format!("{}\n", child.id())).expect("write");
        let dead_runner = (u32::MAX - 1, 1);
        let records = [
            (101, PathBuf::from("/sys/fs/cgroup/user.slice")),
            (102, fake.clone()),
            (
                103,
                PathBuf::from("/sys/fs/cgroup/../cgroup/phase4-check-4294967294-1-0"),
            ),
        ];
        for (pgid, cgroup) in &records {
            let record = GroupRecord {
                pid: *pgid,
                pgid: *pgid,
                start_time: 1,
                argv: vec!["x".into()],
                runner_pid: Some(dead_runner.0),
                runner_start_time: Some(dead_runner.1),
                cgroup: Some(cgroup.clone()),
                descendants: Vec::new(),
            };
            std::fs::write(
                reg.record_path(*pgid),
                serde_json::to_string(&record).expect("json"),
            )
            .expect("write");
        }
        let reports = reg.end_leftovers(Duration::from_secs(1));
        for (pgid, _) in &records {
            let report = reports
                .iter()
                .find(|r| r.record_path == reg.record_path(*pgid))
                .expect("report");
            assert!(
                matches!(
                    report.action,
                    LeftoverAction::Unreadable(RecordError::Invalid { .. })
                ),
                "{report}"
            );
        }
        assert_eq!(
            child.try_wait().expect("try_wait"),
            None,
            "a process was signalled"
        );
        child.kill().expect("kill");
        child.wait().expect("wait");
        // What a runner makes is accepted, named after that runner only.
        match cgroup::cgroup2_mount() {
            Some(mount) => {
                let made = mount.join("some").join("phase4-check-7-9-3");
                assert_eq!(cgroup::check_recorded(&made, Some(7), Some(9)), Ok(()));
                assert!(cgroup::check_recorded(&made, Some(7), Some(8)).is_err());
                assert!(cgroup::check_recorded(&made, None, None).is_err());
            }
            None => assert!(
                cgroup::check_recorded(Path::new("/x/phase4-check-7-9-3"), Some(7), Some(9))
                    .is_err_and(|e| e.contains("not in the cgroup v2 hierarchy"))
            ),
        }
    }
}
