//! The built-in reference processors: the five Phase 4 tables of DOMAIN.md computed
//! from player_game_summary in SQL, on the embedded warehouse. They follow the
//! contract: PSZA's 10-game minimum is INSUFFICIENT_DATA, an absent upstream row is
//! MISSING_DEPENDENCY, a rerun replaces the dates' rows and failure rows, and entities
//! whose circuit breaker is tripped are skipped, their failure rows left in place.

use chrono::{NaiveDateTime, Utc};

use crate::catalog::{Catalog, Processor, TableName};
use crate::error::Error;
use crate::range::DateRange;
use crate::sql::{Param, Query};
use crate::warehouse::{ColumnType, RequiredLayout, Warehouse};

const GAME_PLAYERS: &str = include_str!("../../sql/process/game_players.sql");
const CLEAR_ROWS: &str = include_str!("../../sql/process/clear_rows.sql");
const CLEAR_FAILURES: &str = include_str!("../../sql/process/clear_failures.sql");
const INSERT_ROWS: &str = include_str!("../../sql/process/insert_rows.sql");
const INSERT_FAILURES: &str = include_str!("../../sql/process/insert_failures.sql");
const OUTCOME_COUNTS: &str = include_str!("../../sql/process/outcome_counts.sql");

/// One of the five built-in processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Tdza,
    Psza,
    Pcf,
    Pdc,
    Ml,
}

impl Builtin {
    pub const ALL: [Builtin; 5] = [
        Builtin::Tdza,
        Builtin::Psza,
        Builtin::Pcf,
        Builtin::Pdc,
        Builtin::Ml,
    ];

    /// The built-in processor for a catalog code, if there is one.
    pub fn from_code(code: &str) -> Option<Builtin> {
        Builtin::ALL
            .into_iter()
            .find(|b| b.code().eq_ignore_ascii_case(code))
    }

    pub fn code(self) -> &'static str {
        match self {
            Builtin::Tdza => "TDZA",
            Builtin::Psza => "PSZA",
            Builtin::Pcf => "PCF",
            Builtin::Pdc => "PDC",
            Builtin::Ml => "ML",
        }
    }

    fn compute_sql(self) -> &'static str {
        match self {
            Builtin::Tdza => include_str!("../../sql/process/tdza.sql"),
            Builtin::Psza => include_str!("../../sql/process/psza.sql"),
            Builtin::Pcf => include_str!("../../sql/process/pcf.sql"),
            Builtin::Pdc => include_str!("../../sql/process/pdc.sql"),
            Builtin::Ml => include_str!("../../sql/process/ml.sql"),
        }
    }
}

/// The tables and columns the built-in processors read and write (DOMAIN.md's layout,
/// which their SQL names), with their kinds.
pub fn builtin_layout() -> Result<RequiredLayout, Error> {
    use ColumnType::*;
    let tables: [(&str, &[(&str, ColumnType)]); 8] = [
        (
            "nba_analytics.player_game_summary",
            &[
                ("game_id", Text),
                ("game_date", Date),
                ("season_year", Integer),
                ("player_lookup", Text),
                ("team_abbr", Text),
                ("opponent_team_abbr", Text),
                ("minutes_played", Float),
                ("points", Integer),
                ("paint_attempts", Integer),
                ("paint_makes", Integer),
                ("mid_range_attempts", Integer),
                ("mid_range_makes", Integer),
                ("three_pt_attempts", Integer),
                ("three_pt_makes", Integer),
            ],
        ),
        (
            "nba_precompute.team_defense_zone_analysis",
            &[
                ("team_abbr", Text),
                ("analysis_date", Date),
                ("games_in_sample", Integer),
                ("paint_pct_allowed", Float),
                ("mid_range_pct_allowed", Float),
                ("three_pt_pct_allowed", Float),
                ("processed_at", Timestamp),
            ],
        ),
        (
            "nba_precompute.player_shot_zone_analysis",
            &[
                ("player_lookup", Text),
                ("analysis_date", Date),
                ("games_in_sample", Integer),
                ("paint_rate", Float),
                ("mid_range_rate", Float),
                ("three_pt_rate", Float),
                ("processed_at", Timestamp),
            ],
        ),
        (
            "nba_precompute.player_composite_factors",
            &[
                ("player_lookup", Text),
                ("analysis_date", Date),
                ("composite_score", Float),
                ("processed_at", Timestamp),
            ],
        ),
        (
            "nba_precompute.player_daily_cache",
            &[
                ("player_lookup", Text),
                ("cache_date", Date),
                ("points_avg_last_5", Float),
                ("points_avg_last_10", Float),
                ("games_played_season", Integer),
                ("processed_at", Timestamp),
            ],
        ),
        (
            "nba_predictions.ml_feature_store_v2",
            &[
                ("player_lookup", Text),
                ("game_date", Date),
                ("feature_count", Integer),
                ("features", FloatList),
                ("processed_at", Timestamp),
            ],
        ),
        (
            "nba_processing.precompute_failures",
            &[
                ("processor_name", Text),
                ("analysis_date", Date),
                ("entity_id", Text),
                ("failure_category", Text),
                ("failure_reason", Text),
                ("created_at", Timestamp),
            ],
        ),
        (
            "nba_processing.reprocess_attempts",
            &[
                ("processor_name", Text),
                ("entity_id", Text),
                ("analysis_date", Date),
                ("attempt_count", Integer),
                ("last_attempt_at", Timestamp),
                ("circuit_breaker_tripped", Boolean),
            ],
        ),
    ];
    tables
        .into_iter()
        .map(|(table, columns)| {
            let table = TableName::parse(table).map_err(Error::internal)?;
            let columns = columns.iter().map(|&(c, t)| (c.to_string(), t)).collect();
            Ok((table, columns))
        })
        .collect()
}

