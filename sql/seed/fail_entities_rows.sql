-- Defect: remove the rows of the entities that failed with @category on @date.
DELETE FROM {{table}}
WHERE {{date}} = @date
  AND {{entity}} IN (
    SELECT entity_id FROM nba_processing.precompute_failures
    WHERE processor_name = @processor AND analysis_date = @date AND failure_category = @category
  )
