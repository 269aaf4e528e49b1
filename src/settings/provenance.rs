//! `phase4-check config`: every shared setting with its effective value and where that
//! value came from. The values are the resolved [`GlobalSettings`] themselves; the
//! sources follow the same order as the resolution (flag > environment > `phase4.toml` >
//! default), read from the same choice functions, so the two cannot disagree.

use serde::Serialize;

use super::defaults::{self, env};
use super::environment::Environment;
use super::global::{
    GlobalSettings, catalog_choice, color_choice, config_choice, warehouse_choice, width_choice,
};
use crate::cli::GlobalArgs;
use crate::warehouse::WarehouseSpec;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    /// The settings file (`phase4.toml`, or the one --config or PHASE4_CONFIG named).
    ConfigFile,
    Default,
    /// Asked of the terminal stdout is (or not).
    Terminal,
}

/// One setting: its name, effective value and source.
#[derive(Debug, Clone, Serialize)]
pub struct Effective {
    pub setting: &'static str,
    pub value: String,
    pub source: String,
}

impl Source {
    fn describe(&self, config_file: &str) -> String {
        match self {
            Source::Flag(flag) => format!("flag {flag}"),
            Source::Env(name) => format!("env {name}"),
            Source::ConfigFile => config_file.to_string(),
            Source::Default => "default".into(),
            Source::Terminal => "terminal".into(),
        }
    }
}

/// The effective value and source of every shared setting; the engine's own settings for
/// the engine in use.
pub fn effective(
    args: &GlobalArgs,
    env_vars: &Environment,
    global: &GlobalSettings,
) -> Vec<Effective> {
    let config = &global.config;
    let (config_path, config_source) = config_choice(args, env_vars);
    let config_file = config_path
        .as_deref()
        .unwrap_or(std::path::Path::new(defaults::CONFIG_FILE))
        .display()
        .to_string();
    let mut out = Vec::new();
    let mut push = |setting: &'static str, value: String, source: Source| {
        out.push(Effective {
            setting,
            value,
            source: source.describe(&config_file),
        })
    };
    let present = std::path::Path::new(&config_file).is_file();
    push(
        "config",
        if present {
            config_file.clone()
        } else {
            format!("{config_file} (not present: none read)")
        },
        config_source,
    );
    push(
        "warehouse",
        global.warehouse.to_string(),
        warehouse_choice(args, env_vars, config).map_or(Source::Default, |(_, s)| s),
    );
    let catalog = match &global.catalog_path {
        Some(path) => path.display().to_string(),
        None => "built-in checks/catalog.toml".into(),
    };
    push(
        "catalog",
        format!(
            "{catalog} (fingerprint {})",
            short(global.catalog.fingerprint())
        ),
        catalog_choice(args, env_vars).map_or(Source::Default, |(_, s)| s),
    );
    push(
        "format",
        global.format.name().into(),
        // --format has no environment or file setting; table is its default.
        if global.format == crate::render::Format::Table {
            Source::Default
        } else {
            Source::Flag("--format")
        },
    );
    push(
        "color",
        if global.color { "on" } else { "off" }.into(),
        color_choice(args.color, env_vars, console::Term::stdout().is_term()).1,
    );
    push(
        "width",
        match (global.wide, global.width) {
            (true, _) => "every column (--wide)".into(),
            (false, Some(w)) => format!("{w} columns"),
            (false, None) => "every column (not a terminal)".into(),
        },
        if global.wide {
            Source::Flag("--wide")
        } else {
            width_choice(env_vars).1
        },
    );
    push(
        "containment",
        format!("{:?}", global.containment).to_lowercase(),
        if env_vars.get(env::CONTAINMENT).is_some() {
            Source::Env(env::CONTAINMENT)
        } else {
            Source::Default
        },
    );
    let repair = &config.repair;
    push(
        "lease_table",
        repair
            .lease_table
            .clone()
            .unwrap_or_else(|| "none (a run is guarded by its state directory's lock only)".into()),
        if repair.lease_table.is_some() {
            Source::ConfigFile
        } else {
            Source::Default
        },
    );
    if repair.lease_table.is_some() {
        push(
            "lease_stale_after",
            repair.lease_stale_after.clone().unwrap_or_else(|| {
                humantime::format_duration(defaults::LEASE_STALE_AFTER).to_string()
            }),
            if repair.lease_stale_after.is_some() {
                Source::ConfigFile
            } else {
                Source::Default
            },
        );
    }
    match &global.warehouse {
        WarehouseSpec::DuckDb(s) => push(
            "busy_wait",
            humantime::format_duration(s.busy_wait).to_string(),
            if env_vars.get(env::BUSY_WAIT).is_some() {
                Source::Env(env::BUSY_WAIT)
            } else {
                Source::Default
            },
        ),
        WarehouseSpec::BigQuery(s) => {
            let c = &config.warehouse;
            let from = |flag: Option<&'static str>, file: bool| match flag {
                Some(name) => Source::Flag(name),
                None if file => Source::ConfigFile,
                None => Source::Default,
            };
            push(
                "location",
                s.location.clone(),
                from(
                    args.location.is_some().then_some("--location"),
                    c.location.is_some(),
                ),
            );
            push(
                "max_bytes_billed",
                s.max_bytes_billed
                    .map_or("none (no limit)".into(), |n| n.to_string()),
                from(
                    args.max_bytes_billed
                        .is_some()
                        .then_some("--max-bytes-billed"),
                    c.max_bytes_billed.is_some(),
                ),
            );
            push(
                "query_timeout",
                humantime::format_duration(s.query_timeout).to_string(),
                from(
                    args.query_timeout.is_some().then_some("--query-timeout"),
                    c.query_timeout.is_some(),
                ),
            );
            push(
                "page_size",
                s.page_size
                    .map_or("BigQuery's default".into(), |n| n.to_string()),
                // A file key only: no flag sets it.
                from(None, c.page_size.is_some()),
            );
            push(
                "api_url",
                s.api_url
                    .clone()
                    .unwrap_or_else(|| "Google's (credentials from the environment)".into()),
                if s.api_url.is_some() {
                    Source::Env(env::BIGQUERY_API_URL)
                } else {
                    Source::Default
                },
            );
        }
    }
    out
}

