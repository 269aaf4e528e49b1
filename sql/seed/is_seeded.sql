-- Was this file made by `phase4-check seed`? (it has the seed's own marker table)
SELECT COUNT(*) AS n
FROM information_schema.tables
WHERE table_schema = 'phase4_meta' AND table_name = 'seed_info'
