//! `explain`: one pair's verdict, its chain down to the root causes as a small tree,
//! the failure rows' reasons, and the repair command that fixes it.

use chrono::{DateTime, NaiveDate};
use serde::Serialize;
use std::fmt::Write as _;

use super::report::{RowJson, row_json_of};
use super::roots::{PairJson, role_cause_json};
use super::{SummaryFormat, to_json};
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::explain::{Explanation, SAMPLES_PER_PROCESSOR, Step, Verdict};
use crate::checks::{DateRow, DefectKind, Role};

/// How the repair command names the warehouse and the catalog: as the user did.
#[derive(Debug, Clone, Default)]
pub struct CommandContext {
    /// `--warehouse W` when it is not the default.
    pub warehouse: Option<String>,
    /// `--catalog PATH` when it is not the built-in one.
    pub catalog: Option<String>,
    /// `--config PATH` when one was named.
    pub config: Option<String>,
}

pub fn render_explain(
    catalog: &Catalog,
    e: &Explanation,
    context: &CommandContext,
    format: SummaryFormat,
) -> String {
    let command = repair_command(catalog, e, context);
    match format {
        SummaryFormat::Json => to_json(&ExplainJson::of(catalog, e, command)),
        SummaryFormat::Text => text(catalog, e, command.as_deref()),
    }
}

/// The command that repairs `e`, or none when nothing needs a rerun.
pub fn repair_command(
    catalog: &Catalog,
    e: &Explanation,
    context: &CommandContext,
) -> Option<String> {
    repair_command_for(catalog, e.date, &e.repair, context)
}

/// `phase4-check [--warehouse W] [--catalog C] repair --range D [--processor ...] --apply`
/// rerunning `processors` on `date` (every processor needs no `--processor`), or none when
/// `processors` is empty.
pub fn repair_command_for(
    catalog: &Catalog,
    date: NaiveDate,
    processors: &[ProcessorId],
    context: &CommandContext,
) -> Option<String> {
    if processors.is_empty() {
        return None;
    }
    let mut words = context.words();
    words.extend(["repair".into(), "--range".into(), date.to_string()]);
    if processors.len() < catalog.ids().len() {
        let codes: Vec<&str> = processors.iter().map(|&p| catalog.code(p)).collect();
        words.extend(["--processor".into(), codes.join(",")]);
    }
    words.push("--apply".into());
    Some(words.join(" "))
}

/// `phase4-check [--warehouse W] [--catalog C] repair --range R [--processor ...]`: the
/// plan of the fix for the findings of `processors` over `range` (no `--processor` for
/// every processor).
pub fn plan_command(
    catalog: &Catalog,
    range: crate::range::DateRange,
    processors: &[ProcessorId],
    context: &CommandContext,
) -> String {
    let mut words = context.words();
    words.extend(["repair".into(), "--range".into(), range.to_string()]);
    if processors.len() < catalog.ids().len() {
        let codes: Vec<&str> = processors.iter().map(|&p| catalog.code(p)).collect();
        words.extend(["--processor".into(), codes.join(",")]);
    }
    words.join(" ")
}

impl CommandContext {
    /// `phase4-check` and the global flags that name what the user named.
    fn words(&self) -> Vec<String> {
        let mut words: Vec<String> = vec!["phase4-check".into()];
        for (flag, value) in [
            ("--warehouse", &self.warehouse),
            ("--catalog", &self.catalog),
            ("--config", &self.config),
        ] {
            if let Some(value) = value {
                words.push(flag.into());
                words.push(quoted(value));
            }
        }
        words
    }
}

/// A word as a POSIX shell reads it back (paths with spaces or quotes included).
fn quoted(word: &str) -> String {
    // try_quote fails only on a NUL byte, which no path or spec holds.
    shlex::try_quote(word)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| word.replace('\0', ""))
}

fn text(catalog: &Catalog, e: &Explanation, command: Option<&str>) -> String {
    let code = catalog.code(e.processor);
    let pair = format!("{code} {}", e.date);
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(catalog, e, &pair));
    // A root with nothing explained upstream is all in its headline.
    if let Some(chain) = e.chain.as_ref().filter(|c| !c.steps.is_empty()) {
        out.push('\n');
        let _ = writeln!(out, "{}", step_line(catalog, chain));
        tree(&mut out, catalog, &chain.steps, "");
    }
    if let Some(stale) = &e.stale
        && e.verdict != Verdict::Stale
    {
        let _ = writeln!(
            out,
            "\nIts rows are also older than {}'s of that day: the rerun replaces them.",
            catalog.code(stale.upstream)
        );
    }
    if e.chain.is_some() {
        samples(&mut out, catalog, e);
    }
    if let Some(command) = command {
        let _ = writeln!(out, "\nRepair (without --apply it only prints the plan)");
        let _ = writeln!(out, "  {command}");
    }
    out
}

