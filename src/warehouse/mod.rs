//! Where the data lives: the embedded DuckDB file (default) or BigQuery, behind one
//! interface. An [`Engine`] is opened once per command; the checks, the runner and the
//! built-in processors work in short [`Warehouse`] sessions of it. The SQL is the same for
//! every engine, rendered by the engine's [`Dialect`].
//!
//! A new engine is one file here (its settings, engine, session and dialect) and one
//! variant of [`WarehouseSpec`], with its arms in this file.

pub mod bigquery;
pub mod duckdb;

use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use crate::catalog::{Catalog, TableName};
use crate::config::WarehouseConfig;
use crate::error::Error;
use crate::settings::Environment;
use crate::sql::{Dialect, Query};

/// Where the warehouse is, as the user named it (and the settings resolved for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseSpec {
    DuckDb(duckdb::DuckDbSettings),
    BigQuery(bigquery::BigQuerySettings),
}

impl Default for WarehouseSpec {
    fn default() -> Self {
        WarehouseSpec::DuckDb(duckdb::DuckDbSettings::default())
    }
}

/// What the command line, the environment and `phase4.toml` say about the warehouse
/// beyond its spec; each engine takes what concerns it and refuses what does not.
pub struct EngineOptions<'a> {
    pub location: Option<&'a str>,
    pub max_bytes_billed: Option<i64>,
    pub query_timeout: Option<&'a str>,
    pub env: &'a Environment,
    pub config: &'a WarehouseConfig,
    pub catalog: &'a Catalog,
}

impl EngineOptions<'_> {
    /// The engine-specific flags given, each with the engine it is for.
    fn given(&self) -> Vec<(&'static str, &'static str)> {
        [
            ("--location", "BigQuery", self.location.is_some()),
            (
                "--max-bytes-billed",
                "BigQuery",
                self.max_bytes_billed.is_some(),
            ),
            ("--query-timeout", "BigQuery", self.query_timeout.is_some()),
        ]
        .into_iter()
        .filter(|(_, _, given)| *given)
        .map(|(flag, engine, _)| (flag, engine))
        .collect()
    }

    /// Refuses a flag given for another engine than `engine` (which takes `takes`).
    pub fn refuse_others(&self, takes: &[&str], engine: &str) -> Result<(), Error> {
        match self
            .given()
            .into_iter()
            .find(|(flag, _)| !takes.contains(flag))
        {
            Some((flag, owner)) => Err(Error::usage(format!(
                "{flag} is for {owner} warehouses, and this one is {engine}"
            ))),
            None => Ok(()),
        }
    }
}

impl WarehouseSpec {
    /// The engine's settings resolved from `options` (flag > environment > file >
    /// default).
    pub fn configure(self, options: &EngineOptions<'_>) -> Result<WarehouseSpec, Error> {
        Ok(match self {
            WarehouseSpec::DuckDb(s) => WarehouseSpec::DuckDb(s.configure(options)?),
            WarehouseSpec::BigQuery(s) => WarehouseSpec::BigQuery(s.configure(options)?),
        })
    }

    /// Opens the engine: nothing is read yet (BigQuery builds its client and finds its
    /// credentials here; the embedded file is opened per session).
    pub fn open(&self) -> Result<Arc<dyn Engine>, Error> {
        Ok(match self {
            WarehouseSpec::DuckDb(s) => Arc::new(duckdb::DuckDbEngine::new(s.clone())),
            WarehouseSpec::BigQuery(s) => Arc::new(bigquery::BigQueryEngine::connect(s)?),
        })
    }

    /// The embedded warehouse, for the commands that create or write one.
    pub fn embedded(&self) -> Option<&duckdb::DuckDbSettings> {
        match self {
            WarehouseSpec::DuckDb(s) => Some(s),
            WarehouseSpec::BigQuery(_) => None,
        }
    }

    /// Is this the warehouse used when nothing is configured?
    pub fn is_default(&self) -> bool {
        match self {
            WarehouseSpec::DuckDb(s) => {
                s.path == Path::new(crate::settings::defaults::WAREHOUSE_FILE)
            }
            WarehouseSpec::BigQuery(_) => false,
        }
    }
}

