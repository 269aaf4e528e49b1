-- one processor's entities on each date of the range: those it must account for (from
-- the source), full-outer-joined on (date, entity) with those it wrote rows for, and
-- each one's failure class. Joined per processor, on two keys, so every hash table is
-- one processor's.
SELECT CAST(@code AS STRING) AS processor,
       COALESCE(e.entity, r.entity) AS entity,
       COALESCE(e.d, r.d) AS d,
       e.entity IS NOT NULL AS expected,
       COALESCE(r.n, 0) AS n,
       r.first_us,
       r.last_us,
       f.class,
       f.missing_dependency
FROM (
  SELECT DISTINCT {{source_date}} AS d, {{source_entity}} AS entity
  FROM {{source}}
  WHERE {{source_date}} BETWEEN @start AND @end AND {{source_entity}} IS NOT NULL
) AS e
FULL OUTER JOIN (
  SELECT {{date}} AS d, {{entity}} AS entity,
         COUNT(*) AS n,
         MIN(UNIX_MICROS(processed_at)) AS first_us,
         MAX(UNIX_MICROS(processed_at)) AS last_us
  FROM {{table}}
  WHERE {{date}} BETWEEN @start AND @end
  GROUP BY {{date}}, {{entity}}
) AS r
  ON r.d = e.d AND r.entity = e.entity
LEFT JOIN (
  SELECT entity, d, class, missing_dependency
  FROM failure_class
  WHERE processor = CAST(@code AS STRING)
) AS f
  ON f.d = e.d AND f.entity = e.entity
