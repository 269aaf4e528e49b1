-- every upstream pair maps an entity to the same entity: no mapping to look up
SELECT CAST(NULL AS STRING) AS mapping, CAST(NULL AS DATE) AS d,
       CAST(NULL AS STRING) AS entity, CAST(NULL AS STRING) AS mapped
FROM (SELECT 1 AS one) AS nothing
WHERE 1 = 0
