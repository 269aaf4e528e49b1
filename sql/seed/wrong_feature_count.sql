-- Content defect: an ML row whose feature_count disagrees with its features (the first
-- entity on @date says 9 features and has 8).
UPDATE {{table}}
SET feature_count = feature_count + 1
WHERE {{date}} = @date
  AND {{entity}} = (SELECT MIN({{entity}}) FROM {{table}} WHERE {{date}} = @date)
