//! The catalog: processors, their tables and dependencies, how to run them, and how
//! failure categories are classed. Loaded from `checks/catalog.toml` (or `--catalog`),
//! validated once, then used by index.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, echo, one_line};

mod command;
mod graph;
mod mapping;

pub use command::{CommandTemplate, Invocation, PLACEHOLDERS};
use graph::Graph;
pub use mapping::EntityMapping;
use mapping::Mappings;

/// More processors than any real pipeline has: a catalog beyond it is refused at once.
pub const MAX_PROCESSORS: usize = 1000;

/// The catalog shipped with phase4-check (the five processors of DOMAIN.md).
pub const DEFAULT_CATALOG: &str = include_str!("../../checks/catalog.toml");

/// A processor, by its position in the catalog (catalog order is report order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessorId(pub usize);

/// A `dataset.table` name, validated so it can be quoted into SQL safely: it can only
/// be made by [`TableName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    dataset: String,
    table: String,
}

impl TableName {
    /// `dataset.table`, each part letters, digits and `_`, not starting with a digit.
    pub fn parse(name: &str) -> Result<TableName, String> {
        match name.split_once('.') {
            Some((dataset, table)) if is_identifier(dataset) && is_identifier(table) => {
                Ok(TableName {
                    dataset: dataset.to_string(),
                    table: table.to_string(),
                })
            }
            _ => Err(format!(
                "`{}` is not a dataset.table name (letters, digits and _ only)",
                echo(name)
            )),
        }
    }

    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.dataset, self.table)
    }
}

/// How a failure category counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryClass {
    /// Too little history: not a failure.
    ExpectedSkip,
    /// An upstream row is absent: a cascade or a real failure, per entity.
    MissingDependency,
    /// A bug or an unknown category.
    RealFailure,
}

impl CategoryClass {
    /// The class as the SQL checks name it.
    pub fn sql_name(self) -> &'static str {
        match self {
            CategoryClass::ExpectedSkip => "expected_skip",
            CategoryClass::MissingDependency => "missing_dependency",
            CategoryClass::RealFailure => "real_failure",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CategoryClass::ExpectedSkip => "expected skip",
            CategoryClass::MissingDependency => "cascade or real failure",
            CategoryClass::RealFailure => "real failure",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Processor {
    pub code: String,
    pub name: String,
    pub table: TableName,
    pub date_column: String,
    pub entity_column: String,
    pub source_entity_column: String,
    pub depends_on: Vec<ProcessorId>,
    /// Each dependency and how this processor's entities map to its entities.
    pub entity_mapping: Vec<(ProcessorId, EntityMapping)>,
    pub command: CommandTemplate,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub batch_days: u32,
    /// The columns its content fingerprint covers, beside the entity and the date.
    pub value_columns: Vec<String>,
    /// What every one of its rows must satisfy (the content check counts violations).
    pub invariants: Vec<Invariant>,
}

/// A rule every row of a processor's table keeps, declared in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum Invariant {
    /// The column is never NULL.
    NotNull(String),
    /// The column lies in `[low, high]` (a NULL is the not-null rule's business).
    Range { column: String, low: f64, high: f64 },
    /// The array column has as many elements as the length column says.
    ArrayLength { array: String, length: String },
}

impl Invariant {
    /// The column a violation is reported under.
    pub fn column(&self) -> &str {
        match self {
            Invariant::NotNull(c) => c,
            Invariant::Range { column, .. } => column,
            Invariant::ArrayLength { array, .. } => array,
        }
    }

