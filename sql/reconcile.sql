-- Reconciliation of every (processor, date) in the range (DOMAIN.md):
--
--   expected = produced + expected_skips + cascades + real_failures + unaccounted
--   records  = produced + unexpected + duplicates
--
-- Each expected entity (a team or player with a game that day) counts once, by the
-- first that applies: it has a row, a real-failure row, a cascade row, an
-- expected-skip row, or none (unaccounted). Only an entity's latest failure row counts.
-- A MISSING_DEPENDENCY row is a cascade when the same entity on the same date is an
-- expected skip in a processor upstream of this one, otherwise a real failure.
-- An entity with rows but no game that day is unexpected; rows beyond an entity's first
-- are duplicates. A row whose entity is NULL is no entity's: each one is unexpected
-- (the content check counts them as null keys too), so records still counts every row. first/last_processed_us give staleness (compared across processors by
-- the caller).
--
-- Attribution (root causes): a defective entity (a real failure or unaccounted) is
-- explained when its latest failure row is MISSING_DEPENDENCY or it is unaccounted, and
-- the entity it maps to (the same one, or its source row's column, e.g. a player's
-- opponent) is a defective entity of an upstream processor that day. `explained` counts
-- them; `explained_by` lists each explaining upstream processor with its count
-- ("TDZA:81,PCF:81"). Roots and causes are worked out by the caller from these.
--
-- Cost: the entity-level joins run per processor (processor_entities), on (date,
-- entity); one pass over the failure rows, one aggregate over the entities.
WITH
processors AS (
  {{processors}}
),
upstream AS (
  {{upstream}}
),
mapped_entities AS (
  {{mapped_entities}}
),
category_classes AS (
  {{category_classes}}
),
latest_failure AS (
  -- each (processor, entity, date)'s latest failure row: the greatest created_at, then
  -- the greatest category. One aggregate, not a ranking of every row: the microseconds
  -- since year 1 zero-padded to 19 digits sort as the timestamps do, and the category
  -- follows them (a NULL created_at is the oldest, a NULL category the lowest).
  SELECT f.processor_name AS processor,
         f.entity_id AS entity,
         f.analysis_date AS d,
         SUBSTR(MAX(
           LPAD(CAST(COALESCE(UNIX_MICROS(f.created_at) + 62135596800000000, 0) AS STRING), 19, '0')
           || COALESCE(f.failure_category, '')
         ), 20) AS category
  FROM {{failures}} AS f
  JOIN processors AS p ON p.processor = f.processor_name
  WHERE f.analysis_date BETWEEN @start AND @end
  GROUP BY f.processor_name, f.entity_id, f.analysis_date
),
classed_failure AS (
  SELECT lf.processor, lf.entity, lf.d, COALESCE(c.class, 'real_failure') AS class
  FROM latest_failure AS lf
  LEFT JOIN category_classes AS c ON c.category = lf.category
),
cascade_source AS (
  -- (processor, entity, date) whose upstream has an expected skip for that entity and date
  SELECT DISTINCT u.processor, cf.entity, cf.d
  FROM classed_failure AS cf
  JOIN upstream AS u ON u.upstream = cf.processor
  WHERE cf.class = 'expected_skip'
),
failure_class AS (
  SELECT cf.processor, cf.entity, cf.d,
         CASE
           WHEN cf.class = 'expected_skip' THEN 'expected_skip'
           WHEN cf.class = 'missing_dependency' AND cs.entity IS NOT NULL THEN 'cascade'
           ELSE 'real_failure'
         END AS class,
         cf.class = 'missing_dependency' AS missing_dependency
  FROM classed_failure AS cf
  LEFT JOIN cascade_source AS cs
    ON cs.processor = cf.processor AND cs.entity = cf.entity AND cs.d = cf.d
),
processor_entities AS (
  {{processor_entities}}
),
entity_status AS (
  SELECT processor, entity, d, expected, n, first_us, last_us,
         CASE
           WHEN NOT expected THEN 'unexpected'
           WHEN n > 0 THEN 'produced'
           WHEN class IS NOT NULL THEN class
           ELSE 'unaccounted'
         END AS status,
         n = 0 AND (class IS NULL OR missing_dependency) AS explainable
  FROM processor_entities
),
identity AS (
  SELECT processor, d,
         SUM(CASE WHEN expected THEN 1 ELSE 0 END) AS expected,
         SUM(CASE WHEN status = 'produced' THEN 1 ELSE 0 END) AS produced,
         SUM(CASE WHEN status = 'expected_skip' THEN 1 ELSE 0 END) AS expected_skips,
         SUM(CASE WHEN status = 'cascade' THEN 1 ELSE 0 END) AS cascades,
         SUM(CASE WHEN status = 'real_failure' THEN 1 ELSE 0 END) AS real_failures,
         SUM(CASE WHEN status = 'unaccounted' THEN 1 ELSE 0 END) AS unaccounted,
         SUM(CASE WHEN n > 1 AND entity IS NOT NULL THEN n - 1 ELSE 0 END) AS duplicates,
         SUM(CASE WHEN status <> 'unexpected' THEN 0 WHEN entity IS NULL THEN n ELSE 1 END)
           AS unexpected,
         SUM(n) AS records,
         MIN(first_us) AS first_processed_us,
         MAX(last_us) AS last_processed_us
  FROM entity_status
  GROUP BY processor, d
),
defective AS (
  SELECT processor, entity, d, explainable
  FROM entity_status
  WHERE status IN ('real_failure', 'unaccounted')
),
explained AS (
  -- each explainable defective entity with each upstream processor that explains it
  SELECT DISTINCT df.processor, df.entity, df.d, u.upstream
  FROM defective AS df
  JOIN upstream AS u ON u.processor = df.processor
  LEFT JOIN mapped_entities AS m
    ON m.mapping = u.mapping AND m.entity = df.entity AND m.d = df.d
  JOIN defective AS up
    ON up.processor = u.upstream AND up.d = df.d
   AND up.entity = CASE WHEN u.mapping = '' THEN df.entity ELSE m.mapped END
  WHERE df.explainable
),
explained_counts AS (
  SELECT processor, d, COUNT(DISTINCT entity) AS explained
  FROM explained
  GROUP BY processor, d
),
explaining AS (
  SELECT processor, d, upstream, COUNT(*) AS n
  FROM explained
  GROUP BY processor, d, upstream
),
explaining_lists AS (
  SELECT processor, d,
         STRING_AGG(upstream || ':' || CAST(n AS STRING), ',' ORDER BY upstream) AS explained_by
  FROM explaining
  GROUP BY processor, d
)
SELECT
  i.processor,
  i.d,
  i.expected,
  i.produced,
  i.expected_skips,
  i.cascades,
  i.real_failures,
  i.unaccounted,
  i.duplicates,
  i.unexpected,
  i.records,
  i.first_processed_us,
  i.last_processed_us,
  COALESCE(x.explained, 0) AS explained,
  xl.explained_by
FROM identity AS i
LEFT JOIN explained_counts AS x ON x.processor = i.processor AND x.d = i.d
LEFT JOIN explaining_lists AS xl ON xl.processor = i.processor AND xl.d = i.d
ORDER BY processor, d
