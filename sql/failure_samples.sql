-- Why a date is defective, in the processors' own words: for each processor, the first
-- few (by entity) of the latest failure rows of its expected entities that count as
-- real failures on the date, and how many such rows it has in all. As in reconcile.sql
-- (DOMAIN.md): an entity with a row is produced, whatever its failure rows say; an
-- expected skip is not a failure; a MISSING_DEPENDENCY whose entity is an expected skip
-- upstream is a cascade. `explain` reads it; the range is one day.
WITH
processors AS (
  {{processors}}
),
upstream AS (
  {{upstream}}
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
ranked_failures AS (
  SELECT f.processor_name AS processor,
         f.entity_id AS entity,
         f.analysis_date AS d,
         f.failure_category AS category,
         f.failure_reason AS reason,
         ROW_NUMBER() OVER (
           PARTITION BY f.processor_name, f.entity_id, f.analysis_date
           ORDER BY f.created_at DESC, f.failure_category DESC
         ) AS recency
  FROM {{failures}} AS f
  JOIN processors AS p ON p.processor = f.processor_name
  WHERE f.analysis_date BETWEEN @start AND @end
),
latest_failure AS (
  SELECT r.processor, r.entity, r.d, r.category, r.reason,
         COALESCE(c.class, 'real_failure') AS class
  FROM ranked_failures AS r
  LEFT JOIN category_classes AS c ON c.category = r.category
  WHERE r.recency = 1
),
cascade_source AS (
  SELECT DISTINCT u.processor, lf.entity, lf.d
  FROM latest_failure AS lf
  JOIN upstream AS u ON u.upstream = lf.processor
  WHERE lf.class = 'expected_skip'
),
real_failures AS (
  SELECT lf.processor, lf.entity, lf.category, lf.reason
  FROM latest_failure AS lf
  JOIN expected AS e
    ON e.processor = lf.processor AND e.entity = lf.entity AND e.d = lf.d
  LEFT JOIN cascade_source AS cs
    ON cs.processor = lf.processor AND cs.entity = lf.entity AND cs.d = lf.d
  LEFT JOIN produced_rows AS pr
    ON pr.processor = lf.processor AND pr.entity = lf.entity AND pr.d = lf.d
  WHERE pr.entity IS NULL
    AND (lf.class = 'real_failure'
         OR (lf.class = 'missing_dependency' AND cs.entity IS NULL))
),
numbered AS (
  SELECT processor, entity, category, reason,
         ROW_NUMBER() OVER (PARTITION BY processor ORDER BY entity) AS n,
         COUNT(*) OVER (PARTITION BY processor) AS total
  FROM real_failures
)
SELECT processor, entity, category, reason, total
FROM numbered
WHERE n <= @per_processor
ORDER BY processor, entity
