//! The SQL of the checks: templates from `sql/*.sql`, rendered for an engine's [`Dialect`].
//!
//! A template is engine-neutral. Identifiers come from the catalog and go in through
//! slots (`{{failures}}`), quoted by the dialect; values are always parameters written
//! `@name`, bound by the engine, never pasted into the text; functions whose name
//! differs between engines are written in their neutral spelling ([`Function`]) and
//! renamed by the dialect, never inside a string literal or a quoted name. A fragment
//! repeated once per processor has its parameters renamed by slot and repetition
//! (`@code_processors_0`, `@code_processors_1`, ...), so two slots' parts never share one.

use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;

use crate::catalog::TableName;

/// The SQL of one check, embedded so the binary is self-contained.
pub mod text {
    pub const LAYOUT_COLUMNS: &str = include_str!("../sql/layout_columns.sql");
    pub const SEASONS: &str = include_str!("../sql/seasons.sql");
    pub const RECONCILE: &str = include_str!("../sql/reconcile.sql");
    pub const FAILURES: &str = include_str!("../sql/failures.sql");
    pub const FAILURE_SAMPLES: &str = include_str!("../sql/failure_samples.sql");
    pub const BREAKERS: &str = include_str!("../sql/breakers.sql");
    pub const PART_PROCESSOR: &str = include_str!("../sql/part/processor.sql");
    pub const PART_UPSTREAM: &str = include_str!("../sql/part/upstream.sql");
    pub const PART_CATEGORY_CLASS: &str = include_str!("../sql/part/category_class.sql");
    pub const PART_EXPECTED_ENTITIES: &str = include_str!("../sql/part/expected_entities.sql");
    pub const PART_PROCESSOR_ROWS: &str = include_str!("../sql/part/processor_rows.sql");
    pub const PART_PROCESSOR_ENTITIES: &str = include_str!("../sql/part/processor_entities.sql");
    pub const PART_NO_UPSTREAM: &str = include_str!("../sql/part/no_upstream.sql");
    pub const PART_MAPPED_ENTITIES: &str = include_str!("../sql/part/mapped_entities.sql");
    pub const PART_NO_MAPPED_ENTITIES: &str = include_str!("../sql/part/no_mapped_entities.sql");
    pub const PART_NO_CATEGORY_CLASS: &str = include_str!("../sql/part/no_category_class.sql");
    pub const CONTENT: &str = include_str!("../sql/content.sql");
    pub const PART_CONTENT_ROWS: &str = include_str!("../sql/part/content_rows.sql");
    pub const PART_INVARIANT_NOT_NULL: &str = include_str!("../sql/part/invariant_not_null.sql");
    pub const PART_INVARIANT_RANGE: &str = include_str!("../sql/part/invariant_range.sql");
    pub const PART_INVARIANT_ARRAY_LENGTH: &str =
        include_str!("../sql/part/invariant_array_length.sql");
    pub const PART_FAILURE_NULL_KEYS: &str = include_str!("../sql/part/failure_null_keys.sql");
    pub const PART_SOURCE_SANITY: &str = include_str!("../sql/part/source_sanity.sql");
    pub const PART_NO_CONTENT: &str = include_str!("../sql/part/no_content.sql");
    pub const RESET_BREAKERS: &str = include_str!("../sql/reset_breakers.sql");
    pub const LEASE_CREATE: &str = include_str!("../sql/lease/create.sql");
    pub const LEASE_ROW: &str = include_str!("../sql/lease/row.sql");
    pub const LEASE_TAKE: &str = include_str!("../sql/lease/take.sql");
    pub const LEASE_RENEW: &str = include_str!("../sql/lease/renew.sql");
    pub const LEASE_RELEASE: &str = include_str!("../sql/lease/release.sql");
    pub const LEASE_HOLDER: &str = include_str!("../sql/lease/holder.sql");
}

