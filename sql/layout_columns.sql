-- The columns of every table and their types, to name a missing table, a missing
-- column or a column of the wrong type before any check runs. (DuckDB: a dataset is a
-- schema, and {{columns}} is duckdb_columns() of the open database; BigQuery: the
-- INFORMATION_SCHEMA.COLUMNS of each dataset the catalog uses, joined by UNION ALL.)
SELECT table_schema AS dataset, table_name AS table_name, column_name AS column_name,
       data_type AS data_type
FROM {{columns}}
ORDER BY table_schema, table_name, column_name