fn headline(catalog: &Catalog, e: &Explanation, pair: &str) -> String {
    let code = catalog.code(e.processor);
    match e.verdict {
        Verdict::NoGames => format!(
            "{} has no games: nothing is expected of {code} that day, and it has no rows.",
            e.date
        ),
        Verdict::Healthy => {
            let r = e.row.as_ref();
            let n = |f: fn(&DateRow) -> i64| r.map(f).unwrap_or(0);
            format!(
                "{pair} is healthy: {} expected, {} produced, {} expected skips, {} cascades. Nothing to repair.",
                n(|r| r.expected),
                n(|r| r.produced),
                n(|r| r.expected_skips),
                n(|r| r.cascades)
            )
        }
        Verdict::Root => match &e.chain {
            Some(step) => format!(
                "{pair} is a root cause ({}): {}. The fix is here, not upstream.",
                step.kind.as_str(),
                what_is_wrong(&step.row, step.kind).join(", ")
            ),
            None => format!("{pair} is a root cause. The fix is here, not upstream."),
        },
        Verdict::Consequence => {
            let causes: Vec<String> = e
                .causes()
                .iter()
                .map(|&p| format!("{} {}", catalog.code(p), e.date))
                .collect();
            format!(
                "{pair} is a consequence of {}: every defective entity is explained upstream. Fix {} and this is fixed.",
                causes.join(" and "),
                if causes.len() == 1 { "it" } else { "them" }
            )
        }
        Verdict::Stale => match &e.stale {
            Some(s) => format!(
                "{pair} is stale: its earliest row ({}) is older than {}'s latest row of that day ({}). Rerun it.",
                timestamp(s.own_first_us),
                catalog.code(s.upstream),
                timestamp(s.upstream_last_us)
            ),
            None => format!("{pair} is stale. Rerun it."),
        },
    }
}

fn timestamp(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| format!("{us} us"))
}

fn tree(out: &mut String, catalog: &Catalog, steps: &[Step], indent: &str) {
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let (branch, more) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let _ = writeln!(
            out,
            "{indent}{branch}{} explained by {}",
            step.explains.unwrap_or(0),
            step_line(catalog, step)
        );
        tree(out, catalog, &step.steps, &format!("{indent}{more}"));
    }
}

/// `PCF 2021-12-04 failures: 81 real failures [consequence]`.
fn step_line(catalog: &Catalog, step: &Step) -> String {
    let role = match &step.role {
        Role::Root => "root",
        Role::Consequence(_) => "consequence",
    };
    let mut line = format!(
        "{} {} {}: {} [{role}]",
        catalog.code(step.row.processor),
        step.row.date,
        step.kind.as_str(),
        what_is_wrong(&step.row, step.kind).join(", ")
    );
    if step.shown_above {
        line.push_str(" (shown above)");
    }
    line
}

/// The pair's own defects, counted.
fn what_is_wrong(r: &DateRow, kind: DefectKind) -> Vec<String> {
    let mut parts = Vec::new();
    match kind {
        DefectKind::Missing => parts.push(format!(
            "none of {} expected entities has a row or a failure row",
            r.expected
        )),
        _ if r.unaccounted > 0 => parts.push(format!(
            "{} of {} expected entities unaccounted",
            r.unaccounted, r.expected
        )),
        _ => {}
    }
    if r.real_failures > 0 {
        parts.push(plural(r.real_failures, "real failure", "real failures"));
    }
    if r.duplicates > 0 {
        parts.push(plural(r.duplicates, "duplicate row", "duplicate rows"));
    }
    if r.unexpected > 0 {
        parts.push(plural(
            r.unexpected,
            "entity with rows and no game that day",
            "entities with rows and no game that day",
        ));
    }
    let defective = r.defective_entities();
    if r.explained > 0 && r.explained < defective {
        parts.push(format!(
            "{} of its {defective} explained upstream",
            r.explained
        ));
    }
    parts
}

fn plural(n: i64, one: &str, many: &str) -> String {
    super::counted(n.unsigned_abs(), one, many)
}

