-- Content defect: a failure row written without its entity (a processor's bug), for the
-- processor @code on @date. It belongs to no entity, so it is a finding of its own.
INSERT INTO nba_processing.precompute_failures
  (processor_name, analysis_date, entity_id, failure_category, failure_reason, created_at)
VALUES (@code, @date, NULL, 'PROCESSING_ERROR', 'entity lost while writing the failure',
        @created_at)