/// What differs between engines in the text of a query. Each engine implements it in its
/// own file under `warehouse/`; the templates and this renderer stay engine-neutral.
pub trait Dialect: Send + Sync {
    /// A table, qualified and quoted.
    fn table(&self, table: &TableName) -> String;
    /// A column, quoted.
    fn column(&self, name: &str) -> String;
    /// The view that lists the columns of every table of `datasets` (logical names; the
    /// layout check). An engine may list more; the check picks the tables it wants.
    fn columns_view(&self, datasets: &[String]) -> String;
    /// The text of a parameter: `name` is the `index`th distinct parameter (from 1).
    fn placeholder(&self, name: &str, index: usize) -> String;
    /// The engine's name of a function the templates write in its neutral spelling.
    fn function(&self, function: Function) -> &'static str;
    /// An INT64-sized hash of one row's `columns` (already quoted), the same for equal
    /// values; the content fingerprint combines them with `BIT_XOR`. Engines hash
    /// differently, so a fingerprint is comparable only with one of the same engine.
    fn row_hash(&self, columns: &[String]) -> String;
    /// Which hash [`Dialect::row_hash`] is, as a snapshot records it: fingerprints are
    /// compared only when this is equal (`duckdb v1.4.1 hash`, `bigquery FARM_FINGERPRINT`).
    fn row_hash_kind(&self) -> String;
    /// The catalog's name of a dataset as the engine lists it (engines may rename them).
    fn logical_dataset(&self, physical: &str) -> String {
        physical.to_string()
    }
}

/// Functions spelled differently by the engines. A template writes the neutral name,
/// followed by `(`, and the dialect supplies the engine's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// A TIMESTAMP as microseconds since the epoch.
    UnixMicros,
}

impl Function {
    pub const ALL: [Function; 1] = [Function::UnixMicros];

    /// How the templates write it.
    pub fn neutral_name(self) -> &'static str {
        match self {
            Function::UnixMicros => "UNIX_MICROS",
        }
    }
}

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Date(NaiveDate),
    Text(String),
    Int(i64),
    Float(f64),
    /// A UTC timestamp without zone.
    Timestamp(NaiveDateTime),
}

/// An identifier a slot was filled with.
#[derive(Debug, Clone)]
enum Ident {
    Table(TableName),
    Column(String),
    /// The view listing every table's columns, in these (logical) datasets.
    Columns(Vec<String>),
    /// The engine's hash of a row's columns ([`Dialect::row_hash`]).
    RowHash(Vec<String>),
}

/// A query ready to render: neutral text, the identifiers of its slots and parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pub name: &'static str,
    text: String,
    idents: Vec<Ident>,
    params: BTreeMap<String, Param>,
}

/// A query rendered for one engine: the text and the parameters in the order of their
/// placeholders (DuckDB binds `$1`, `$2`... by position; BigQuery `@name` by name).
#[derive(Debug, Clone)]
pub struct RenderedQuery {
    pub name: &'static str,
    pub sql: String,
    pub params: Vec<(String, Param)>,
}

/// Marks a filled slot in the text: `⟨N⟩` is identifier N of the query.
const IDENT_OPEN: char = '\u{27e8}'; // ⟨
const IDENT_CLOSE: char = '\u{27e9}'; // ⟩

