-- Defect: a partial date, every third entity's row lost (no failure row left behind).
DELETE FROM {{table}}
WHERE {{date}} = @date
  AND {{entity}} IN (
    SELECT entity FROM (
      SELECT {{entity}} AS entity, ROW_NUMBER() OVER (ORDER BY {{entity}}) AS k
      FROM {{table}} WHERE {{date}} = @date
    ) AS numbered
    WHERE k % 3 = 0
  )
