-- The row of the lease, made free once. Two runs making it at once leave two
-- rows; every later statement matches the lease by name and changes them together.
INSERT INTO {{lease}} (lease_name)
SELECT CAST(@lease AS STRING) AS lease_name
FROM (SELECT 1 AS one) AS one_row
WHERE NOT EXISTS (SELECT 1 FROM {{lease}} WHERE lease_name = @lease)