    /// The rule as the report writes it: `not null`, `in [0, 1]`, `length = feature_count`.
    pub fn rule(&self) -> String {
        match self {
            Invariant::NotNull(_) => "not null".into(),
            Invariant::Range { low, high, .. } => format!("in [{low}, {high}]"),
            Invariant::ArrayLength { length, .. } => format!("length = {length}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Source {
    pub table: TableName,
    pub date_column: String,
    pub season_column: String,
    /// The sanity checks of the source (the `source` section); `None` when the catalog
    /// does not name the columns they read.
    pub sanity: Option<SourceSanity>,
}

/// What the source's sanity checks read: a game's id, a row's team and player, and how
/// far below its season's median a day's players per game may fall.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSanity {
    pub game_column: String,
    pub team_column: String,
    pub player_column: String,
    /// A day with fewer players per game than this share of its season's median is short.
    pub short_day_share: f64,
}

#[derive(Debug, Clone)]
pub struct ProcessingTables {
    pub failures: TableName,
    pub attempts: TableName,
}

/// An expected share of expected skips for a span of season weeks.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipBand {
    pub processor: ProcessorId,
    pub first_week: u32,
    pub last_week: u32,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub source: Source,
    pub processing: ProcessingTables,
    processors: Vec<Processor>,
    categories: BTreeMap<String, CategoryClass>,
    pub skip_bands: Vec<SkipBand>,
    /// Processors by code.
    index: HashMap<String, ProcessorId>,
    /// Run order, transitive upstream, depth.
    graph: Graph,
    /// Entity mappings to every upstream processor, direct and transitive.
    mappings: Mappings,
    fingerprint: String,
}

// ---- the file format -------------------------------------------------------------

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    source: RawSource,
    processing: RawProcessing,
    #[serde(rename = "processor")]
    processors: Vec<RawProcessor>,
    categories: RawCategories,
    #[serde(rename = "skip_band", default)]
    skip_bands: Vec<RawSkipBand>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    table: String,
    date_column: String,
    season_column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    game_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    player_column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    short_day_share: Option<f64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawProcessing {
    failures_table: String,
    attempts_table: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawProcessor {
    code: String,
    name: String,
    table: String,
    date_column: String,
    entity_column: String,
    source_entity_column: String,
    depends_on: Vec<String>,
    /// Dependency code -> the source column holding that dependency's entity for this
    /// processor's entity (absent: the same entity).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    entity_mapping: BTreeMap<String, String>,
    command: Vec<String>,
    timeout: String,
    max_attempts: u32,
    #[serde(default = "default_batch_days")]
    batch_days: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    value_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    not_null: Vec<String>,
    /// Column -> [low, high].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    ranges: BTreeMap<String, [f64; 2]>,
    /// Array column -> the column holding its length.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    array_lengths: BTreeMap<String, String>,
}

fn default_batch_days() -> u32 {
    crate::settings::defaults::BATCH_DAYS
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawCategories {
    expected_skip: Vec<String>,
    missing_dependency: Vec<String>,
    real_failure: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawSkipBand {
    processor: String,
    weeks: [u32; 2],
    low: f64,
    high: f64,
}

/// The source's sanity settings: all three columns named, or none of them.
fn source_sanity(raw: &RawSource) -> Result<Option<SourceSanity>, String> {
    let share = raw
        .short_day_share
        .unwrap_or(crate::settings::defaults::SHORT_DAY_SHARE);
    if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
        return Err(format!(
            "`short_day_share` = {share} must be a share between 0 and 1"
        ));
    }
    match (&raw.game_column, &raw.team_column, &raw.player_column) {
        (None, None, None) => Ok(None),
        (Some(game), Some(team), Some(player)) => {
            let named = |field: &str, c: &str| column(c).map_err(|m| format!("`{field}`: {m}"));
            Ok(Some(SourceSanity {
                game_column: named("game_column", game)?,
                team_column: named("team_column", team)?,
                player_column: named("player_column", player)?,
                short_day_share: share,
            }))
        }
        _ => Err(
            "name all of `game_column`, `team_column` and `player_column` for the source's sanity checks, or none"
                .into(),
        ),
    }
}

impl Catalog {
    /// The catalog shipped with phase4-check.
    pub fn builtin() -> Result<Catalog, Error> {
        Catalog::parse(DEFAULT_CATALOG, "the built-in catalog")
    }

    /// Loads `path`, or the built-in catalog when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Catalog, Error> {
        match path {
            None => Catalog::builtin(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::config(format!("cannot read catalog {}: {e}", path.display()))
                })?;
                Catalog::parse(&text, &path.display().to_string())
            }
        }
    }

