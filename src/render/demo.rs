//! `demo`: the headings of its four steps (each step renders as its own command does).

use std::fmt::Write as _;

use crate::catalog::{Catalog, CategoryClass};
use crate::checks::Findings;
use crate::range::{DateRange, season_label, season_of};
use crate::runner::schedule::RunSummary;

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

/// The demo's last word: what the repair fixed, in how many runs and how long, and what
/// remains by design (expected skips are not failures).
pub fn render_closing(
    catalog: &Catalog,
    before: &Findings,
    after: &Findings,
    run: Option<&RunSummary>,
) -> String {
    // Fixed: the pairs defective (stale) before and not after; a pair can turn stale
    // during the repair (its upstream reran, it was blocked), so no subtraction.
    let is = after.defective_rows().count();
    let is_stale = after.stale.len();
    let fixed = before
        .defective_rows()
        .filter(|b| {
            !after
                .defective_rows()
                .any(|a| (a.processor, a.date) == (b.processor, b.date))
        })
        .count();
    let fixed_stale = before
        .stale
        .iter()
        .filter(|b| {
            !after
                .stale
                .iter()
                .any(|a| (a.processor, a.date) == (b.processor, b.date))
        })
        .count();
    let mut out = String::from("\n== the story ==\n");
    let runs = run.map_or(String::new(), |r| {
        format!(
            " ({} runs with downstream) in {}",
            thousands(r.counts.done as i64),
            seconds(r.wall)
        )
    });
    let _ = writeln!(
        out,
        "Fixed {} defective and {} stale dates{runs}.",
        thousands(fixed as i64),
        thousands(fixed_stale as i64)
    );
    if is > 0 || is_stale > 0 {
        // A rerun cannot fix a date whose source is broken: say so rather than let it
        // look like a failed repair.
        let why = if after.repairable_left() == 0 {
            ", all on days the source is broken (fix Phase 3, then repair again)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{} defective and {} stale dates remain{why}: see the report above.",
            thousands(is as i64),
            thousands(is_stale as i64)
        );
    }
    let kept: Vec<String> = after
        .summaries()
        .iter()
        .filter(|s| s.expected_skips > 0)
        .map(|s| {
            let categories: Vec<&str> = s
                .failures_by_category
                .keys()
                .map(String::as_str)
                .filter(|c| catalog.class_of(c) == CategoryClass::ExpectedSkip)
                .collect();
            format!(
                "{} {} {} skips",
                thousands(s.expected_skips),
                catalog.code(s.processor),
                categories.join("/")
            )
        })
        .collect();
    if !kept.is_empty() {
        let _ = writeln!(
            out,
            "{} remain by design: expected skips (too little history yet) are not failures.",
            kept.join(", ")
        );
    }
    // Repair reruns defective, stale and downstream pairs; what only the content checks
    // see is for a person to look at.
    let content = super::report::content_findings(after);
    if !content.is_empty() {
        let _ = writeln!(
            out,
            "Left for a person (repair reruns processors; these are content findings): {}.",
            content.join(", ")
        );
    }
    out
}

/// `8589` as `8,589`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn seconds(d: std::time::Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(8589), "8,589");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
    }
}