/// One repetition of a fragment: the identifiers of its slots and its parameters.
#[derive(Debug, Clone, Default)]
pub struct Part {
    slots: Vec<(String, Ident)>,
    params: Vec<(String, Param)>,
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
    /// Fills `slot` with the engine's hash of `columns` ([`Dialect::row_hash`]).
    pub fn row_hash(mut self, slot: &str, columns: &[String]) -> Self {
        self.slots
            .push((slot.into(), Ident::RowHash(columns.to_vec())));
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
            idents: Vec::new(),
            params: BTreeMap::new(),
        }
    }

    pub fn table(mut self, slot: &str, table: &TableName) -> Self {
        self.text = self.fill(&self.text.clone(), slot, Ident::Table(table.clone()));
        self
    }

    pub fn column(mut self, slot: &str, column: &str) -> Self {
        self.text = self.fill(&self.text.clone(), slot, Ident::Column(column.into()));
        self
    }

    /// Fills `slot` with the engine's view of the columns of every table of `datasets`.
    pub fn columns_view(mut self, slot: &str, datasets: &[String]) -> Self {
        self.text = self.fill(&self.text.clone(), slot, Ident::Columns(datasets.to_vec()));
        self
    }

    pub fn param(mut self, name: &str, value: Param) -> Self {
        self.params.insert(name.into(), value);
        self
    }

    /// Replaces `{{slot}}` in `text` (outside literals) by a marker of a new identifier.
    fn fill(&mut self, text: &str, slot: &str, ident: Ident) -> String {
        let marker = format!("{IDENT_OPEN}{}{IDENT_CLOSE}", self.idents.len());
        self.idents.push(ident);
        fill_slot(text, slot, &marker)
    }

    /// Fills `{{slot}}` with `fragment` once per part, joined by `UNION ALL`; `empty` is
    /// used when there are no parts (a query that returns no row of the same shape).
    pub fn repeat(self, slot: &str, fragment: &str, parts: &[Part], empty: &str) -> Self {
        self.repeat_each(slot, &[(fragment, parts)], empty)
    }

    /// Fills `{{slot}}` with each fragment once per its part, all joined by `UNION ALL`
    /// (fragments of one shape that read different things); `empty` when no part.
    pub fn repeat_each(mut self, slot: &str, fragments: &[(&str, &[Part])], empty: &str) -> Self {
        let body = if fragments.iter().all(|(_, parts)| parts.is_empty()) {
            strip_comments(empty)
        } else {
            let mut pieces = Vec::new();
            let mut i = 0;
            for (fragment, parts) in fragments {
                let fragment = strip_comments(fragment);
                for part in parts.iter() {
                    let mut piece = fragment.clone();
                    for (slot, ident) in &part.slots {
                        piece = self.fill(&piece, slot, ident.clone());
                    }
                    let names: Vec<&str> = part.params.iter().map(|(n, _)| n.as_str()).collect();
                    let suffix = format!("{slot}_{i}");
                    piece = rename_params(&piece, &names, &suffix);
                    for (name, value) in &part.params {
                        self.params
                            .insert(format!("{name}_{suffix}"), value.clone());
                    }
                    pieces.push(piece.trim().to_string());
                    i += 1;
                }
            }
            pieces.join("\n  UNION ALL\n  ")
        };
        self.text = fill_slot(&self.text, slot, &body);
        self
    }

    /// Renders for `dialect`. Fails when a slot was left unfilled or a parameter unbound.
    pub fn render(&self, dialect: &dyn Dialect) -> Result<RenderedQuery, String> {
        let mut sql = String::with_capacity(self.text.len());
        let mut order: Vec<&str> = Vec::new();
        let text = self.text.as_str();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '{' if rest.starts_with("{{") => {
                    let end = rest.find("}}").map(|e| e + 2).unwrap_or(rest.len());
                    return Err(format!(
                        "query {}: slot {} was not filled",
                        self.name,
                        &rest[..end]
                    ));
                }
                // A string literal or a quoted name: copied as is.
                '\'' | '"' | '`' => {
                    let len = rest[1..].find(c).map(|end| end + 2).unwrap_or(rest.len());
                    sql.push_str(&rest[..len]);
                    rest = &rest[len..];
                }
                '@' => {
                    let name = word(&rest[1..]);
                    if name.is_empty() {
                        sql.push('@');
                        rest = &rest[1..];
                        continue;
                    }
                    let Some((bound, _)) = self.params.get_key_value(name) else {
                        return Err(format!(
                            "query {}: parameter @{name} is not bound",
                            self.name
                        ));
                    };
                    let index = match order.iter().position(|n| *n == name) {
                        Some(p) => p + 1,
                        None => {
                            order.push(bound);
                            order.len()
                        }
                    };
                    sql.push_str(&dialect.placeholder(name, index));
                    rest = &rest[1 + name.len()..];
                }
                IDENT_OPEN => {
                    let end = rest.find(IDENT_CLOSE).ok_or_else(|| {
                        format!("query {}: an identifier marker is not closed", self.name)
                    })?;
                    let ident = rest[IDENT_OPEN.len_utf8()..end]
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| self.idents.get(i))
                        .ok_or_else(|| {
                            format!("query {}: an identifier marker is invalid", self.name)
                        })?;
                    sql.push_str(&match ident {
                        Ident::Table(t) => dialect.table(t),
                        Ident::Column(c) => dialect.column(c),
                        Ident::Columns(datasets) => dialect.columns_view(datasets),
                        Ident::RowHash(columns) => {
                            let quoted: Vec<String> =
                                columns.iter().map(|c| dialect.column(c)).collect();
                            dialect.row_hash(&quoted)
                        }
                    });
                    rest = &rest[end + IDENT_CLOSE.len_utf8()..];
                }
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let name = word(rest);
                    let after = &rest[name.len()..];
                    let function = after
                        .starts_with('(')
                        .then(|| Function::ALL.into_iter().find(|f| f.neutral_name() == name))
                        .flatten();
                    sql.push_str(function.map(|f| dialect.function(f)).unwrap_or(name));
                    rest = after;
                }
                c if c.is_ascii_digit() => {
                    // A number, or the tail of a name (`col_0`): never a function.
                    let len = word(rest).len();
                    sql.push_str(&rest[..len]);
                    rest = &rest[len..];
                }
                c => {
                    sql.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        let params = order
            .into_iter()
            .map(|name| (name.to_string(), self.params[name].clone()))
            .collect();
        Ok(RenderedQuery {
            name: self.name,
            sql,
            params,
        })
    }
}

