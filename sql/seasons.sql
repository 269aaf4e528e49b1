-- Seasons in the range, with their first and last game dates.
-- The range is widened back to July 1 of its first season by the caller: season
-- weeks count from the season's first game date.
SELECT
  {{season}} AS season_year,
  MIN({{game_date}}) AS first_game,
  MAX({{game_date}}) AS last_game,
  COUNT(DISTINCT {{game_date}}) AS game_dates
FROM {{source}}
WHERE {{game_date}} BETWEEN @start AND @end
GROUP BY {{season}}
ORDER BY season_year
