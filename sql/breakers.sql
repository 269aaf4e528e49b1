-- Entities whose circuit breaker is tripped: retried max_attempts times and left
-- missing until someone repairs them on purpose.
WITH
processors AS (
  {{processors}}
)
SELECT a.processor_name AS processor,
       a.analysis_date AS d,
       a.entity_id AS entity,
       a.attempt_count AS attempts
FROM {{attempts}} AS a
JOIN processors AS p ON p.processor = a.processor_name
WHERE a.analysis_date BETWEEN @start AND @end
  AND a.circuit_breaker_tripped
ORDER BY processor, d, entity
