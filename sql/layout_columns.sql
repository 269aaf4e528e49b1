-- The columns of every table and their types, to name a missing table, a missing
-- column or a column of the wrong type before any check runs. (DuckDB: a dataset is a
-- schema, and {{columns}} is duckdb_columns() of the open database; BigQuery: the location's
-- INFORMATION_SCHEMA.COLUMNS, every dataset of the project.)
SELECT table_schema AS dataset, table_name AS table_name, column_name AS column_name,
       data_type AS data_type
FROM {{columns}}
ORDER BY table_schema, table_name, column_name
