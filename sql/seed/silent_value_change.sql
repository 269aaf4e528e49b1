-- Content defect: a reprocessing run that silently changed one value. The first entity's
-- paint_rate on @date is halved; every count stays the same, only the fingerprint moves.
UPDATE {{table}}
SET paint_rate = paint_rate / 2
WHERE {{date}} = @date
  AND {{entity}} = (SELECT MIN({{entity}}) FROM {{table}} WHERE {{date}} = @date)
