//! Content, not just counts: per-date fingerprints of the values, rows whose key is NULL,
//! rows that break the catalog's invariants, and the sanity of the source every count
//! reconciles against. One query (`sql/content.sql`) for all of them.

use chrono::NaiveDate;
use std::collections::BTreeMap;

use crate::catalog::{Catalog, Invariant, ProcessorId};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Part, Query, text};
use crate::warehouse::Rows;

/// An order-independent hash of one (processor, date)'s rows and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    /// Rows with an entity.
    pub rows: i64,
    /// The engine's hash, as text (comparable only with one of the same engine).
    pub hash: String,
}

/// Where rows without a key were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NullKeyTable {
    /// The processor's own table.
    Rows,
    /// The failure table.
    Failures,
}

impl NullKeyTable {
    pub fn name(self) -> &'static str {
        match self {
            NullKeyTable::Rows => "rows",
            NullKeyTable::Failures => "failures",
        }
    }
}

/// Rows of one processor whose entity (or date) is NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullKeys {
    pub processor: ProcessorId,
    /// `None`: rows whose date is NULL (they belong to no date of any range).
    pub date: Option<NaiveDate>,
    pub table: NullKeyTable,
    pub rows: i64,
}

/// Rows of one (processor, date) that break one invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub processor: ProcessorId,
    pub date: NaiveDate,
    pub column: String,
    pub rule: String,
    pub rows: i64,
}

/// What is wrong with the source (Phase 3) itself.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceIssue {
    /// A game with rows for fewer than two teams.
    OneTeamGame {
        date: NaiveDate,
        game: String,
        teams: i64,
    },
    /// A player with several rows on one date.
    DuplicatePlayer {
        date: NaiveDate,
        player: String,
        rows: i64,
    },
    /// A day with far fewer players per game than its season's median.
    ShortDay {
        date: NaiveDate,
        players_per_game: f64,
        season_median: f64,
    },
}

impl SourceIssue {
    pub fn date(&self) -> NaiveDate {
        match self {
            SourceIssue::OneTeamGame { date, .. }
            | SourceIssue::DuplicatePlayer { date, .. }
            | SourceIssue::ShortDay { date, .. } => *date,
        }
    }

    /// The kind, as JSON and the manifest write it.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceIssue::OneTeamGame { .. } => "one_team_game",
            SourceIssue::DuplicatePlayer { .. } => "duplicate_player",
            SourceIssue::ShortDay { .. } => "short_day",
        }
    }

    /// What it is about: the game, the player, or the day's players per game.
    pub fn subject(&self) -> String {
        match self {
            SourceIssue::OneTeamGame { game, teams, .. } => {
                if *teams == 1 {
                    format!("game {game}: rows for one team only")
                } else {
                    format!("game {game}: rows for {teams} teams")
                }
            }
            SourceIssue::DuplicatePlayer { player, rows, .. } => {
                format!("player {player}: {rows} rows")
            }
            SourceIssue::ShortDay {
                players_per_game,
                season_median,
                ..
            } => {
                format!("{players_per_game:.1} players per game, season median {season_median:.1}")
            }
        }
    }
}

/// Everything the content query found, each list in contract order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    /// The engine's hash the fingerprints were made with ([`crate::sql::Dialect::row_hash_kind`]).
    pub hash_kind: String,
    pub fingerprints: Vec<Fingerprint>,
    pub null_keys: Vec<NullKeys>,
    pub violations: Vec<Violation>,
    pub source: Vec<SourceIssue>,
}

impl Content {
    pub fn null_keys_of(&self, id: ProcessorId) -> i64 {
        self.null_keys
            .iter()
            .filter(|n| n.processor == id)
            .map(|n| n.rows)
            .sum()
    }

    pub fn violations_of(&self, id: ProcessorId) -> i64 {
        self.violations
            .iter()
            .filter(|v| v.processor == id)
            .map(|v| v.rows)
            .sum()
    }

