-- one failure category and its class (expected_skip, missing_dependency, real_failure)
SELECT CAST(@category AS STRING) AS category, CAST(@class AS STRING) AS class
