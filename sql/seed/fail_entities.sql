-- Defect: the first @n entities (by name) with a row on @date fail with @category.
-- Their rows are removed by fail_entities_rows.sql right after.
INSERT INTO nba_processing.precompute_failures
  (processor_name, analysis_date, entity_id, failure_category, failure_reason, created_at)
SELECT @processor, {{date}}, {{entity}}, @category, @reason, CAST(@created_at AS TIMESTAMP)
FROM (
  SELECT DISTINCT {{date}}, {{entity}} FROM {{table}} WHERE {{date}} = @date
  ORDER BY {{entity}} LIMIT @n
) AS chosen
