-- Who holds the lease, and how old its heartbeat is by the clock of the warehouse.
SELECT
  holder,
  operator,
  host,
  instance,
  pid,
  plan_fingerprint,
  UNIX_MICROS(CURRENT_TIMESTAMP) - heartbeat_us AS age_us
FROM {{lease}}
WHERE lease_name = @lease
LIMIT 1
