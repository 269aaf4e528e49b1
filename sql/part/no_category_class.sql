-- the catalog classes no category: an empty list
SELECT CAST(NULL AS STRING) AS category, CAST(NULL AS STRING) AS class
FROM (SELECT 1 AS one) AS nothing
WHERE 1 = 0
