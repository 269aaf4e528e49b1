//! The warehouse's repair lease: the local lock protects one state directory, the lease
//! one warehouse, whichever machines its operators run on. With `[repair] lease_table`
//! set, a run takes the lease's row with one conditional write (`sql/lease/take.sql`)
//! before it plans, renews its heartbeat while it runs, and frees it at the end. A second
//! run is refused naming the holder and its heartbeat's age; a lease whose heartbeat is
//! older than `lease_stale_after` is taken over, and so at once is one left by a dead run
//! of the same state directory on this very machine. Ages are by the warehouse's clock,
//! never a machine's.

use std::time::{Duration, Instant};

use crate::catalog::TableName;
use crate::error::Error;
use crate::sql::{Param, Query, text};
use crate::warehouse::{Access, ColumnType, Engine, Warehouse, verify_layout};

/// The lease's row: one per warehouse, whatever the range or processors of a run.
const LEASE_NAME: &str = "phase4-check repair";

/// The shortest `lease_stale_after`: four heartbeats must fit, each a statement.
pub const MIN_STALE_AFTER: Duration = Duration::from_secs(1);

/// `[repair] lease_table` and `lease_stale_after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    pub table: TableName,
    /// A heartbeat older than this is a dead run's: its lease is taken over.
    pub stale_after: Duration,
}

impl LeaseSettings {
    /// How often the holder renews: four heartbeats within the bound, so one or two
    /// slow statements never let the lease go stale.
    pub fn heartbeat_every(&self) -> Duration {
        self.stale_after / 4
    }
}

/// Who holds (or last held) the lease, as its row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The run's id; `None` when the lease is free.
    pub id: Option<String>,
    pub operator: String,
    pub host: String,
    /// The machine, pid namespace and state directory of the run (see [`Claimant`]).
    pub instance: String,
    pub pid: i64,
    pub plan: String,
    /// The heartbeat's age by the warehouse's clock.
    pub age: Duration,
}

impl Holder {
    /// `alice@build-7 (pid 4242, plan 3f2a9c01b2d4)`.
    pub fn describe(&self) -> String {
        format!(
            "{}@{} (pid {}, plan {})",
            self.operator,
            self.host,
            self.pid,
            self.plan.chars().take(12).collect::<String>()
        )
    }
}

/// The lease this run holds.
#[derive(Debug, Clone)]
pub struct Lease {
    settings: LeaseSettings,
    id: String,
    /// Who held it before this run took it over, if anyone did.
    pub took_over: Option<Holder>,
}

/// This process as it claims the lease.
struct Claimant {
    /// Unique to this run: a pid and a random number.
    id: String,
    operator: String,
    host: String,
    /// `boot id:pid namespace:state directory`: equal only for a run of the same state
    /// directory on this machine, in this pid namespace (a host name alone is shared by
    /// containers whose pids are not), so its pid can be checked here.
    instance: String,
    pid: i64,
}

impl Claimant {
    fn this_process(state_dir: &std::path::Path) -> Claimant {
        let pid = std::process::id();
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let pid_ns = std::fs::read_link("/proc/self/ns/pid")
            .map(|l| l.display().to_string())
            .unwrap_or_default();
        let dir = std::fs::canonicalize(state_dir)
            .or_else(|_| std::path::absolute(state_dir))
            .unwrap_or_else(|_| state_dir.to_path_buf());
        Claimant {
            id: format!("{pid}-{:016x}", rand::random::<u64>()),
            operator: nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into()),
            host: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_else(|| "unknown".into()),
            instance: format!("{}:{pid_ns}:{}", boot.trim(), dir.display()),
            pid: i64::from(pid),
        }
    }
}

fn lease_query(name: &'static str, template: &str, settings: &LeaseSettings) -> Query {
    Query::new(name, template)
        .table("lease", &settings.table)
        .param("lease", Param::Text(LEASE_NAME.into()))
}

fn take_statement(settings: &LeaseSettings, me: &Claimant, plan: &str, dead: &str) -> Query {
    lease_query("lease_take", text::LEASE_TAKE, settings)
        .param("holder", Param::Text(me.id.clone()))
        .param("operator", Param::Text(me.operator.clone()))
        .param("host", Param::Text(me.host.clone()))
        .param("instance", Param::Text(me.instance.clone()))
        .param("pid", Param::Int(me.pid))
        .param("plan", Param::Text(plan.into()))
        .param("dead_holder", Param::Text(dead.into()))
        .param(
            "stale_us",
            Param::Int(i64::try_from(settings.stale_after.as_micros()).unwrap_or(i64::MAX)),
        )
}

fn renew_statement(settings: &LeaseSettings, id: &str) -> Query {
    lease_query("lease_renew", text::LEASE_RENEW, settings).param("holder", Param::Text(id.into()))
}

fn release_statement(settings: &LeaseSettings, id: &str) -> Query {
    lease_query("lease_release", text::LEASE_RELEASE, settings)
        .param("holder", Param::Text(id.into()))
}

