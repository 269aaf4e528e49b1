//! The commands: resolved settings in, exit code out. Each file resolves its settings,
//! calls the library, renders, and returns the exit code.

mod catalog;
mod checkpoint;
mod completions;
mod config;
mod demo;
mod estimate;
mod explain;
mod gaps;
mod gate;
mod heatmap;
mod process;
mod repair;
mod report;
mod seed;

use std::path::Path;

use crate::checks::{CheckRequest, Findings, run_checks};
use crate::cli::{Cli, Command};
use crate::error::{Error, ExitCode};
use crate::output::{note, print, warn, write_document};
use crate::render::TableFormat;
use crate::render::explain::CommandContext;
use crate::render::html::{PageContext, render_page};
use crate::settings::{Environment, GlobalSettings};
use crate::warehouse::Access;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    crate::output::set_quiet(cli.global.quiet);
    crate::output::init_tracing(cli.global.verbose, console::Term::stderr().is_term());
    // These describe the command line itself: no settings, no warehouse.
    match &cli.command {
        Command::Completions(args) => return completions::run(args),
        Command::Man => return completions::man(),
        _ => {}
    }
    let env = Environment::from_process();
    let global = GlobalSettings::load(&cli.global, &env)?;
    // console's styles (the gate's diff, the grids) follow --color and NO_COLOR.
    console::set_colors_enabled(global.color);
    let estimable = match &cli.command {
        Command::Report(_) | Command::Gaps(_) | Command::Gate(_) | Command::Heatmap(_) => true,
        Command::Repair(args) => !args.apply,
        Command::Seed(_)
        | Command::Process(_)
        | Command::Checkpoint(_)
        | Command::Demo(_)
        | Command::Explain(_)
        | Command::Catalog(_)
        | Command::Config
        | Command::Completions(_)
        | Command::Man => false,
    };
    if global.estimate && !estimable {
        return Err(Error::usage(
            "--estimate dry-runs the checks of report, gaps, gate and repair (without --apply) only",
        ));
    }
    match &cli.command {
        Command::Seed(args) => seed::run(args, &global),
        Command::Report(args) => report::run(args, &global),
        Command::Gaps(args) => gaps::run(args, &global),
        Command::Explain(args) => explain::run(args, &global),
        Command::Heatmap(args) => heatmap::run(args, &global),
        Command::Process(args) => process::run(args, &global),
        Command::Repair(args) => repair::run(args, &global),
        Command::Checkpoint(args) => checkpoint::run(args, &global),
        Command::Demo(args) => demo::run(args, &global),
        Command::Gate(args) => gate::run(args, &global),
        Command::Catalog(args) => catalog::run(args, &global),
        Command::Config => config::run(&cli.global, &env, &global),
        Command::Completions(_) | Command::Man => unreachable!("handled before the settings"),
    }
}

/// A command that runs the checks and prints them (`report`, `gaps`): the byte
/// estimate instead with --estimate; exit 1 on findings.
fn checks_command(
    global: &GlobalSettings,
    request: &CheckRequest,
    format: TableFormat,
    page: Option<&Path>,
    empty: EmptyRange,
    render: impl FnOnce(&Findings) -> String,
) -> Result<ExitCode, Error> {
    if global.estimate {
        if page.is_some() {
            return Err(Error::usage(
                "--estimate runs no check, so --html would have nothing to draw: drop one of them",
            ));
        }
        return estimate::run(global, request, format);
    }
    let findings = findings(global, request)?;
    if let Some(path) = page {
        write_page(global, &findings, path)?;
    }
    print(&render(&findings))?;
    let empty = empty.finding(global, &findings);
    Ok(ExitCode::findings_if(findings.has_findings() || empty))
}

/// What a command does with a range that holds no game date: it always warns, naming
/// the warehouse's own first and last game date; `report` and `gate` also exit 1 on it
/// unless `--allow-empty`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmptyRange {
    Warn,
    Fail { allowed: bool },
}

impl EmptyRange {
    /// Warns when `findings` hold no game date; is it a finding?
    pub(crate) fn finding(self, global: &GlobalSettings, findings: &Findings) -> bool {
        if findings.has_game_dates() {
            return false;
        }
        let games = match findings.warehouse_span {
            Some(span) => format!("its game dates run {span}"),
            None => "it has no game dates at all".into(),
        };
        let mut text = format!(
            "{} has no game dates in {} ({games}): nothing was checked",
            global.catalog.source.table, findings.range
        );
        if let EmptyRange::Fail { allowed: false } = self {
            text.push_str("; --allow-empty accepts an empty range");
        }
        warn(&text);
        matches!(self, EmptyRange::Fail { allowed: false })
    }
}

/// `--html PATH`: the coverage page of `findings`.
fn write_page(global: &GlobalSettings, findings: &Findings, path: &Path) -> Result<(), Error> {
    let context = PageContext {
        warehouse: &global.warehouse.to_string(),
        commands: &command_context(global),
        checked_at: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    };
    let page = render_page(&global.catalog, findings, &context);
    write_document(path, &page, "write the page")?;
    note(&format!("wrote the coverage page {}", path.display()));
    Ok(())
}

/// How a printed command names the warehouse, the catalog and the config: as the user
/// did, so it can be pasted back.
fn command_context(global: &GlobalSettings) -> CommandContext {
    CommandContext {
        warehouse: (!global.warehouse.is_default()).then(|| global.warehouse.to_string()),
        catalog: global
            .catalog_path
            .as_ref()
            .map(|p| p.display().to_string()),
        config: global.config_path.as_ref().map(|p| p.display().to_string()),
    }
}

/// Runs the checks of `request` in one read session of the warehouse.
fn findings(global: &GlobalSettings, request: &CheckRequest) -> Result<Findings, Error> {
    let engine = global.warehouse.open()?;
    let mut warehouse = engine.session(Access::Read)?;
    run_checks(warehouse.as_mut(), &global.catalog, request)
}
