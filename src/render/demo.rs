//! `demo`: the headings of its four steps (each step renders as its own command does).

/// The steps of the demo, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStep {
    Seed,
    Report,
    Repair,
    ReportAgain,
}

/// The heading that opens a step.
pub fn render_step(step: DemoStep) -> &'static str {
    match step {
        DemoStep::Seed => {
            "== 1. seed: a synthetic 2021-22 season with the defects real backfills leave ==\n"
        }
        DemoStep::Report => "\n== 2. report: what is missing or broken, and why ==\n",
        DemoStep::Repair => {
            "\n== 3. repair --apply: rerun exactly that, in dependency order, with the built-in processors ==\n"
        }
        DemoStep::ReportAgain => {
            "\n== 4. report again: the defects are gone (expected skips remain: they are not failures) ==\n"
        }
    }
}
