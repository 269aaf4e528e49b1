-- The outcome's produced rows, stamped with this run's processed_at.
INSERT INTO {{table}} BY NAME
SELECT * EXCLUDE (outcome_entity, outcome_date, failure_category, failure_reason),
       CAST(@processed_at AS TIMESTAMP) AS processed_at
FROM phase4_outcome
WHERE failure_category IS NULL
