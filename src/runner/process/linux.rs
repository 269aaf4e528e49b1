//! Linux process primitives for the invocation runner: signals to process groups,
//! non-reaping exit checks, `/proc/<pid>/stat`, `prctl`.
//!
//! Everything that touches a raw pid lives here, behind checks that refuse pids the
//! runner must never signal (0, 1, negative after conversion, our own process group).

use std::fs;
use std::io;

use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{self, Pid};

/// The fields of `/proc/<pid>/stat` the runner uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ProcStat {
    pub pid: u32,
    /// Field 3: `R`, `S`, `D`, `Z`, ...
    pub state: char,
    /// Field 4.
    pub ppid: u32,
    /// Field 5.
    pub pgrp: u32,
    /// Field 22: clock ticks after boot when the process started. With the pid it
    /// identifies a process: a reused pid has a later start time.
    pub start_time: u64,
}

impl ProcStat {
    /// A zombie has exited; it only waits for its parent to reap it.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z' || self.state == 'X'
    }
}

/// Parses the text of `/proc/<pid>/stat`. The command name (field 2) is in parentheses
/// and may itself contain spaces and parentheses, so fields are counted from the last `)`.
pub(super) fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text.get(..open)?.trim().parse().ok()?;
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3, so field n is rest[n - 3].
    Some(ProcStat {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        start_time: rest.get(19)?.parse().ok()?,
    })
}

/// Reads `/proc/<pid>/stat`; `NotFound` when no such process exists.
pub(super) fn read_stat(pid: u32) -> io::Result<ProcStat> {
    let path = format!("/proc/{pid}/stat");
    let text = fs::read_to_string(&path)?;
    parse_stat(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse {path}: {text:?}"),
        )
    })
}

/// Every process visible in `/proc` (processes that vanish while being read are skipped).
pub(super) fn processes() -> Vec<ProcStat> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| read_stat(pid).ok())
        .collect()
}

/// Returns the heap memory freed so far to the kernel (glibc's `malloc_trim`).
pub(super) fn return_free_memory() {
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointer.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Does any process, a zombie included, still have process group `pgid`? One `kill(-pgid,
/// 0)`: the cheap answer for the common case of a group that ended with its leader.
pub(super) fn group_exists(pgid: u32) -> bool {
    match signalable(pgid) {
        Ok(pgid) => !matches!(signal::killpg(pgid, None), Err(Errno::ESRCH)),
        Err(_) => true,
    }
}

/// The children of this process, from `/proc/self/task/*/children` (every thread's);
/// `None` when the kernel does not list them.
pub(super) fn own_children() -> Option<Vec<u32>> {
    let mut children = Vec::new();
    for task in fs::read_dir("/proc/self/task").ok()?.flatten() {
        // A thread that ended since the listing has no children to tell.
        let Ok(text) = fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        children.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    Some(children)
}

/// Processes of group `pgid` that have not exited (zombies do not count) and started no
/// earlier than `min_start_time`.
pub(super) fn live_group_members(pgid: u32, min_start_time: u64) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|p| p.pgrp == pgid && !p.is_zombie() && p.start_time >= min_start_time)
        .map(|p| p.pid)
        .collect()
}

/// The live descendants of `leader` (children, their children...) and the members of its
/// group, from one look at `/proc`; the leader itself excluded.
pub(super) fn descendants(all: &[ProcStat], leader: u32) -> Vec<ProcStat> {
    let mut children: std::collections::HashMap<u32, Vec<usize>> = std::collections::HashMap::new();
    for (i, p) in all.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut found = vec![false; all.len()];
    let mut stack = vec![leader];
    while let Some(pid) = stack.pop() {
        for &i in children.get(&pid).into_iter().flatten() {
            if !found[i] {
                found[i] = true;
                stack.push(all[i].pid);
            }
        }
    }
    all.iter()
        .zip(found)
        .filter(|(p, descends)| {
            (*descends || p.pgrp == leader) && p.pid != leader && !p.is_zombie()
        })
        .map(|(p, _)| p.clone())
        .collect()
}

/// A process's name (`/proc/<pid>/comm`), `?` when it cannot be read.
pub(super) fn name(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|n| n.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Our own start time, to let a later runner tell whether the one that wrote a record is
/// still alive.
pub(super) fn own_start_time() -> io::Result<u64> {
    read_stat(std::process::id()).map(|s| s.start_time)
}

/// A pid the runner may signal: not 0 (our group), not 1 (init), not out of range.
fn signalable(pid: u32) -> io::Result<Pid> {
    match i32::try_from(pid) {
        Ok(raw) if raw > 1 => Ok(Pid::from_raw(raw)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal pid {pid}"),
        )),
    }
}

/// Sends `sig` to every process of group `pgid`. `Ok(false)` when the group is empty
/// (ESRCH). Refuses our own process group.
pub(super) fn signal_group(pgid: u32, sig: Signal) -> io::Result<bool> {
    let pgid = signalable(pgid)?;
    if pgid == unistd::getpgrp() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to signal our own process group {pgid}"),
        ));
    }
    match signal::killpg(pgid, sig) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Sends `sig` to one process. `Ok(false)` when it does not exist (ESRCH).
pub(super) fn signal_process(pid: u32, sig: Signal) -> io::Result<bool> {
    let pid = signalable(pid)?;
    match signal::kill(pid, sig) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// What a non-reaping look at a child says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LeaderState {
    Running,
    /// Exited and not yet reaped: the pid (and so the group id) cannot be reused yet.
    Exited,
    /// Not our child any more (someone else reaped it): its pid may already be reused.
    Lost,
}

/// Looks at child `pid` without reaping it (`waitid(WEXITED | WNOHANG | WNOWAIT)`).
pub(super) fn leader_state(pid: u32) -> LeaderState {
    let Ok(pid) = signalable(pid) else {
        return LeaderState::Lost;
    };
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(pid), flags) {
        Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => LeaderState::Exited,
        Ok(_) => LeaderState::Running,
        Err(Errno::ECHILD) => LeaderState::Lost,
        Err(_) => LeaderState::Running,
    }
}

/// What reaping one specific child gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reap {
    Reaped,
    StillRunning,
    NotOurChild,
}

/// Reaps exactly `pid` if it has exited (`waitpid(pid, WNOHANG)`). Never `waitpid(-1)`:
/// that would steal the exit status of tokio's children.
pub(super) fn reap(pid: u32) -> Reap {
    let Ok(pid) = signalable(pid) else {
        return Reap::NotOurChild;
    };
    match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::StillAlive) => Reap::StillRunning,
        Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)) => Reap::Reaped,
        // Stopped or continued: still there.
        Ok(_) => Reap::StillRunning,
        Err(Errno::ECHILD) => Reap::NotOurChild,
        Err(_) => Reap::StillRunning,
    }
}

/// Run in the child between fork and exec: ask for SIGKILL when the parent thread
/// exits, and give up if the parent already died before the request was made.
///
/// Only async-signal-safe calls (two syscalls, no allocation).
pub(super) fn arm_parent_death_signal(parent: Pid) -> io::Result<()> {
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    if unistd::getppid() != parent {
        return Err(Errno::ESRCH.into());
    }
    Ok(())
}

pub(super) fn set_child_subreaper() -> io::Result<()> {
    prctl::set_child_subreaper(true).map_err(io::Error::from)
}

pub(super) fn is_child_subreaper() -> bool {
    prctl::get_child_subreaper().unwrap_or(false)
}

#[cfg(test)]
pub(super) fn clear_child_subreaper() -> io::Result<()> {
    prctl::set_child_subreaper(false).map_err(io::Error::from)
}
