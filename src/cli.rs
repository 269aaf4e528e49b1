//! The command line: clap types only. `settings` turns them into resolved settings; the
//! value enums here map onto the domain's own types, which know nothing of clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use crate::render::Format;
use crate::runner::progress::ProgressMode;
use crate::settings::defaults;

/// Validate, reconcile and repair the Phase 4 precompute layer.
///
/// Checks first: is the layer complete for these dates, what exactly is missing or
/// broken and why. Expected skips (INSUFFICIENT_DATA) are never failures.
#[derive(Debug, Parser)]
#[command(
    name = "phase4-check",
    version,
    max_term_width = 100,
    subcommand_required = true,
    arg_required_else_help = false
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    #[arg(
        long,
        global = true, help_heading = "Global options",
        value_name = "WAREHOUSE",
        help = format!(
            "The warehouse: duckdb:PATH or bigquery:PROJECT [default: duckdb:{}] [env: {}; or [warehouse] url in {}]",
            defaults::WAREHOUSE_FILE,
            defaults::env::WAREHOUSE,
            defaults::CONFIG_FILE
        )
    )]
    pub warehouse: Option<String>,
    #[arg(
        long,
        global = true, help_heading = "Global options",
        value_name = "PATH",
        help = format!(
            "The catalog of processors [default: the built-in checks/catalog.toml] [env: {}]",
            defaults::env::CATALOG
        )
    )]
    pub catalog: Option<PathBuf>,
    /// Output format: table, json, csv, markdown or junit; each command's help says which
    /// it takes [default: table].
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_enum,
        default_value_t,
        hide_possible_values = true,
        hide_default_value = true
    )]
    pub format: FormatArg,
    #[arg(
        long,
        global = true, help_heading = "Global options",
        value_name = "PATH",
        help = format!(
            "Settings file [default: {} in the working directory, if it exists] [env: {}]",
            defaults::CONFIG_FILE,
            defaults::env::CONFIG
        )
    )]
    pub config: Option<PathBuf>,
    #[arg(
        long,
        global = true, help_heading = "BigQuery options",
        value_name = "LOCATION",
        help = format!(
            "BigQuery: where the jobs run [default: {}, or [warehouse] location]",
            defaults::BIGQUERY_LOCATION
        )
    )]
    pub location: Option<String>,
    /// BigQuery: cap every query at N bytes billed (maximumBytesBilled).
    #[arg(
        long,
        global = true,
        help_heading = "BigQuery options",
        value_name = "N",
        allow_negative_numbers = true
    )]
    pub max_bytes_billed: Option<i64>,
    #[arg(
        long,
        global = true, help_heading = "BigQuery options",
        value_name = "DURATION",
        allow_hyphen_values = true,
        help = format!(
            "BigQuery: the deadline of one query, pages included [default: {}]",
            humantime::format_duration(defaults::BIGQUERY_QUERY_TIMEOUT)
        )
    )]
    pub query_timeout: Option<String>,
    /// Dry-run every check and print the bytes each would process (BigQuery); runs nothing.
    #[arg(long, global = true, help_heading = "BigQuery options")]
    pub estimate: bool,
    /// Show every column of every table, however wide (tables fit the terminal otherwise).
    #[arg(long, global = true, help_heading = "Global options")]
    pub wide: bool,
    /// Say more on stderr: -v each query with its rows and time, -vv its SQL too
    /// (RUST_LOG, e.g. RUST_LOG=phase4_check=debug, overrides it).
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Say nothing on stderr but errors: no warnings, notes or progress.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_enum,
        default_value_t
    )]
    pub color: ColorArg,
}

/// The command line as clap sees it, with `--version` naming the bundled DuckDB: for
/// parsing, completions and the manual page alike.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    // clap wants a 'static version; it is built once per process.
    let version: &'static str = Box::leak(
        format!(
            "{} (bundled DuckDB {})",
            env!("CARGO_PKG_VERSION"),
            crate::warehouse::duckdb::library_version()
        )
        .into_boxed_str(),
    );
    Cli::command().version(version)
}

/// `--color`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

/// `--format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    #[default]
    Table,
    Json,
    Csv,
    Markdown,
    /// JUnit XML, for CI test report viewers (`gate` only).
    Junit,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Junit => Format::Junit,
        }
    }
}

const EXAMPLES_SEED: &str = "--format: table, json\n\nExamples:\n  phase4-check seed  # phase4.duckdb: season 2021-22, known defects\n  phase4-check seed --seasons 2021-22,2022-23 --healthy\n  phase4-check seed --manifest defects.json  # also write what was injected";

