-- rows of one processor whose array does not have as many elements as its length column
-- says, per date (a NULL array has none)
SELECT 'invariant' AS section, CAST(@code AS STRING) AS processor, {{date}} AS d,
       CAST(@column AS STRING) AS item, CAST(@rule AS STRING) AS detail, COUNT(*) AS n
FROM {{table}}
WHERE {{date}} BETWEEN @start AND @end
  AND COALESCE(ARRAY_LENGTH({{array}}), 0) IS DISTINCT FROM {{length}}
GROUP BY {{date}}