/// The word (letters, digits and `_`) at the start of `text`.
fn word(text: &str) -> &str {
    let len = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..len]
}

/// `text` with `edit` applied to what lies outside string literals and quoted names
/// (those are copied as they are).
fn outside_literals(text: &str, mut edit: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['\'', '"', '`']) {
        out.push_str(&edit(&rest[..start]));
        let quote = &rest[start..start + 1];
        let len = rest[start + 1..]
            .find(quote)
            .map(|end| end + 2)
            .unwrap_or(rest.len() - start);
        out.push_str(&rest[start..start + len]);
        rest = &rest[start + len..];
    }
    out.push_str(&edit(rest));
    out
}

/// Replaces `{{slot}}` by `with`, outside literals.
fn fill_slot(text: &str, slot: &str, with: &str) -> String {
    let marker = format!("{{{{{slot}}}}}");
    outside_literals(text, |code| code.replace(&marker, with))
}

/// Renames `@name` to `@name_i` for the given names, outside literals.
fn rename_params(text: &str, names: &[&str], suffix: &str) -> String {
    outside_literals(text, |code| {
        let mut out = String::with_capacity(code.len() + 16);
        let mut rest = code;
        while let Some(pos) = rest.find('@') {
            out.push_str(&rest[..pos]);
            let name = word(&rest[pos + 1..]);
            out.push('@');
            out.push_str(name);
            if names.contains(&name) {
                out.push('_');
                out.push_str(suffix);
            }
            rest = &rest[pos + 1 + name.len()..];
        }
        out.push_str(rest);
        out
    })
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

    /// A dialect unlike either engine, to show what the renderer leaves to the dialect.
    struct Angle;

    impl Dialect for Angle {
        fn table(&self, table: &TableName) -> String {
            format!("<{}|{}>", table.dataset(), table.table())
        }
        fn column(&self, name: &str) -> String {
            format!("<{name}>")
        }
        fn columns_view(&self, datasets: &[String]) -> String {
            format!("<columns|{}>", datasets.join(","))
        }
        fn placeholder(&self, name: &str, index: usize) -> String {
            format!(":{name}{index}")
        }
        fn row_hash(&self, columns: &[String]) -> String {
            format!("row_hash_of({})", columns.join(" "))
        }
        fn row_hash_kind(&self) -> String {
            "angle".into()
        }
        fn function(&self, function: Function) -> &'static str {
            match function {
                Function::UnixMicros => "micros_of",
            }
        }
    }

    fn table() -> TableName {
        TableName::parse("nba_precompute.player_daily_cache").unwrap()
    }

    #[test]
    fn slots_parameters_and_functions_are_the_dialects() {
        let q = Query::new(
            "t",
            "SELECT UNIX_MICROS(x) FROM {{t}} WHERE {{c}} BETWEEN @start AND @end OR {{c}} = @start -- note",
        )
        .table("t", &table())
        .column("c", "cache_date")
        .param("start", Param::Int(1))
        .param("end", Param::Int(2));
        let r = q.render(&Angle).unwrap();
        assert_eq!(
            r.sql,
            "SELECT micros_of(x) FROM <nba_precompute|player_daily_cache> WHERE <cache_date> BETWEEN :start1 AND :end2 OR <cache_date> = :start1"
        );
        let names: Vec<&str> = r.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["start", "end"]);
        let columns = Query::new("c", "SELECT * FROM {{columns}}")
            .columns_view("columns", &["a".into(), "b".into()]);
        assert_eq!(
            columns.render(&Angle).unwrap().sql,
            "SELECT * FROM <columns|a,b>"
        );
    }

    #[test]
    fn a_function_name_is_mapped_only_where_it_is_a_call_outside_literals() {
        let r = Query::new(
            "t",
            "SELECT UNIX_MICROS(a), 'UNIX_MICROS(b)', \"UNIX_MICROS(c)\", MY_UNIX_MICROS(d), UNIX_MICROS_X(e), UNIX_MICROS AS f",
        )
        .render(&Angle)
        .unwrap();
        assert_eq!(
            r.sql,
            "SELECT micros_of(a), 'UNIX_MICROS(b)', \"UNIX_MICROS(c)\", MY_UNIX_MICROS(d), UNIX_MICROS_X(e), UNIX_MICROS AS f"
        );
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
        let r = q.render(&Angle).unwrap();
        assert!(r.sql.contains("SELECT :code_rows_01 AS p"), "{}", r.sql);
        assert!(r.sql.contains("UNION ALL"));
        let names: Vec<&str> = r.params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["code_rows_0", "end", "code_rows_1"]);
    }

    #[test]
    fn two_slots_whose_parts_name_a_parameter_alike_keep_their_own_values() {
        let part = |v: &str| vec![Part::new().param("mapping", Param::Text(v.into()))];
        let q = Query::new("t", "SELECT * FROM ({{a}}) AS a, ({{b}}) AS b")
            .repeat("a", "SELECT @mapping AS m", &part("first"), "SELECT 1")
            .repeat("b", "SELECT @mapping AS m", &part("second"), "SELECT 1");
        let r = q.render(&Angle).unwrap();
        let params: Vec<(&str, &Param)> = r.params.iter().map(|(n, p)| (n.as_str(), p)).collect();
        assert_eq!(
            params,
            [
                ("mapping_a_0", &Param::Text("first".into())),
                ("mapping_b_0", &Param::Text("second".into()))
            ]
        );
    }

    #[test]
    fn unfilled_slots_and_unbound_parameters_are_errors() {
        assert!(Query::new("t", "SELECT {{x}}").render(&Angle).is_err());
        assert!(Query::new("t", "SELECT @x").render(&Angle).is_err());
    }

    #[test]
    fn slots_and_parameters_inside_literals_are_left_alone() {
        let parts = vec![Part::new().param("code", Param::Text("A".into()))];
        let q = Query::new("t", "SELECT '{{x}}' AS a, {{x}} AS b FROM ({{rows}})")
            .column("x", "col")
            .repeat(
                "rows",
                "SELECT @code AS c, 'x@code' AS d",
                &parts,
                "SELECT 1",
            );
        let r = q.render(&Angle).unwrap();
        assert_eq!(
            r.sql,
            "SELECT '{{x}}' AS a, <col> AS b FROM (SELECT :code_rows_01 AS c, 'x@code' AS d)"
        );
    }

    #[test]
    fn string_literals_are_not_parameters() {
        let r = Query::new("t", "SELECT 'a@b' AS s").render(&Angle).unwrap();
        assert_eq!(r.sql, "SELECT 'a@b' AS s");
    }
}