const EXAMPLES_REPORT: &str = "--format: table, json, csv, markdown\n\nExamples:\n  phase4-check report --range 2021-12  # December 2021\n  phase4-check report --range season:2021-22 --roots-only\n  phase4-check report --processor ml --heatmap --html coverage.html\n  phase4-check --format json report > report.json";

const EXAMPLES_GAPS: &str = "--format: table, json, csv, markdown\n\nExamples:\n  phase4-check gaps --processor ml\n  phase4-check gaps --processor pcf --range 2021-11 --roots-only";

const EXAMPLES_EXPLAIN: &str =
    "--format: table, json\n\nExamples:\n  phase4-check explain --processor ml --date 2021-12-04";

const EXAMPLES_HEATMAP: &str = "--format: table\n\nExamples:\n  phase4-check heatmap --range 2021-22\n  phase4-check heatmap --processor ml,pcf --html coverage.html";

const EXAMPLES_PROCESS: &str = "--format: table, json\n\nExamples:\n  phase4-check process --processor tdza --date 2021-12-04\n  phase4-check process --processor psza --start 2021-12-01 --end 2021-12-07";

const EXAMPLES_REPAIR: &str = "--format: table, json, csv, markdown\n\nExamples:\n  phase4-check repair --range 2021-12  # the plan: changes nothing\n  phase4-check repair --range 2021-12 --apply  # run it (the same command resumes)\n  phase4-check repair --processor ml --apply --jobs 2 --timeout 30m";

const EXAMPLES_CHECKPOINT: &str = "--format: table, json\n\nExamples:\n  phase4-check checkpoint status\n  phase4-check checkpoint clear --state-dir .phase4";

const EXAMPLES_DEMO: &str = "--format: table\n\nExamples:\n  phase4-check demo\n  phase4-check demo --seed 7  # another league; phase4.duckdb stays to explore";

const EXAMPLES_GATE: &str = "--format: table, json, csv, markdown, junit\n\nExamples:\n  phase4-check gate --snapshot snapshots/season-2021-22.json\n  phase4-check gate --snapshot snapshots/season-2021-22.json --update\n  phase4-check --format junit gate --snapshot s.json --tolerance records=0.5% > gate.xml";

const EXAMPLES_CONFIG: &str = "--format: table, json\n\nExamples:\n  phase4-check config\n  PHASE4_WAREHOUSE=bigquery:my-project phase4-check --location EU config";

const EXAMPLES_CATALOG: &str = "--format: table (TOML)\n\nExamples:\n  phase4-check catalog show > my-catalog.toml && phase4-check --catalog my-catalog.toml report";

