-- Source defect: a day that lost most of its players. Every team of every game on @date
-- keeps its first @keep players (by name), so each game still has both teams.
DELETE FROM nba_analytics.player_game_summary
WHERE game_date = @date
  AND player_lookup IN (
    SELECT player_lookup FROM (
      SELECT player_lookup,
             ROW_NUMBER() OVER (PARTITION BY game_id, team_abbr ORDER BY player_lookup) AS k
      FROM nba_analytics.player_game_summary WHERE game_date = @date
    ) AS numbered
    WHERE k > @keep
  )