/// The first 12 characters of a fingerprint, as the checkpoint status shows it.
fn short(fingerprint: &str) -> &str {
    fingerprint.get(..12).unwrap_or(fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use clap::Parser;

    fn settings(argv: &[&str], env_vars: &Environment, file: &str) -> Vec<Effective> {
        let cli = crate::cli::Cli::parse_from([&["phase4-check"], argv, &["config"]].concat());
        let config: crate::config::Config = toml::from_str(file).unwrap();
        let global =
            GlobalSettings::resolve(&cli.global, env_vars, &config, Catalog::builtin().unwrap())
                .unwrap();
        effective(&cli.global, env_vars, &global)
    }

    fn source_of<'a>(all: &'a [Effective], setting: &str) -> (&'a str, &'a str) {
        let e = all.iter().find(|e| e.setting == setting).unwrap();
        (e.value.as_str(), e.source.as_str())
    }

    #[test]
    fn the_warehouse_comes_from_the_flag_then_env_then_file_then_default() {
        let file = "[warehouse]\nurl = \"duckdb:file.duckdb\"\n";
        let env_vars = Environment::from_pairs([(env::WAREHOUSE, "duckdb:env.duckdb")]);
        let none = Environment::default();
        let flag = settings(&["--warehouse", "duckdb:flag.duckdb"], &env_vars, file);
        assert_eq!(
            source_of(&flag, "warehouse"),
            ("duckdb:flag.duckdb", "flag --warehouse")
        );
        let from_env = settings(&[], &env_vars, file);
        assert_eq!(
            source_of(&from_env, "warehouse"),
            ("duckdb:env.duckdb", "env PHASE4_WAREHOUSE")
        );
        let from_file = settings(&[], &none, file);
        assert_eq!(
            source_of(&from_file, "warehouse"),
            ("duckdb:file.duckdb", "phase4.toml")
        );
        let default = settings(&[], &none, "");
        assert_eq!(
            source_of(&default, "warehouse"),
            ("duckdb:phase4.duckdb", "default")
        );
    }

    #[test]
    fn bigquery_settings_name_their_flag_or_the_file() {
        let file =
            "[warehouse]\nurl = \"bigquery:proj\"\nlocation = \"EU\"\nquery_timeout = \"5m\"\n";
        let none = Environment::default();
        let all = settings(&["--max-bytes-billed", "1000"], &none, file);
        assert_eq!(source_of(&all, "location"), ("EU", "phase4.toml"));
        assert_eq!(source_of(&all, "query_timeout"), ("5m", "phase4.toml"));
        assert_eq!(
            source_of(&all, "max_bytes_billed"),
            ("1000", "flag --max-bytes-billed")
        );
        assert_eq!(source_of(&all, "page_size").1, "default");
        assert!(all.iter().all(|e| e.setting != "busy_wait"));
    }

    #[test]
    fn colour_and_containment_name_their_variables() {
        let env_vars =
            Environment::from_pairs([(env::NO_COLOR, "1"), (env::CONTAINMENT, "groups")]);
        let all = settings(&[], &env_vars, "");
        assert_eq!(source_of(&all, "color"), ("off", "env NO_COLOR"));
        assert_eq!(
            source_of(&all, "containment"),
            ("groups", "env PHASE4_CONTAINMENT")
        );
        assert_eq!(source_of(&all, "catalog").1, "default");
    }
}