    /// Parses and validates a catalog; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog, Error> {
        // One line whatever the catalog holds: TOML strings may carry `\n` escapes.
        let bad = |msg: String| Error::config(one_line(&format!("catalog {origin}: {msg}")));
        let raw: RawCatalog =
            toml::from_str(text).map_err(|e| bad(crate::error::toml_error_line(&e, text)))?;

        if raw.processors.is_empty() {
            return Err(bad("no [[processor]] is defined".into()));
        }
        if raw.processors.len() > MAX_PROCESSORS {
            return Err(bad(format!(
                "{} processors is more than the {MAX_PROCESSORS} a catalog may hold",
                raw.processors.len()
            )));
        }
        let mut index: HashMap<String, ProcessorId> = HashMap::new();
        for (i, p) in raw.processors.iter().enumerate() {
            if !is_code(&p.code) {
                return Err(bad(format!(
                    "processor code `{}` must be upper-case letters, digits or _, starting with a letter",
                    echo(&p.code)
                )));
            }
            if index.insert(p.code.clone(), ProcessorId(i)).is_some() {
                return Err(bad(format!("duplicate processor code `{}`", p.code)));
            }
        }

        let mut processors = Vec::with_capacity(raw.processors.len());
        let mut unmapped: Option<String> = None;
        for p in &raw.processors {
            let ctx = |field: &str| format!("processor {} field `{field}`", p.code);
            let mut depends_on = Vec::new();
            for dep in &p.depends_on {
                let id = index.get(dep).ok_or_else(|| {
                    bad(format!(
                        "processor {} depends on unknown processor `{}`",
                        p.code,
                        echo(dep)
                    ))
                })?;
                if dep == &p.code {
                    return Err(bad(format!("processor {} depends on itself", p.code)));
                }
                if !depends_on.contains(id) {
                    depends_on.push(*id);
                }
            }
            for dep in p.entity_mapping.keys() {
                if !p.depends_on.contains(dep) {
                    return Err(bad(format!(
                        "{} names `{}`, which is not one of its dependencies ({})",
                        ctx("entity_mapping"),
                        echo(dep),
                        if p.depends_on.is_empty() {
                            "it has none".to_string()
                        } else {
                            p.depends_on.join(", ")
                        }
                    )));
                }
            }
            let mut entity_mapping = Vec::with_capacity(depends_on.len());
            for &dep in &depends_on {
                let upstream = &raw.processors[dep.0];
                let mapping = match p.entity_mapping.get(&upstream.code) {
                    Some(c) => EntityMapping::Column(column(c).map_err(|m| {
                        bad(format!(
                            "{} for {}: {m}",
                            ctx("entity_mapping"),
                            upstream.code
                        ))
                    })?),
                    None if upstream.source_entity_column != p.source_entity_column => {
                        // Reported after the graph: a cycle is the more basic mistake.
                        unmapped.get_or_insert_with(|| format!(
                            "processor {} depends on {}, whose entities are the source's `{}`, not `{}`: say which source column holds them, e.g. entity_mapping = {{ {} = \"opponent_team_abbr\" }}",
                            p.code,
                            upstream.code,
                            upstream.source_entity_column,
                            p.source_entity_column,
                            upstream.code
                        ));
                        EntityMapping::Same
                    }
                    None => EntityMapping::Same,
                };
                entity_mapping.push((dep, mapping));
            }
            let command = CommandTemplate::parse(&p.command)
                .map_err(|m| bad(format!("{} {m}", ctx("command"))))?;
            let timeout = humantime::parse_duration(&p.timeout)
                .map_err(|e| bad(format!("{} = `{}`: {e}", ctx("timeout"), echo(&p.timeout))))?;
            if timeout.is_zero() {
                return Err(bad(format!("{} must be more than zero", ctx("timeout"))));
            }
            if p.max_attempts == 0 {
                return Err(bad(format!("{} must be at least 1", ctx("max_attempts"))));
            }
            if p.batch_days == 0 {
                return Err(bad(format!("{} must be at least 1", ctx("batch_days"))));
            }
            let named =
                |field: &str, c: &str| column(c).map_err(|m| bad(format!("{}: {m}", ctx(field))));
            let value_columns = p
                .value_columns
                .iter()
                .map(|c| named("value_columns", c))
                .collect::<Result<Vec<_>, _>>()?;
            let mut invariants = Vec::new();
            for c in &p.not_null {
                invariants.push(Invariant::NotNull(named("not_null", c)?));
            }
            for (c, &[low, high]) in &p.ranges {
                if !(low.is_finite() && high.is_finite() && low <= high) {
                    return Err(bad(format!(
                        "{} for `{}`: [{low}, {high}] must be [low, high] with low <= high",
                        ctx("ranges"),
                        echo(c)
                    )));
                }
                invariants.push(Invariant::Range {
                    column: named("ranges", c)?,
                    low,
                    high,
                });
            }
            for (array, length) in &p.array_lengths {
                invariants.push(Invariant::ArrayLength {
                    array: named("array_lengths", array)?,
                    length: named("array_lengths", length)?,
                });
            }
            processors.push(Processor {
                value_columns,
                invariants,
                code: p.code.clone(),
                name: p.name.clone(),
                table: TableName::parse(&p.table)
                    .map_err(|m| bad(format!("{}: {m}", ctx("table"))))?,
                date_column: column(&p.date_column)
                    .map_err(|m| bad(format!("{}: {m}", ctx("date_column"))))?,
                entity_column: column(&p.entity_column)
                    .map_err(|m| bad(format!("{}: {m}", ctx("entity_column"))))?,
                source_entity_column: column(&p.source_entity_column)
                    .map_err(|m| bad(format!("{}: {m}", ctx("source_entity_column"))))?,
                depends_on,
                entity_mapping,
                command,
                timeout,
                max_attempts: p.max_attempts,
                batch_days: p.batch_days,
            });
        }