impl FromStr for WarehouseSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("duckdb:") {
            return duckdb::DuckDbSettings::from_spec(path).map(WarehouseSpec::DuckDb);
        }
        if let Some(project) = s.strip_prefix("bigquery:") {
            return bigquery::BigQuerySettings::from_spec(project).map(WarehouseSpec::BigQuery);
        }
        // `duckd:x` or `BigQuery:p`: the engine misspelt; `phase4.duckdb`: no engine.
        let tip = match s.split_once(':') {
            Some((engine, rest)) => {
                crate::error::did_you_mean(&engine.to_ascii_lowercase(), &["duckdb", "bigquery"])
                    .map(|e| format!(" (tip: did you mean {e}:{}?)", crate::error::echo(rest)))
            }
            None if s.ends_with(".duckdb") || s.ends_with(".db") => Some(format!(
                " (tip: did you mean duckdb:{}?)",
                crate::error::echo(s)
            )),
            None => None,
        }
        .unwrap_or_default();
        Err(Error::usage(format!(
            "invalid warehouse `{}`: expected duckdb:PATH or bigquery:PROJECT{tip}",
            crate::error::echo(s)
        )))
    }
}

impl fmt::Display for WarehouseSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarehouseSpec::DuckDb(s) => write!(f, "duckdb:{}", s.path.display()),
            WarehouseSpec::BigQuery(s) => write!(f, "bigquery:{}", s.project),
        }
    }
}

/// How a session will use the warehouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// What an engine can do beyond reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Statements that change data: phase4-check's own (the breaker reset, the lease) on
    /// every engine, and the built-in processors' on the embedded one.
    pub can_write: bool,
    /// Byte estimates from a dry run (`--estimate`).
    pub can_dry_run: bool,
}

/// An opened engine. Shared by the runner's tasks, so it is `Send + Sync`.
pub trait Engine: Send + Sync {
    /// How the user named it, for messages: `duckdb:phase4.duckdb`, `bigquery:my-project`.
    fn describe(&self) -> String;
    /// The warehouse as a processor's command is told about it (`{warehouse}`): the same
    /// warehouse from any working directory.
    fn locator(&self) -> String;
    fn capabilities(&self) -> Capabilities;
    /// A session. On the embedded engine it holds the file until it is dropped, so keep
    /// it short; on BigQuery it shares the engine's client.
    fn session(&self, access: Access) -> Result<Box<dyn Warehouse + '_>, Error>;
}

/// One value of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
}

/// A query's result: column names and rows.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Rows {
    /// Iterates rows with access by column name.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |values| Row {
            columns: &self.columns,
            values,
        })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One row of [`Rows`].
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    fn value(&self, column: &str) -> Result<&Value, Error> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| Error::internal(format!("a query result has no column `{column}`")))
    }

    pub fn int(&self, column: &str) -> Result<i64, Error> {
        match self.value(column)? {
            Value::Int(v) => Ok(*v),
            Value::Null => Ok(0),
            Value::Float(f) => Ok(*f as i64),
            Value::Text(t) => t
                .parse()
                .map_err(|_| bad_value(column, "an integer", &Value::Text(t.clone()))),
            other => Err(bad_value(column, "an integer", other)),
        }
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, Error> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.int(column).map(Some),
        }
    }

    pub fn text(&self, column: &str) -> Result<String, Error> {
        match self.value(column)? {
            Value::Text(t) => Ok(t.clone()),
            Value::Int(v) => Ok(v.to_string()),
            Value::Null => Ok(String::new()),
            other => Err(bad_value(column, "text", other)),
        }
    }

    pub fn opt_date(&self, column: &str) -> Result<Option<NaiveDate>, Error> {
        match self.value(column)? {
            Value::Null => Ok(None),
            _ => self.date(column).map(Some),
        }
    }

    pub fn date(&self, column: &str) -> Result<NaiveDate, Error> {
        match self.value(column)? {
            Value::Date(d) => Ok(*d),
            Value::Text(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| bad_value(column, "a date", &Value::Text(t.clone()))),
            other => Err(bad_value(column, "a date", other)),
        }
    }
}

fn bad_value(column: &str, wanted: &str, got: &Value) -> Error {
    Error::internal(format!(
        "result column `{column}` should hold {wanted}, found {got:?}"
    ))
}

/// The tables a warehouse has: each one's columns (lower case) and their types as the
/// engine names them.
pub type Layout = BTreeMap<TableName, BTreeMap<String, String>>;

