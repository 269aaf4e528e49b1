//! The content findings as `report` shows them: NULL keys, invariant violations, the
//! source's sanity and each processor's freshness.

use serde::Serialize;

use super::table::{Drawing, heading, table};
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::Findings;
use crate::checks::content::SourceIssue;

#[derive(Serialize)]
pub(crate) struct NullKeysJson {
    processor: String,
    /// `null` for rows whose date is NULL.
    date: Option<String>,
    table: &'static str,
    rows: i64,
}

#[derive(Serialize)]
pub(crate) struct ViolationJson {
    processor: String,
    date: String,
    column: String,
    rule: String,
    rows: i64,
}

#[derive(Serialize)]
pub(crate) struct SourceJson {
    kind: &'static str,
    date: String,
    /// The game or the player, where the issue is about one.
    subject: Option<String>,
    /// The teams of a one-team game (fewer than two).
    teams: Option<i64>,
    /// The rows of a player with several on one date.
    rows: Option<i64>,
    players_per_game: Option<f64>,
    season_median: Option<f64>,
}

#[derive(Serialize)]
pub(crate) struct FreshnessJson {
    processor: String,
    latest_date: Option<String>,
    source_latest_date: Option<String>,
    lag: usize,
    /// Beyond `--max-lag` (always false without it).
    finding: bool,
}

/// The rows without a key, of every processor or only of `only`.
pub(crate) fn null_keys_json(
    catalog: &Catalog,
    f: &Findings,
    only: Option<ProcessorId>,
) -> Vec<NullKeysJson> {
    f.content
        .null_keys
        .iter()
        .filter(|n| only.is_none_or(|id| n.processor == id))
        .map(|n| NullKeysJson {
            processor: catalog.code(n.processor).into(),
            date: n.date.map(|d| d.to_string()),
            table: n.table.name(),
            rows: n.rows,
        })
        .collect()
}

pub(crate) fn violations_json(catalog: &Catalog, f: &Findings) -> Vec<ViolationJson> {
    f.content
        .violations
        .iter()
        .map(|v| ViolationJson {
            processor: catalog.code(v.processor).into(),
            date: v.date.to_string(),
            column: v.column.clone(),
            rule: v.rule.clone(),
            rows: v.rows,
        })
        .collect()
}

pub(crate) fn source_json(f: &Findings) -> Vec<SourceJson> {
    f.content
        .source
        .iter()
        .map(|s| {
            let mut json = SourceJson {
                kind: s.kind(),
                date: s.date().to_string(),
                subject: None,
                teams: None,
                rows: None,
                players_per_game: None,
                season_median: None,
            };
            match s {
                SourceIssue::OneTeamGame { game, teams, .. } => {
                    json.subject = Some(game.clone());
                    json.teams = Some(*teams);
                }
                SourceIssue::DuplicatePlayer { player, rows, .. } => {
                    json.subject = Some(player.clone());
                    json.rows = Some(*rows);
                }
                SourceIssue::ShortDay {
                    players_per_game,
                    season_median,
                    ..
                } => {
                    json.players_per_game = Some(super::round4(*players_per_game));
                    json.season_median = Some(super::round4(*season_median));
                }
            }
            json
        })
        .collect()
}

pub(crate) fn freshness_json(catalog: &Catalog, f: &Findings) -> Vec<FreshnessJson> {
    f.freshness
        .iter()
        .map(|x| FreshnessJson {
            processor: catalog.code(x.processor).into(),
            latest_date: x.latest.map(|d| d.to_string()),
            source_latest_date: x.source_latest.map(|d| d.to_string()),
            lag: x.lag,
            finding: f.max_lag.is_some_and(|max| x.lag > max),
        })
        .collect()
}

/// `2 on 2021-12-04 (rows), 1 with a NULL date (rows)`: one processor's rows without a key.
pub(crate) fn null_keys_line(f: &Findings, id: ProcessorId) -> Option<String> {
    let parts: Vec<String> = f
        .content
        .null_keys
        .iter()
        .filter(|n| n.processor == id)
        .map(|n| match n.date {
            Some(d) => format!("{} on {d} ({})", n.rows, n.table.name()),
            None => format!("{} with a NULL date ({})", n.rows, n.table.name()),
        })
        .collect();
    (!parts.is_empty()).then(|| format!("Rows without a key: {}", parts.join(", ")))
}

/// The content sections of the text report; nothing when there is nothing to say.
pub(crate) fn content_text(out: &mut String, catalog: &Catalog, f: &Findings, drawing: Drawing) {
    let c = &f.content;
    if !c.null_keys.is_empty() {
        let total: i64 = c.null_keys.iter().map(|n| n.rows).sum();
        heading(out, drawing, &format!("Rows without a key ({total})"));
        let rows = c
            .null_keys
            .iter()
            .map(|n| {
                vec![
                    catalog.code(n.processor).to_string(),
                    n.date.map_or("NULL date".into(), |d| d.to_string()),
                    n.table.name().to_string(),
                    n.rows.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["processor", "date", "table", "rows"],
            rows,
            drawing,
            3,
        ));
    }
    if !c.violations.is_empty() {
        let total: i64 = c.violations.iter().map(|v| v.rows).sum();
        heading(
            out,
            drawing,
            &format!("Invariant violations ({total} rows)"),
        );
        let rows = c
            .violations
            .iter()
            .map(|v| {
                vec![
                    catalog.code(v.processor).to_string(),
                    v.date.to_string(),
                    v.column.clone(),
                    v.rule.clone(),
                    v.rows.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["processor", "date", "column", "rule", "rows"],
            rows,
            drawing,
            4,
        ));
    }
    if !c.source.is_empty() {
        heading(
            out,
            drawing,
            &format!(
                "Source {} ({} issues: every count reconciles against it)",
                catalog.source.table,
                c.source.len()
            ),
        );
        let rows = c
            .source
            .iter()
            .map(|s| vec![s.date().to_string(), s.kind().to_string(), s.subject()])
            .collect();
        out.push_str(&table(&["date", "issue", "what"], rows, drawing, 3));
    }
    let behind: Vec<_> = f.freshness.iter().filter(|x| x.lag > 0).collect();
    if !behind.is_empty() {
        heading(out, drawing, "Freshness");
        let rows = behind
            .iter()
            .map(|x| {
                vec![
                    catalog.code(x.processor).to_string(),
                    x.latest.map_or("no rows".into(), |d| d.to_string()),
                    x.source_latest.map_or("-".into(), |d| d.to_string()),
                    format!(
                        "{} game date{} behind{}",
                        x.lag,
                        if x.lag == 1 { "" } else { "s" },
                        match f.max_lag {
                            Some(max) if x.lag > max => format!(" (more than --max-lag {max})"),
                            _ => String::new(),
                        }
                    ),
                ]
            })
            .collect();
        out.push_str(&table(
            &["processor", "latest date", "source's latest", "lag"],
            rows,
            drawing,
            4,
        ));
    }
}
