-- The end of a run: the lease is free again (who held it last stays for people to read).
UPDATE {{lease}}
SET holder = NULL,
    heartbeat_us = UNIX_MICROS(CURRENT_TIMESTAMP)
WHERE lease_name = @lease
  AND holder = @holder
