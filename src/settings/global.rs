//! Settings every command shares: the warehouse, the catalog, the output format.

use std::path::PathBuf;

use super::defaults::{self, env};
use super::environment::Environment;
use super::provenance::Source;
use crate::catalog::Catalog;
use crate::cli::{ColorArg, GlobalArgs};
use crate::config::Config;
use crate::error::Error;
use crate::render::{Fit, Format};
use crate::runner::process::ContainmentMode;
use crate::warehouse::{EngineOptions, WarehouseSpec};

/// Settings every command shares.
#[derive(Debug, Clone)]
pub struct GlobalSettings {
    pub warehouse: WarehouseSpec,
    pub catalog: Catalog,
    /// The catalog file, when it is not the built-in one (for the commands in messages).
    pub catalog_path: Option<PathBuf>,
    /// The settings file, when one was named (--config, PHASE4_CONFIG).
    pub config_path: Option<PathBuf>,
    pub format: Format,
    /// Dry-run the checks and print the bytes they would process (BigQuery).
    pub estimate: bool,
    /// How repair runs contain their processors (PHASE4_CONTAINMENT).
    pub containment: ContainmentMode,
    /// Colour in table output (never in JSON, CSV or Markdown).
    pub color: bool,
    /// The width tables and grids fit (COLUMNS, else the terminal's); `None` on a pipe.
    pub width: Option<usize>,
    /// Show every column of a table, whatever the width.
    pub wide: bool,
    /// The settings file as read (empty when there is none), for `config`'s sources.
    pub config: Config,
}

impl GlobalSettings {
    /// What tables fit: the width, unless --wide.
    pub fn fit(&self) -> Fit {
        Fit(if self.wide { None } else { self.width })
    }
}

#[cfg(test)]
impl GlobalSettings {
    /// The built-in catalog on `warehouse`, printing `format` (the settings tests).
    pub(crate) fn for_tests(warehouse: &str, format: Format) -> GlobalSettings {
        GlobalSettings {
            warehouse: warehouse.parse().expect("a valid warehouse spec"),
            catalog: Catalog::builtin().expect("the built-in catalog loads"),
            catalog_path: None,
            config_path: None,
            format,
            estimate: false,
            containment: ContainmentMode::Auto,
            color: false,
            width: None,
            wide: false,
            config: Config::default(),
        }
    }
}

/// Which settings file to read: --config > PHASE4_CONFIG > `phase4.toml` if present.
/// The flag is `true` when the file must exist (it was named).
pub fn config_path(args: &GlobalArgs, env: &Environment) -> (PathBuf, bool) {
    match config_choice(args, env) {
        (Some(path), _) => (path, true),
        (None, _) => (PathBuf::from(defaults::CONFIG_FILE), false),
    }
}

/// The settings file named (--config, PHASE4_CONFIG) and where it was named.
pub(super) fn config_choice(args: &GlobalArgs, env: &Environment) -> (Option<PathBuf>, Source) {
    if let Some(path) = &args.config {
        (Some(path.clone()), Source::Flag("--config"))
    } else if let Some(path) = env.get(env::CONFIG) {
        (Some(PathBuf::from(path)), Source::Env(env::CONFIG))
    } else {
        (None, Source::Default)
    }
}

/// Which catalog to read: --catalog > PHASE4_CATALOG > the built-in one.
pub fn catalog_path(args: &GlobalArgs, env: &Environment) -> Option<PathBuf> {
    catalog_choice(args, env).map(|(path, _)| path)
}

/// The catalog file named and where, or none for the built-in one.
pub(super) fn catalog_choice(args: &GlobalArgs, env: &Environment) -> Option<(PathBuf, Source)> {
    if let Some(path) = &args.catalog {
        Some((path.clone(), Source::Flag("--catalog")))
    } else {
        env.get(env::CATALOG)
            .map(|path| (PathBuf::from(path), Source::Env(env::CATALOG)))
    }
}

/// The warehouse named: --warehouse > PHASE4_WAREHOUSE > `[warehouse] url` in the
/// settings file; none for the embedded default.
pub(super) fn warehouse_choice<'a>(
    args: &'a GlobalArgs,
    env: &'a Environment,
    config: &'a Config,
) -> Option<(&'a str, Source)> {
    if let Some(text) = args.warehouse.as_deref() {
        Some((text, Source::Flag("--warehouse")))
    } else if let Some(text) = env.get(env::WAREHOUSE) {
        Some((text, Source::Env(env::WAREHOUSE)))
    } else {
        config
            .warehouse
            .url
            .as_deref()
            .map(|text| (text, Source::ConfigFile))
    }
}

impl GlobalSettings {
    /// Reads the settings file and the catalog, then resolves the rest.
    pub fn load(args: &GlobalArgs, env: &Environment) -> Result<Self, Error> {
        let (path, required) = config_path(args, env);
        let config = Config::load(&path, required)?;
        let catalog = Catalog::load(catalog_path(args, env).as_deref())?;
        GlobalSettings::resolve(args, env, &config, catalog)
    }

