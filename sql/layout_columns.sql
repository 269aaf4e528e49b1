-- The columns of every table, to name a missing table or column before any check
-- runs. (DuckDB: a dataset is a schema, and {{columns}} is information_schema.columns;
-- BigQuery: the location's INFORMATION_SCHEMA.COLUMNS, every dataset of the project.)
SELECT table_schema AS dataset, table_name AS table_name, column_name AS column_name
FROM {{columns}}
ORDER BY table_schema, table_name, column_name