        let depends_on: Vec<Vec<ProcessorId>> =
            processors.iter().map(|p| p.depends_on.clone()).collect();
        let graph = Graph::new(&depends_on, |i| processors[i].code.clone()).map_err(bad)?;
        if let Some(msg) = unmapped {
            return Err(bad(msg));
        }
        let direct: Vec<Vec<(ProcessorId, EntityMapping)>> = processors
            .iter()
            .map(|p| p.entity_mapping.clone())
            .collect();
        let mappings = Mappings::compose(&direct, &graph.order, |id| processors[id.0].code.clone())
            .map_err(bad)?;

        let mut categories = BTreeMap::new();
        for (class, names) in [
            (CategoryClass::ExpectedSkip, &raw.categories.expected_skip),
            (
                CategoryClass::MissingDependency,
                &raw.categories.missing_dependency,
            ),
            (CategoryClass::RealFailure, &raw.categories.real_failure),
        ] {
            for name in names {
                if name.trim().is_empty() {
                    return Err(bad("an empty failure category name".into()));
                }
                if let Some(previous) = categories.insert(name.clone(), class)
                    && previous != class
                {
                    return Err(bad(format!(
                        "failure category `{name}` is listed in two classes"
                    )));
                }
            }
        }

        let mut skip_bands = Vec::new();
        for band in &raw.skip_bands {
            let processor = *index.get(&band.processor).ok_or_else(|| {
                bad(format!(
                    "skip_band names unknown processor `{}`",
                    echo(&band.processor)
                ))
            })?;
            let [first_week, last_week] = band.weeks;
            if first_week == 0 || first_week > last_week {
                return Err(bad(format!(
                    "skip_band weeks [{first_week}, {last_week}] must be [first, last] with 1 <= first <= last"
                )));
            }
            if !(0.0..=1.0).contains(&band.low)
                || !(0.0..=1.0).contains(&band.high)
                || band.low > band.high
            {
                return Err(bad(format!(
                    "skip_band low {} and high {} must be shares with 0 <= low <= high <= 1",
                    band.low, band.high
                )));
            }
            skip_bands.push(SkipBand {
                processor,
                first_week,
                last_week,
                low: band.low,
                high: band.high,
            });
        }

