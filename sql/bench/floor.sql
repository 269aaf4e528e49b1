-- The floor a report is measured against (benches: examples/bench.rs): one hand-written
-- DuckDB query that reconciles the five built-in processors per date, entity by entity
-- (expected from the source, produced from each table, each entity's latest failure), with
-- nothing else: no cascades, no duplicates or unexpected rows, no staleness, no root
-- causes, no generic catalog. It reads the same rows a report reads.
WITH failures AS (
  SELECT processor_name AS processor, entity_id AS entity, analysis_date AS d,
         arg_max(failure_category, created_at) AS category
  FROM nba_processing.precompute_failures
  WHERE analysis_date BETWEEN @start AND @end
  GROUP BY processor_name, entity_id, analysis_date
),
games AS (
  SELECT DISTINCT game_date AS d, player_lookup AS player, team_abbr AS team
  FROM nba_analytics.player_game_summary
  WHERE game_date BETWEEN @start AND @end
),
per_processor AS (
  SELECT 'TDZA' AS processor, e.d, r.n, f.category
  FROM (SELECT DISTINCT d, team AS entity FROM games) AS e
  LEFT JOIN (
    SELECT analysis_date AS d, team_abbr AS entity, COUNT(*) AS n
    FROM nba_precompute.team_defense_zone_analysis
    WHERE analysis_date BETWEEN @start AND @end
    GROUP BY analysis_date, team_abbr
  ) AS r ON r.d = e.d AND r.entity = e.entity
  LEFT JOIN (SELECT * FROM failures WHERE processor = 'TDZA') AS f
    ON f.d = e.d AND f.entity = e.entity
  UNION ALL
  SELECT 'PSZA', e.d, r.n, f.category
  FROM games AS e
  LEFT JOIN (
    SELECT analysis_date AS d, player_lookup AS entity, COUNT(*) AS n
    FROM nba_precompute.player_shot_zone_analysis
    WHERE analysis_date BETWEEN @start AND @end
    GROUP BY analysis_date, player_lookup
  ) AS r ON r.d = e.d AND r.entity = e.player
  LEFT JOIN (SELECT * FROM failures WHERE processor = 'PSZA') AS f
    ON f.d = e.d AND f.entity = e.player
  UNION ALL
  SELECT 'PCF', e.d, r.n, f.category
  FROM games AS e
  LEFT JOIN (
    SELECT analysis_date AS d, player_lookup AS entity, COUNT(*) AS n
    FROM nba_precompute.player_composite_factors
    WHERE analysis_date BETWEEN @start AND @end
    GROUP BY analysis_date, player_lookup
  ) AS r ON r.d = e.d AND r.entity = e.player
  LEFT JOIN (SELECT * FROM failures WHERE processor = 'PCF') AS f
    ON f.d = e.d AND f.entity = e.player
  UNION ALL
  SELECT 'PDC', e.d, r.n, f.category
  FROM games AS e
  LEFT JOIN (
    SELECT cache_date AS d, player_lookup AS entity, COUNT(*) AS n
    FROM nba_precompute.player_daily_cache
    WHERE cache_date BETWEEN @start AND @end
    GROUP BY cache_date, player_lookup
  ) AS r ON r.d = e.d AND r.entity = e.player
  LEFT JOIN (SELECT * FROM failures WHERE processor = 'PDC') AS f
    ON f.d = e.d AND f.entity = e.player
  UNION ALL
  SELECT 'ML', e.d, r.n, f.category
  FROM games AS e
  LEFT JOIN (
    SELECT game_date AS d, player_lookup AS entity, COUNT(*) AS n
    FROM nba_predictions.ml_feature_store_v2
    WHERE game_date BETWEEN @start AND @end
    GROUP BY game_date, player_lookup
  ) AS r ON r.d = e.d AND r.entity = e.player
  LEFT JOIN (SELECT * FROM failures WHERE processor = 'ML') AS f
    ON f.d = e.d AND f.entity = e.player
)
SELECT processor, d,
       COUNT(*) AS expected,
       COUNT(n) AS produced,
       SUM(CASE WHEN n IS NULL AND category = 'INSUFFICIENT_DATA' THEN 1 ELSE 0 END) AS expected_skips,
       SUM(CASE WHEN n IS NULL AND category <> 'INSUFFICIENT_DATA' THEN 1 ELSE 0 END) AS failed,
       SUM(CASE WHEN n IS NULL AND category IS NULL THEN 1 ELSE 0 END) AS unaccounted
FROM per_processor
GROUP BY processor, d
ORDER BY processor, d
