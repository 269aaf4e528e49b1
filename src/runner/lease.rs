//! The warehouse's repair lease: the local lock protects one state directory, the lease
//! one warehouse, whichever machines its operators run on. With `[repair] lease_table`
//! set, a run takes the lease's row with one conditional write (`sql/lease/take.sql`),
//! renews its heartbeat while it runs, and frees it at the end; a second run is refused
//! naming the holder and its heartbeat's age, and takes over a lease whose heartbeat is
//! older than `lease_stale_after` (or whose holder, on this host, is dead). Every time is
//! the warehouse's clock, never a machine's.

use std::time::Duration;

use crate::catalog::TableName;
use crate::error::Error;
use crate::sql::{Param, Query, text};
use crate::warehouse::{Access, Engine, Warehouse};

/// The lease's row: one per warehouse, whatever the range or processors of a run.
const LEASE_NAME: &str = "phase4-check repair";

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
        (self.stale_after / 4).max(Duration::from_millis(100))
    }
}

/// Who holds (or last held) the lease, as its row says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The run's id; `None` when the lease is free.
    pub id: Option<String>,
    pub operator: String,
    pub host: String,
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

/// This process as a lease holder.
struct Me {
    id: String,
    operator: String,
    host: String,
    pid: i64,
}

impl Me {
    fn now() -> Me {
        let pid = std::process::id();
        Me {
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
            pid: i64::from(pid),
        }
    }
}

fn statement(name: &'static str, template: &str, settings: &LeaseSettings) -> Query {
    Query::new(name, template)
        .table("lease", &settings.table)
        .param("lease", Param::Text(LEASE_NAME.into()))
}

fn take_statement(settings: &LeaseSettings, me: &Me, plan: &str, dead: &str) -> Query {
    statement("lease_take", text::LEASE_TAKE, settings)
        .param("holder", Param::Text(me.id.clone()))
        .param("operator", Param::Text(me.operator.clone()))
        .param("host", Param::Text(me.host.clone()))
        .param("pid", Param::Int(me.pid))
        .param("plan", Param::Text(plan.into()))
        .param("dead_holder", Param::Text(dead.into()))
        .param(
            "stale_us",
            Param::Int(i64::try_from(settings.stale_after.as_micros()).unwrap_or(i64::MAX)),
        )
}

fn renew_statement(settings: &LeaseSettings, id: &str) -> Query {
    statement("lease_renew", text::LEASE_RENEW, settings).param("holder", Param::Text(id.into()))
}

/// The lease's holder, or its last one; `None` before anyone took it.
fn holder(wh: &mut dyn Warehouse, settings: &LeaseSettings) -> Result<Option<Holder>, Error> {
    let rows = wh.query(&statement("lease_holder", text::LEASE_HOLDER, settings))?;
    let Some(row) = rows.iter().next() else {
        return Ok(None);
    };
    let id = row.text("holder")?;
    Ok(Some(Holder {
        id: (!id.is_empty()).then_some(id),
        operator: row.text("operator")?,
        host: row.text("host")?,
        pid: row.int("pid")?,
        plan: row.text("plan_fingerprint")?,
        age: Duration::from_micros(u64::try_from(row.int("age_us")?).unwrap_or(0)),
    }))
}

/// Is `pid` a live process of this host?
fn alive(pid: i64) -> bool {
    // Never 0 or a negative number: kill(2) would address groups, or everything.
    let Some(pid) = i32::try_from(pid).ok().filter(|&p| p > 0) else {
        return false;
    };
    // EPERM: it lives, as another user's.
    !matches!(
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// `12s`, `3m 4s`: an age as people read it.
fn age_text(age: Duration) -> String {
    humantime::format_duration(Duration::from_secs(age.as_secs())).to_string()
}

impl Lease {
    /// Takes the lease for a run of `plan` (the checkpoint's fingerprint), creating its
    /// table and row on first use; refused (exit 2) while another live run holds it.
    pub fn take(engine: &dyn Engine, settings: &LeaseSettings, plan: &str) -> Result<Lease, Error> {
        let me = Me::now();
        let mut wh = engine.session(Access::Write)?;
        wh.execute(
            &Query::new("lease_create", text::LEASE_CREATE).table("lease", &settings.table),
        )?;
        wh.execute(&statement("lease_row", text::LEASE_ROW, settings))?;
        let before = holder(wh.as_mut(), settings)?;
        let held = before.as_ref().filter(|h| h.id.is_some());
        // A run of this host whose process is gone holds nothing: taken over at once.
        let dead = held
            .filter(|h| h.host == me.host && !alive(h.pid))
            .and_then(|h| h.id.clone())
            .unwrap_or_default();
        let taken = wh.execute(&take_statement(settings, &me, plan, &dead))?;
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

    /// Frees the lease (if this run still holds it).
    pub fn release(&self, engine: &dyn Engine) -> Result<(), Error> {
        let mut wh = engine.session(Access::Write)?;
        wh.execute(
            &statement("lease_release", text::LEASE_RELEASE, &self.settings)
                .param("holder", Param::Text(self.id.clone())),
        )?;
        Ok(())
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
        let me = Me::now();
        let statements = [
            Query::new("lease_create", text::LEASE_CREATE).table("lease", &settings.table),
            statement("lease_row", text::LEASE_ROW, &settings),
            statement("lease_holder", text::LEASE_HOLDER, &settings),
            take_statement(&settings, &me, "plan", ""),
            renew_statement(&settings, &me.id),
            statement("lease_release", text::LEASE_RELEASE, &settings)
                .param("holder", Param::Text(me.id.clone())),
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
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(alive(i64::from(std::process::id())));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i64::from(child.id());
        child.wait().unwrap();
        assert!(!alive(pid));
        assert!(!alive(-1) && !alive(i64::MAX));
    }
}
