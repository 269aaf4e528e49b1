-- Shared by the player processors: each player's games of the season up to the end of
-- the range, numbered, so "games this season before D" and "the last N games" are
-- cheap. Starts at the season's start (@season_start), the widest lookback.
CREATE OR REPLACE TEMP TABLE phase4_player_games AS
SELECT player_lookup, game_date, season_year, team_abbr, opponent_team_abbr, points,
       minutes_played, paint_attempts, paint_makes, mid_range_attempts, mid_range_makes,
       three_pt_attempts, three_pt_makes,
       ROW_NUMBER() OVER (PARTITION BY player_lookup, season_year ORDER BY game_date) AS game_no
FROM nba_analytics.player_game_summary
WHERE game_date BETWEEN @season_start AND @end