const EXAMPLES_COMPLETIONS: &str = "Examples:\n  phase4-check completions bash > ~/.local/share/bash-completion/completions/phase4-check\n  phase4-check completions zsh > ~/.zfunc/_phase4-check";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the embedded warehouse with synthetic seasons and known defects.
    #[command(after_help = EXAMPLES_SEED)]
    Seed(SeedArgs),
    /// Completeness, gaps, failure classes and breakers for every processor.
    #[command(after_help = EXAMPLES_REPORT)]
    Report(ReportArgs),
    /// The missing and partial dates (and other defects) of one processor.
    #[command(after_help = EXAMPLES_GAPS)]
    Gaps(GapsArgs),
    /// Why one processor's date is defective: its chain down to the root causes.
    #[command(after_help = EXAMPLES_EXPLAIN)]
    Explain(ExplainArgs),
    /// A processor-by-date grid of coverage, coloured by state.
    #[command(after_help = EXAMPLES_HEATMAP)]
    Heatmap(HeatmapArgs),
    /// Run a built-in reference processor on the embedded warehouse.
    #[command(after_help = EXAMPLES_PROCESS)]
    Process(ProcessArgs),
    /// Plan the repair of what is broken (a dry run), or run it with --apply.
    #[command(after_help = EXAMPLES_REPAIR)]
    Repair(RepairArgs),
    /// Inspect or discard the state of an unfinished repair run.
    #[command(after_help = EXAMPLES_CHECKPOINT)]
    Checkpoint(CheckpointArgs),
    /// The whole story: seed, report, repair --apply, report again.
    #[command(after_help = EXAMPLES_DEMO)]
    Demo(DemoArgs),
    /// CI gate: compare the counts per processor and date with a reviewed snapshot.
    #[command(after_help = EXAMPLES_GATE)]
    Gate(GateArgs),
    /// The catalog of processors in use.
    #[command(after_help = EXAMPLES_CATALOG)]
    Catalog(CatalogArgs),
    /// The effective configuration: every shared setting, its value and where it came
    /// from (flag, environment, phase4.toml, default).
    #[command(after_help = EXAMPLES_CONFIG)]
    Config,
    /// Shell completions for bash, zsh, fish, elvish or powershell, on stdout.
    #[command(after_help = EXAMPLES_COMPLETIONS)]
    Completions(CompletionsArgs),
    /// The manual page (roff), on stdout: `phase4-check man | man -l -`.
    #[command(
        after_help = "Examples:\n  phase4-check man | man -l -\n  phase4-check man > /usr/local/share/man/man1/phase4-check.1"
    )]
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub task: CatalogTask,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CatalogTask {
    /// Print the catalog in use as TOML: the built-in one, or the file of --catalog (a
    /// starting point for a catalog of your own).
    Show,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GateArgs {
    /// The snapshot file (JSON), e.g. snapshots/season-2021-22.json.
    #[arg(long, value_name = "PATH")]
    pub snapshot: PathBuf,
    /// A..B, YYYY-MM, YYYY-MM-DD, season:YYYY-YY or YYYY-YY; default: the snapshot's range.
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// (Re)write the snapshot from the warehouse and say what changed.
    #[arg(long)]
    pub update: bool,
    /// Let a count move by up to LIMIT: COUNT=0.5% (of the snapshot's value) or COUNT=3.
    #[arg(long, value_name = "COUNT=LIMIT")]
    pub tolerance: Vec<String>,
    /// Let these counts move freely (repeat or comma-separate), e.g. expected_skips;
    /// `content` accepts a date whose counts are equal but whose fingerprint changed.
    #[arg(long, value_name = "COUNT", value_delimiter = ',')]
    pub allow: Vec<String>,
    /// A range without a game date passes (it still warns).
    #[arg(long)]
    pub allow_empty: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct RepairArgs {
    /// A..B, YYYY-MM, YYYY-MM-DD, season:YYYY-YY or YYYY-YY; default: every game date.
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Only these processors (repeat or comma-separate); warns about defective upstream pairs.
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub processor: Vec<String>,
    /// Drop the processors before CODE in the catalog's run order.
    #[arg(long, value_name = "CODE")]
    pub start_from: Option<String>,
    /// Do not add the same date of downstream processors.
    #[arg(long)]
    pub no_downstream: bool,
    /// Plan the root causes and the downstream reruns they imply; the dry run says
    /// whether that covers the full plan and names any pair it leaves out.
    #[arg(long)]
    pub roots_only: bool,
    /// Run the plan (without it: print the plan, change nothing).
    #[arg(long)]
    pub apply: bool,
    /// Concurrent processor invocations (default: one lane per processor).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub jobs: Option<usize>,
    /// Override every processor's timeout (e.g. 6h, 90s) [default: each processor's
    /// `timeout` in the catalog: `phase4-check catalog show`].
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        help = format!(
            "Between SIGTERM and SIGKILL when a processor is ended [default: {}]",
            humantime::format_duration(defaults::GRACE)
        )
    )]
    pub grace: Option<String>,
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        help = format!(
            "First retry delay, doubling per attempt [default: {}]",
            humantime::format_duration(defaults::RETRY_BACKOFF)
        )
    )]
    pub retry_backoff: Option<String>,
    /// Stop starting pairs after the first pair that fails for good.
    #[arg(long)]
    pub halt_on_failure: bool,
    /// Re-count each pair in the warehouse after its processor exits 0.
    #[arg(long, value_enum, default_value_t)]
    pub verify: SwitchArg,
    /// Do not reset the tripped circuit breakers of planned pairs before running them.
    #[arg(long)]
    pub keep_breakers: bool,
    /// Progress on stderr.
    #[arg(long, value_enum, default_value_t)]
    pub progress: ProgressArg,
    #[arg(
        long,
        value_name = "DIR",
        help = format!(
            "Where the checkpoint, lock, logs and events live [default: {}]",
            defaults::STATE_DIR
        )
    )]
    pub state_dir: Option<PathBuf>,
}

/// `on` / `off`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum SwitchArg {
    #[default]
    On,
    Off,
}

impl From<SwitchArg> for bool {
    fn from(arg: SwitchArg) -> bool {
        arg == SwitchArg::On
    }
}

/// `--progress`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// A bar on a terminal, plain lines otherwise.
    #[default]
    Auto,
    Bar,
    Plain,
    None,
}