/// What one run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSummary {
    pub processor: Builtin,
    pub range: DateRange,
    pub rows: i64,
    pub failure_rows: i64,
    pub by_category: Vec<(String, i64)>,
}

impl std::fmt::Display for ProcessSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {} rows, {} failure rows",
            self.processor.code(),
            self.range,
            self.rows,
            self.failure_rows
        )?;
        if !self.by_category.is_empty() {
            let parts: Vec<String> = self
                .by_category
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// Runs a built-in processor over `range` in one transaction, into the table the
/// catalog gives its code, stamping rows with `processed_at` (now, when `None`).
pub fn run_builtin(
    warehouse: &mut dyn Warehouse,
    catalog: &Catalog,
    processor: Builtin,
    range: DateRange,
    processed_at: Option<NaiveDateTime>,
) -> Result<ProcessSummary, Error> {
    let target = catalog.get(catalog.find(processor.code())?);
    let processed_at = processed_at.unwrap_or_else(|| Utc::now().naive_utc());
    let mut summary = None;
    warehouse.transaction(&mut |wh| {
        summary = Some(run_in_transaction(
            wh,
            target,
            processor,
            range,
            processed_at,
        )?);
        Ok(())
    })?;
    summary.ok_or_else(|| Error::internal(format!("{} wrote no summary", processor.code())))
}

/// The statements of one processor over a table of the catalog: its table, date and
/// entity columns, and its code.
pub(crate) fn bind_to(target: &Processor, query: Query) -> Query {
    query
        .table("table", &target.table)
        .column("date", &target.date_column)
        .column("entity", &target.entity_column)
        .param("processor", Param::Text(target.code.clone()))
}

fn run_in_transaction(
    warehouse: &mut dyn Warehouse,
    target: &Processor,
    processor: Builtin,
    range: DateRange,
    processed_at: NaiveDateTime,
) -> Result<ProcessSummary, Error> {
    let bind = |q: Query| {
        bind_to(target, q)
            .param("start", Param::Date(range.start()))
            .param("end", Param::Date(range.end()))
    };
    if processor != Builtin::Tdza {
        warehouse.execute(
            &Query::new("game_players", GAME_PLAYERS)
                .param(
                    "season_start",
                    Param::Date(range.from_season_start().start()),
                )
                .param("end", Param::Date(range.end())),
        )?;
    }
    let mut compute = bind(Query::new("compute", processor.compute_sql()));
    if processor == Builtin::Tdza {
        compute = compute.param(
            "season_start",
            Param::Date(range.from_season_start().start()),
        );
    }
    warehouse.execute(&compute)?;
    warehouse.execute(&bind(Query::new("clear_rows", CLEAR_ROWS)))?;
    warehouse.execute(&bind(Query::new("clear_failures", CLEAR_FAILURES)))?;
    let rows = warehouse.execute(
        &bind(Query::new("insert_rows", INSERT_ROWS))
            .param("processed_at", Param::Timestamp(processed_at)),
    )? as i64;
    let failure_rows = warehouse.execute(
        &bind(Query::new("insert_failures", INSERT_FAILURES))
            .param("processed_at", Param::Timestamp(processed_at)),
    )? as i64;
    let counts = warehouse.query(&Query::new("outcome_counts", OUTCOME_COUNTS))?;
    let mut by_category = Vec::new();
    for row in counts.iter() {
        by_category.push((row.text("category")?, row.int("n")?));
    }
    Ok(ProcessSummary {
        processor,
        range,
        rows,
        failure_rows,
        by_category,
    })
}