/// The kinds of column the checks and processors read; each accepts the names both
/// engines give the type (DuckDB's `VARCHAR`, BigQuery's `STRING`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Date,
    Integer,
    Float,
    Boolean,
    Timestamp,
    /// A list of floats (`DOUBLE[]`, `ARRAY<FLOAT64>`).
    FloatList,
    /// Any type: a column the checks only hash or compare with NULL.
    Any,
}

impl ColumnType {
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Any => "any type",
            ColumnType::Text => "text (VARCHAR, STRING)",
            ColumnType::Date => "DATE",
            ColumnType::Integer => "an integer (INTEGER, BIGINT, INT64)",
            ColumnType::Float => "a number (DOUBLE, FLOAT64)",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Timestamp => "TIMESTAMP",
            ColumnType::FloatList => "a list of numbers (DOUBLE[], ARRAY<FLOAT64>)",
        }
    }

    /// Does the engine's type name `engine_type` hold this kind of value?
    pub fn accepts(self, engine_type: &str) -> bool {
        let t = engine_type.trim().to_ascii_uppercase();
        // `VARCHAR(20)`, `DECIMAL(18,3)`, `STRING(10)`: the parameters do not matter.
        let base = t.split('(').next().unwrap_or("").trim();
        match self {
            ColumnType::Any => true,
            ColumnType::Text => matches!(base, "VARCHAR" | "STRING" | "TEXT" | "CHAR" | "BPCHAR"),
            ColumnType::Date => base == "DATE",
            ColumnType::Integer => matches!(
                base,
                "TINYINT"
                    | "SMALLINT"
                    | "INTEGER"
                    | "INT"
                    | "BIGINT"
                    | "HUGEINT"
                    | "UTINYINT"
                    | "USMALLINT"
                    | "UINTEGER"
                    | "UBIGINT"
                    | "INT64"
            ),
            ColumnType::Float => {
                ColumnType::Integer.accepts(base)
                    || matches!(
                        base,
                        "DOUBLE"
                            | "FLOAT"
                            | "REAL"
                            | "FLOAT64"
                            | "DECIMAL"
                            | "NUMERIC"
                            | "BIGNUMERIC"
                    )
            }
            ColumnType::Boolean => matches!(base, "BOOLEAN" | "BOOL"),
            ColumnType::Timestamp => matches!(
                base,
                "TIMESTAMP"
                    | "TIMESTAMP WITH TIME ZONE"
                    | "TIMESTAMPTZ"
                    | "TIMESTAMP_S"
                    | "TIMESTAMP_MS"
                    | "TIMESTAMP_NS"
            ),
            ColumnType::FloatList => {
                let element = t
                    .strip_suffix("[]")
                    .or_else(|| t.strip_prefix("ARRAY<").and_then(|r| r.strip_suffix('>')));
                element.is_some_and(|e| ColumnType::Float.accepts(e))
            }
        }
    }
}

/// What a command needs of a warehouse: tables, and in each the columns with their kind.
pub type RequiredLayout = Vec<(TableName, Vec<(String, ColumnType)>)>;

/// A session on a warehouse: what the checks, the runner and the built-in processors
/// need of an engine. Writes and dry runs are refused by default, so an engine without
/// them ([`Capabilities`]) implements neither. Implementations count their queries.
pub trait Warehouse {
    /// How the user named it, for messages.
    fn describe(&self) -> String;
    fn dialect(&self) -> &dyn Dialect;
    /// Runs one query and returns all its rows.
    fn query(&mut self, query: &Query) -> Result<Rows, Error>;
    /// Runs independent queries, each result in the place of its query. An engine that can
    /// overlaps them (BigQuery runs them as concurrent jobs, so the wall time is about the
    /// slowest one's); by default they run one after another and stop at the first
    /// failure, which is then the last result.
    fn query_all(&mut self, queries: &[Query]) -> Vec<Result<Rows, Error>> {
        let mut results = Vec::with_capacity(queries.len());
        for query in queries {
            let result = self.query(query);
            let failed = result.is_err();
            results.push(result);
            if failed {
                break;
            }
        }
        results
    }
    /// How many queries and statements this session has run so far.
    fn queries_run(&self) -> usize;

    /// The bytes the query would process, from a dry run that runs nothing.
    fn dry_run(&mut self, _query: &Query) -> Result<i64, Error> {
        Err(Error::usage(format!(
            "{} has no byte estimates: --estimate needs a BigQuery warehouse",
            self.describe()
        )))
    }

