//! The environment variables phase4-check reads, captured once so the settings can be
//! resolved (and tested) without touching the process environment.

use std::collections::BTreeMap;

use super::defaults::env;

/// A snapshot of phase4-check's environment variables (empty values count as unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The variables of this process.
    pub fn from_process() -> Self {
        let names = [
            env::WAREHOUSE,
            env::CATALOG,
            env::CONFIG,
            env::BUSY_WAIT,
            env::BIGQUERY_API_URL,
            env::BIGQUERY_TOKEN,
            env::CONTAINMENT,
            env::NO_COLOR,
            env::CLICOLOR_FORCE,
            env::COLUMNS,
        ];
        Environment::from_pairs(
            names
                .into_iter()
                .filter_map(|name| std::env::var(name).ok().map(|v| (name, v))),
        )
    }

    /// Given variables (tests).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}
