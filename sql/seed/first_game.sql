-- The first game (by id) on @date: the one one_team_game.sql breaks (for the manifest).
SELECT MIN(game_id) AS game_id FROM nba_analytics.player_game_summary WHERE game_date = @date
