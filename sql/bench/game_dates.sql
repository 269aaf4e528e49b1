-- The game dates of the range, and the rows a report over it reads (benches).
SELECT {{date}} AS d, COUNT(*) AS source_rows
FROM {{source}}
WHERE {{date}} BETWEEN @start AND @end
GROUP BY {{date}}
ORDER BY d