/// The lease table's columns, as `sql/lease/create.sql` makes them.
fn lease_layout(settings: &LeaseSettings) -> crate::warehouse::RequiredLayout {
    use ColumnType::{Integer, Text};
    let columns = [
        ("lease_name", Text),
        ("holder", Text),
        ("operator", Text),
        ("host", Text),
        ("instance", Text),
        ("pid", Integer),
        ("plan_fingerprint", Text),
        ("acquired_us", Integer),
        ("heartbeat_us", Integer),
    ];
    vec![(
        settings.table.clone(),
        columns.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
    )]
}

/// The lease's holder, or its last one; `None` before anyone took it.
fn holder(wh: &mut dyn Warehouse, settings: &LeaseSettings) -> Result<Option<Holder>, Error> {
    let rows = wh.query(&lease_query("lease_holder", text::LEASE_HOLDER, settings))?;
    let Some(row) = rows.iter().next() else {
        return Ok(None);
    };
    let id = row.text("holder")?;
    Ok(Some(Holder {
        id: (!id.is_empty()).then_some(id),
        operator: row.text("operator")?,
        host: row.text("host")?,
        instance: row.text("instance")?,
        pid: row.int("pid")?,
        plan: row.text("plan_fingerprint")?,
        age: Duration::from_micros(u64::try_from(row.int("age_us")?).unwrap_or(0)),
    }))
}

/// `12s`, `3m 4s`: an age as people read it.
fn age_text(age: Duration) -> String {
    humantime::format_duration(Duration::from_secs(age.as_secs())).to_string()
}

/// BigQuery runs concurrent UPDATEs of one table one after another, and may fail the
/// loser of a race with this: the lease is then someone else's.
fn lost_a_race(e: &Error) -> bool {
    e.to_string().contains("concurrent update")
}

impl Lease {
    /// Takes the lease for a run of `plan` (the request's fingerprint) from
    /// `state_dir`, creating its table and row on first use; refused (exit 2) while
    /// another live run holds it.
    pub fn take(
        engine: &dyn Engine,
        settings: &LeaseSettings,
        plan: &str,
        state_dir: &std::path::Path,
    ) -> Result<Lease, Error> {
        let me = Claimant::this_process(state_dir);
        let mut wh = engine.session(Access::Write)?;
        let created = wh.execute(
            &Query::new("lease_create", text::LEASE_CREATE).table("lease", &settings.table),
        );
        // Its dataset missing, or a table of that name with other columns: the layout
        // check names it (exit 2).
        verify_layout(wh.as_mut(), &lease_layout(settings))?;
        created?;
        wh.execute(&lease_query("lease_row", text::LEASE_ROW, settings))?;
        let before = holder(wh.as_mut(), settings)?;
        let held = before.as_ref().filter(|h| h.id.is_some());
        // A dead run of this very state directory holds nothing: taken over at once (it
        // is the one this run resumes, and the pre-flight ends what it left running).
        let dead = held
            .filter(|h| {
                h.instance == me.instance
                    && !u32::try_from(h.pid).is_ok_and(super::checkpoint::process_alive)
            })
            .and_then(|h| h.id.clone())
            .unwrap_or_default();
        let taken = match wh.execute(&take_statement(settings, &me, plan, &dead)) {
            Err(e) if lost_a_race(&e) => 0,
            other => other?,
        };
        if taken == 0 {
            let now = holder(wh.as_mut(), settings)?.or(before);
            let who = now
                .as_ref()
                .map(|h| format!("{}, its heartbeat {} old", h.describe(), age_text(h.age)))
                .unwrap_or_else(|| "another run".into());
            return Err(Error::usage(format!(
                "the repair lease of this warehouse ({}) is held by {who}: another repair is running on it; wait for it to end, or for its heartbeat to be older than {} (then it is taken over)",
                settings.table,
                age_text(settings.stale_after)
            )));
        }
        Ok(Lease {
            settings: settings.clone(),
            id: me.id,
            took_over: held.cloned(),
        })
    }

    /// Renews the heartbeat; `false` when another run has taken the lease over.
    pub fn renew(&self, engine: &dyn Engine) -> Result<bool, Error> {
        let mut wh = engine.session(Access::Write)?;
        Ok(wh.execute(&renew_statement(&self.settings, &self.id))? > 0)
    }

    /// Frees the lease (if this run still holds it), waiting at most `limit`: a
    /// warehouse that does not answer leaves it to go stale, and the run ends anyway.
    pub fn release_within(
        &self,
        engine: std::sync::Arc<dyn Engine>,
        limit: Duration,
    ) -> Result<(), Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        let statement = release_statement(&self.settings, &self.id);
        std::thread::spawn(move || {
            let freed = engine
                .session(Access::Write)
                .and_then(|mut wh| wh.execute(&statement));
            let _ = tx.send(freed);
        });
        match rx.recv_timeout(limit) {
            Ok(freed) => freed.map(|_| ()),
            Err(_) => Err(Error::WarehouseUnavailable(format!(
                "no answer within {}",
                humantime::format_duration(limit)
            ))),
        }
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// Why this run took the lease over, for a note: `took over the repair lease of
    /// alice@build-7 (pid 4242, plan ...), its heartbeat 12m old`.
    pub fn takeover_note(&self) -> Option<String> {
        self.took_over.as_ref().map(|h| {
            format!(
                "took over the repair lease of {}, its heartbeat {} old",
                h.describe(),
                age_text(h.age)
            )
        })
    }
}

