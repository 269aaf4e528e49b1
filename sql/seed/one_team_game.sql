-- Source defect: a game whose rows for one team were never loaded. The first game (by id)
-- on @date loses every row of its first team (by abbreviation).
DELETE FROM nba_analytics.player_game_summary AS s
WHERE s.game_date = @date
  AND s.game_id = (
    SELECT MIN(game_id) FROM nba_analytics.player_game_summary WHERE game_date = @date
  )
  AND s.team_abbr = (
    SELECT MIN(team_abbr) FROM nba_analytics.player_game_summary
    WHERE game_date = @date AND game_id = s.game_id
  )
