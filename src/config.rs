//! `phase4.toml`: settings a team keeps beside its pipeline, mainly where the warehouse
//! is. The command line and the environment win over it.
//!
//! ```toml
//! [warehouse]
//! url = "bigquery:my-project"      # or "duckdb:phase4.duckdb"
//! location = "US"
//! max_bytes_billed = 50_000_000_000
//! query_timeout = "10m"
//! dataset_prefix = "dev_"          # dev_nba_precompute, ...
//! [warehouse.datasets]             # or one dataset at a time
//! nba_precompute = "precompute_v2"
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub warehouse: WarehouseConfig,
    #[serde(default)]
    pub repair: RepairConfig,
}

/// `[repair]`: what `repair --apply` shares with other operators of the warehouse.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairConfig {
    /// `dataset.table` of the lease row two operators' runs take turns on (created on
    /// first use); without it only the local state directory's lock protects a run.
    pub lease_table: Option<String>,
    /// How old a lease's heartbeat must be before another run takes it over.
    pub lease_stale_after: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    pub url: Option<String>,
    pub location: Option<String>,
    pub max_bytes_billed: Option<i64>,
    pub query_timeout: Option<String>,
    pub page_size: Option<i32>,
    #[serde(default)]
    pub dataset_prefix: String,
    #[serde(default)]
    pub datasets: BTreeMap<String, String>,
}

impl Config {
    /// Reads `path`; a file that does not exist is no settings unless it is `required`
    /// (named by --config or PHASE4_CONFIG).
    pub fn load(path: &Path, required: bool) -> Result<Config, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default());
            }
            Err(e) => {
                return Err(Error::config(format!(
                    "config {}: cannot be read: {e}",
                    path.display()
                )));
            }
        };
        toml::from_str(&text).map_err(|e| {
            Error::config(format!(
                "config {}: {}",
                path.display(),
                crate::error::toml_error_line(&e, &text)
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_warehouse_section_reads() {
        let c: Config = toml::from_str(
            "[warehouse]\nurl = \"bigquery:p\"\nlocation = \"EU\"\nmax_bytes_billed = 1000\ndataset_prefix = \"dev_\"\n[warehouse.datasets]\nnba_precompute = \"pre\"\n",
        )
        .unwrap();
        assert_eq!(c.warehouse.url.as_deref(), Some("bigquery:p"));
        assert_eq!(c.warehouse.datasets["nba_precompute"], "pre");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phase4.toml");
        std::fs::write(&path, "[warehouse]\nlocaton = \"EU\"\n").unwrap();
        let e = Config::load(&path, true).unwrap_err().to_string();
        assert!(e.contains("line 2: unknown field `locaton`"), "{e}");
    }

    #[test]
    fn no_file_is_no_config_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("absent.toml");
        assert!(Config::load(&absent, true).is_err());
        assert!(Config::load(&absent, false).is_ok());
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::{any_text, mutated};
        use proptest::prelude::*;

        const SAMPLE: &str = "[warehouse]\nurl = \"bigquery:p\"\nlocation = \"EU\"\nmax_bytes_billed = 1000\nquery_timeout = \"10m\"\npage_size = 37\ndataset_prefix = \"dev_\"\n[warehouse.datasets]\nnba_precompute = \"pre\"\n";

        fn load_text(text: &str) -> Result<Config, Error> {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("phase4.toml");
            std::fs::write(&path, text).expect("write");
            Config::load(&path, true)
        }

        proptest! {
            #[test]
            fn any_text_is_settings_or_one_line_naming_the_file(text in any_text()) {
                if let Err(e) = load_text(&text) {
                    let message = e.to_string();
                    prop_assert!(message.starts_with("config "), "{}", message);
                    prop_assert!(!message.contains('\n'), "{}", message);
                }
            }

            #[test]
            fn edited_settings_load_or_are_refused_in_one_line(text in mutated(SAMPLE)) {
                if let Err(e) = load_text(&text) {
                    prop_assert!(!e.to_string().contains('\n'));
                }
            }
        }
    }
}
