-- Failure rows by processor, date and category: every row, of every entity
-- (the identity counts only the latest row of expected entities; this counts all).
WITH
processors AS (
  {{processors}}
)
SELECT f.processor_name AS processor,
       f.analysis_date AS d,
       f.failure_category AS category,
       COUNT(*) AS n
FROM {{failures}} AS f
JOIN processors AS p ON p.processor = f.processor_name
WHERE f.analysis_date BETWEEN @start AND @end
GROUP BY f.processor_name, f.analysis_date, f.failure_category
ORDER BY processor, d, category
