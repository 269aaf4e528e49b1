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
-- first/last_processed_us give staleness (compared across processors by the caller).
--
-- Attribution (root causes): a defective entity (a real failure or unaccounted) is
-- explained when its latest failure row is MISSING_DEPENDENCY or it is unaccounted, and
-- the entity it maps to (the same one, or its source row's column, e.g. a player's
-- opponent) is a defective entity of an upstream processor that day. `explained` counts
-- them; `explained_by` lists each explaining upstream processor with its count
-- ("TDZA:81,PCF:81"). Roots and causes are worked out by the caller from these.
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
expected AS (
  {{expected_entities}}
),
produced_rows AS (
  {{processor_rows}}
),
row_counts AS (
  SELECT processor, entity, d,
         COUNT(*) AS n,
         MIN(UNIX_MICROS(processed_at)) AS first_us,
         MAX(UNIX_MICROS(processed_at)) AS last_us
  FROM produced_rows
  GROUP BY processor, entity, d
),
ranked_failures AS (
  SELECT f.processor_name AS processor,
         f.entity_id AS entity,
         f.analysis_date AS d,
         f.failure_category AS category,
         ROW_NUMBER() OVER (
           PARTITION BY f.processor_name, f.entity_id, f.analysis_date
           ORDER BY f.created_at DESC, f.failure_category DESC
         ) AS recency
  FROM {{failures}} AS f
  JOIN processors AS p ON p.processor = f.processor_name
  WHERE f.analysis_date BETWEEN @start AND @end
),
latest_failure AS (
  SELECT r.processor, r.entity, r.d, COALESCE(c.class, 'real_failure') AS class
  FROM ranked_failures AS r
  LEFT JOIN category_classes AS c ON c.category = r.category
  WHERE r.recency = 1
),
cascade_source AS (
  -- (processor, entity, date) whose upstream has an expected skip for that entity and date
  SELECT DISTINCT u.processor, lf.entity, lf.d
  FROM latest_failure AS lf
  JOIN upstream AS u ON u.upstream = lf.processor
  WHERE lf.class = 'expected_skip'
),
failure_class AS (
  SELECT lf.processor, lf.entity, lf.d,
         CASE
           WHEN lf.class = 'expected_skip' THEN 'expected_skip'
           WHEN lf.class = 'missing_dependency' AND cs.entity IS NOT NULL THEN 'cascade'
           ELSE 'real_failure'
         END AS class,
         lf.class = 'missing_dependency' AS missing_dependency
  FROM latest_failure AS lf
  LEFT JOIN cascade_source AS cs
    ON cs.processor = lf.processor AND cs.entity = lf.entity AND cs.d = lf.d
),
entity_status AS (
  SELECT e.processor, e.entity, e.d,
         CASE
           WHEN rc.entity IS NOT NULL THEN 'produced'
           WHEN fc.class IS NOT NULL THEN fc.class
           ELSE 'unaccounted'
         END AS status,
         rc.entity IS NULL AND (fc.class IS NULL OR fc.missing_dependency) AS explainable
  FROM expected AS e
  LEFT JOIN row_counts AS rc
    ON rc.processor = e.processor AND rc.entity = e.entity AND rc.d = e.d
  LEFT JOIN failure_class AS fc
    ON fc.processor = e.processor AND fc.entity = e.entity AND fc.d = e.d
),
identity AS (
  SELECT processor, d,
         COUNT(*) AS expected,
         SUM(CASE WHEN status = 'produced' THEN 1 ELSE 0 END) AS produced,
         SUM(CASE WHEN status = 'expected_skip' THEN 1 ELSE 0 END) AS expected_skips,
         SUM(CASE WHEN status = 'cascade' THEN 1 ELSE 0 END) AS cascades,
         SUM(CASE WHEN status = 'real_failure' THEN 1 ELSE 0 END) AS real_failures,
         SUM(CASE WHEN status = 'unaccounted' THEN 1 ELSE 0 END) AS unaccounted
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
),
beyond AS (
  -- rows outside the identity: duplicates and entities without a game that day
  SELECT rc.processor, rc.d,
         SUM(rc.n) AS records,
         SUM(rc.n - 1) AS duplicates,
         SUM(CASE WHEN e.entity IS NULL THEN 1 ELSE 0 END) AS unexpected,
         MIN(rc.first_us) AS first_processed_us,
         MAX(rc.last_us) AS last_processed_us
  FROM row_counts AS rc
  LEFT JOIN expected AS e
    ON e.processor = rc.processor AND e.entity = rc.entity AND e.d = rc.d
  GROUP BY rc.processor, rc.d
)
SELECT
  COALESCE(i.processor, b.processor) AS processor,
  COALESCE(i.d, b.d) AS d,
  COALESCE(i.expected, 0) AS expected,
  COALESCE(i.produced, 0) AS produced,
  COALESCE(i.expected_skips, 0) AS expected_skips,
  COALESCE(i.cascades, 0) AS cascades,
  COALESCE(i.real_failures, 0) AS real_failures,
  COALESCE(i.unaccounted, 0) AS unaccounted,
  COALESCE(b.duplicates, 0) AS duplicates,
  COALESCE(b.unexpected, 0) AS unexpected,
  COALESCE(b.records, 0) AS records,
  b.first_processed_us,
  b.last_processed_us,
  COALESCE(x.explained, 0) AS explained,
  xl.explained_by
FROM identity AS i
FULL OUTER JOIN beyond AS b ON b.processor = i.processor AND b.d = i.d
LEFT JOIN explained_counts AS x ON x.processor = i.processor AND x.d = i.d
LEFT JOIN explaining_lists AS xl ON xl.processor = i.processor AND xl.d = i.d
ORDER BY processor, d