    /// Findings that make exit 1.
    pub fn has_findings(&self) -> bool {
        !self.null_keys.is_empty() || !self.violations.is_empty() || !self.source.is_empty()
    }
}

/// The content query of `ids` over `range`.
pub fn content_query(catalog: &Catalog, ids: &[ProcessorId], range: DateRange) -> Query {
    let rows: Vec<Part> = ids
        .iter()
        .map(|&id| {
            let p = catalog.get(id);
            let mut hashed = vec![p.entity_column.clone(), p.date_column.clone()];
            hashed.extend(p.value_columns.iter().cloned());
            Part::new()
                .table("table", &p.table)
                .column("date", &p.date_column)
                .column("entity", &p.entity_column)
                .row_hash("row_hash", &hashed)
                .param("code", Param::Text(p.code.clone()))
        })
        .collect();
    let mut not_null = Vec::new();
    let mut ranges = Vec::new();
    let mut lengths = Vec::new();
    for &id in ids {
        let p = catalog.get(id);
        for invariant in &p.invariants {
            let part = Part::new()
                .table("table", &p.table)
                .column("date", &p.date_column)
                .param("code", Param::Text(p.code.clone()))
                .param("column", Param::Text(invariant.column().into()))
                .param("rule", Param::Text(invariant.rule()));
            match invariant {
                Invariant::NotNull(column) => not_null.push(part.column("column", column)),
                Invariant::Range { column, low, high } => ranges.push(
                    part.column("column", column)
                        .param("low", Param::Float(*low))
                        .param("high", Param::Float(*high)),
                ),
                Invariant::ArrayLength { array, length } => {
                    lengths.push(part.column("array", array).column("length", length))
                }
            }
        }
    }
    let failure_parts: Vec<Part> = ids
        .iter()
        .map(|&id| {
            Part::new()
                .table("failures", &catalog.processing.failures)
                .param("code", Param::Text(catalog.code(id).into()))
        })
        .collect();
    let source_parts: Vec<Part> = catalog
        .source
        .sanity
        .iter()
        .map(|s| {
            Part::new()
                .table("source", &catalog.source.table)
                .column("date", &catalog.source.date_column)
                .column("season", &catalog.source.season_column)
                .column("game", &s.game_column)
                .column("team", &s.team_column)
                .column("player", &s.player_column)
        })
        .collect();
    // The invariants of every kind fill one slot, a fragment per kind.
    Query::new("content", text::CONTENT)
        .repeat(
            "processor_content",
            text::PART_CONTENT_ROWS,
            &rows,
            text::PART_NO_CONTENT,
        )
        .repeat_each(
            "invariants",
            &[
                (text::PART_INVARIANT_NOT_NULL, &not_null),
                (text::PART_INVARIANT_RANGE, &ranges),
                (text::PART_INVARIANT_ARRAY_LENGTH, &lengths),
            ],
            text::PART_NO_CONTENT,
        )
        .repeat(
            "failure_null_keys",
            text::PART_FAILURE_NULL_KEYS,
            &failure_parts,
            text::PART_NO_CONTENT,
        )
        .repeat(
            "source_sanity",
            text::PART_SOURCE_SANITY,
            &source_parts,
            text::PART_NO_CONTENT,
        )
        .param("start", Param::Date(range.start()))
        .param("end", Param::Date(range.end()))
}

