//! Every default of phase4-check, in one place: the command line's help, the settings
//! and the demo all read them from here.

use std::time::Duration;

/// The embedded warehouse used when nothing else is configured.
pub const WAREHOUSE_FILE: &str = "phase4.duckdb";
/// The settings file read when neither --config nor PHASE4_CONFIG names one (if present).
pub const CONFIG_FILE: &str = "phase4.toml";
/// Where repair runs keep their lock, checkpoint, logs and events.
pub const STATE_DIR: &str = ".phase4";
/// How long a process waits for an embedded warehouse another process holds.
pub const BUSY_WAIT: Duration = Duration::from_secs(60);
/// The first retry delay of a failed processor invocation (it doubles per attempt).
pub const RETRY_BACKOFF: Duration = Duration::from_secs(2);
/// The longest retry delay.
pub const RETRY_BACKOFF_CAP: Duration = Duration::from_secs(60);
/// Concurrent processor invocations of a repair: one lane per processor.
pub fn jobs(processors: usize) -> usize {
    processors.max(1)
}
/// Consecutive game dates of one processor per invocation, unless the catalog says more.
pub const BATCH_DAYS: u32 = 1;
/// A day with fewer players per game than this share of its season's median is short
/// (the catalog's `[source] short_day_share`).
pub const SHORT_DAY_SHARE: f64 = 0.5;
/// A repair lease whose heartbeat is older than this is a dead run's: it is taken over
/// (`[repair] lease_stale_after`).
pub const LEASE_STALE_AFTER: Duration = Duration::from_secs(600);
/// Between SIGTERM and SIGKILL when a processor is ended.
pub const GRACE: Duration = Duration::from_secs(10);
/// The generator's seed (the first game date of the 2021-22 season).
pub const SEED: u64 = 20211019;
/// The seasons `seed` generates.
pub const SEED_SEASONS: &str = "2021-22";
/// The season the demo seeds, repairs and reports (2021 = 2021-22).
pub const DEMO_SEASON: i32 = 2021;

/// BigQuery: where the jobs run.
pub const BIGQUERY_LOCATION: &str = "US";
/// BigQuery: the deadline of one query, from its first request to its last page.
pub const BIGQUERY_QUERY_TIMEOUT: Duration = Duration::from_secs(600);
/// BigQuery: attempts of one request that gets a retryable reply.
pub const BIGQUERY_ATTEMPTS: u32 = 4;
/// BigQuery: the first retry's delay; it doubles per attempt.
pub const BIGQUERY_RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// BigQuery: the token sent to another endpoint than Google's (an emulator, a fake).
pub const BIGQUERY_TOKEN: &str = "phase4-check";

/// The environment variables phase4-check reads.
pub mod env {
    /// The warehouse (`duckdb:PATH` or `bigquery:PROJECT`), below --warehouse.
    pub const WAREHOUSE: &str = "PHASE4_WAREHOUSE";
    /// The catalog file, below --catalog.
    pub const CATALOG: &str = "PHASE4_CATALOG";
    /// The settings file, below --config.
    pub const CONFIG: &str = "PHASE4_CONFIG";
    /// How long to wait for a busy embedded warehouse (e.g. `5s`).
    pub const BUSY_WAIT: &str = "PHASE4_BUSY_WAIT";
    /// Another BigQuery endpoint than Google's.
    pub const BIGQUERY_API_URL: &str = "PHASE4_BIGQUERY_API_URL";
    /// The token sent to that endpoint.
    pub const BIGQUERY_TOKEN: &str = "PHASE4_BIGQUERY_TOKEN";
    /// How repair runs contain their processors: `auto` (a cgroup per invocation where
    /// the system allows it) or `groups` (process groups only).
    pub const CONTAINMENT: &str = "PHASE4_CONTAINMENT";
    /// Set (to anything): no colour unless --color always (https://no-color.org).
    pub const NO_COLOR: &str = "NO_COLOR";
    /// Set (to anything but 0): colour even on a pipe, unless --color never.
    pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
    /// The terminal's width in columns, when set: what tables and grids fit.
    pub const COLUMNS: &str = "COLUMNS";
}
