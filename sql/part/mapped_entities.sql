-- one entity mapping on each date of the range: an entity (a player) and the upstream
-- entity its source row names that day (his opponent's team)
SELECT DISTINCT CAST(@mapping AS STRING) AS mapping, {{date}} AS d, {{entity}} AS entity,
       {{mapped}} AS mapped
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end AND {{entity}} IS NOT NULL
