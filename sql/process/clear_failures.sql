-- A rerun replaces its failure rows for the dates, leaving those of tripped entities.
DELETE FROM nba_processing.precompute_failures AS f
WHERE f.processor_name = @processor
  AND f.analysis_date BETWEEN @start AND @end
  AND NOT EXISTS (
    SELECT 1 FROM nba_processing.reprocess_attempts AS a
    WHERE a.processor_name = f.processor_name AND a.circuit_breaker_tripped
      AND a.entity_id = f.entity_id AND a.analysis_date = f.analysis_date
  )
