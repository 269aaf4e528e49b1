-- Defect: a row for a player who had no game on @date (copied from his latest earlier
-- row), stamped like the date's other rows.
INSERT INTO nba_precompute.player_daily_cache
SELECT c.player_lookup, CAST(@date AS DATE), c.points_avg_last_5, c.points_avg_last_10,
       c.games_played_season,
       (SELECT MIN(processed_at) FROM nba_precompute.player_daily_cache WHERE cache_date = @date)
FROM nba_precompute.player_daily_cache AS c
WHERE c.cache_date < @date
  AND c.player_lookup NOT IN (
    SELECT player_lookup FROM nba_analytics.player_game_summary WHERE game_date = @date
  )
ORDER BY c.cache_date DESC, c.player_lookup
LIMIT 1
