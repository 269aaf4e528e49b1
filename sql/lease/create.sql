-- The repair lease ([repair] lease_table in phase4.toml), created on first use: one row
-- per lease, held by at most one repair run at a time, on whichever machine. Times are
-- microseconds since the epoch by the clock of the warehouse, so the clocks of the
-- machines never have to agree.
CREATE TABLE IF NOT EXISTS {{lease}} (
  lease_name STRING,
  holder STRING,
  operator STRING,
  host STRING,
  instance STRING,
  pid BIGINT,
  plan_fingerprint STRING,
  acquired_us BIGINT,
  heartbeat_us BIGINT
)
