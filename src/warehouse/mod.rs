//! Where the data lives: the embedded DuckDB file (default) or BigQuery.
//! Checks talk to a [`Warehouse`]; the SQL is the same for both, rendered per dialect.

pub mod bigquery;
pub mod duckdb;

use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::catalog::TableName;
use crate::error::Error;
use crate::sql::{Dialect, Query};

/// Where the warehouse is, as the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarehouseSpec {
    DuckDb(PathBuf),
    BigQuery(bigquery::BigQuerySettings),
}

/// The embedded warehouse file used when nothing else is configured.
pub const DEFAULT_WAREHOUSE: &str = "phase4.duckdb";

impl Default for WarehouseSpec {
    fn default() -> Self {
        WarehouseSpec::DuckDb(PathBuf::from(DEFAULT_WAREHOUSE))
    }
}

impl FromStr for WarehouseSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("duckdb:") {
            if path.is_empty() {
                return Err(Error::usage(
                    "--warehouse duckdb: needs a file path, e.g. duckdb:phase4.duckdb",
                ));
            }
            return Ok(WarehouseSpec::DuckDb(PathBuf::from(path)));
        }
        if let Some(project) = s.strip_prefix("bigquery:") {
            let valid = !project.is_empty()
                && project.chars().all(|c| {
                    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':' || c == '.'
                });
            if !valid {
                return Err(Error::usage(format!(
                    "--warehouse bigquery:{project}: `{project}` is not a Google Cloud project id"
                )));
            }
            return Ok(WarehouseSpec::BigQuery(bigquery::BigQuerySettings::new(
                project,
            )));
        }
        Err(Error::usage(format!(
            "invalid warehouse `{s}`: expected duckdb:PATH or bigquery:PROJECT"
        )))
    }
}

impl fmt::Display for WarehouseSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarehouseSpec::DuckDb(p) => write!(f, "duckdb:{}", p.display()),
            WarehouseSpec::BigQuery(s) => write!(f, "bigquery:{}", s.project),
        }
    }
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
            .map(|i| &self.values[i])
            .ok_or_else(|| Error::Other(anyhow::anyhow!("result has no column `{column}`")))
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
    Error::Other(anyhow::anyhow!(
        "column `{column}` should hold {wanted}, found {got:?}"
    ))
}

/// The tables and columns a warehouse has, by table.
pub type Layout = BTreeMap<TableName, BTreeSet<String>>;

/// A warehouse the checks can query. Implementations count their queries.
pub trait Warehouse {
    /// How the user named it, for messages.
    fn describe(&self) -> String;
    fn dialect(&self) -> Dialect;
    /// Runs one query and returns all its rows.
    fn query(&mut self, query: &Query) -> Result<Rows, Error>;
    /// The columns of the given tables (absent tables are absent from the map).
    fn layout(&mut self, tables: &[TableName]) -> Result<Layout, Error>;
    /// How many queries this warehouse has run so far.
    fn queries_run(&self) -> usize;
    /// The bytes the query would process, from a dry run that runs nothing; None when
    /// the engine has no such estimate (the embedded one).
    fn dry_run(&mut self, _query: &Query) -> Result<Option<i64>, Error> {
        Ok(None)
    }
}

/// The layout from the rows of `layout_columns.sql`, for the wanted tables; `logical`
/// maps the engine's dataset names to the catalog's.
pub fn layout_from_rows(
    rows: &Rows,
    tables: &[TableName],
    logical: impl Fn(&str) -> String,
) -> Result<Layout, Error> {
    let wanted: BTreeSet<&TableName> = tables.iter().collect();
    let mut layout = Layout::new();
    for row in rows.iter() {
        let table = TableName {
            dataset: logical(&row.text("dataset")?),
            table: row.text("table_name")?,
        };
        if wanted.contains(&table) {
            layout
                .entry(table)
                .or_default()
                .insert(row.text("column_name")?.to_ascii_lowercase());
        }
    }
    Ok(layout)
}

/// Opens the warehouse for reading.
pub fn open_for_reading(spec: &WarehouseSpec) -> Result<Box<dyn Warehouse>, Error> {
    match spec {
        WarehouseSpec::DuckDb(path) => Ok(Box::new(duckdb::DuckDbWarehouse::open_read_only(path)?)),
        WarehouseSpec::BigQuery(settings) => {
            Ok(Box::new(bigquery::BigQueryWarehouse::connect(settings)?))
        }
    }
}

/// Checks that every table and column the checks read exists; names the first missing.
pub fn check_layout(
    warehouse: &mut dyn Warehouse,
    required: &[(TableName, Vec<String>)],
) -> Result<(), Error> {
    let tables: Vec<TableName> = required.iter().map(|(t, _)| t.clone()).collect();
    let layout = warehouse.layout(&tables)?;
    let mut problems = Vec::new();
    for (table, columns) in required {
        match layout.get(table) {
            None => problems.push(format!("table {table} is missing")),
            Some(have) => {
                let missing: Vec<&str> = columns
                    .iter()
                    .filter(|c| !have.contains(&c.to_ascii_lowercase()))
                    .map(|c| c.as_str())
                    .collect();
                if !missing.is_empty() {
                    problems.push(format!(
                        "table {table} has no column {}",
                        missing.join(", ")
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Layout(format!(
            "warehouse {} does not have the Phase 4 layout: {}",
            warehouse.describe(),
            problems.join("; ")
        )))
    }
}