    /// flag > environment > settings file > default, for every shared setting.
    pub fn resolve(
        args: &GlobalArgs,
        env: &Environment,
        config: &Config,
        catalog: Catalog,
    ) -> Result<Self, Error> {
        let containment = match env.get(env::CONTAINMENT) {
            None | Some("auto") => ContainmentMode::Auto,
            Some("groups") => ContainmentMode::Groups,
            Some(other) => {
                return Err(Error::usage(format!(
                    "{} `{}`: expected auto or groups",
                    env::CONTAINMENT,
                    crate::error::echo(other)
                )));
            }
        };
        Ok(GlobalSettings {
            warehouse: resolve_warehouse(args, env, config, &catalog)?,
            catalog,
            catalog_path: catalog_path(args, env),
            config_path: match config_path(args, env) {
                (path, true) => Some(path),
                (_, false) => None,
            },
            format: args.format.into(),
            estimate: args.estimate,
            containment,
            color: resolve_color(args.color, env, console::Term::stdout().is_term()),
            width: resolve_width(env),
            wide: args.wide,
            config: config.clone(),
        })
    }
}

/// --color > CLICOLOR_FORCE > NO_COLOR > whether stdout is a terminal.
fn resolve_color(arg: ColorArg, env: &Environment, terminal: bool) -> bool {
    color_choice(arg, env, terminal).0
}

/// Whether to colour, and what decided it.
pub(super) fn color_choice(arg: ColorArg, env: &Environment, terminal: bool) -> (bool, Source) {
    match arg {
        ColorArg::Always => (true, Source::Flag("--color")),
        ColorArg::Never => (false, Source::Flag("--color")),
        ColorArg::Auto if env.get(env::CLICOLOR_FORCE).is_some_and(|v| v != "0") => {
            (true, Source::Env(env::CLICOLOR_FORCE))
        }
        ColorArg::Auto if env.get(env::NO_COLOR).is_some() => (false, Source::Env(env::NO_COLOR)),
        ColorArg::Auto => (terminal, Source::Terminal),
    }
}

/// COLUMNS when set to a usable width, else the terminal's; `None` when stdout is not a
/// terminal. A COLUMNS that is no width (some shells export 0) is ignored.
fn resolve_width(env: &Environment) -> Option<usize> {
    width_choice(env).0
}

/// The width, and what decided it.
pub(super) fn width_choice(env: &Environment) -> (Option<usize>, Source) {
    if let Some(n) = env
        .get(env::COLUMNS)
        .and_then(|t| t.trim().parse::<usize>().ok())
        .filter(|n| (20..=10_000).contains(n))
    {
        return (Some(n), Source::Env(env::COLUMNS));
    }
    let term = console::Term::stdout();
    if !term.is_term() {
        return (None, Source::Terminal);
    }
    (
        term.size_checked().map(|(_, w)| usize::from(w)),
        Source::Terminal,
    )
}

