-- PDC, player daily cache. For each player with a game on a date of the range: his
-- scoring over his last 5 and 10 games of the season before that date (within 60 days)
-- and games played this season. Needs TDZA (opponent), PSZA and PCF rows that day.
CREATE OR REPLACE TEMP TABLE phase4_outcome AS
WITH
targets AS (
  SELECT player_lookup AS player, game_date AS d, season_year, game_no,
         opponent_team_abbr AS opponent
  FROM phase4_player_games
  WHERE game_date BETWEEN @start AND @end
),
recent AS (
  SELECT t.player, t.d,
         AVG(CASE WHEN g.game_no >= t.game_no - 5 THEN g.points END) AS last_5,
         AVG(g.points) AS last_10
  FROM targets AS t
  JOIN phase4_player_games AS g
    ON g.player_lookup = t.player AND g.season_year = t.season_year
   AND g.game_no BETWEEN t.game_no - 10 AND t.game_no - 1
   AND g.game_date >= t.d - INTERVAL 60 DAY
  GROUP BY t.player, t.d
),
psza AS (
  SELECT DISTINCT player_lookup, analysis_date FROM nba_precompute.player_shot_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
),
tdza AS (
  SELECT DISTINCT team_abbr, analysis_date FROM nba_precompute.team_defense_zone_analysis
  WHERE analysis_date BETWEEN @start AND @end
),
pcf AS (
  SELECT DISTINCT player_lookup, analysis_date FROM nba_precompute.player_composite_factors
  WHERE analysis_date BETWEEN @start AND @end
)
SELECT
  t.player AS outcome_entity,
  t.d AS outcome_date,
  CASE WHEN ps.player_lookup IS NULL OR td.team_abbr IS NULL OR pc.player_lookup IS NULL
       THEN 'MISSING_DEPENDENCY' END AS failure_category,
  NULLIF(concat_ws('; ',
    CASE WHEN td.team_abbr IS NULL THEN 'no TDZA row for opponent ' || t.opponent END,
    CASE WHEN ps.player_lookup IS NULL THEN 'no PSZA row' END,
    CASE WHEN pc.player_lookup IS NULL THEN 'no PCF row' END), '') AS failure_reason,
  t.player AS player_lookup,
  t.d AS cache_date,
  round(r.last_5, 3) AS points_avg_last_5,
  round(r.last_10, 3) AS points_avg_last_10,
  CAST(t.game_no - 1 AS INTEGER) AS games_played_season
FROM targets AS t
LEFT JOIN recent AS r ON r.player = t.player AND r.d = t.d
LEFT JOIN psza AS ps ON ps.player_lookup = t.player AND ps.analysis_date = t.d
LEFT JOIN tdza AS td ON td.team_abbr = t.opponent AND td.analysis_date = t.d
LEFT JOIN pcf AS pc ON pc.player_lookup = t.player AND pc.analysis_date = t.d
WHERE NOT EXISTS (
  SELECT 1 FROM nba_processing.reprocess_attempts AS a
  WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
    AND a.entity_id = t.player AND a.analysis_date = t.d
)
