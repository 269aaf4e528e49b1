//! The SQL of the checks: templates from `sql/*.sql`, rendered for a dialect.
//!
//! A template is dialect-neutral. Identifiers come from the catalog and go in through
//! slots (`{{failures}}`), quoted for the engine; values are always parameters written
//! `@name`, bound by the engine, never pasted into the text. A fragment repeated once per
//! processor has its parameters renamed `@name_0`, `@name_1`, ... .

use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

use crate::catalog::TableName;

/// The SQL of one check, embedded so the binary is self-contained.
pub mod text {
    pub const LAYOUT_COLUMNS: &str = include_str!("../sql/layout_columns.sql");
    pub const SEASONS: &str = include_str!("../sql/seasons.sql");
    pub const RECONCILE: &str = include_str!("../sql/reconcile.sql");
    pub const FAILURES: &str = include_str!("../sql/failures.sql");
    pub const BREAKERS: &str = include_str!("../sql/breakers.sql");
    pub const PART_PROCESSOR: &str = include_str!("../sql/part/processor.sql");
    pub const PART_UPSTREAM: &str = include_str!("../sql/part/upstream.sql");
    pub const PART_CATEGORY_CLASS: &str = include_str!("../sql/part/category_class.sql");
    pub const PART_EXPECTED_ENTITIES: &str = include_str!("../sql/part/expected_entities.sql");
    pub const PART_PROCESSOR_ROWS: &str = include_str!("../sql/part/processor_rows.sql");
    pub const PART_NO_UPSTREAM: &str = include_str!("../sql/part/no_upstream.sql");
    pub const PART_NO_CATEGORY_CLASS: &str = include_str!("../sql/part/no_category_class.sql");
    pub const RESET_BREAKERS: &str = include_str!("../sql/reset_breakers.sql");
}

/// The engine a query is rendered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    /// BigQuery: the project that qualifies every table, the location whose
    /// INFORMATION_SCHEMA lists the columns, and the datasets' real names.
    BigQuery {
        project: String,
        location: String,
        datasets: DatasetNames,
    },
}

impl Dialect {
    /// BigQuery with the catalog's dataset names, in the US.
    pub fn bigquery(project: &str) -> Dialect {
        Dialect::BigQuery {
            project: project.to_string(),
            location: "US".to_string(),
            datasets: DatasetNames::default(),
        }
    }
}

/// The real names of the catalog's datasets in a project (real projects rename them):
/// a per-dataset mapping, else a prefix, else the catalog's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetNames {
    pub prefix: String,
    pub map: BTreeMap<String, String>,
}

impl DatasetNames {
    pub fn physical(&self, logical: &str) -> String {
        match self.map.get(logical) {
            Some(name) => name.clone(),
            None => format!("{}{logical}", self.prefix),
        }
    }

    /// The catalog's name of a real dataset, if it is one of the catalog's.
    pub fn logical(&self, physical: &str) -> String {
        if let Some((logical, _)) = self.map.iter().find(|(_, p)| p.as_str() == physical) {
            return logical.clone();
        }
        physical
            .strip_prefix(&self.prefix)
            .filter(|l| !self.map.contains_key(*l))
            .unwrap_or(physical)
            .to_string()
    }
}

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Date(NaiveDate),
    Text(String),
    Int(i64),
    /// A UTC timestamp without zone.
    Timestamp(NaiveDateTime),
}

/// A query ready to render: neutral text, identifiers and parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: &'static str,
    text: String,
    params: BTreeMap<String, Param>,
}

/// A query rendered for one engine: the text and the parameters in binding order
/// (DuckDB: `$1`, `$2`...) or by name (BigQuery: `@name`).
#[derive(Debug, Clone)]
pub struct RenderedQuery {
    pub name: &'static str,
    pub sql: String,
    pub params: Vec<(String, Param)>,
}

