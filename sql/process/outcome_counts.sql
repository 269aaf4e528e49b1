-- The failure rows of this run, by category (for the processor's summary line).
SELECT failure_category AS category, COUNT(*) AS n
FROM phase4_outcome
WHERE failure_category IS NOT NULL
GROUP BY failure_category
ORDER BY failure_category
