-- no row, in the content query's shape
SELECT CAST(NULL AS STRING) AS section, CAST(NULL AS STRING) AS processor,
       CAST(NULL AS DATE) AS d, CAST(NULL AS STRING) AS item,
       CAST(NULL AS STRING) AS detail, CAST(0 AS INT64) AS n
FROM (SELECT 1 AS one) AS nothing
WHERE 1 = 0