const TABLE_OPEN: char = '\u{27e8}'; // ⟨
const TABLE_CLOSE: char = '\u{27e9}'; // ⟩

/// One repetition of a fragment: the identifiers of its slots and its parameters.
#[derive(Debug, Clone, Default)]
pub struct Part {
    slots: Vec<(String, Ident)>,
    params: Vec<(String, Param)>,
}

#[derive(Debug, Clone)]
enum Ident {
    Table(TableName),
    Column(String),
    /// The view listing every table's columns.
    Columns,
}

impl Part {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn table(mut self, slot: &str, table: &TableName) -> Self {
        self.slots.push((slot.into(), Ident::Table(table.clone())));
        self
    }
    pub fn column(mut self, slot: &str, column: &str) -> Self {
        self.slots.push((slot.into(), Ident::Column(column.into())));
        self
    }
    pub fn param(mut self, name: &str, value: Param) -> Self {
        self.params.push((name.into(), value));
        self
    }
}

impl Query {
    pub fn new(name: &'static str, template: &str) -> Self {
        Query {
            name,
            text: strip_comments(template),
            params: BTreeMap::new(),
        }
    }

    pub fn table(mut self, slot: &str, table: &TableName) -> Self {
        self.text = fill(&self.text, slot, &Ident::Table(table.clone()));
        self
    }

    pub fn column(mut self, slot: &str, column: &str) -> Self {
        self.text = fill(&self.text, slot, &Ident::Column(column.into()));
        self
    }

    /// Fills `slot` with the engine's view of every table's columns
    /// (DuckDB: `information_schema.columns`; BigQuery: the location's INFORMATION_SCHEMA).
    pub fn columns_view(mut self, slot: &str) -> Self {
        self.text = fill(&self.text, slot, &Ident::Columns);
        self
    }

    pub fn param(mut self, name: &str, value: Param) -> Self {
        self.params.insert(name.into(), value);
        self
    }

    /// Fills `{{slot}}` with `fragment` once per part, joined by `UNION ALL`; `empty` is
    /// used when there are no parts (a query that returns no row of the same shape).
    pub fn repeat(mut self, slot: &str, fragment: &str, parts: &[Part], empty: &str) -> Self {
        let fragment = strip_comments(fragment);
        let body = if parts.is_empty() {
            strip_comments(empty)
        } else {
            let mut pieces = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                let mut piece = fragment.clone();
                for (slot, ident) in &part.slots {
                    piece = fill(&piece, slot, ident);
                }
                let names: Vec<&str> = part.params.iter().map(|(n, _)| n.as_str()).collect();
                piece = rename_params(&piece, &names, i);
                for (name, value) in &part.params {
                    self.params.insert(format!("{name}_{i}"), value.clone());
                }
                pieces.push(piece.trim().to_string());
            }
            pieces.join("\n  UNION ALL\n  ")
        };
        self.text = self.text.replace(&format!("{{{{{slot}}}}}"), &body);
        self
    }

    /// Renders for `dialect`. Fails when a slot was left unfilled or a parameter unbound.
    pub fn render(&self, dialect: &Dialect) -> Result<RenderedQuery, String> {
        if let Some(start) = self.text.find("{{") {
            let rest = &self.text[start..];
            let end = rest.find("}}").map(|e| e + 2).unwrap_or(rest.len());
            return Err(format!(
                "query {}: slot {} was not filled",
                self.name,
                &rest[..end]
            ));
        }
        let mut sql = String::with_capacity(self.text.len());
        let mut order: Vec<String> = Vec::new();
        let mut chars = self.text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    // A string literal: copied as is.
                    sql.push(c);
                    for (_, c2) in chars.by_ref() {
                        sql.push(c2);
                        if c2 == '\'' {
                            break;
                        }
                    }
                }
                '@' => {
                    let name: String = self.text[i + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if name.is_empty() {
                        sql.push(c);
                        continue;
                    }
                    for _ in 0..name.chars().count() {
                        chars.next();
                    }
                    if !self.params.contains_key(&name) {
                        return Err(format!(
                            "query {}: parameter @{name} is not bound",
                            self.name
                        ));
                    }
                    match dialect {
                        Dialect::DuckDb => {
                            let index = match order.iter().position(|n| n == &name) {
                                Some(p) => p + 1,
                                None => {
                                    order.push(name.clone());
                                    order.len()
                                }
                            };
                            sql.push_str(&format!("${index}"));
                        }
                        Dialect::BigQuery { .. } => {
                            if !order.contains(&name) {
                                order.push(name.clone());
                            }
                            sql.push('@');
                            sql.push_str(&name);
                        }
                    }
                }
                TABLE_OPEN => {
                    let mut inner = String::new();
                    for (_, c2) in chars.by_ref() {
                        if c2 == TABLE_CLOSE {
                            break;
                        }
                        inner.push(c2);
                    }
                    sql.push_str(&render_ident(&inner, dialect));
                }
                _ => sql.push(c),
            }
        }
        if matches!(dialect, Dialect::DuckDb) {
            sql = sql.replace("UNIX_MICROS(", "epoch_us(");
        }
        let params = order
            .into_iter()
            .map(|name| {
                let value = self.params[&name].clone();
                (name, value)
            })
            .collect();
        Ok(RenderedQuery {
            name: self.name,
            sql,
            params,
        })
    }
}

