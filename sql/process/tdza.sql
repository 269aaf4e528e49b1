-- TDZA, team defense zone analysis. For each team with a game on a date of the range:
-- how its opponents shot by zone against it over its last 15 games of the season
-- before that date, within 60 days. No minimum: a team's first game has an empty sample.
CREATE OR REPLACE TEMP TABLE phase4_outcome AS
WITH
targets AS (
  SELECT DISTINCT team_abbr AS team, game_date AS d, season_year
  FROM nba_analytics.player_game_summary
  WHERE game_date BETWEEN @start AND @end
),
team_games AS (
  -- one row per game and team: its opponents' shooting against it
  SELECT opponent_team_abbr AS team, game_id, game_date, season_year,
         SUM(paint_attempts) AS pa, SUM(paint_makes) AS pm,
         SUM(mid_range_attempts) AS ma, SUM(mid_range_makes) AS mm,
         SUM(three_pt_attempts) AS ta, SUM(three_pt_makes) AS tm
  FROM nba_analytics.player_game_summary
  WHERE game_date BETWEEN @season_start AND @end
  GROUP BY opponent_team_abbr, game_id, game_date, season_year
),
recent AS (
  SELECT t.team, t.d, g.pa, g.pm, g.ma, g.mm, g.ta, g.tm,
         ROW_NUMBER() OVER (PARTITION BY t.team, t.d ORDER BY g.game_date DESC) AS back
  FROM targets AS t
  JOIN team_games AS g
    ON g.team = t.team AND g.season_year = t.season_year
   AND g.game_date < t.d AND g.game_date >= t.d - INTERVAL 60 DAY
),
sample AS (
  SELECT team, d, COUNT(*) AS games,
         SUM(pa) AS pa, SUM(pm) AS pm, SUM(ma) AS ma, SUM(mm) AS mm, SUM(ta) AS ta, SUM(tm) AS tm
  FROM recent
  WHERE back <= 15
  GROUP BY team, d
)
SELECT
  t.team AS outcome_entity,
  t.d AS outcome_date,
  CAST(NULL AS VARCHAR) AS failure_category,
  CAST(NULL AS VARCHAR) AS failure_reason,
  t.team AS team_abbr,
  t.d AS analysis_date,
  CAST(COALESCE(s.games, 0) AS INTEGER) AS games_in_sample,
  CAST(s.pm AS DOUBLE) / NULLIF(s.pa, 0) AS paint_pct_allowed,
  CAST(s.mm AS DOUBLE) / NULLIF(s.ma, 0) AS mid_range_pct_allowed,
  CAST(s.tm AS DOUBLE) / NULLIF(s.ta, 0) AS three_pt_pct_allowed
FROM targets AS t
LEFT JOIN sample AS s ON s.team = t.team AND s.d = t.d
WHERE NOT EXISTS (
  SELECT 1 FROM nba_processing.reprocess_attempts AS a
  WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
    AND a.entity_id = t.team AND a.analysis_date = t.d
)
