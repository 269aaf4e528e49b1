-- Content, not just counts: one query for every processor and the source, bounded by the
-- range like every other check. Each row is one finding of one section:
--
--   fingerprint       (processor, date): its rows with a non-NULL entity (n) and an
--                     order-independent hash of their values (detail): the entity, the
--                     date and the catalog's value_columns, never processed_at
--   null_key          (processor, date): rows (item 'rows') or failure rows (item
--                     'failures') whose entity is NULL; d is NULL for rows whose date is
--                     NULL, which belong to no range and are counted whatever it is
--   invariant         (processor, date, column): rows breaking a catalog invariant; item
--                     the column, detail the rule
--   one_team_game     (date, game): a game with rows for fewer than two teams
--   duplicate_player  (date, player): a player with several rows on one date
--   day               (date): distinct players (n) and games (detail) of a game date, item
--                     its season; short days are found by the caller against the season's
--                     median of the range's dates
--
-- Columns: section, processor, d, item, detail, n.
{{processor_content}}
UNION ALL
{{invariants}}
UNION ALL
{{failure_null_keys}}
UNION ALL
{{source_sanity}}
