-- The outcome's failure rows (expected skips included: they are recorded, not errors).
INSERT INTO nba_processing.precompute_failures
  (processor_name, analysis_date, entity_id, failure_category, failure_reason, created_at)
SELECT @processor, outcome_date, outcome_entity, failure_category, failure_reason, @processed_at
FROM phase4_outcome
WHERE failure_category IS NOT NULL
