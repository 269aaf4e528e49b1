-- the entities one processor must account for on each game date of the range
SELECT DISTINCT CAST(@code AS STRING) AS processor, {{date}} AS d, {{entity}} AS entity
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end AND {{entity}} IS NOT NULL
