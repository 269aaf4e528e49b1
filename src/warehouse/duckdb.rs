//! The embedded warehouse: a DuckDB file, one schema per dataset.
//!
//! DuckDB admits one read-write process per file, and while one holds it no other
//! process can open it at all. So every session opens the file for as short a time as
//! it can, and waits with bounded retries and backoff when it is busy.

use duckdb::types::{TimeUnit, ValueRef};
use duckdb::{AccessMode, Config, Connection};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Access, Capabilities, Engine, EngineOptions, Rows, Value, Warehouse};
use crate::catalog::TableName;
use crate::error::{Error, one_line};
use crate::settings::defaults;
use crate::settings::values::parse_duration;
use crate::sql::{Dialect, Function, Param, Query, RenderedQuery};

/// Where the embedded warehouse is and how long to wait for it when it is busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuckDbSettings {
    pub path: PathBuf,
    /// How long a session waits for a file another process holds.
    pub busy_wait: Duration,
}

impl Default for DuckDbSettings {
    fn default() -> Self {
        DuckDbSettings {
            path: PathBuf::from(defaults::WAREHOUSE_FILE),
            busy_wait: defaults::BUSY_WAIT,
        }
    }
}

impl DuckDbSettings {
    /// The settings of `duckdb:PATH`.
    pub fn from_spec(path: &str) -> Result<Self, Error> {
        if path.is_empty() {
            return Err(Error::usage(
                "--warehouse duckdb: needs a file path, e.g. duckdb:phase4.duckdb",
            ));
        }
        Ok(DuckDbSettings {
            path: PathBuf::from(path),
            ..Default::default()
        })
    }

    /// The busy wait from PHASE4_BUSY_WAIT; other engines' flags are refused.
    pub fn configure(mut self, options: &EngineOptions<'_>) -> Result<Self, Error> {
        options.refuse_others(&[], &format!("duckdb:{}", self.path.display()))?;
        if let Some(wait) = options.env.get(defaults::env::BUSY_WAIT) {
            self.busy_wait = parse_duration(defaults::env::BUSY_WAIT, wait)?;
        }
        Ok(self)
    }
}

/// SQL for DuckDB: a dataset is a schema, identifiers in double quotes, `$n` parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuckDbDialect;

impl Dialect for DuckDbDialect {
    fn table(&self, table: &TableName) -> String {
        format!("\"{}\".\"{}\"", table.dataset(), table.table())
    }

    fn column(&self, name: &str) -> String {
        format!("\"{name}\"")
    }

    fn columns_view(&self, _datasets: &[String]) -> String {
        // duckdb_columns() under information_schema's names: the same rows, planned in a
        // tenth of the time (information_schema.columns is a view over several catalogs).
        "(SELECT schema_name AS table_schema, table_name, column_name, data_type \
         FROM duckdb_columns() WHERE database_name = current_database())"
            .to_string()
    }

    fn placeholder(&self, _name: &str, index: usize) -> String {
        format!("${index}")
    }

    fn function(&self, function: Function) -> &'static str {
        match function {
            Function::UnixMicros => "epoch_us",
        }
    }

    fn row_hash(&self, columns: &[String]) -> String {
        // DuckDB's hash is variadic and takes every type (lists included), NULL too.
        format!("hash({})", columns.join(", "))
    }

    fn row_hash_kind(&self) -> String {
        // hash() is DuckDB's own and may change between its releases: name the release.
        format!("duckdb {} hash", library_version())
    }
}

/// The embedded engine: every session opens the file, and closes it when dropped.
pub struct DuckDbEngine {
    settings: DuckDbSettings,
}

impl DuckDbEngine {
    pub fn new(settings: DuckDbSettings) -> Self {
        DuckDbEngine { settings }
    }
}

impl Engine for DuckDbEngine {
    fn describe(&self) -> String {
        format!("duckdb:{}", self.settings.path.display())
    }

    fn locator(&self) -> String {
        let path = &self.settings.path;
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        format!("duckdb:{}", absolute.display())
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn session(&self, access: Access) -> Result<Box<dyn Warehouse + '_>, Error> {
        let mode = match access {
            Access::Read => AccessMode::ReadOnly,
            Access::Write => AccessMode::ReadWrite,
        };
        Ok(Box::new(DuckDbWarehouse::open(
            &self.settings.path,
            mode,
            self.settings.busy_wait,
        )?))
    }
}

const CAPABILITIES: Capabilities = Capabilities {
    can_write: true,
    can_dry_run: false,
};

/// A session: one open connection to the file.
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
/// process, sessions take turns on this lock as processes take turns on the file.
static TURN: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl DuckDbWarehouse {
    /// Opens an existing file (never creates one).
    fn open(path: &Path, mode: AccessMode, wait: Duration) -> Result<Self, Error> {
        let turn = take_turn();
        let conn = open_existing(path, mode, wait)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            queries: 0,
            _turn: Some(turn),
        })
    }

    /// Creates a new file (the seed builds one beside its target, which nobody else
    /// opens, so it takes no turn).
    pub(super) fn create(path: &Path) -> Result<Self, Error> {
        let conn = Connection::open(path).map_err(|e| {
            Error::WarehouseUnavailable(format!("cannot create warehouse {}: {e}", path.display()))
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            conn,
            queries: 0,
            _turn: None,
        })
    }
}

