//! One cgroup v2 per invocation: a process can leave its process group (`setsid`, a
//! daemon's double fork) but not its cgroup, so ending the cgroup (`cgroup.kill`) ends
//! everything the invocation started, and a later run can end what a killed runner left.
//!
//! Each cgroup is a child of the runner's own cgroup, named
//! `phase4-check-<runner pid>-<runner start time>-<n>`: a later runner tells the
//! cgroups of a dead runner by that name.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::signal::Signal;

use super::os;

const PREFIX: &str = "phase4-check-";

/// The runner's own cgroup, where it may create one cgroup per invocation.
#[derive(Debug)]
pub(super) struct CgroupRoot {
    dir: PathBuf,
    /// `<runner pid>-<runner start time>`.
    runner: String,
    next: AtomicU64,
}

impl CgroupRoot {
    /// Finds the cgroup v2 directory of this process and checks, with a real process,
    /// that a child cgroup with `cgroup.kill` can be made there and joined; the reason
    /// why not, otherwise.
    pub fn discover() -> Result<CgroupRoot, String> {
        let mount = cgroup2_mount().ok_or("no cgroup v2 hierarchy is mounted")?;
        let own = own_cgroup().ok_or("this process has no cgroup v2 path")?;
        let dir = mount.join(own.trim_start_matches('/'));
        let start = os::own_start_time().map_err(|e| e.to_string())?;
        remove_stale_probes(&dir);
        let probe = Cgroup {
            dir: dir.join(format!("{PREFIX}probe-{}-{start}", std::process::id())),
        };
        fs::create_dir(probe.dir())
            .map_err(|e| format!("cannot create a cgroup in {}: {e}", dir.display()))?;
        let usable = if probe.dir().join("cgroup.kill").exists() {
            probe.admits_a_process().map_err(|e| {
                format!(
                    "cannot move a process into a cgroup in {}: {e}",
                    dir.display()
                )
            })
        } else {
            Err(format!(
                "the cgroups of {} have no cgroup.kill (it needs Linux 5.14)",
                dir.display()
            ))
        };
        let _ = probe.remove();
        usable?;
        Ok(CgroupRoot {
            dir,
            runner: format!("{}-{start}", std::process::id()),
            next: AtomicU64::new(0),
        })
    }

    /// A new, empty cgroup for one invocation.
    pub fn create(&self) -> io::Result<Cgroup> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("{PREFIX}{}-{n}", self.runner));
        fs::create_dir(&dir)?;
        Ok(Cgroup { dir })
    }

    /// The cgroups of runners that are not alive any more (SIGKILLed, or ended with the
    /// machine's session), with whatever their invocations left running.
    pub fn leftovers(&self) -> Vec<Cgroup> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let mut parts = name.strip_prefix(PREFIX)?.split('-');
                let pid: u32 = parts.next()?.parse().ok()?;
                let start: u64 = parts.next()?.parse().ok()?;
                parts.next()?.parse::<u64>().ok()?;
                let alive =
                    os::read_stat(pid).is_ok_and(|s| s.start_time == start && !s.is_zombie());
                (!alive).then(|| Cgroup { dir: entry.path() })
            })
            .collect()
    }
}

