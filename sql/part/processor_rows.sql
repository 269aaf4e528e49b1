-- the rows one processor wrote in the range
SELECT CAST(@code AS STRING) AS processor, {{entity}} AS entity, {{date}} AS d, processed_at
FROM {{table}}
WHERE {{date}} BETWEEN @start AND @end