fn samples(out: &mut String, catalog: &Catalog, e: &Explanation) {
    let _ = writeln!(
        out,
        "\nFailure rows (the latest of each entity counted as a real failure; up to {SAMPLES_PER_PROCESSOR} per processor)"
    );
    let processors = e.chain_processors();
    let width = e
        .samples
        .iter()
        .map(|s| s.entity.chars().count())
        .max()
        .unwrap_or(0);
    for &p in &processors {
        let code = catalog.code(p);
        let total = e.failure_rows.get(&p).copied().unwrap_or(0);
        if total == 0 {
            let unaccounted = e
                .chain
                .as_ref()
                .and_then(|c| {
                    c.walk()
                        .into_iter()
                        .find(|s| s.row.processor == p && !s.shown_above)
                })
                .map_or(0, |s| s.row.unaccounted);
            if unaccounted > 0 {
                let _ = writeln!(
                    out,
                    "  {code}: none ({} without a row or a failure row)",
                    plural(unaccounted, "entity", "entities")
                );
            } else {
                let _ = writeln!(out, "  {code}: none");
            }
            continue;
        }
        let _ = writeln!(out, "  {code}: {}", plural(total, "row", "rows"));
        for s in e.samples.iter().filter(|s| s.processor == p) {
            let reason = if s.reason.is_empty() {
                "(no reason given)"
            } else {
                &s.reason
            };
            let _ = writeln!(out, "    {:<width$}  {}  {reason}", s.entity, s.category);
        }
    }
}

#[derive(Serialize)]
struct ExplainJson {
    processor: String,
    date: String,
    /// no_games, healthy, root, consequence or stale.
    verdict: &'static str,
    /// The pair's ROW (null when the day has neither games nor rows).
    row: Option<RowJson>,
    /// null unless a consequence: its root causes.
    cause: Option<Vec<PairJson>>,
    /// The tree down to the roots (null when the pair has no defect).
    chain: Option<StepJson>,
    /// The upstream processor whose rows of the day are newer than its own.
    stale_behind: Option<String>,
    failure_samples: Vec<SampleJson>,
    /// Real-failure rows per processor of the chain, in catalog order.
    failure_rows: Vec<FailureRowsJson>,
    /// null when nothing needs a rerun.
    repair: Option<RepairJson>,
    queries: usize,
}

#[derive(Serialize)]
struct StepJson {
    processor: String,
    date: String,
    kind: &'static str,
    role: &'static str,
    defective_entities: i64,
    explained: i64,
    /// How many of the step above's defective entities it explains (null at the top).
    explains: Option<i64>,
    shown_above: bool,
    steps: Vec<StepJson>,
}

#[derive(Serialize)]
struct SampleJson {
    processor: String,
    entity: String,
    category: String,
    reason: String,
}

#[derive(Serialize)]
struct FailureRowsJson {
    processor: String,
    rows: i64,
}

#[derive(Serialize)]
struct RepairJson {
    date: String,
    processors: Vec<String>,
    command: String,
}

impl ExplainJson {
    fn of(catalog: &Catalog, e: &Explanation, command: Option<String>) -> ExplainJson {
        let role = e.chain.as_ref().map(|c| &c.role);
        let chain_processors = e.chain_processors();
        ExplainJson {
            processor: catalog.code(e.processor).into(),
            date: e.date.to_string(),
            verdict: e.verdict.as_str(),
            row: e
                .row
                .as_ref()
                .map(|r| row_json_of(catalog, r, role_cause_json(catalog, role, e.date))),
            cause: role_cause_json(catalog, role, e.date),
            chain: e.chain.as_ref().map(|c| step_json(catalog, c)),
            stale_behind: e
                .stale
                .as_ref()
                .map(|s| catalog.code(s.upstream).to_string()),
            failure_samples: e
                .samples
                .iter()
                .map(|s| SampleJson {
                    processor: catalog.code(s.processor).into(),
                    entity: s.entity.clone(),
                    category: s.category.clone(),
                    reason: s.reason.clone(),
                })
                .collect(),
            failure_rows: chain_processors
                .iter()
                .map(|&p| FailureRowsJson {
                    processor: catalog.code(p).into(),
                    rows: e.failure_rows.get(&p).copied().unwrap_or(0),
                })
                .collect(),
            repair: command.map(|command| RepairJson {
                date: e.date.to_string(),
                processors: e.repair.iter().map(|&p| catalog.code(p).into()).collect(),
                command,
            }),
            queries: e.queries,
        }
    }
}

fn step_json(catalog: &Catalog, s: &Step) -> StepJson {
    StepJson {
        processor: catalog.code(s.row.processor).into(),
        date: s.row.date.to_string(),
        kind: s.kind.as_str(),
        role: match s.role {
            Role::Root => "root",
            Role::Consequence(_) => "consequence",
        },
        defective_entities: s.row.defective_entities(),
        explained: s.row.explained,
        explains: s.explains,
        shown_above: s.shown_above,
        steps: s.steps.iter().map(|c| step_json(catalog, c)).collect(),
    }
}
