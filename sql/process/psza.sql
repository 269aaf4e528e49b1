-- PSZA, player shot zone analysis. For each player with a game on a date of the range:
-- the share of his shots by zone over his last 10 games of the season before that
-- date, within 60 days. Needs 10 games of the player this season before the date;
-- fewer is INSUFFICIENT_DATA, an expected skip.
CREATE OR REPLACE TEMP TABLE phase4_outcome AS
WITH
targets AS (
  SELECT player_lookup AS player, game_date AS d, season_year, game_no
  FROM phase4_player_games
  WHERE game_date BETWEEN @start AND @end
),
sample AS (
  SELECT t.player, t.d, COUNT(*) AS games,
         SUM(g.paint_attempts) AS pa, SUM(g.mid_range_attempts) AS ma,
         SUM(g.three_pt_attempts) AS ta
  FROM targets AS t
  JOIN phase4_player_games AS g
    ON g.player_lookup = t.player AND g.season_year = t.season_year
   AND g.game_no BETWEEN t.game_no - 10 AND t.game_no - 1
   AND g.game_date >= t.d - INTERVAL 60 DAY
  GROUP BY t.player, t.d
)
SELECT
  t.player AS outcome_entity,
  t.d AS outcome_date,
  CASE WHEN t.game_no - 1 < 10 THEN 'INSUFFICIENT_DATA' END AS failure_category,
  CASE WHEN t.game_no - 1 < 10
       THEN CAST(t.game_no - 1 AS VARCHAR) || ' games this season before '
            || CAST(t.d AS VARCHAR) || '; needs 10'
  END AS failure_reason,
  t.player AS player_lookup,
  t.d AS analysis_date,
  CAST(COALESCE(s.games, 0) AS INTEGER) AS games_in_sample,
  CAST(s.pa AS DOUBLE) / NULLIF(s.pa + s.ma + s.ta, 0) AS paint_rate,
  CAST(s.ma AS DOUBLE) / NULLIF(s.pa + s.ma + s.ta, 0) AS mid_range_rate,
  CAST(s.ta AS DOUBLE) / NULLIF(s.pa + s.ma + s.ta, 0) AS three_pt_rate
FROM targets AS t
LEFT JOIN sample AS s ON s.player = t.player AND s.d = t.d
WHERE NOT EXISTS (
  SELECT 1 FROM nba_processing.reprocess_attempts AS a
  WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
    AND a.entity_id = t.player AND a.analysis_date = t.d
)