        let fingerprint = {
            let canonical = serde_json::to_string(&raw).map_err(|e| bad(e.to_string()))?;
            hex(&Sha256::digest(canonical.as_bytes()))
        };

        Ok(Catalog {
            source: Source {
                table: TableName::parse(&raw.source.table)
                    .map_err(|m| bad(format!("source field `table`: {m}")))?,
                date_column: column(&raw.source.date_column)
                    .map_err(|m| bad(format!("source field `date_column`: {m}")))?,
                season_column: column(&raw.source.season_column)
                    .map_err(|m| bad(format!("source field `season_column`: {m}")))?,
                sanity: source_sanity(&raw.source).map_err(|m| bad(format!("source: {m}")))?,
            },
            processing: ProcessingTables {
                failures: TableName::parse(&raw.processing.failures_table)
                    .map_err(|m| bad(format!("processing field `failures_table`: {m}")))?,
                attempts: TableName::parse(&raw.processing.attempts_table)
                    .map_err(|m| bad(format!("processing field `attempts_table`: {m}")))?,
            },
            processors,
            categories,
            skip_bands,
            index,
            graph,
            mappings,
            fingerprint,
        })
    }

    pub fn processors(&self) -> impl ExactSizeIterator<Item = (ProcessorId, &Processor)> {
        self.processors
            .iter()
            .enumerate()
            .map(|(i, p)| (ProcessorId(i), p))
    }