fn open_existing(path: &Path, mode: AccessMode, wait: Duration) -> Result<Connection, Error> {
    if !path.exists() {
        let missing_dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
            .map(|d| format!(" (directory {} does not exist either)", d.display()))
            .unwrap_or_default();
        return Err(Error::WarehouseUnavailable(format!(
            "warehouse {} does not exist{missing_dir}: create it with `phase4-check seed --warehouse duckdb:{}` or name another with --warehouse duckdb:PATH",
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
    if let Some(problem) = wal_problem(path) {
        return Err(Error::WarehouseUnavailable(problem));
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

/// A write-ahead log beside the file that is not DuckDB's: DuckDB would skip it without
/// a word (the writes it should hold lost), so the warehouse cannot be trusted.
///
/// Every WAL DuckDB writes starts with a serialized entry whose first field (id 100,
/// little endian) is the entry's type; a torn tail after a crash is DuckDB's to handle.
fn wal_problem(path: &Path) -> Option<String> {
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    let wal = PathBuf::from(wal);
    let mut head = Vec::with_capacity(3);
    std::fs::File::open(&wal)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 3), &mut head))
        .ok()?;
    // An entry type: 1..=100 (CREATE_TABLE .. WAL_FLUSH, WAL_VERSION is 98). Shorter
    // than a header it holds no entry: a torn first append, which DuckDB replays as empty.
    let refused = match head[..] {
        [first, second, entry] => !(first == 100 && second == 0 && (1..=100).contains(&entry)),
        _ => false,
    };
    refused.then(|| {
        format!(
            "warehouse {} has a write-ahead log {} that DuckDB cannot replay (it does not start like one): its writes would be lost without a word; move it away if it is not needed",
            path.display(),
            wal.display()
        )
    })
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

fn to_sql_value(value: &Value) -> duckdb::types::Value {
    match value {
        Value::Null => duckdb::types::Value::Null,
        Value::Bool(b) => duckdb::types::Value::Boolean(*b),
        Value::Int(i) => duckdb::types::Value::BigInt(*i),
        Value::Float(f) => duckdb::types::Value::Double(*f),
        Value::Text(t) => duckdb::types::Value::Text(t.clone()),
        Value::Date(d) => duckdb::types::Value::Date32(days_since_epoch(*d)),
    }
}

fn days_since_epoch(date: chrono::NaiveDate) -> i32 {
    (date - chrono::NaiveDate::default()).num_days() as i32
}

/// The parameters of `rendered`, in binding order, as DuckDB values.
pub fn to_sql_params(rendered: &RenderedQuery) -> Vec<duckdb::types::Value> {
    rendered
        .params
        .iter()
        .map(|(_, p)| match p {
            Param::Date(d) => duckdb::types::Value::Date32(days_since_epoch(*d)),
            Param::Text(t) => duckdb::types::Value::Text(t.clone()),
            Param::Int(i) => duckdb::types::Value::BigInt(*i),
            Param::Float(f) => duckdb::types::Value::Double(*f),
            Param::Timestamp(t) => duckdb::types::Value::Timestamp(
                TimeUnit::Microsecond,
                t.and_utc().timestamp_micros(),
            ),
        })
        .collect()
}

/// `-v`'s line for a query or statement: its name, its rows (returned or changed), its time.
fn log_timed(what: &str, name: &str, rows: u64, started: Instant) {
    tracing::info!(
        query = name,
        rows,
        ms = %format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
        "{what}"
    );
}

fn query_failed(name: &str, e: impl std::fmt::Display) -> Error {
    Error::QueryFailed(format!("query {name} failed: {}", one_line(&e.to_string())))
}

impl DuckDbWarehouse {
    /// The query rendered and prepared, with its parameters in binding order.
    fn prepare(
        &mut self,
        query: &Query,
    ) -> Result<(duckdb::Statement<'_>, Vec<duckdb::types::Value>), Error> {
        let rendered = query.render(&DuckDbDialect).map_err(Error::internal)?;
        self.queries += 1;
        let values = to_sql_params(&rendered);
        tracing::debug!(query = rendered.name, sql = %rendered.sql, params = ?values, "prepare");
        let stmt = self
            .conn
            .prepare(&rendered.sql)
            .map_err(|e| query_failed(rendered.name, e))?;
        Ok((stmt, values))
    }
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
            chrono::NaiveDate::default()
                .checked_add_signed(chrono::Duration::days(days.into()))
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

    fn dialect(&self) -> &dyn Dialect {
        &DuckDbDialect
    }

    fn query(&mut self, query: &Query) -> Result<Rows, Error> {
        let started = Instant::now();
        let (mut stmt, values) = self.prepare(query)?;
        let mut rows = stmt
            .query(duckdb::params_from_iter(values.iter()))
            .map_err(|e| query_failed(query.name, e))?;
        let columns = rows.as_ref().map(|s| s.column_names()).unwrap_or_default();
        let mut out = Rows {
            columns: columns.clone(),
            rows: Vec::new(),
        };
        while let Some(row) = rows.next().map_err(|e| query_failed(query.name, e))? {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                let v = row.get_ref(i).map_err(|e| query_failed(query.name, e))?;
                values.push(convert(v));
            }
            out.rows.push(values);
        }
        log_timed("duckdb query", query.name, out.rows.len() as u64, started);
        Ok(out)
    }

    fn queries_run(&self) -> usize {
        self.queries
    }

    fn execute(&mut self, query: &Query) -> Result<u64, Error> {
        let started = Instant::now();
        let (mut stmt, values) = self.prepare(query)?;
        let changed = stmt
            .execute(duckdb::params_from_iter(values.iter()))
            .map(|n| n as u64)
            .map_err(|e| query_failed(query.name, e))?;
        log_timed("duckdb statement", query.name, changed, started);
        Ok(changed)
    }

    fn run_script(&mut self, name: &'static str, script: &str) -> Result<(), Error> {
        self.queries += 1;
        self.conn
            .execute_batch(script)
            .map_err(|e| query_failed(name, e))
    }

    fn append(
        &mut self,
        table: &TableName,
        rows: &mut dyn Iterator<Item = Vec<Value>>,
    ) -> Result<u64, Error> {
        let failed = |e: duckdb::Error| {
            Error::QueryFailed(format!(
                "cannot append to {table}: {}",
                one_line(&e.to_string())
            ))
        };
        let mut appender = self
            .conn
            .appender_to_db(table.table(), table.dataset())
            .map_err(failed)?;
        let mut appended = 0;
        for row in rows {
            let values: Vec<duckdb::types::Value> = row.iter().map(to_sql_value).collect();
            appender
                .append_row(duckdb::appender_params_from_iter(values))
                .map_err(failed)?;
            appended += 1;
        }
        appender.flush().map_err(failed)?;
        Ok(appended)
    }

    fn transaction(
        &mut self,
        work: &mut dyn FnMut(&mut dyn Warehouse) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .map_err(|e| query_failed("begin", e))?;
        match work(self) {
            Ok(()) => self
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| query_failed("commit", e)),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// The version of the DuckDB library bundled into this binary, e.g. `v1.2.0`.
pub fn library_version() -> String {
    // SAFETY: duckdb_library_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(duckdb::ffi::duckdb_library_version()) };
    version.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duckdb_numbers_parameters_quotes_names_and_maps_functions() {
        let table = TableName::parse("nba_precompute.player_daily_cache").unwrap();
        let q = Query::new(
            "t",
            "SELECT UNIX_MICROS(x) FROM {{t}} WHERE {{c}} BETWEEN @start AND @end OR {{c}} = @start -- note",
        )
        .table("t", &table)
        .column("c", "cache_date")
        .param("start", Param::Int(1))
        .param("end", Param::Int(2));
        let r = q.render(&DuckDbDialect).unwrap();
        assert_eq!(
            r.sql,
            r#"SELECT epoch_us(x) FROM "nba_precompute"."player_daily_cache" WHERE "cache_date" BETWEEN $1 AND $2 OR "cache_date" = $1"#
        );
        assert_eq!(r.params.len(), 2);
        assert_eq!(r.params[0].0, "start");
        let columns =
            Query::new("c", "SELECT * FROM {{columns}}").columns_view("columns", &["x".into()]);
        assert_eq!(
            columns.render(&DuckDbDialect).unwrap().sql,
            "SELECT * FROM (SELECT schema_name AS table_schema, table_name, column_name, \
             data_type FROM duckdb_columns() WHERE database_name = current_database())"
        );
    }

    #[test]
    fn a_wal_is_refused_only_when_it_holds_a_header_that_is_not_duckdbs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.duckdb");
        let wal = dir.path().join("w.duckdb.wal");
        assert_eq!(wal_problem(&path), None, "no WAL");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t(a INT); INSERT INTO t VALUES (1); CHECKPOINT")
            .unwrap();
        drop(conn);
        for torn in [&b""[..], b"\x64", b"\x07\x00"] {
            std::fs::write(&wal, torn).unwrap();
            assert_eq!(wal_problem(&path), None, "a torn first append {torn:?}");
            // ... which DuckDB replays as empty.
            let conn = Connection::open(&path).unwrap();
            let n: i64 = conn
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 1);
            drop(conn);
        }
        std::fs::write(&wal, b"\x64\x00\x62rest").unwrap();
        assert_eq!(wal_problem(&path), None, "a WAL header");
        std::fs::write(&wal, b"garbage").unwrap();
        assert!(wal_problem(&path).unwrap().contains("write-ahead log"));
    }
}
