-- Marks the file as made by `phase4-check seed`, so a later seed or demo may replace it
-- (never a warehouse it did not make). Checks ignore this extra table.
CREATE SCHEMA IF NOT EXISTS phase4_meta;
CREATE TABLE phase4_meta.seed_info (seed BIGINT, seasons VARCHAR, manifest VARCHAR, created_at TIMESTAMP);
