-- Defect: the first @n rows (by entity) of @date written twice.
INSERT INTO {{table}}
SELECT * FROM {{table}} WHERE {{date}} = @date ORDER BY {{entity}} LIMIT @n
