//! Game dates and seasons: what should exist, and the expected-skip share by season week.

use chrono::NaiveDate;
use std::collections::BTreeMap;

use super::reconcile::DateRow;
use crate::catalog::{Catalog, ProcessorId};
use crate::error::Error;
use crate::range::{DateRange, MAX_DATE, MIN_DATE};
use crate::sql::{Param, Query, text};
use crate::warehouse::Rows;

/// A season seen in the source, with its first and last game dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Season {
    pub season_year: i32,
    pub first_game: NaiveDate,
    pub last_game: NaiveDate,
    pub game_dates: u32,
}

/// The expected-skip share of one processor in one season week, against its band.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipWeek {
    pub processor: ProcessorId,
    pub season_year: i32,
    pub week: u32,
    pub dates: u32,
    pub expected: i64,
    pub expected_skips: i64,
    pub band: Option<(f64, f64)>,
}

impl SkipWeek {
    pub fn share(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.expected_skips as f64 / self.expected as f64
        }
    }

    /// Outside its band: worth reporting, never a failure.
    pub fn is_anomaly(&self) -> bool {
        match self.band {
            Some((low, high)) => {
                let share = self.share();
                // Compare at the precision the report prints (a tenth of a percent).
                let share = (share * 1000.0).round() / 1000.0;
                share < low || share > high
            }
            None => false,
        }
    }
}

/// The seasons out of the rows of `seasons.sql`.
pub fn seasons_from_rows(rows: &Rows) -> Result<Vec<Season>, Error> {
    rows.iter()
        .map(|row| {
            Ok(Season {
                season_year: row.int("season_year")? as i32,
                first_game: row.date("first_game")?,
                last_game: row.date("last_game")?,
                game_dates: row.int("game_dates")? as u32,
            })
        })
        .collect()
}

/// From the first to the last game date of `seasons` (the range when none is given).
pub fn range_of_seasons(seasons: &[Season]) -> Option<DateRange> {
    let first = seasons.iter().map(|s| s.first_game).min()?;
    let last = seasons.iter().map(|s| s.last_game).max()?;
    DateRange::new(first, last).ok()
}

/// The season a game date belongs to, by the seasons' first and last game dates.
pub fn season_of_game(seasons: &[Season], date: NaiveDate) -> Option<&Season> {
    seasons
        .iter()
        .find(|s| s.first_game <= date && date <= s.last_game)
}

/// Week of the season, week 1 starting on the season's first game date.
pub fn season_week(season: &Season, date: NaiveDate) -> u32 {
    ((date - season.first_game).num_days().max(0) / 7) as u32 + 1
}

/// Expected-skip share by season week for every selected processor that has bands.
pub fn skip_weeks(
    catalog: &Catalog,
    selected: &[ProcessorId],
    rows: &[DateRow],
    seasons: &[Season],
) -> Vec<SkipWeek> {
    let banded: Vec<ProcessorId> = selected
        .iter()
        .copied()
        .filter(|id| catalog.skip_bands.iter().any(|b| b.processor == *id))
        .collect();
    let mut weeks: BTreeMap<(ProcessorId, i32, u32), SkipWeek> = BTreeMap::new();
    for row in rows
        .iter()
        .filter(|r| banded.contains(&r.processor) && r.expected > 0)
    {
        let Some(season) = season_of_game(seasons, row.date) else {
            continue;
        };
        let week = season_week(season, row.date);
        let entry = weeks
            .entry((row.processor, season.season_year, week))
            .or_insert_with(|| SkipWeek {
                processor: row.processor,
                season_year: season.season_year,
                week,
                dates: 0,
                expected: 0,
                expected_skips: 0,
                band: catalog
                    .band_for(row.processor, week)
                    .map(|b| (b.low, b.high)),
            });
        entry.dates += 1;
        entry.expected += row.expected;
        entry.expected_skips += row.expected_skips;
    }
    weeks.into_values().collect()
}

/// The dates the seasons query reads: back to July 1 of the range's first season (weeks
/// count from a season's first game), or every supported date without a range.
pub fn season_bounds(range: Option<DateRange>) -> Result<DateRange, Error> {
    match range {
        Some(r) => Ok(r.from_season_start()),
        None => DateRange::new(MIN_DATE, MAX_DATE).map_err(Error::usage),
    }
}

/// `seasons.sql` over `bounds`.
pub fn seasons_query(catalog: &Catalog, bounds: DateRange) -> Query {
    Query::new("seasons", text::SEASONS)
        .table("source", &catalog.source.table)
        .column("game_date", &catalog.source.date_column)
        .column("season", &catalog.source.season_column)
        .param("start", Param::Date(bounds.start()))
        .param("end", Param::Date(bounds.end()))
}
