-- ML, the feature store. For each player with a game on a date of the range: one
-- feature vector from the four upstream tables that day (TDZA for his opponent).
CREATE OR REPLACE TEMP TABLE phase4_outcome AS
WITH
targets AS (
  SELECT player_lookup AS player, game_date AS d, opponent_team_abbr AS opponent
  FROM phase4_player_games
  WHERE game_date BETWEEN @start AND @end
),
tdza AS (
  SELECT team_abbr, analysis_date, AVG(paint_pct_allowed) AS paint_pct,
         AVG(mid_range_pct_allowed) AS mid_pct, AVG(three_pt_pct_allowed) AS three_pct
  FROM nba_precompute.team_defense_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY team_abbr, analysis_date
),
psza AS (
  SELECT player_lookup, analysis_date, AVG(paint_rate) AS paint_rate,
         AVG(mid_range_rate) AS mid_range_rate, AVG(three_pt_rate) AS three_pt_rate
  FROM nba_precompute.player_shot_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY player_lookup, analysis_date
),
pcf AS (
  SELECT player_lookup, analysis_date, AVG(composite_score) AS composite_score
  FROM nba_precompute.player_composite_factors
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY player_lookup, analysis_date
),
pdc AS (
  SELECT player_lookup, cache_date, AVG(points_avg_last_5) AS last_5,
         AVG(points_avg_last_10) AS last_10, MAX(games_played_season) AS games
  FROM nba_precompute.player_daily_cache
  WHERE cache_date BETWEEN @start AND @end
  GROUP BY player_lookup, cache_date
)
SELECT
  t.player AS outcome_entity,
  t.d AS outcome_date,
  CASE WHEN td.team_abbr IS NULL OR ps.player_lookup IS NULL OR pc.player_lookup IS NULL
         OR dc.player_lookup IS NULL
       THEN 'MISSING_DEPENDENCY' END AS failure_category,
  NULLIF(concat_ws('; ',
    CASE WHEN td.team_abbr IS NULL THEN 'no TDZA row for opponent ' || t.opponent END,
    CASE WHEN ps.player_lookup IS NULL THEN 'no PSZA row' END,
    CASE WHEN pc.player_lookup IS NULL THEN 'no PCF row' END,
    CASE WHEN dc.player_lookup IS NULL THEN 'no PDC row' END), '') AS failure_reason,
  t.player AS player_lookup,
  t.d AS game_date,
  CAST(8 AS INTEGER) AS feature_count,
  CAST([
    COALESCE(ps.paint_rate, 0), COALESCE(ps.mid_range_rate, 0), COALESCE(ps.three_pt_rate, 0),
    COALESCE(td.paint_pct, 0), COALESCE(td.three_pct, 0), COALESCE(pc.composite_score, 0),
    COALESCE(dc.last_5, 0), COALESCE(dc.last_10, 0)
  ] AS DOUBLE[]) AS features
FROM targets AS t
LEFT JOIN tdza AS td ON td.team_abbr = t.opponent AND td.analysis_date = t.d
LEFT JOIN psza AS ps ON ps.player_lookup = t.player AND ps.analysis_date = t.d
LEFT JOIN pcf AS pc ON pc.player_lookup = t.player AND pc.analysis_date = t.d
LEFT JOIN pdc AS dc ON dc.player_lookup = t.player AND dc.cache_date = t.d
WHERE NOT EXISTS (
  SELECT 1 FROM nba_processing.reprocess_attempts AS a
  WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
    AND a.entity_id = t.player AND a.analysis_date = t.d
)
