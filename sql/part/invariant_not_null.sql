-- rows of one processor whose column is NULL, per date
SELECT 'invariant' AS section, CAST(@code AS STRING) AS processor, {{date}} AS d,
       CAST(@column AS STRING) AS item, CAST(@rule AS STRING) AS detail, COUNT(*) AS n
FROM {{table}}
WHERE {{date}} BETWEEN @start AND @end AND {{column}} IS NULL
GROUP BY {{date}}
