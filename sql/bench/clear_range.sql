-- Deletes one Phase 4 table's rows in the range (benches: every pair of the range missing).
DELETE FROM {{table}} WHERE {{date}} BETWEEN @start AND @end