/// `t:dataset.table` or `c:column`, quoted for the engine.
fn render_ident(inner: &str, dialect: &Dialect) -> String {
    let (kind, name) = inner.split_at(2);
    match (kind, dialect) {
        ("t:", Dialect::DuckDb) => {
            let (ds, t) = name.split_once('.').unwrap_or(("main", name));
            format!("\"{ds}\".\"{t}\"")
        }
        (
            "t:",
            Dialect::BigQuery {
                project, datasets, ..
            },
        ) => {
            let (ds, t) = name.split_once('.').unwrap_or(("", name));
            format!("`{project}.{}.{t}`", datasets.physical(ds))
        }
        ("i:", Dialect::DuckDb) => "information_schema.columns".to_string(),
        (
            "i:",
            Dialect::BigQuery {
                project, location, ..
            },
        ) => format!(
            "`{project}`.`region-{}`.INFORMATION_SCHEMA.COLUMNS",
            location.to_ascii_lowercase()
        ),
        (_, Dialect::DuckDb) => format!("\"{name}\""),
        (_, Dialect::BigQuery { .. }) => format!("`{name}`"),
    }
}

fn fill(text: &str, slot: &str, ident: &Ident) -> String {
    let marker = match ident {
        Ident::Table(t) => format!("{TABLE_OPEN}t:{t}{TABLE_CLOSE}"),
        Ident::Column(c) => format!("{TABLE_OPEN}c:{c}{TABLE_CLOSE}"),
        Ident::Columns => format!("{TABLE_OPEN}i:columns{TABLE_CLOSE}"),
    };
    text.replace(&format!("{{{{{slot}}}}}"), &marker)
}

