-- one processor the query covers
SELECT CAST(@code AS STRING) AS processor