    pub fn ids(&self) -> impl ExactSizeIterator<Item = ProcessorId> + '_ {
        (0..self.processors.len()).map(ProcessorId)
    }

    pub fn get(&self, id: ProcessorId) -> &Processor {
        &self.processors[id.0]
    }

    pub fn code(&self, id: ProcessorId) -> &str {
        &self.processors[id.0].code
    }

    /// Finds a processor by code, case-insensitively (`ml` is `ML`).
    pub fn find(&self, name: &str) -> Result<ProcessorId, Error> {
        self.index
            .get(&name.trim().to_ascii_uppercase())
            .copied()
            .ok_or_else(|| {
                let known: Vec<&str> = self.processors.iter().map(|p| p.code.as_str()).collect();
                let tip = crate::error::did_you_mean(&name.trim().to_ascii_uppercase(), &known)
                    .map(|s| format!(" (tip: did you mean {s}?)"))
                    .unwrap_or_default();
                Error::usage(format!(
                    "unknown processor `{}`: the catalog has {}{tip}",
                    crate::error::echo(name),
                    known.join(", ")
                ))
            })
    }

    /// The processor of an exact code (as the warehouse's rows and stored plans write it).
    pub fn by_code(&self, code: &str) -> Option<ProcessorId> {
        self.index.get(code).copied()
    }

    /// Upstream processors of `id`, direct and transitive, in catalog order.
    pub fn upstream_of(&self, id: ProcessorId) -> &[ProcessorId] {
        &self.graph.upstream[id.0]
    }

    /// Is `up` upstream of `down`, directly or transitively?
    pub fn is_upstream(&self, up: ProcessorId, down: ProcessorId) -> bool {
        self.graph.is_upstream(up, down)
    }

    /// How `down`'s entities map to those of `up`, a processor upstream of it.
    pub fn entity_mapping(&self, down: ProcessorId, up: ProcessorId) -> EntityMapping {
        self.mappings.of(down, up)
    }

    /// The source columns the entity mappings read.
    pub fn mapping_columns(&self) -> BTreeSet<&str> {
        self.mappings.columns().collect()
    }

    /// Dependency order (upstream first), ties in catalog order.
    pub fn run_order(&self) -> &[ProcessorId] {
        &self.graph.order
    }

    /// The position of `id` in [`Catalog::run_order`]: sorting by it runs upstream first.
    pub fn run_rank(&self, id: ProcessorId) -> usize {
        self.graph.rank[id.0]
    }

    /// The longest chain of dependencies above `id` (0 for a processor without any).
    pub fn depth(&self, id: ProcessorId) -> usize {
        self.graph.depth[id.0]
    }

    /// `ids` and everything upstream of them, in catalog order.
    pub fn with_upstream(&self, ids: &[ProcessorId]) -> Vec<ProcessorId> {
        let mut set: BTreeSet<ProcessorId> = ids.iter().copied().collect();
        for id in ids {
            set.extend(self.upstream_of(*id).iter().copied());
        }
        set.into_iter().collect()
    }

    /// `ids` and everything downstream of them, in catalog order.
    pub fn with_downstream(&self, ids: &[ProcessorId]) -> Vec<ProcessorId> {
        self.ids()
            .filter(|&p| ids.iter().any(|&r| r == p || self.is_upstream(r, p)))
            .collect()
    }

    /// The class of a failure category; unknown categories are real failures.
    pub fn class_of(&self, category: &str) -> CategoryClass {
        self.categories
            .get(category)
            .copied()
            .unwrap_or(CategoryClass::RealFailure)
    }

    /// Is the category listed in the catalog (unknown ones are reported by name)?
    pub fn is_known_category(&self, category: &str) -> bool {
        self.categories.contains_key(category)
    }

    pub fn categories(&self) -> impl Iterator<Item = (&str, CategoryClass)> {
        self.categories.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub fn band_for(&self, id: ProcessorId, week: u32) -> Option<&SkipBand> {
        self.skip_bands
            .iter()
            .find(|b| b.processor == id && b.first_week <= week && week <= b.last_week)
    }

    /// A fingerprint of the catalog's content (recorded by checkpoints and snapshots).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

fn is_code(code: &str) -> bool {
    let mut chars = code.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn column(name: &str) -> Result<String, String> {
    if is_identifier(name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "`{}` is not a column name (letters, digits and _ only)",
            echo(name)
        ))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Catalog::parse(text, "test.toml").unwrap_err().to_string()
    }

    #[test]
    fn builtin_catalog_has_the_five_processors_in_dependency_order() {
        let c = Catalog::builtin().unwrap();
        let codes: Vec<&str> = c.run_order().iter().map(|&id| c.code(id)).collect();
        assert_eq!(codes, ["TDZA", "PSZA", "PCF", "PDC", "ML"]);
        let ml = c.find("ml").unwrap();
        let up: Vec<&str> = c.upstream_of(ml).iter().map(|&id| c.code(id)).collect();
        assert_eq!(up, ["TDZA", "PSZA", "PCF", "PDC"]);
        assert_eq!(c.class_of("INSUFFICIENT_DATA"), CategoryClass::ExpectedSkip);
        assert_eq!(c.class_of("SOMETHING_NEW"), CategoryClass::RealFailure);
        assert!(!c.is_known_category("SOMETHING_NEW"));
        assert_eq!(c.band_for(c.find("PSZA").unwrap(), 3).unwrap().low, 0.60);
    }

    #[test]
    fn processor_names_are_case_insensitive_and_unknown_names_list_the_known() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.find("Psza").unwrap(), c.find("PSZA").unwrap());
        let e = c.find("XYZ").unwrap_err().to_string();
        assert!(
            e.contains("unknown processor `XYZ`") && e.contains("TDZA"),
            "{e}"
        );
    }

    #[test]
    fn unknown_dependency_is_named() {
        let text = DEFAULT_CATALOG.replace(
            r#"depends_on = ["TDZA", "PSZA"]"#,
            r#"depends_on = ["TDZA", "NOPE"]"#,
        );
        let e = err(&text);
        assert!(e.contains("depends on unknown processor `NOPE`"), "{e}");
    }

    #[test]
    fn dependency_cycle_is_named() {
        let text = DEFAULT_CATALOG.replacen(
            "depends_on = []",
            r#"depends_on = ["ML"]
entity_mapping = { ML = "player_lookup" }"#,
            1,
        );
        let e = err(&text);
        assert!(
            e.contains("dependency cycle: ") && e.contains("TDZA"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_code_is_named() {
        let text = DEFAULT_CATALOG.replace(r#"code = "PSZA""#, r#"code = "TDZA""#);
        assert!(err(&text).contains("duplicate processor code `TDZA`"));
    }

    #[test]
    fn missing_field_is_named_with_its_line() {
        let text = DEFAULT_CATALOG.replacen("entity_column = \"team_abbr\"\n", "", 1);
        let e = err(&text);
        assert!(e.contains("missing field `entity_column`"), "{e}");
        assert!(e.contains("line "), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn unknown_field_and_bad_values_are_refused() {
        assert!(
            err(&DEFAULT_CATALOG.replacen("max_attempts = 3", "max_attempts = 3\nretries = 2", 1))
                .contains("unknown field `retries`")
        );
        assert!(
            err(&DEFAULT_CATALOG.replacen("timeout = \"30m\"", "timeout = \"soon\"", 1))
                .contains("field `timeout`")
        );
        assert!(
            err(&DEFAULT_CATALOG.replacen("max_attempts = 3", "max_attempts = 0", 1))
                .contains("max_attempts")
        );
        assert!(
            err(&DEFAULT_CATALOG.replacen(
                "nba_precompute.team_defense_zone_analysis",
                "nba_precompute.team; DROP TABLE x",
                1
            ))
            .contains("not a dataset.table name")
        );
        assert!(err("this is = not toml [").contains("catalog test.toml"));
    }

    #[test]
    fn echoed_values_are_cut_and_kept_on_one_line() {
        let long = "X".repeat(5000);
        let e = err(&DEFAULT_CATALOG.replacen(
            r#"depends_on = ["TDZA", "PSZA"]"#,
            &format!(r#"depends_on = ["TDZA", "{long}"]"#),
            1,
        ));
        assert!(e.contains("(5000 characters)"), "{e}");
        assert!(e.len() < 300, "{e}");
        let e =
            err(&DEFAULT_CATALOG.replacen(r#"timeout = "30m""#, r#"timeout = "soon\nlater""#, 1));
        assert!(e.contains("field `timeout`") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn a_command_argument_may_hold_any_utf8() {
        let c = Catalog::parse(
            &DEFAULT_CATALOG.replacen(r#""{end}""#, r#""é{end}😀""#, 1),
            "utf8.toml",
        )
        .unwrap();
        assert_eq!(c.processors().len(), 5);
        assert!(err(&DEFAULT_CATALOG.replacen(r#""{end}""#, r#""é{ende}""#, 1)).contains("{ende}"));
    }

    /// A catalog of `n` processors, each depending on the one before when `chain`.
    pub(crate) fn generated(n: usize, chain: bool) -> String {
        let mut text = String::from(
            "[source]\ntable = \"raw.events\"\ndate_column = \"d\"\nseason_column = \"s\"\n[processing]\nfailures_table = \"ops.failures\"\nattempts_table = \"ops.attempts\"\n[categories]\nexpected_skip = []\nmissing_dependency = []\nreal_failure = []\n",
        );
        for i in 0..n {
            let deps = if chain && i > 0 {
                format!("[\"P{}\"]", i - 1)
            } else {
                "[]".into()
            };
            text.push_str(&format!(
                "[[processor]]\ncode = \"P{i}\"\nname = \"p\"\ntable = \"out.t{i}\"\ndate_column = \"d\"\nentity_column = \"e\"\nsource_entity_column = \"e\"\ndepends_on = {deps}\ncommand = [\"true\", \"{{start}}\"]\ntimeout = \"1m\"\nmax_attempts = 1\n"
            ));
        }
        text
    }

    #[test]
    fn a_chain_and_a_crowd_of_a_thousand_processors_load() {
        let chain = Catalog::parse(&generated(MAX_PROCESSORS, true), "chain.toml").unwrap();
        let last = chain.find(&format!("P{}", MAX_PROCESSORS - 1)).unwrap();
        assert_eq!(chain.upstream_of(last).len(), MAX_PROCESSORS - 1);
        assert_eq!(chain.depth(last), MAX_PROCESSORS - 1);
        assert!(chain.is_upstream(chain.find("P0").unwrap(), last));
        let crowd = Catalog::parse(&generated(MAX_PROCESSORS, false), "crowd.toml").unwrap();
        assert!(crowd.ids().all(|id| crowd.upstream_of(id).is_empty()));
    }

    #[test]
    fn a_catalog_beyond_the_limit_is_refused_naming_it() {
        let e = err(&generated(10_000, true));
        assert!(
            e.contains("10000 processors is more than the 1000 a catalog may hold"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_placeholder_in_a_command_is_refused_naming_processor_and_placeholder() {
        let text = DEFAULT_CATALOG.replacen("\"{end}\"", "\"{ende}\"", 1);
        let e = err(&text);
        assert!(
            e.contains("processor TDZA field `command` has the unknown placeholder `{ende}`"),
            "{e}"
        );
        assert!(
            e.contains("{start}, {end}, {date}, {exe}, {warehouse}"),
            "{e}"
        );
    }

    #[test]
    fn another_pipeline_is_describable_without_recompiling() {
        let text = r#"
[source]
table = "raw.events"
date_column = "event_date"
season_column = "season"
[processing]
failures_table = "ops.failures"
attempts_table = "ops.attempts"
[[processor]]
code = "A"
name = "a"
table = "out.a"
date_column = "day"
entity_column = "id"
source_entity_column = "user_id"
depends_on = []
command = ["true"]
timeout = "1m"
max_attempts = 1
[[processor]]
code = "B"
name = "b"
table = "out.b"
date_column = "day"
entity_column = "id"
source_entity_column = "user_id"
depends_on = ["A"]
command = ["true"]
timeout = "1m"
max_attempts = 2
batch_days = 7
[categories]
expected_skip = ["TOO_NEW"]
missing_dependency = ["NO_INPUT"]
real_failure = []
"#;
        let c = Catalog::parse(text, "other.toml").unwrap();
        assert_eq!(c.processors().len(), 2);
        assert_eq!(c.get(c.find("b").unwrap()).batch_days, 7);
        assert_ne!(c.fingerprint(), Catalog::builtin().unwrap().fingerprint());
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::{any_text, mutated};
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_text_is_a_catalog_or_one_line_naming_the_file(text in any_text()) {
                if let Err(e) = Catalog::parse(&text, "fuzz.toml") {
                    let message = e.to_string();
                    prop_assert!(message.starts_with("catalog fuzz.toml: "), "{}", message);
                    prop_assert!(!message.contains('\n'), "{}", message);
                    prop_assert_eq!(e.exit_code().code(), 2);
                }
            }

            #[test]
            fn an_edited_catalog_loads_or_is_refused_in_one_line(text in mutated(DEFAULT_CATALOG)) {
                match Catalog::parse(&text, "edited.toml") {
                    Ok(c) => prop_assert_eq!(c.run_order().len(), c.processors().len()),
                    Err(e) => prop_assert!(!e.to_string().contains('\n')),
                }
            }
        }
    }
}
