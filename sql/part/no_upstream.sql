-- no processor has an upstream among those queried: an empty list of pairs
SELECT CAST(NULL AS STRING) AS processor, CAST(NULL AS STRING) AS upstream,
       CAST(NULL AS STRING) AS mapping
FROM (SELECT 1 AS one) AS nothing
WHERE 1 = 0
