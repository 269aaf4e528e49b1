//! The settings of the commands that run the checks: `report`, `gaps`, `gate`.

use std::path::PathBuf;

use super::global::GlobalSettings;
use super::values::{
    parse_date, parse_page_path, parse_processors, parse_range, summary_format, table_format,
    table_only,
};
use crate::catalog::ProcessorId;
use crate::checks::CheckRequest;
use crate::cli::{ExplainArgs, GapsArgs, GateArgs, HeatmapArgs, ReportArgs};
use crate::error::Error;
use crate::gate::{Limit, Tolerances};
use crate::range::DateRange;
use crate::render::{Format, SummaryFormat, TableFormat};

/// `report`.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub request: CheckRequest,
    pub format: TableFormat,
    /// List just the root causes.
    pub roots_only: bool,
    /// Add the coverage grid.
    pub heatmap: bool,
    /// Write the coverage page here.
    pub html: Option<PathBuf>,
    /// A range without a game date is not a finding.
    pub allow_empty: bool,
}

impl ReportSettings {
    pub fn resolve(args: &ReportArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let format = table_format(global.format, global.fit(), "report")?;
        if args.heatmap && !matches!(format, TableFormat::Table(_)) {
            return Err(Error::usage(
                "--heatmap draws a grid for a person: use it with --format table",
            ));
        }
        Ok(ReportSettings {
            request: CheckRequest {
                range: parse_range(args.range.as_deref())?,
                processors: parse_processors(&global.catalog, &args.processor)?,
                max_lag: args.max_lag,
            },
            format,
            roots_only: args.roots_only,
            heatmap: args.heatmap,
            html: page_path(args.html.as_deref())?,
            allow_empty: args.allow_empty,
        })
    }
}

/// `heatmap`.
#[derive(Debug, Clone)]
pub struct HeatmapSettings {
    pub request: CheckRequest,
    /// Write the coverage page here.
    pub html: Option<PathBuf>,
}

impl HeatmapSettings {
    pub fn resolve(args: &HeatmapArgs, global: &GlobalSettings) -> Result<Self, Error> {
        table_only(
            global.format,
            "heatmap",
            "it draws a grid for a person; the counts are in `report`",
        )?;
        Ok(HeatmapSettings {
            request: CheckRequest {
                range: parse_range(args.range.as_deref())?,
                processors: parse_processors(&global.catalog, &args.processor)?,
                max_lag: None,
            },
            html: page_path(args.html.as_deref())?,
        })
    }
}

fn page_path(path: Option<&std::path::Path>) -> Result<Option<PathBuf>, Error> {
    path.map(|p| parse_page_path("--html", p)).transpose()
}

/// `explain`.
#[derive(Debug, Clone)]
pub struct ExplainSettings {
    pub processor: ProcessorId,
    pub date: chrono::NaiveDate,
    pub format: SummaryFormat,
}

impl ExplainSettings {
    pub fn resolve(args: &ExplainArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let processor = global.catalog.find(&args.processor)?;
        let date = parse_date("--date", &args.date)?;
        Ok(ExplainSettings {
            processor,
            date,
            format: summary_format(global.format, "explain")?,
        })
    }
}

/// `gaps`.
#[derive(Debug, Clone)]
pub struct GapsSettings {
    pub processor: ProcessorId,
    pub request: CheckRequest,
    pub format: TableFormat,
    /// List just the dates that are root causes.
    pub roots_only: bool,
}

impl GapsSettings {
    pub fn resolve(args: &GapsArgs, global: &GlobalSettings) -> Result<Self, Error> {
        if args.processor.contains(',') {
            return Err(Error::usage(format!(
                "gaps lists the dates of one processor (--processor {}): for several at once, use `report --processor {}`",
                crate::error::echo(args.processor.split(',').next().unwrap_or("").trim()),
                crate::error::echo(&args.processor)
            )));
        }
        let processor = global.catalog.find(&args.processor)?;
        Ok(GapsSettings {
            processor,
            request: CheckRequest {
                range: parse_range(args.range.as_deref())?,
                processors: vec![processor],
                max_lag: None,
            },
            format: table_format(global.format, global.fit(), "gaps")?,
            roots_only: args.roots_only,
        })
    }
}

