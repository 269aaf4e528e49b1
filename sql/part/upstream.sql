-- one (processor, upstream processor) pair, direct or transitive, and how the
-- processor's entities map to the upstream's: '' for the same entity, else the id of
-- a mapped_entities part
SELECT CAST(@processor AS STRING) AS processor, CAST(@upstream AS STRING) AS upstream,
       CAST(@mapping AS STRING) AS mapping
