-- one (processor, upstream processor) pair, direct or transitive
SELECT CAST(@processor AS STRING) AS processor, CAST(@upstream AS STRING) AS upstream
