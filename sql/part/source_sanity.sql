-- the source's games with fewer than two teams, players with several rows on one date,
-- and each game date's players and games (short days are found against the season)
SELECT 'one_team_game' AS section, CAST(NULL AS STRING) AS processor, {{date}} AS d,
       CAST({{game}} AS STRING) AS item, CAST(NULL AS STRING) AS detail,
       COUNT(DISTINCT {{team}}) AS n
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end
GROUP BY {{date}}, {{game}}
HAVING COUNT(DISTINCT {{team}}) < 2
UNION ALL
SELECT 'duplicate_player', CAST(NULL AS STRING), {{date}}, CAST({{player}} AS STRING),
       CAST(NULL AS STRING), COUNT(*)
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end AND {{player}} IS NOT NULL
GROUP BY {{date}}, {{player}}
HAVING COUNT(*) > 1
UNION ALL
SELECT 'day', CAST(NULL AS STRING), {{date}}, CAST(MIN({{season}}) AS STRING),
       CAST(COUNT(DISTINCT {{game}}) AS STRING), COUNT(DISTINCT {{player}})
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end
GROUP BY {{date}}