    /// Runs one statement that changes data; returns the rows it changed.
    fn execute(&mut self, _query: &Query) -> Result<u64, Error> {
        Err(read_only(&self.describe()))
    }

    /// Runs a script of statements without parameters (the layout a seed creates).
    fn run_script(&mut self, _name: &'static str, _script: &str) -> Result<(), Error> {
        Err(read_only(&self.describe()))
    }

    /// Appends rows to a table, the values in the order of its columns.
    fn append(
        &mut self,
        _table: &TableName,
        _rows: &mut dyn Iterator<Item = Vec<Value>>,
    ) -> Result<u64, Error> {
        Err(read_only(&self.describe()))
    }

    /// Runs `work` in one transaction: committed if it succeeds, rolled back otherwise.
    fn transaction(
        &mut self,
        _work: &mut dyn FnMut(&mut dyn Warehouse) -> Result<(), Error>,
    ) -> Result<(), Error> {
        Err(read_only(&self.describe()))
    }
}

fn read_only(warehouse: &str) -> Error {
    Error::usage(format!(
        "phase4-check does not write to {warehouse} this way: only the embedded warehouse (duckdb:PATH) takes scripts, appends and transactions"
    ))
}

/// A new embedded warehouse file (the seed builds one): a write session on it.
pub fn create_embedded(path: &Path) -> Result<Box<dyn Warehouse>, Error> {
    Ok(Box::new(duckdb::DuckDbWarehouse::create(path)?))
}

/// `layout_columns.sql`: the columns of the tables of the datasets `required` names.
pub fn layout_query(required: &RequiredLayout) -> Query {
    let mut datasets: Vec<String> = required
        .iter()
        .map(|(t, _)| t.dataset().to_string())
        .collect();
    datasets.sort();
    datasets.dedup();
    Query::new("layout_columns", crate::sql::text::LAYOUT_COLUMNS)
        .columns_view("columns", &datasets)
}

/// The layout from the rows of [`layout_query`], for the wanted tables.
pub fn layout_from_rows(
    rows: &Rows,
    tables: &[TableName],
    dialect: &dyn Dialect,
) -> Result<Layout, Error> {
    let mut layout = Layout::new();
    for row in rows.iter() {
        let dataset = dialect.logical_dataset(&row.text("dataset")?);
        let name = row.text("table_name")?;
        if let Some(table) = tables
            .iter()
            .find(|t| t.dataset() == dataset && t.table() == name)
        {
            layout.entry(table.clone()).or_default().insert(
                row.text("column_name")?.to_ascii_lowercase(),
                row.text("data_type")?,
            );
        }
    }
    Ok(layout)
}

/// Checks that every table and column of `required` exists in the warehouse with a type
/// of its kind (one query); names every problem.
pub fn verify_layout(
    warehouse: &mut dyn Warehouse,
    required: &RequiredLayout,
) -> Result<(), Error> {
    let rows = warehouse.query(&layout_query(required))?;
    let tables: Vec<TableName> = required.iter().map(|(t, _)| t.clone()).collect();
    let layout = layout_from_rows(&rows, &tables, warehouse.dialect())?;
    check_layout(&warehouse.describe(), &layout, required)
}

/// Checks that every table and column in `required` exists in `layout` with a type of its
/// kind; names them all.
pub fn check_layout(
    describe: &str,
    layout: &Layout,
    required: &RequiredLayout,
) -> Result<(), Error> {
    let mut problems = Vec::new();
    for (table, columns) in required {
        let Some(have) = layout.get(table) else {
            problems.push(format!("table {table} is missing"));
            continue;
        };
        let missing: Vec<&str> = columns
            .iter()
            .filter(|(c, _)| !have.contains_key(&c.to_ascii_lowercase()))
            .map(|(c, _)| c.as_str())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "table {table} has no column {}",
                missing.join(", ")
            ));
        }
        for (column, kind) in columns {
            if let Some(found) = have.get(&column.to_ascii_lowercase())
                && !kind.accepts(found)
            {
                problems.push(format!(
                    "column {table}.{column} is {found}, not {}",
                    kind.name()
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Layout(format!(
            "warehouse {describe} does not have the Phase 4 layout: {}",
            problems.join("; ")
        )))
    }
}
