-- A processor rerun replaces its rows for the dates (a date without games ends with
-- none), except those of entities whose circuit breaker is tripped: they are skipped.
DELETE FROM {{table}} AS t
WHERE t.{{date}} BETWEEN @start AND @end
  AND NOT EXISTS (
    SELECT 1 FROM nba_processing.reprocess_attempts AS a
    WHERE a.processor_name = @processor AND a.circuit_breaker_tripped
      AND a.entity_id = t.{{entity}} AND a.analysis_date = t.{{date}}
  )
