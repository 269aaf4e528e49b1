-- The heartbeat of the holder; no row changes once another run took the lease over.
UPDATE {{lease}}
SET heartbeat_us = UNIX_MICROS(CURRENT_TIMESTAMP)
WHERE lease_name = @lease
  AND holder = @holder
