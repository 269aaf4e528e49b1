-- The reprocessing attempts of the entities that failed with @category on @date;
-- at max attempts the circuit breaker is tripped.
INSERT INTO nba_processing.reprocess_attempts
  (processor_name, entity_id, analysis_date, attempt_count, last_attempt_at, circuit_breaker_tripped)
SELECT processor_name, entity_id, analysis_date, CAST(@attempts AS INTEGER),
       CAST(@created_at AS TIMESTAMP), CAST(@attempts AS INTEGER) >= 3
FROM nba_processing.precompute_failures
WHERE processor_name = @processor AND analysis_date = @date AND failure_category = @category
