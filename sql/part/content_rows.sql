-- one processor's fingerprints per date, and its rows whose entity or date is NULL
SELECT 'fingerprint' AS section, CAST(@code AS STRING) AS processor, {{date}} AS d,
       CAST(NULL AS STRING) AS item, CAST(BIT_XOR({{row_hash}}) AS STRING) AS detail,
       COUNT(*) AS n
FROM {{table}}
WHERE {{date}} BETWEEN @start AND @end AND {{entity}} IS NOT NULL
GROUP BY {{date}}
UNION ALL
SELECT 'null_key', CAST(@code AS STRING), {{date}}, 'rows', CAST(NULL AS STRING), COUNT(*)
FROM {{table}}
WHERE ({{date}} BETWEEN @start AND @end AND {{entity}} IS NULL) OR {{date}} IS NULL
GROUP BY {{date}}
