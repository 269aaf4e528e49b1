-- Takes the lease in one conditional write: when it is free, held by a dead run of the
-- same state directory on this machine, or when its heartbeat is older than the bound.
-- It changes no row while another run holds it.
UPDATE {{lease}}
SET holder = @holder,
    operator = @operator,
    host = @host,
    instance = @instance,
    pid = @pid,
    plan_fingerprint = @plan,
    acquired_us = UNIX_MICROS(CURRENT_TIMESTAMP),
    heartbeat_us = UNIX_MICROS(CURRENT_TIMESTAMP)
WHERE lease_name = @lease
  AND (holder IS NULL
    OR holder = @dead_holder
    OR heartbeat_us < UNIX_MICROS(CURRENT_TIMESTAMP) - @stale_us)
