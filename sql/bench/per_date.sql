-- One processor on one date, as the original validation asked it, once per processor and
-- game date (benches: examples/bench.rs, the loop a report replaces): the entities the
-- source expects that day, the entities with rows, and the failure rows.
SELECT
  (SELECT COUNT(DISTINCT {{source_entity}}) FROM {{source}} WHERE {{source_date}} = @date)
    AS expected,
  (SELECT COUNT(DISTINCT {{entity}}) FROM {{table}} WHERE {{date}} = @date) AS produced,
  (SELECT COUNT(*) FROM {{failures}}
   WHERE processor_name = @code AND analysis_date = @date) AS failure_rows