/// What the heartbeat task decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Heartbeat {
    /// Renewed; the run goes on.
    Held,
    /// Another run took the lease over.
    Lost,
    /// No renewal succeeded for longer than the bound: another run may have taken it.
    Silent,
}

/// The heartbeat's bookkeeping: one renewal in flight at a time, and the start of the
/// last one that succeeded.
pub struct Renewals {
    stale_after: Duration,
    last_held: Instant,
}

impl Renewals {
    pub fn new(stale_after: Duration) -> Renewals {
        Renewals {
            stale_after,
            last_held: Instant::now(),
        }
    }

    /// A renewal that started at `started` ended with `result`.
    pub fn ended(&mut self, started: Instant, result: &Result<bool, Error>) -> Heartbeat {
        match result {
            Ok(true) => {
                self.last_held = self.last_held.max(started);
                Heartbeat::Held
            }
            Ok(false) => Heartbeat::Lost,
            Err(_) => self.check(),
        }
    }

    /// `Silent` once the last renewal that held is older than the bound.
    pub fn check(&self) -> Heartbeat {
        if self.last_held.elapsed() > self.stale_after {
            Heartbeat::Silent
        } else {
            Heartbeat::Held
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heartbeat_comes_four_times_within_the_bound() {
        let s = LeaseSettings {
            table: TableName::parse("nba_processing.phase4_repair_lease").unwrap(),
            stale_after: Duration::from_secs(600),
        };
        assert_eq!(s.heartbeat_every(), Duration::from_secs(150));
    }

    #[test]
    fn every_lease_statement_parses_as_bigquery_and_as_duckdb_sql() {
        use crate::warehouse::bigquery::{BigQueryDialect, DatasetNames};
        let settings = LeaseSettings {
            table: TableName::parse("nba_processing.phase4_repair_lease").unwrap(),
            stale_after: Duration::from_secs(60),
        };
        let me = Claimant::this_process(std::path::Path::new(".phase4"));
        let statements = [
            Query::new("lease_create", text::LEASE_CREATE).table("lease", &settings.table),
            lease_query("lease_row", text::LEASE_ROW, &settings),
            lease_query("lease_holder", text::LEASE_HOLDER, &settings),
            take_statement(&settings, &me, "plan", ""),
            renew_statement(&settings, &me.id),
            release_statement(&settings, &me.id),
        ];
        let bigquery = BigQueryDialect {
            project: "my-project".into(),
            location: "US".into(),
            datasets: DatasetNames::default(),
        };
        for q in &statements {
            let r = q.render(&bigquery).unwrap();
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::BigQueryDialect {}, &r.sql)
                .unwrap_or_else(|e| panic!("{} is not BigQuery SQL: {e}\n{}", r.name, r.sql));
            assert!(
                r.sql
                    .contains("`my-project.nba_processing.phase4_repair_lease`")
            );
            let r = q.render(&crate::warehouse::duckdb::DuckDbDialect).unwrap();
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::DuckDbDialect {}, &r.sql)
                .unwrap_or_else(|e| panic!("{} is not DuckDB SQL: {e}\n{}", r.name, r.sql));
        }
    }

    #[test]
    fn a_silent_heartbeat_is_noticed_after_the_bound_and_a_lost_one_at_once() {
        let mut r = Renewals::new(Duration::from_millis(200));
        let start = Instant::now();
        assert_eq!(r.ended(start, &Ok(true)), Heartbeat::Held);
        let failed: Result<bool, Error> = Err(Error::QueryFailed("no answer".into()));
        assert_eq!(r.ended(start, &failed), Heartbeat::Held);
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(r.check(), Heartbeat::Silent);
        assert_eq!(r.ended(start, &failed), Heartbeat::Silent);
        // A renewal that started before the last one held does not move it back.
        assert_eq!(r.ended(Instant::now(), &Ok(true)), Heartbeat::Held);
        assert_eq!(r.check(), Heartbeat::Held);
        assert_eq!(r.ended(start, &Ok(false)), Heartbeat::Lost);
    }

    #[test]
    fn two_state_directories_are_two_instances_and_one_is_one() {
        let a = Claimant::this_process(std::path::Path::new("/tmp/a"));
        let b = Claimant::this_process(std::path::Path::new("/tmp/b"));
        let a2 = Claimant::this_process(std::path::Path::new("/tmp/a"));
        assert_ne!(a.instance, b.instance);
        assert_eq!(a.instance, a2.instance);
        assert_ne!(a.id, a2.id, "every run has an id of its own");
    }
}