/// The warehouse from --warehouse, else PHASE4_WAREHOUSE, else phase4.toml, else the
/// embedded default, configured by its engine from the flags, environment and file.
fn resolve_warehouse(
    args: &GlobalArgs,
    env: &Environment,
    config: &Config,
    catalog: &Catalog,
) -> Result<WarehouseSpec, Error> {
    let spec: WarehouseSpec = match warehouse_choice(args, env, config) {
        Some((text, _)) => text.parse()?,
        None => WarehouseSpec::default(),
    };
    spec.configure(&EngineOptions {
        location: args.location.as_deref(),
        max_bytes_billed: args.max_bytes_billed,
        query_timeout: args.query_timeout.as_deref(),
        env,
        config: &config.warehouse,
        catalog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    fn resolve(args: &GlobalArgs, env: &Environment, config: &Config) -> GlobalSettings {
        GlobalSettings::resolve(args, env, config, Catalog::builtin().unwrap()).unwrap()
    }

    #[test]
    fn colour_is_the_flag_then_clicolor_force_then_no_color_then_the_terminal() {
        let none = Environment::default();
        let no_color = Environment::from_pairs([(env::NO_COLOR, "1")]);
        let force = Environment::from_pairs([(env::CLICOLOR_FORCE, "1"), (env::NO_COLOR, "1")]);
        let unforced = Environment::from_pairs([(env::CLICOLOR_FORCE, "0")]);
        assert!(resolve_color(ColorArg::Always, &no_color, false));
        assert!(!resolve_color(ColorArg::Never, &force, true));
        assert!(resolve_color(ColorArg::Auto, &force, false));
        assert!(!resolve_color(ColorArg::Auto, &unforced, false));
        assert!(!resolve_color(ColorArg::Auto, &no_color, true));
        assert!(resolve_color(ColorArg::Auto, &none, true));
        assert!(!resolve_color(ColorArg::Auto, &none, false));
    }

    #[test]
    fn a_columns_that_is_no_width_is_ignored() {
        let at = |v: &str| resolve_width(&Environment::from_pairs([(env::COLUMNS, v)]));
        assert_eq!(at("80"), Some(80));
        // As if unset: the terminal's width, or none on a pipe.
        let unset = resolve_width(&Environment::default());
        assert_eq!(at("0"), unset);
        assert_eq!(at("wide"), unset);
    }

    #[test]
    fn the_warehouse_is_the_flag_then_the_environment_then_the_file_then_the_default() {
        let file = config("[warehouse]\nurl = \"duckdb:file.duckdb\"\n");
        let env = Environment::from_pairs([(env::WAREHOUSE, "duckdb:env.duckdb")]);
        let flag = GlobalArgs {
            warehouse: Some("duckdb:flag.duckdb".into()),
            ..Default::default()
        };
        let none = GlobalArgs::default();
        let nothing = Environment::default();
        let empty = Config::default();
        assert_eq!(
            resolve(&flag, &env, &file).warehouse.to_string(),
            "duckdb:flag.duckdb"
        );
        assert_eq!(
            resolve(&none, &env, &file).warehouse.to_string(),
            "duckdb:env.duckdb"
        );
        assert_eq!(
            resolve(&none, &nothing, &file).warehouse.to_string(),
            "duckdb:file.duckdb"
        );
        assert_eq!(
            resolve(&none, &nothing, &empty).warehouse,
            WarehouseSpec::default()
        );
    }

    #[test]
    fn config_and_catalog_files_are_the_flag_then_the_environment_then_the_default() {
        let env = Environment::from_pairs([
            (env::CONFIG, "env.toml"),
            (env::CATALOG, "env-catalog.toml"),
        ]);
        let flag = GlobalArgs {
            config: Some("flag.toml".into()),
            catalog: Some("flag-catalog.toml".into()),
            ..Default::default()
        };
        let none = GlobalArgs::default();
        let nothing = Environment::default();
        assert_eq!(config_path(&flag, &env), (PathBuf::from("flag.toml"), true));
        assert_eq!(config_path(&none, &env), (PathBuf::from("env.toml"), true));
        assert_eq!(
            config_path(&none, &nothing),
            (PathBuf::from(defaults::CONFIG_FILE), false)
        );
        assert_eq!(
            catalog_path(&flag, &env),
            Some(PathBuf::from("flag-catalog.toml"))
        );
        assert_eq!(
            catalog_path(&none, &env),
            Some(PathBuf::from("env-catalog.toml"))
        );
        assert_eq!(catalog_path(&none, &nothing), None);
    }

    #[test]
    fn the_busy_wait_is_the_environment_then_the_default() {
        let none = GlobalArgs::default();
        let busy = |env: &Environment| match resolve(&none, env, &Config::default()).warehouse {
            WarehouseSpec::DuckDb(s) => s.busy_wait,
            other => panic!("{other}"),
        };
        assert_eq!(busy(&Environment::default()), defaults::BUSY_WAIT);
        assert_eq!(
            busy(&Environment::from_pairs([(env::BUSY_WAIT, "5s")])),
            Duration::from_secs(5)
        );
        let bad = GlobalSettings::resolve(
            &none,
            &Environment::from_pairs([(env::BUSY_WAIT, "soon")]),
            &Config::default(),
            Catalog::builtin().unwrap(),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("PHASE4_BUSY_WAIT `soon`"), "{bad}");
    }

    #[test]
    fn bigquery_settings_are_the_flag_then_the_file_then_the_default() {
        let file = config(
            "[warehouse]\nurl = \"bigquery:p\"\nlocation = \"EU\"\nmax_bytes_billed = 1000\nquery_timeout = \"2m\"\n",
        );
        let bq = |args: &GlobalArgs, config: &Config| match resolve(
            args,
            &Environment::default(),
            config,
        )
        .warehouse
        {
            WarehouseSpec::BigQuery(s) => s,
            other => panic!("{other}"),
        };
        let flags = GlobalArgs {
            location: Some("asia-east1".into()),
            max_bytes_billed: Some(5),
            query_timeout: Some("30s".into()),
            ..Default::default()
        };
        let s = bq(&flags, &file);
        assert_eq!(
            (s.location.as_str(), s.max_bytes_billed, s.query_timeout),
            ("asia-east1", Some(5), Duration::from_secs(30))
        );
        let s = bq(&GlobalArgs::default(), &file);
        assert_eq!(
            (s.location.as_str(), s.max_bytes_billed, s.query_timeout),
            ("EU", Some(1000), Duration::from_secs(120))
        );
        let only_url = config("[warehouse]\nurl = \"bigquery:p\"\n");
        let s = bq(&GlobalArgs::default(), &only_url);
        assert_eq!(
            (s.location.as_str(), s.max_bytes_billed, s.query_timeout),
            (
                defaults::BIGQUERY_LOCATION,
                None,
                defaults::BIGQUERY_QUERY_TIMEOUT
            )
        );
    }
}