impl From<ProgressArg> for ProgressMode {
    fn from(arg: ProgressArg) -> ProgressMode {
        match arg {
            ProgressArg::Auto => ProgressMode::Auto,
            ProgressArg::Bar => ProgressMode::Bar,
            ProgressArg::Plain => ProgressMode::Plain,
            ProgressArg::None => ProgressMode::None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    pub action: CheckpointAction,
    #[arg(
        long,
        value_name = "DIR",
        global = true,
        help = format!(
            "The state directory of the repair runs [default: {}]",
            defaults::STATE_DIR
        )
    )]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum CheckpointAction {
    /// What the stored run is and how far it got.
    Status,
    /// Discard the stored run (takes the lock: refused while a run holds it).
    Clear,
}

#[derive(Debug, Clone, Default, Args)]
pub struct DemoArgs {
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help = format!("Seed of the generator [default: {}]", defaults::SEED)
    )]
    pub seed: Option<u64>,
    /// Replace the warehouse file even if it was not made by `seed`.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct SeedArgs {
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        help = format!(
            "Seed of the generator: the same seed gives the same warehouse [default: {}]",
            defaults::SEED
        )
    )]
    pub seed: Option<u64>,
    #[arg(
        long,
        value_name = "LIST",
        help = format!(
            "Seasons to generate, comma-separated (e.g. 2021-22,2022-23) [default: {}]",
            defaults::SEED_SEASONS
        )
    )]
    pub seasons: Option<String>,
    /// Seed no defects.
    #[arg(long)]
    pub healthy: bool,
    /// Write the manifest of injected defects (JSON) here.
    #[arg(long, value_name = "PATH")]
    pub manifest: Option<PathBuf>,
    /// Replace the file even if it was not made by `seed`.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// A..B, YYYY-MM, YYYY-MM-DD, season:YYYY-YY or YYYY-YY; default: every game date.
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Only these processors (repeat or comma-separate; case-insensitive).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub processor: Vec<String>,
    /// List just the root causes: the defective dates to fix, not their consequences.
    #[arg(long)]
    pub roots_only: bool,
    /// Add the processor-by-date coverage grid (table format).
    #[arg(long)]
    pub heatmap: bool,
    /// A range without a game date is not a finding (it still warns).
    #[arg(long)]
    pub allow_empty: bool,
    /// A processor more than N game dates behind the source's latest in the range is a
    /// finding (exit 1); without it the lag is shown, never a finding.
    #[arg(long, value_name = "N")]
    pub max_lag: Option<usize>,
    /// Also write the coverage as one self-contained HTML page (a calendar per
    /// processor, each day's counts and repair command) to PATH.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct HeatmapArgs {
    /// A..B, YYYY-MM, YYYY-MM-DD, season:YYYY-YY or YYYY-YY; default: every game date.
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Only these processors (repeat or comma-separate; case-insensitive).
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub processor: Vec<String>,
    /// Also write the coverage as one self-contained HTML page (a calendar per
    /// processor, each day's counts and repair command) to PATH.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct GapsArgs {
    /// The processor (case-insensitive: ml = ML).
    #[arg(long, value_name = "CODE")]
    pub processor: String,
    /// A..B, YYYY-MM, YYYY-MM-DD, season:YYYY-YY or YYYY-YY; default: every game date.
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// List just its dates that are root causes, not those an upstream defect explains.
    #[arg(long)]
    pub roots_only: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ExplainArgs {
    /// The processor (case-insensitive: ml = ML).
    #[arg(long, value_name = "CODE")]
    pub processor: String,
    /// The date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
    pub date: String,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ProcessArgs {
    /// The processor code (one with a built-in reference processor: TDZA, PSZA, PCF,
    /// PDC or ML).
    #[arg(long, value_name = "CODE")]
    pub processor: String,
    /// One date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", conflicts_with_all = ["start", "end"])]
    pub date: Option<String>,
    /// First date of a range (with --end).
    #[arg(long, value_name = "DATE", requires = "end")]
    pub start: Option<String>,
    /// Last date of a range (with --start).
    #[arg(long, value_name = "DATE", requires = "start")]
    pub end: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_shows_the_defaults_of_the_settings_layer() {
        let mut cmd = Cli::command();
        let repair = cmd.find_subcommand_mut("repair").unwrap().render_help();
        let text = crate::error::one_line(&repair.to_string());
        assert!(text.contains("[default: 10s]"), "{text}");
        assert!(text.contains("[default: 2s]"), "{text}");
        assert!(text.contains("[default: .phase4]"), "{text}");
    }
}
