-- PCF, player composite factors. For each player with a game on a date of the range:
-- his shot profile (PSZA) against his opponent's zone defense (TDZA) that day.
-- A missing upstream row is MISSING_DEPENDENCY.
CREATE OR REPLACE TEMP TABLE phase4_outcome AS
WITH
targets AS (
  SELECT player_lookup AS player, game_date AS d, opponent_team_abbr AS opponent
  FROM phase4_player_games
  WHERE game_date BETWEEN @start AND @end
),
psza AS (
  SELECT player_lookup, analysis_date, AVG(paint_rate) AS paint_rate,
         AVG(mid_range_rate) AS mid_range_rate, AVG(three_pt_rate) AS three_pt_rate
  FROM nba_precompute.player_shot_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY player_lookup, analysis_date
),
tdza AS (
  SELECT team_abbr, analysis_date, AVG(paint_pct_allowed) AS paint_pct,
         AVG(mid_range_pct_allowed) AS mid_pct, AVG(three_pt_pct_allowed) AS three_pct
  FROM nba_precompute.team_defense_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY team_abbr, analysis_date
)
SELECT
  t.player AS outcome_entity,
  t.d AS outcome_date,
  CASE WHEN ps.player_lookup IS NULL OR td.team_abbr IS NULL THEN 'MISSING_DEPENDENCY' END
    AS failure_category,
  NULLIF(concat_ws('; ',
    CASE WHEN ps.player_lookup IS NULL THEN 'no PSZA row' END,
    CASE WHEN td.team_abbr IS NULL THEN 'no TDZA row for opponent ' || t.opponent END), '')
    AS failure_reason,
  t.player AS player_lookup,
  t.d AS analysis_date,
  round(100 * (COALESCE(ps.paint_rate, 0) * COALESCE(td.paint_pct, 0.5)
             + COALESCE(ps.mid_range_rate, 0) * COALESCE(td.mid_pct, 0.4)
             + 1.5 * COALESCE(ps.three_pt_rate, 0) * COALESCE(td.three_pct, 0.35)), 4)
    AS composite_score
FROM targets AS t
LEFT JOIN psza AS ps ON ps.player_lookup = t.player AND ps.analysis_date = t.d
LEFT JOIN tdza AS td ON td.team_abbr = t.opponent AND td.analysis_date = t.d
WHERE NOT EXISTS (
  SELECT 1 FROM nba_processing.reprocess_attempts AS a
  WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
    AND a.entity_id = t.player AND a.analysis_date = t.d
)
