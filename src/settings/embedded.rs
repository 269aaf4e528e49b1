//! The settings of the commands that build or write the embedded warehouse: `seed`,
//! `process` and `demo`.

use std::path::PathBuf;

use super::defaults;
use super::global::GlobalSettings;
use super::repair::RepairSettings;
use super::values::{parse_date, parse_seasons, summary_format, table_only};
use crate::cli::{DemoArgs, ProcessArgs, SeedArgs};
use crate::demo::processors::Builtin;
use crate::error::Error;
use crate::range::DateRange;
use crate::render::SummaryFormat;
use crate::warehouse::WarehouseSpec;
use crate::warehouse::duckdb::DuckDbSettings;

/// The embedded warehouse of a command that writes it.
fn embedded(warehouse: &WarehouseSpec, command: &str) -> Result<DuckDbSettings, Error> {
    warehouse.embedded().cloned().ok_or_else(|| {
        Error::usage(format!(
            "`{command}` writes the embedded warehouse only: use --warehouse duckdb:PATH"
        ))
    })
}

/// `seed`: what to build, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSettings {
    /// The embedded warehouse to (re)place.
    pub target: DuckDbSettings,
    pub seed: u64,
    /// Season years (2021 = 2021-22), sorted.
    pub seasons: Vec<i32>,
    pub healthy: bool,
    pub force: bool,
    /// Where to write the manifest of injected defects, if anywhere.
    pub manifest: Option<PathBuf>,
    pub format: SummaryFormat,
}

impl SeedSettings {
    pub fn resolve(args: &SeedArgs, global: &GlobalSettings) -> Result<Self, Error> {
        if let Some(path) = &args.manifest {
            // Checked before anything is built: a seed that fails writes nothing.
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
            if let Some(dir) = dir.filter(|d| !d.is_dir()) {
                return Err(Error::usage(format!(
                    "--manifest {}: directory {} does not exist",
                    path.display(),
                    dir.display()
                )));
            }
        }
        Ok(SeedSettings {
            seasons: parse_seasons(args.seasons.as_deref().unwrap_or(defaults::SEED_SEASONS))?,
            target: embedded(&global.warehouse, "seed")?,
            seed: args.seed.unwrap_or(defaults::SEED),
            healthy: args.healthy,
            force: args.force,
            manifest: args.manifest.clone(),
            format: summary_format(global.format, "seed")?,
        })
    }
}

/// `process`: one built-in processor over a range of the embedded warehouse.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    pub builtin: Builtin,
    pub range: DateRange,
    pub format: SummaryFormat,
}

impl ProcessSettings {
    pub fn resolve(args: &ProcessArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let processor = global.catalog.find(&args.processor)?;
        let code = global.catalog.code(processor);
        let builtin = Builtin::from_code(code).ok_or_else(|| {
            let builtins: Vec<&str> = Builtin::ALL.iter().map(|b| b.code()).collect();
            Error::usage(format!(
                "processor {code} has no built-in reference processor (only {} have one)",
                builtins.join(", ")
            ))
        })?;
        let range = match (&args.date, &args.start, &args.end) {
            (Some(d), None, None) => {
                DateRange::day(parse_date("--date", d)?).map_err(Error::usage)?
            }
            (None, Some(s), Some(e)) => {
                DateRange::new(parse_date("--start", s)?, parse_date("--end", e)?)
                    .map_err(Error::usage)?
            }
            _ => return Err(Error::usage("process needs --date D, or --start D --end D")),
        };
        embedded(&global.warehouse, "process")?;
        Ok(ProcessSettings {
            builtin,
            range,
            format: summary_format(global.format, "process")?,
        })
    }
}

/// `demo`: seed a season, report, repair, report again.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    pub seed: SeedSettings,
    pub range: DateRange,
    pub repair: RepairSettings,
}

impl DemoSettings {
    pub fn resolve(args: &DemoArgs, global: &GlobalSettings) -> Result<Self, Error> {
        table_only(global.format, "demo", "it tells a story to a person")?;
        let target = embedded(&global.warehouse, "demo")?;
        let range = DateRange::season(defaults::DEMO_SEASON).map_err(Error::usage)?;
        // The run's state beside the warehouse it repairs.
        let state_dir = target
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| p.join(defaults::STATE_DIR))
            .unwrap_or_else(|| PathBuf::from(defaults::STATE_DIR));
        Ok(DemoSettings {
            seed: SeedSettings {
                target,
                seed: args.seed.unwrap_or(defaults::SEED),
                seasons: vec![defaults::DEMO_SEASON],
                healthy: false,
                force: args.force,
                manifest: None,
                format: SummaryFormat::Text,
            },
            range,
            repair: RepairSettings::for_demo(global, range, state_dir),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Format;

    fn global(warehouse: &str, format: Format) -> GlobalSettings {
        GlobalSettings::for_tests(warehouse, format)
    }

    #[test]
    fn seed_flags_win_over_the_defaults() {
        let g = global("duckdb:w/x.duckdb", Format::Json);
        let s = SeedSettings::resolve(
            &SeedArgs {
                seed: Some(7),
                seasons: Some("2022-23,2021-22".into()),
                ..Default::default()
            },
            &g,
        )
        .unwrap();
        assert_eq!((s.seed, s.seasons.clone()), (7, vec![2021, 2022]));
        assert_eq!(s.target.path, PathBuf::from("w/x.duckdb"));
        assert_eq!(s.format, SummaryFormat::Json);
        let s = SeedSettings::resolve(&SeedArgs::default(), &g).unwrap();
        assert_eq!((s.seed, s.seasons), (defaults::SEED, vec![2021]));
    }

    #[test]
    fn the_embedded_commands_refuse_bigquery_and_the_demo_keeps_its_state_beside_the_warehouse() {
        let bq = global("bigquery:p", Format::Table);
        let e = SeedSettings::resolve(&SeedArgs::default(), &bq).unwrap_err();
        assert!(
            e.to_string()
                .contains("`seed` writes the embedded warehouse only")
        );
        assert!(DemoSettings::resolve(&DemoArgs::default(), &bq).is_err());
        let d = DemoSettings::resolve(
            &DemoArgs::default(),
            &global("duckdb:w/x.duckdb", Format::Table),
        )
        .unwrap();
        assert_eq!(d.repair.state_dir, PathBuf::from("w/.phase4"));
        assert_eq!(d.repair.retry_backoff, defaults::RETRY_BACKOFF);
        let json = DemoSettings::resolve(
            &DemoArgs::default(),
            &global("duckdb:x.duckdb", Format::Json),
        );
        assert!(json.is_err());
    }

    #[test]
    fn process_needs_one_date_or_a_range_and_a_builtin() {
        let g = global("duckdb:x.duckdb", Format::Table);
        let day = ProcessSettings::resolve(
            &ProcessArgs {
                processor: "psza".into(),
                date: Some("2021-12-04".into()),
                ..Default::default()
            },
            &g,
        )
        .unwrap();
        assert_eq!(day.range, "2021-12-04".parse().unwrap());
        assert_eq!(day.builtin, Builtin::Psza);
        let none = ProcessSettings::resolve(
            &ProcessArgs {
                processor: "psza".into(),
                ..Default::default()
            },
            &g,
        );
        assert!(none.is_err());
    }
}