/// Removes the probe cgroups of runners killed while they probed (empty ones only: the
/// kernel refuses to remove a populated cgroup).
fn remove_stale_probes(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some((pid, start)) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.strip_prefix("probe-"))
            .and_then(|rest| rest.split_once('-'))
        else {
            continue;
        };
        let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
            continue;
        };
        let alive = os::read_stat(pid).is_ok_and(|s| s.start_time == start && !s.is_zombie());
        if !alive {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// The cgroup of one invocation.
#[derive(Debug)]
pub(super) struct Cgroup {
    dir: PathBuf,
}

impl Cgroup {
    /// Starts a short-lived process that joins this cgroup before it execs (this very
    /// program, printing its version) and waits for it: joining can fail where creating
    /// succeeds (no write access to the common ancestor's `cgroup.procs`, a pids limit).
    fn admits_a_process(&self) -> io::Result<()> {
        use std::os::unix::process::CommandExt;
        let procs = self.procs()?;
        let fd = raw(&procs);
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: `join` only makes async-signal-safe calls (getpid, write).
        unsafe {
            command.pre_exec(move || join(fd));
        }
        command.spawn()?.wait()?;
        Ok(())
    }

    /// The cgroup of a record (a later run ends a dead runner's invocation by it).
    pub fn at(dir: &Path) -> Cgroup {
        Cgroup {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `cgroup.procs`, opened for the child to move itself in before it execs.
    pub fn procs(&self) -> io::Result<File> {
        File::options()
            .write(true)
            .open(self.dir.join("cgroup.procs"))
    }

    /// The processes in it now.
    pub fn members(&self) -> Vec<u32> {
        let mut text = String::new();
        let read =
            File::open(self.dir.join("cgroup.procs")).and_then(|mut f| f.read_to_string(&mut text));
        if read.is_err() {
            return Vec::new();
        }
        text.lines().filter_map(|l| l.trim().parse().ok()).collect()
    }

    /// Sends `sig` to every process in it.
    pub fn signal(&self, sig: Signal) {
        for pid in self.members() {
            let _ = os::signal_process(pid, sig);
        }
    }

    /// Kills every process in it, and every one that would join it while that happens.
    pub fn kill(&self) -> io::Result<()> {
        File::options()
            .write(true)
            .open(self.dir.join("cgroup.kill"))
            .and_then(|mut f| f.write_all(b"1"))
    }

    /// Does any process live in it?
    pub fn is_populated(&self) -> bool {
        fs::read_to_string(self.dir.join("cgroup.events"))
            .map(|events| events.lines().any(|l| l.trim() == "populated 1"))
            .unwrap_or(false)
    }

    /// Removes the (empty) cgroup; a cgroup already gone is fine.
    pub fn remove(&self) -> io::Result<()> {
        match fs::remove_dir(&self.dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// Refuses a recorded cgroup that is not one a runner made: it must be a directory of
/// the cgroup v2 hierarchy named `phase4-check-<pid>-<start>-<n>` after the record's
/// own runner. A record pointing anywhere else would have every process there signalled.
pub(super) fn check_recorded(
    dir: &Path,
    runner_pid: Option<u32>,
    runner_start: Option<u64>,
) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("cgroup {} {why}", dir.display()));
    let (Some(pid), Some(start)) = (runner_pid, runner_start) else {
        return refuse("is named without the runner that made it");
    };
    if !dir.is_absolute()
        || dir.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::RootDir
            )
        })
    {
        return refuse("is not a plain absolute path");
    }
    match cgroup2_mount() {
        Some(mount) if dir.starts_with(&mount) && dir != mount => {}
        _ => return refuse("is not in the cgroup v2 hierarchy"),
    }
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let expected = format!("{PREFIX}{pid}-{start}-");
    match name.strip_prefix(&expected) {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => refuse(&format!("is not named {expected}<n> after its runner")),
    }
}

/// Run in the child between fork and exec: moves the calling process into the cgroup
/// whose `cgroup.procs` is open as `procs`. Only async-signal-safe calls (getpid, write),
/// no allocation.
pub(super) fn join(procs: RawFd) -> io::Result<()> {
    let mut digits = [0u8; 20];
    let mut n = nix::unistd::getpid().as_raw() as u32;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // SAFETY: the parent keeps the file open until the spawn has returned.
    let fd = unsafe { BorrowedFd::borrow_raw(procs) };
    nix::unistd::write(fd, &digits[at..])?;
    Ok(())
}

/// The raw descriptor of an open `cgroup.procs`, for [`join`].
pub(super) fn raw(procs: &File) -> RawFd {
    procs.as_raw_fd()
}

/// Where the cgroup v2 hierarchy is mounted (`/sys/fs/cgroup`, or `.../unified` on a
/// hybrid system).
pub(super) fn cgroup2_mount() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        let (before, after) = line.split_once(" - ")?;
        let fstype = after.split_whitespace().next()?;
        let mount_point = before.split_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(mount_point))
    })
}

/// This process's path in the cgroup v2 hierarchy (`0::/path` in /proc/self/cgroup).
fn own_cgroup() -> Option<String> {
    let text = fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_of_dead_runners_are_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let me = format!(
            "{PREFIX}probe-{}-{}",
            std::process::id(),
            os::own_start_time().unwrap()
        );
        let dead = format!("{PREFIX}probe-{}-1", u32::MAX - 1);
        let reused = format!("{PREFIX}probe-{}-1", std::process::id());
        let other = format!("{PREFIX}7-8-0");
        for name in [&me, &dead, &reused, &other] {
            fs::create_dir(dir.path().join(name)).unwrap();
        }
        remove_stale_probes(dir.path());
        assert!(
            dir.path().join(&me).is_dir(),
            "a live runner's probe removed"
        );
        assert!(
            dir.path().join(&other).is_dir(),
            "an invocation's cgroup removed"
        );
        assert!(!dir.path().join(&dead).exists());
        assert!(
            !dir.path().join(&reused).exists(),
            "same pid, other process"
        );
    }
}