/// `gate`.
#[derive(Debug, Clone)]
pub struct GateSettings {
    pub snapshot: PathBuf,
    pub range: Option<DateRange>,
    /// `--range` as the user wrote it, for the commands suggested in messages.
    pub range_text: Option<String>,
    pub update: bool,
    /// From the command line; they override the snapshot's own.
    pub tolerances: Tolerances,
    pub format: Format,
    /// A range without a game date passes.
    pub allow_empty: bool,
}

impl GateSettings {
    pub fn resolve(args: &GateArgs, global: &GlobalSettings) -> Result<Self, Error> {
        let mut tolerances = Tolerances::default();
        for t in &args.tolerance {
            tolerances.set_from_flag(t).map_err(Error::usage)?;
        }
        for name in args.allow.iter().filter(|n| !n.trim().is_empty()) {
            tolerances
                .set(name.trim(), Limit::Any)
                .map_err(|e| Error::usage(format!("--allow: {e}")))?;
        }
        if args.update && global.format == Format::Junit {
            return Err(Error::usage(
                "--format junit reports a comparison: `gate --update` takes table, json, csv or markdown",
            ));
        }
        Ok(GateSettings {
            snapshot: args.snapshot.clone(),
            range: parse_range(args.range.as_deref())?,
            range_text: args.range.clone(),
            update: args.update,
            tolerances,
            format: global.format,
            allow_empty: args.allow_empty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(format: Format) -> GlobalSettings {
        GlobalSettings::for_tests("duckdb:phase4.duckdb", format)
    }

    #[test]
    fn report_takes_the_range_processors_and_format_given_else_everything() {
        let g = global(Format::Json);
        let s = ReportSettings::resolve(
            &ReportArgs {
                range: Some("2021-12".into()),
                processor: vec!["ml".into()],
                roots_only: false,
                heatmap: false,
                html: None,
                allow_empty: false,
                max_lag: None,
            },
            &g,
        )
        .unwrap();
        assert_eq!(s.request.range, Some("2021-12".parse().unwrap()));
        assert_eq!(s.request.processors, [g.catalog.find("ML").unwrap()]);
        assert_eq!(s.format, TableFormat::Json);
        let s = ReportSettings::resolve(&ReportArgs::default(), &global(Format::Table)).unwrap();
        assert_eq!((s.request.range, s.request.processors.len()), (None, 0));
        assert!(ReportSettings::resolve(&ReportArgs::default(), &global(Format::Junit)).is_err());
        let blank = ReportSettings::resolve(
            &ReportArgs {
                range: None,
                processor: vec!["".into()],
                roots_only: false,
                heatmap: false,
                html: None,
                allow_empty: false,
                max_lag: None,
            },
            &g,
        )
        .unwrap_err();
        assert!(
            blank.to_string().contains("a processor name is empty"),
            "{blank}"
        );
    }

    #[test]
    fn gaps_names_one_processor_and_gate_keeps_every_format() {
        let g = global(Format::Csv);
        let s = GapsSettings::resolve(
            &GapsArgs {
                processor: "pcf".into(),
                range: None,
                roots_only: true,
            },
            &g,
        )
        .unwrap();
        assert_eq!(s.processor, g.catalog.find("PCF").unwrap());
        assert_eq!(s.request.processors, [s.processor]);
        assert!(s.roots_only);
        let gate = GateSettings::resolve(
            &GateArgs {
                snapshot: "s.json".into(),
                tolerance: vec!["records=3".into()],
                allow: vec!["expected_skips".into()],
                ..Default::default()
            },
            &global(Format::Junit),
        )
        .unwrap();
        assert_eq!(gate.format, Format::Junit);
        assert_eq!(gate.tolerances.allowed(), ["expected_skips"]);
    }
}
