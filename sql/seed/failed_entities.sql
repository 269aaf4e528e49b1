-- The entities that failed with @category on @date (for the manifest).
SELECT entity_id FROM nba_processing.precompute_failures
WHERE processor_name = @processor AND analysis_date = @date AND failure_category = @category
ORDER BY entity_id
