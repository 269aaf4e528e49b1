//! `repair` without --apply: the plan, stage by stage, in run order.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::csv::{CsvTable, csv_document};
use super::report::{BREAKER_COLUMNS, BreakerJson, breakers_json, breakers_table};
use super::roots::{PairJson, pairs_json};
use super::table::{Drawing, heading, prose, table_numeric};
use super::{TableFormat, to_json};
use crate::catalog::{Catalog, ProcessorId};
use crate::plan::{LeftOut, PlannedPair, RepairPlan};

#[derive(Serialize)]
pub(crate) struct PlanPairJson<'a> {
    pub processor: &'a str,
    pub date: String,
    pub reasons: Vec<&'static str>,
    // Added field: root, consequence or downstream.
    pub role: &'static str,
}

pub(crate) fn plan_pair_json<'a>(catalog: &'a Catalog, p: &PlannedPair) -> PlanPairJson<'a> {
    PlanPairJson {
        processor: catalog.code(p.processor),
        date: p.date.to_string(),
        reasons: p.reasons.iter().map(|r| r.as_str()).collect(),
        role: p.role.as_str(),
    }
}

/// A pair a `--roots-only` plan leaves out, with its roots.
#[derive(Serialize)]
struct LeftOutJson<'a> {
    processor: &'a str,
    date: String,
    /// Its roots (DOMAIN.md's `cause`), same date, in catalog order.
    cause: Vec<PairJson>,
    /// Those roots are all in the plan: --no-downstream left their reruns out.
    roots_planned: bool,
}

#[derive(Serialize)]
struct PlanJson<'a> {
    pairs: Vec<PlanPairJson<'a>>,
    // Added fields:
    breakers: Vec<BreakerJson>,
    warnings: &'a [String],
    /// With --roots-only: the pairs of the full plan it leaves out.
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<Vec<LeftOutJson<'a>>>,
}

pub(crate) const NOTHING_TO_REPAIR: &str =
    "Nothing to repair: no defective or stale (processor, date) pairs.\n";

/// The plan's pairs in run order: number, processor, date, reasons, role.
fn plan_rows(catalog: &Catalog, plan: &RepairPlan) -> Vec<Vec<String>> {
    plan.pairs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let reasons: Vec<&str> = p.reasons.iter().map(|r| r.as_str()).collect();
            vec![
                (i + 1).to_string(),
                catalog.code(p.processor).to_string(),
                p.date.to_string(),
                reasons.join(", "),
                p.role.as_str().to_string(),
            ]
        })
        .collect()
}

fn plan_json<'a>(catalog: &'a Catalog, plan: &'a RepairPlan) -> PlanJson<'a> {
    PlanJson {
        pairs: plan
            .pairs
            .iter()
            .map(|p| plan_pair_json(catalog, p))
            .collect(),
        breakers: breakers_json(catalog, &plan.breakers),
        warnings: &plan.warnings,
        left_out: plan.left_out.as_ref().map(|pairs| {
            pairs
                .iter()
                .map(|l| LeftOutJson {
                    processor: catalog.code(l.processor),
                    date: l.date.to_string(),
                    cause: pairs_json(catalog, &l.causes, l.date),
                    roots_planned: l.causes_planned,
                })
                .collect()
        }),
    }
}

/// The arrays of the plan's JSON, as its CSV holds them; the pairs in run order.
const PLAN_TABLES: [CsvTable; 4] = [
    CsvTable {
        name: "pairs",
        columns: &["processor", "date", "reasons", "role"],
    },
    CsvTable {
        name: "breakers",
        columns: BREAKER_COLUMNS,
    },
    CsvTable {
        name: "warnings",
        columns: &["warning"],
    },
    CsvTable {
        name: "left_out",
        columns: &["processor", "date", "cause", "roots_planned"],
    },
];

/// The plan (dry run): stages, run order, breakers to reset, warnings.
pub fn render_plan(catalog: &Catalog, plan: &RepairPlan, format: TableFormat) -> String {
    let drawing = match format {
        TableFormat::Json => return to_json(&plan_json(catalog, plan)),
        TableFormat::Csv => return csv_document(&plan_json(catalog, plan), &PLAN_TABLES),
        TableFormat::Table(fit) => Drawing::Boxes(fit),
        TableFormat::Markdown => Drawing::Markdown,
    };
    let mut out = String::new();
    if plan.is_empty() {
        out.push_str(NOTHING_TO_REPAIR);
        if let Some(line) = left_out_line(catalog, plan) {
            let _ = writeln!(out, "{line}");
        }
        return out;
    }
    let _ = writeln!(
        out,
        "Repair plan: {} (a dry run; nothing was changed; run it with --apply)",
        super::counted(plan.pairs.len() as u64, "pair", "pairs")
    );
    for (i, stage) in plan.stages(catalog).iter().enumerate() {
        let mut dates: BTreeMap<ProcessorId, usize> = BTreeMap::new();
        for p in stage {
            *dates.entry(p.processor).or_default() += 1;
        }
        let parts: Vec<String> = dates
            .iter()
            .map(|(&id, n)| format!("{} ({n} dates)", catalog.code(id)))
            .collect();
        let _ = writeln!(out, "  stage {}: {}", i + 1, parts.join(", "));
    }
    if let Some(line) = left_out_line(catalog, plan) {
        let _ = writeln!(out, "{line}");
    }
    heading(&mut out, drawing, "Run order");
    out.push_str(&table_numeric(
        &["#", "processor", "date", "reasons", "role"],
        plan_rows(catalog, plan),
        drawing,
        0..1,
    ));
    if !plan.breakers.is_empty() {
        heading(
            &mut out,
            drawing,
            &format!(
                "Tripped breakers of planned pairs ({}), reset before their pair runs unless --keep-breakers",
                plan.breakers.len()
            ),
        );
        out.push_str(&breakers_table(catalog, &plan.breakers, drawing));
    }
    for w in &plan.warnings {
        prose(&mut out, drawing, &format!("warning: {w}"));
    }
    out
}

/// `PCF 2021-12-04 (root TDZA 2021-12-04 not in this plan)`: a left-out pair and why.
fn left_out_pair(catalog: &Catalog, l: &LeftOut) -> String {
    let pair = format!("{} {}", catalog.code(l.processor), l.date);
    let roots: Vec<String> = l
        .causes
        .iter()
        .map(|&c| format!("{} {}", catalog.code(c), l.date))
        .collect();
    match (roots.is_empty(), l.causes_planned) {
        (true, _) => format!("{pair} (downstream of a pair left out)"),
        (false, true) => format!(
            "{pair} (root {} planned; --no-downstream)",
            roots.join(", ")
        ),
        (false, false) => format!("{pair} (root {} not in this plan)", roots.join(", ")),
    }
}

/// With --roots-only: whether the plan covers the full one, naming what it leaves out.
fn left_out_line(catalog: &Catalog, plan: &RepairPlan) -> Option<String> {
    let left_out = plan.left_out.as_ref()?;
    Some(if left_out.is_empty() {
        "Roots only: this plan covers every pair of the full plan.".to_string()
    } else {
        let names: Vec<String> = left_out.iter().map(|l| left_out_pair(catalog, l)).collect();
        format!(
            "Roots only: this plan leaves out {} pair{} of the full plan: {}",
            left_out.len(),
            if left_out.len() == 1 { "" } else { "s" },
            names.join(", ")
        )
    })
}
