-- Defect: a processor never ran on a date (its failure rows are gone too).
DELETE FROM nba_processing.precompute_failures
WHERE processor_name = @processor AND analysis_date = @date
