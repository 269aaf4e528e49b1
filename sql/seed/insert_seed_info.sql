-- The seed's marker: which seed and seasons made the file, and its manifest.
INSERT INTO phase4_meta.seed_info
VALUES (@seed, CAST(@seasons AS VARCHAR), CAST(@manifest AS VARCHAR), CAST(@created_at AS TIMESTAMP))
