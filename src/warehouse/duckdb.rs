//! The embedded warehouse: a DuckDB file, one schema per dataset.
//!
//! DuckDB admits one read-write process per file, and while one holds it no other
//! process can open it at all. So every process opens the file for as short a time as
//! it can, and waits with bounded retries and backoff when it is busy.

use duckdb::types::{TimeUnit, ValueRef};
use duckdb::{AccessMode, Config, Connection};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Layout, Rows, Value, Warehouse};
use crate::catalog::TableName;
use crate::error::Error;
use crate::sql::{Dialect, Param, Query, RenderedQuery};

/// How long a process waits for a busy warehouse file before it gives up.
pub const DEFAULT_BUSY_WAIT: Duration = Duration::from_secs(60);

pub struct DuckDbWarehouse {
    path: PathBuf,
    conn: Connection,
    queries: usize,
    // Dropped after `conn` (fields drop in order): the file is closed before the next
    // opener in this process gets its turn.
    _turn: Option<MutexGuard<'static, ()>>,
}

/// DuckDB's file lock is per process, so it cannot keep two connections of one process
/// apart (the runner verifies one pair while it resets breakers of another): within a
/// process, openers take turns on this lock as processes take turns on the file.
static TURN: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DuckDbWarehouse {
    /// Opens an existing file read-only (never creates one).
    pub fn open_read_only(path: &Path) -> Result<Self, Error> {
        let turn = take_turn();
        let conn = open_existing(path, AccessMode::ReadOnly, busy_wait())?;
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            queries: 0,
            _turn: Some(turn),
        })
    }

    /// Opens an existing file for writing (never creates one).
    pub fn open_read_write(path: &Path) -> Result<Self, Error> {
        let turn = take_turn();
        let conn = open_existing(path, AccessMode::ReadWrite, busy_wait())?;
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            queries: 0,
            _turn: Some(turn),
        })
    }

    /// Wraps a connection made elsewhere (the seed builds a new file).
    pub fn from_connection(path: &Path, conn: Connection) -> Self {
        Self {
            path: path.to_path_buf(),
            conn,
            queries: 0,
            _turn: None,
        }
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Runs a statement that returns no rows (processors' writes).
    pub fn execute(&mut self, query: &Query) -> Result<usize, Error> {
        let rendered = query.render(&Dialect::DuckDb).map_err(Error::config)?;
        self.queries += 1;
        execute_rendered(&self.conn, &rendered)
    }
}

/// The wait for a busy file; `PHASE4_BUSY_WAIT` (humantime, e.g. `5s`) overrides it.
fn busy_wait() -> Duration {
    std::env::var("PHASE4_BUSY_WAIT")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .unwrap_or(DEFAULT_BUSY_WAIT)
}

fn open_existing(path: &Path, mode: AccessMode, wait: Duration) -> Result<Connection, Error> {
    if !path.exists() {
        return Err(Error::WarehouseUnavailable(format!(
            "warehouse {} does not exist: create it with `phase4-check seed --warehouse duckdb:{}` or name another with --warehouse duckdb:PATH",
            path.display(),
            path.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::WarehouseUnavailable(format!(
            "warehouse {} is a directory, not a DuckDB file",
            path.display()
        )));
    }
    let deadline = Instant::now() + wait;
    let mut backoff = Duration::from_millis(20);
    loop {
        let config = Config::default()
            .access_mode(clone_mode(&mode))
            .and_then(|c| c.enable_autoload_extension(false))
            .map_err(|e| Error::WarehouseUnavailable(format!("cannot configure DuckDB: {e}")))?;
        match Connection::open_with_flags(path, config) {
            Ok(conn) => return Ok(conn),
            Err(e) => {
                let message = one_line(&e.to_string());
                let busy =
                    message.contains("Conflicting lock") || message.contains("Could not set lock");
                if busy && Instant::now() < deadline {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                    continue;
                }
                if busy {
                    return Err(Error::WarehouseUnavailable(format!(
                        "warehouse {} is busy: another process holds it{} (waited {}s); DuckDB admits one writer at a time, try again when it is done",
                        path.display(),
                        holder(&message)
                            .map(|h| format!(" ({h})"))
                            .unwrap_or_default(),
                        wait.as_secs()
                    )));
                }
                return Err(Error::WarehouseUnavailable(format!(
                    "cannot open warehouse {}: {message}",
                    path.display()
                )));
            }
        }
    }
}

fn clone_mode(mode: &AccessMode) -> AccessMode {
    match mode {
        AccessMode::ReadOnly => AccessMode::ReadOnly,
        AccessMode::ReadWrite => AccessMode::ReadWrite,
        AccessMode::Automatic => AccessMode::Automatic,
    }
}

/// "PID 1234" out of DuckDB's lock message, when it names one.
fn holder(message: &str) -> Option<String> {
    let start = message.find("PID ")?;
    let digits: String = message[start + 4..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    (!digits.is_empty()).then(|| format!("PID {digits}"))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn to_sql_values(rendered: &RenderedQuery) -> Vec<duckdb::types::Value> {
    rendered
        .params
        .iter()
        .map(|(_, p)| match p {
            Param::Date(d) => duckdb::types::Value::Date32(
                (*d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
                    as i32,
            ),
            Param::Text(t) => duckdb::types::Value::Text(t.clone()),
            Param::Int(i) => duckdb::types::Value::BigInt(*i),
            Param::Timestamp(t) => duckdb::types::Value::Timestamp(
                TimeUnit::Microsecond,
                t.and_utc().timestamp_micros(),
            ),
        })
        .collect()
}

fn query_failed(name: &str, e: impl std::fmt::Display) -> Error {
    Error::QueryFailed(format!("query {name} failed: {}", one_line(&e.to_string())))
}

pub(crate) fn execute_rendered(
    conn: &Connection,
    rendered: &RenderedQuery,
) -> Result<usize, Error> {
    let values = to_sql_values(rendered);
    let mut stmt = conn
        .prepare(&rendered.sql)
        .map_err(|e| query_failed(rendered.name, e))?;
    stmt.execute(duckdb::params_from_iter(values.iter()))
        .map_err(|e| query_failed(rendered.name, e))
}

pub(crate) fn query_rendered(conn: &Connection, rendered: &RenderedQuery) -> Result<Rows, Error> {
    let values = to_sql_values(rendered);
    let mut stmt = conn
        .prepare(&rendered.sql)
        .map_err(|e| query_failed(rendered.name, e))?;
    let mut rows = stmt
        .query(duckdb::params_from_iter(values.iter()))
        .map_err(|e| query_failed(rendered.name, e))?;
    let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
    let mut out = Rows {
        columns: columns.clone(),
        rows: Vec::new(),
    };
    while let Some(row) = rows.next().map_err(|e| query_failed(rendered.name, e))? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            let v = row.get_ref(i).map_err(|e| query_failed(rendered.name, e))?;
            values.push(convert(v));
        }
        out.rows.push(values);
    }
    Ok(out)
}

fn convert(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Boolean(b) => Value::Bool(b),
        ValueRef::TinyInt(i) => Value::Int(i.into()),
        ValueRef::SmallInt(i) => Value::Int(i.into()),
        ValueRef::Int(i) => Value::Int(i.into()),
        ValueRef::BigInt(i) => Value::Int(i),
        ValueRef::HugeInt(i) => Value::Int(i as i64),
        ValueRef::UHugeInt(i) => Value::Int(i as i64),
        ValueRef::UTinyInt(i) => Value::Int(i.into()),
        ValueRef::USmallInt(i) => Value::Int(i.into()),
        ValueRef::UInt(i) => Value::Int(i.into()),
        ValueRef::UBigInt(i) => Value::Int(i as i64),
        ValueRef::Float(f) => Value::Float(f.into()),
        ValueRef::Double(f) => Value::Float(f),
        ValueRef::Decimal(d) => Value::Float(d.to_string().parse().unwrap_or(f64::NAN)),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Date32(days) => Value::Date(
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(days.into())))
                .unwrap_or_default(),
        ),
        ValueRef::Timestamp(unit, v) => Value::Int(match unit {
            TimeUnit::Second => v * 1_000_000,
            TimeUnit::Millisecond => v * 1_000,
            TimeUnit::Microsecond => v,
            TimeUnit::Nanosecond => v / 1_000,
        }),
        other => Value::Text(format!("{other:?}")),
    }
}

impl Warehouse for DuckDbWarehouse {
    fn describe(&self) -> String {
        format!("duckdb:{}", self.path.display())
    }

    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }

    fn query(&mut self, query: &Query) -> Result<Rows, Error> {
        let rendered = query.render(&Dialect::DuckDb).map_err(Error::config)?;
        self.queries += 1;
        query_rendered(&self.conn, &rendered)
    }

    fn layout(&mut self, tables: &[TableName]) -> Result<Layout, Error> {
        let rows = self.query(
            &Query::new("layout_columns", crate::sql::text::LAYOUT_COLUMNS).columns_view("columns"),
        )?;
        super::layout_from_rows(&rows, tables, str::to_string)
    }

    fn queries_run(&self) -> usize {
        self.queries
    }
}
