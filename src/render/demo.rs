//! `demo`: the headings of its four steps (each step renders as its own command does).

use crate::range::{DateRange, season_label, season_of};

/// The steps of the demo, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStep {
    Seed,
    Report,
    Repair,
    ReportAgain,
}

/// The heading that opens a step of the demo of `season`.
pub fn render_step(step: DemoStep, season: DateRange) -> String {
    match step {
        DemoStep::Seed => format!(
            "== 1. seed: a synthetic {} season with the defects real backfills leave ==\n",
            season_label(season_of(season.start()))
        ),
        DemoStep::Report => "\n== 2. report: what is missing or broken, and why ==\n".into(),
        DemoStep::Repair => {
            "\n== 3. repair --apply: rerun exactly that, in dependency order, with the built-in processors ==\n".into()
        }
        DemoStep::ReportAgain => {
            "\n== 4. report again: the defects are gone (expected skips remain: they are not failures) ==\n".into()
        }
    }
}
