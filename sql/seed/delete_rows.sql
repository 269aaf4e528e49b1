-- Defect: a processor never ran on a date (its rows are gone).
DELETE FROM {{table}} WHERE {{date}} = @date
