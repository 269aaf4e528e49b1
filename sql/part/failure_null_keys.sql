-- one processor's failure rows whose entity or date is NULL
SELECT 'null_key' AS section, CAST(@code AS STRING) AS processor, analysis_date AS d,
       'failures' AS item, CAST(NULL AS STRING) AS detail, COUNT(*) AS n
FROM {{failures}}
WHERE processor_name = CAST(@code AS STRING)
  AND ((analysis_date BETWEEN @start AND @end AND entity_id IS NULL) OR analysis_date IS NULL)
GROUP BY analysis_date
