-- A repair is a deliberate retry: reset the tripped circuit breakers of a processor's
-- entities on the dates it is about to rerun (the runner records how many).
UPDATE {{attempts}}
SET circuit_breaker_tripped = FALSE, attempt_count = 0
WHERE processor_name = @processor
  AND analysis_date BETWEEN @start AND @end
  AND circuit_breaker_tripped
