-- The embedded warehouse's layout (DOMAIN.md): a dataset is a schema.
CREATE SCHEMA IF NOT EXISTS nba_analytics;
CREATE SCHEMA IF NOT EXISTS nba_precompute;
CREATE SCHEMA IF NOT EXISTS nba_predictions;
CREATE SCHEMA IF NOT EXISTS nba_processing;

CREATE TABLE IF NOT EXISTS nba_analytics.player_game_summary (
  game_id VARCHAR, game_date DATE, season_year INTEGER, player_lookup VARCHAR,
  team_abbr VARCHAR, opponent_team_abbr VARCHAR, minutes_played DOUBLE, points INTEGER,
  paint_attempts INTEGER, paint_makes INTEGER, mid_range_attempts INTEGER,
  mid_range_makes INTEGER, three_pt_attempts INTEGER, three_pt_makes INTEGER
);

CREATE TABLE IF NOT EXISTS nba_precompute.team_defense_zone_analysis (
  team_abbr VARCHAR, analysis_date DATE, games_in_sample INTEGER,
  paint_pct_allowed DOUBLE, mid_range_pct_allowed DOUBLE, three_pt_pct_allowed DOUBLE,
  processed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_precompute.player_shot_zone_analysis (
  player_lookup VARCHAR, analysis_date DATE, games_in_sample INTEGER,
  paint_rate DOUBLE, mid_range_rate DOUBLE, three_pt_rate DOUBLE, processed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_precompute.player_composite_factors (
  player_lookup VARCHAR, analysis_date DATE, composite_score DOUBLE, processed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_precompute.player_daily_cache (
  player_lookup VARCHAR, cache_date DATE, points_avg_last_5 DOUBLE,
  points_avg_last_10 DOUBLE, games_played_season INTEGER, processed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_predictions.ml_feature_store_v2 (
  player_lookup VARCHAR, game_date DATE, feature_count INTEGER, features DOUBLE[],
  processed_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_processing.precompute_failures (
  processor_name VARCHAR, analysis_date DATE, entity_id VARCHAR, failure_category VARCHAR,
  failure_reason VARCHAR, created_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS nba_processing.reprocess_attempts (
  processor_name VARCHAR, entity_id VARCHAR, analysis_date DATE, attempt_count INTEGER,
  last_attempt_at TIMESTAMP, circuit_breaker_tripped BOOLEAN
);