/// The findings out of the content query's rows; short days against `short_day_share`
/// of each season's median players per game over the range's game dates.
pub fn content_from(catalog: &Catalog, ids: &[ProcessorId], rows: &Rows) -> Result<Content, Error> {
    let mut content = Content::default();
    let processor = |code: &str| -> Option<ProcessorId> {
        catalog
            .by_code(code)
            .filter(|id| ids.binary_search(id).is_ok())
    };
    // season -> [(date, players per game)]
    let mut days: BTreeMap<String, Vec<(NaiveDate, f64)>> = BTreeMap::new();
    for row in rows.iter() {
        let section = row.text("section")?;
        let code = row.text("processor")?;
        match section.as_str() {
            "fingerprint" => {
                if let Some(processor) = processor(&code) {
                    content.fingerprints.push(Fingerprint {
                        processor,
                        date: row.date("d")?,
                        rows: row.int("n")?,
                        hash: row.text("detail")?,
                    });
                }
            }
            "null_key" => {
                if let Some(processor) = processor(&code) {
                    let table = if row.text("item")? == "failures" {
                        NullKeyTable::Failures
                    } else {
                        NullKeyTable::Rows
                    };
                    content.null_keys.push(NullKeys {
                        processor,
                        date: row.opt_date("d")?,
                        table,
                        rows: row.int("n")?,
                    });
                }
            }
            "invariant" => {
                if let Some(processor) = processor(&code) {
                    content.violations.push(Violation {
                        processor,
                        date: row.date("d")?,
                        column: row.text("item")?,
                        rule: row.text("detail")?,
                        rows: row.int("n")?,
                    });
                }
            }
            "one_team_game" => content.source.push(SourceIssue::OneTeamGame {
                date: row.date("d")?,
                game: row.text("item")?,
                teams: row.int("n")?,
            }),
            "duplicate_player" => content.source.push(SourceIssue::DuplicatePlayer {
                date: row.date("d")?,
                player: row.text("item")?,
                rows: row.int("n")?,
            }),
            "day" => {
                let games: i64 = row.text("detail")?.parse().unwrap_or(0);
                if games > 0 {
                    days.entry(row.text("item")?)
                        .or_default()
                        .push((row.date("d")?, row.int("n")? as f64 / games as f64));
                }
            }
            other => {
                return Err(Error::internal(format!(
                    "the content query returned an unknown section `{other}`"
                )));
            }
        }
    }
    if let Some(sanity) = &catalog.source.sanity {
        for days in days.values() {
            let median = median(days.iter().map(|(_, v)| *v).collect());
            for &(date, players_per_game) in days {
                if players_per_game < sanity.short_day_share * median {
                    content.source.push(SourceIssue::ShortDay {
                        date,
                        players_per_game,
                        season_median: median,
                    });
                }
            }
        }
    }
    content.fingerprints.sort_by_key(|f| (f.processor, f.date));
    content.null_keys.sort_by(|a, b| {
        (a.processor, a.date.is_none(), a.date, a.table).cmp(&(
            b.processor,
            b.date.is_none(),
            b.date,
            b.table,
        ))
    });
    content.violations.sort_by(|a, b| {
        (a.processor, a.date, &a.column, &a.rule).cmp(&(b.processor, b.date, &b.column, &b.rule))
    });
    content
        .source
        .sort_by(|a, b| (a.date(), a.kind(), a.subject()).cmp(&(b.date(), b.kind(), b.subject())));
    Ok(content)
}

/// How far a processor is behind the source: its latest date with rows in the range
/// against the range's latest game date, and the game dates in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freshness {
    pub processor: ProcessorId,
    /// Its latest date with rows in the range (`None`: no rows in it).
    pub latest: Option<NaiveDate>,
    /// The range's latest game date of its source (`None`: no game date in it).
    pub source_latest: Option<NaiveDate>,
    /// Its game dates in the range after `latest`.
    pub lag: usize,
}

/// The freshness of each of `ids` from its reconciliation rows.
pub fn freshness(ids: &[ProcessorId], rows: &[super::DateRow]) -> Vec<Freshness> {
    ids.iter()
        .map(|&id| {
            let own = || rows.iter().filter(move |r| r.processor == id);
            let latest = own().filter(|r| r.records > 0).map(|r| r.date).max();
            let source_latest = own().filter(|r| r.is_game_date()).map(|r| r.date).max();
            let lag = own()
                .filter(|r| r.is_game_date() && latest.is_none_or(|l| r.date > l))
                .count();
            Freshness {
                processor: id,
                latest,
                source_latest,
                lag,
            }
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