/// Renames `@name` to `@name_i` for the given names.
fn rename_params(text: &str, names: &[&str], i: usize) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(pos) = rest.find('@') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        out.push('@');
        out.push_str(name);
        if names.contains(&name) {
            out.push_str(&format!("_{i}"));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Drops `--` comments (analysts' notes in the files) so fragments splice cleanly.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("--") {
            Some(pos) if !line[..pos].contains('\'') => line[..pos].trim_end(),
            _ => line.trim_end(),
        })
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableName {
        TableName {
            dataset: "nba_precompute".into(),
            table: "player_daily_cache".into(),
        }
    }

    #[test]
    fn duckdb_numbers_parameters_and_reuses_them() {
        let q = Query::new(
            "t",
            "SELECT * FROM {{t}} WHERE {{c}} BETWEEN @start AND @end OR {{c}} = @start -- note",
        )
        .table("t", &table())
        .column("c", "cache_date")
        .param("start", Param::Int(1))
        .param("end", Param::Int(2));
        let r = q.render(&Dialect::DuckDb).unwrap();
        assert_eq!(
            r.sql,
            r#"SELECT * FROM "nba_precompute"."player_daily_cache" WHERE "cache_date" BETWEEN $1 AND $2 OR "cache_date" = $1"#
        );
        assert_eq!(r.params.len(), 2);
        assert_eq!(r.params[0].0, "start");
    }

    #[test]
    fn bigquery_keeps_named_parameters_and_qualifies_tables() {
        let q = Query::new("t", "SELECT UNIX_MICROS(x) FROM {{t}} WHERE d = @start")
            .table("t", &table())
            .param("start", Param::Int(1));
        let r = q.render(&Dialect::bigquery("proj")).unwrap();
        assert_eq!(
            r.sql,
            "SELECT UNIX_MICROS(x) FROM `proj.nba_precompute.player_daily_cache` WHERE d = @start"
        );
        let mut datasets = DatasetNames {
            prefix: "dev_".into(),
            ..Default::default()
        };
        datasets
            .map
            .insert("nba_precompute".into(), "precompute_v2".into());
        let mapped = Dialect::BigQuery {
            project: "proj".into(),
            location: "EU".into(),
            datasets: datasets.clone(),
        };
        assert!(
            q.render(&mapped)
                .unwrap()
                .sql
                .contains("`proj.precompute_v2.player_daily_cache`")
        );
        assert_eq!(datasets.physical("nba_analytics"), "dev_nba_analytics");
        assert_eq!(datasets.logical("dev_nba_analytics"), "nba_analytics");
        assert_eq!(datasets.logical("precompute_v2"), "nba_precompute");
        let columns = Query::new("c", "SELECT * FROM {{columns}}").columns_view("columns");
        assert_eq!(
            columns.render(&mapped).unwrap().sql,
            "SELECT * FROM `proj`.`region-eu`.INFORMATION_SCHEMA.COLUMNS"
        );
        assert_eq!(
            columns.render(&Dialect::DuckDb).unwrap().sql,
            "SELECT * FROM information_schema.columns"
        );
        let d = q.render(&Dialect::DuckDb).unwrap();
        assert!(d.sql.starts_with("SELECT epoch_us(x)"));
    }

    #[test]
    fn repeated_fragments_get_their_own_parameters() {
        let parts = vec![
            Part::new()
                .param("code", Param::Text("A".into()))
                .table("t", &table()),
            Part::new()
                .param("code", Param::Text("B".into()))
                .table("t", &table()),
        ];
        let q = Query::new("t", "WITH x AS ({{rows}}) SELECT * FROM x WHERE d <= @end")
            .repeat(
                "rows",
                "SELECT @code AS p FROM {{t}} WHERE d >= @end",
                &parts,
                "SELECT 1",
            )
            .param("end", Param::Int(9));
        let r = q.render(&Dialect::DuckDb).unwrap();
        assert!(r.sql.contains("SELECT $1 AS p"), "{}", r.sql);
        assert!(r.sql.contains("UNION ALL"));
        let names: Vec<&str> = r.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["code_0", "end", "code_1"]);
    }

    #[test]
    fn unfilled_slots_and_unbound_parameters_are_errors() {
        assert!(
            Query::new("t", "SELECT {{x}}")
                .render(&Dialect::DuckDb)
                .is_err()
        );
        assert!(
            Query::new("t", "SELECT @x")
                .render(&Dialect::DuckDb)
                .is_err()
        );
    }

    #[test]
    fn string_literals_are_not_parameters() {
        let r = Query::new("t", "SELECT 'a@b' AS s")
            .render(&Dialect::DuckDb)
            .unwrap();
        assert_eq!(r.sql, "SELECT 'a@b' AS s");
    }
}
