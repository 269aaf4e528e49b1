-- The columns of every table, to name a missing table or column before any check
-- runs. (DuckDB: a dataset is a schema.)
SELECT table_schema AS dataset, table_name AS table_name, column_name AS column_name
FROM information_schema.columns
ORDER BY table_schema, table_name, column_name
