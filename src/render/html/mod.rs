//! The coverage page (`--html PATH`): one self-contained HTML file, with no network and
//! no external assets: a calendar per processor, a detail per cell (the counts of the
//! reconciliation identity and the command that repairs it), the summary table, the root
//! causes, the failure rows by category and the tripped breakers.
//!
//! Everything from the warehouse or the catalog goes through maud, which escapes it; the
//! inline script writes text with `textContent` only, never markup.

use chrono::{Datelike, NaiveDate};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::collections::{BTreeMap, BTreeSet};

use super::explain::{CommandContext, plan_command, repair_command_for};
use super::report::{
    BREAKER_HEADER, SKIP_SHARE_HEADER, SUMMARY_HEADER, breaker_rows, category_rows, skip_week_rows,
    summary_cells, verdict_sentence,
};
use super::roots::{root_lines, roots_sentence};
use crate::catalog::{Catalog, ProcessorId};
use crate::checks::explain::Explanation;
use crate::checks::{DateRow, Findings, Role};
use crate::coverage::{Cell, CellState, cell_of, days_of};

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Who the page is about: the warehouse as the user named it, and how a repair command
/// names it.
pub struct PageContext<'a> {
    pub warehouse: &'a str,
    pub commands: &'a CommandContext,
    /// When the checks ran, as the page says it (UTC).
    pub checked_at: String,
}

/// The page of `f`.
pub fn render_page(catalog: &Catalog, f: &Findings, context: &PageContext) -> String {
    let calendars: Vec<Calendar> = f
        .selected
        .iter()
        .map(|&p| Calendar::of(catalog, f, p, context.commands))
        .collect();
    let mut counts: BTreeMap<Cell, usize> = BTreeMap::new();
    for calendar in &calendars {
        for day in calendar.months.iter().flat_map(|m| &m.days) {
            if let Day::Cell(c) = day {
                *counts.entry(c.cell).or_default() += 1;
            }
        }
    }
    let title = format!("Phase 4 coverage {} on {}", f.range, context.warehouse);
    let verdict = verdict_sentence(f);
    let plan = f
        .has_defects()
        .then(|| plan_command(catalog, f.range, &f.selected, context.commands));
    let no_games = !f.has_game_dates();
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (title) }
                    p.verdict.findings[f.has_defects()].healthy[!f.has_defects() && !no_games].empty[!f.has_defects() && no_games] { (verdict) }
                    @if let Some(plan) = &plan {
                        p.plan { "Plan the fix (it changes nothing): " code { (plan) } }
                    }
                    @if no_games {
                        p.empty {
                            (catalog.source.table) " has no game dates in " (f.range)
                            ": nothing is expected of any processor."
                        }
                    }
                    p.meta {
                        (f.queries) " queries in " (format!("{:.2}", f.elapsed.as_secs_f64()))
                        " s, checked at " (context.checked_at) " by phase4-check "
                        (env!("CARGO_PKG_VERSION"))
                    }
                }
                (summary(catalog, f))
                (roots(catalog, f))
                (legend(&counts))
                div.layout {
                    main {
                        @for calendar in &calendars {
                            (calendar.markup())
                        }
                    }
                    aside #detail aria-live="polite" {
                        h2 { "Cell detail" }
                        p.hint { "Point at or click a day for its counts and its repair command." }
                    }
                }
                (failure_classes(catalog, f))
                (breakers(catalog, f))
                (skip_share(catalog, f))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

/// The states in the legend's order, with the name the page's CSS and DOM use.
fn legend(counts: &BTreeMap<Cell, usize>) -> Markup {
    let count = |state: CellState, consequence: bool| {
        counts
            .get(&Cell { state, consequence })
            .copied()
            .unwrap_or(0)
    };
    let consequences: usize = counts
        .iter()
        .filter(|(c, _)| c.consequence)
        .map(|(_, n)| n)
        .sum();
    html! {
        section #legend {
            h2 { "Legend" }
            ul {
                @for state in CellState::ALL {
                    li data-legend=(state.as_str()) {
                        span class={"swatch s-" (state.as_str())} {}
                        span.label { (state.label()) } " "
                        span.count { (count(state, false) + count(state, true)) }
                    }
                }
                li data-legend="consequence" {
                    span.swatch.s-missing.consequence {}
                    span.label { "hatched: a consequence of a root upstream" } " "
                    span.count { (consequences) }
                }
            }
        }
    }
}

/// One processor's days, by month.
struct Calendar {
    code: String,
    name: String,
    months: Vec<Month>,
}

struct Month {
    first: NaiveDate,
    /// Days before the 1st in its first week (Monday first).
    lead: u32,
    days: Vec<Day>,
}

enum Day {
    /// A day of the month outside the range.
    Outside(NaiveDate),
    Cell(Box<DayCell>),
}

/// A day of the range.
struct DayCell {
    date: NaiveDate,
    cell: Cell,
    row: Option<DateRow>,
    /// The roots of a consequence, `TDZA 2021-12-04`.
    cause: Option<String>,
    /// The upstream processor whose newer rows make it stale.
    stale_after: Option<String>,
    repair: Option<String>,
}

impl Calendar {
    fn of(catalog: &Catalog, f: &Findings, p: ProcessorId, commands: &CommandContext) -> Calendar {
        let rows: BTreeMap<NaiveDate, &DateRow> = f.rows_of(p).map(|r| (r.date, r)).collect();
        // Months with a game (or a row) of any processor shown; the off-season is left out.
        let months: BTreeSet<NaiveDate> = days_of(f)
            .into_iter()
            .filter_map(|d| d.with_day(1))
            .collect();
        let months = months
            .into_iter()
            .map(|first| {
                let days = month_days(first)
                    .map(|date| {
                        if !f.range.contains(date) {
                            return Day::Outside(date);
                        }
                        let row = rows.get(&date).copied();
                        Day::Cell(Box::new(day_cell(catalog, f, p, date, row, commands)))
                    })
                    .collect();
                Month {
                    first,
                    lead: first.weekday().num_days_from_monday(),
                    days,
                }
            })
            .collect();
        let spec = catalog.get(p);
        Calendar {
            code: spec.code.clone(),
            name: spec.name.clone(),
            months,
        }
    }

    fn markup(&self) -> Markup {
        html! {
            section.calendar data-processor=(self.code) {
                h2 { (self.code) " " small { (self.name) } }
                div.months {
                    @for month in &self.months {
                        (month.markup(&self.code))
                    }
                }
            }
        }
    }
}

impl Month {
    fn markup(&self, code: &str) -> Markup {
        let mut weeks: Vec<Vec<Option<&Day>>> = Vec::new();
        let mut week: Vec<Option<&Day>> = (0..self.lead).map(|_| None).collect();
        for day in &self.days {
            week.push(Some(day));
            if week.len() == 7 {
                weeks.push(std::mem::take(&mut week));
            }
        }
        if !week.is_empty() {
            week.resize(7, None);
            weeks.push(week);
        }
        html! {
            figure.month {
                figcaption { (self.first.format("%b %Y")) }
                table {
                    thead { tr { @for d in ["M", "T", "W", "T", "F", "S", "S"] { th { (d) } } } }
                    tbody {
                        @for week in &weeks {
                            tr {
                                @for day in week {
                                    @match day {
                                        None => td.pad {},
                                        Some(Day::Outside(date)) => td.outside title={(date) ": outside the range"} { (date.day()) },
                                        Some(Day::Cell(c)) => (c.markup(code)),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn month_days(first: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first
        .iter_days()
        .take_while(move |d| d.month() == first.month())
}

fn day_cell(
    catalog: &Catalog,
    f: &Findings,
    p: ProcessorId,
    date: NaiveDate,
    row: Option<&DateRow>,
    commands: &CommandContext,
) -> DayCell {
    let cell = row.map(|r| cell_of(f, r)).unwrap_or(Cell {
        state: CellState::NoGames,
        consequence: false,
    });
    let cause = row.and_then(|r| match f.role(r) {
        Some(Role::Consequence(causes)) => Some(
            causes
                .iter()
                .map(|&c| format!("{} {date}", catalog.code(c)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    });
    let stale_after = f
        .stale
        .iter()
        .find(|s| s.processor == p && s.date == date)
        .map(|s| catalog.code(s.upstream).to_string());
    // The same processors `explain` reruns: the roots behind the cell and downstream.
    let repair = (cell.state.is_defect() || stale_after.is_some())
        .then(|| Explanation::of(catalog, f, p, date))
        .and_then(|e| repair_command_for(catalog, date, &e.repair, commands));
    DayCell {
        date,
        cell,
        row: row.cloned(),
        cause,
        stale_after,
        repair,
    }
}

impl DayCell {
    fn markup(&self, code: &str) -> Markup {
        let state = self.cell.state;
        // Stale is a defect outside the root analysis: neither a root nor a consequence.
        let role =
            (state.is_defect() && state != CellState::Stale).then_some(if self.cell.consequence {
                "consequence"
            } else {
                "root"
            });
        let n = |get: fn(&DateRow) -> i64| self.row.as_ref().map(get).unwrap_or(0);
        html! {
            td class={"cell s-" (state.as_str()) @if self.cell.consequence { " consequence" }}
                data-state=(state.as_str())
                data-processor=(code)
                data-date=(self.date)
                data-role=[role]
                data-expected=(n(|r| r.expected))
                data-produced=(n(|r| r.produced))
                data-expected-skips=(n(|r| r.expected_skips))
                data-cascades=(n(|r| r.cascades))
                data-real-failures=(n(|r| r.real_failures))
                data-unaccounted=(n(|r| r.unaccounted))
                data-duplicates=(n(|r| r.duplicates))
                data-unexpected=(n(|r| r.unexpected))
                data-records=(n(|r| r.records))
                data-cause=[self.cause.as_deref()]
                data-stale-after=[self.stale_after.as_deref()]
                data-repair=[self.repair.as_deref()]
                tabindex=[state.is_defect().then_some("0")]
                title=(self.title(code)) { (self.date.day()) }
        }
    }

    /// The detail as one line, for a pointer without the script.
    fn title(&self, code: &str) -> String {
        let state = self.cell.state;
        let Some(r) = &self.row else {
            return format!("{code} {}: no games", self.date);
        };
        if state == CellState::NoGames {
            return format!("{code} {}: no games", self.date);
        }
        let mut text = format!("{code} {}: {}", self.date, state.label());
        if let Some(cause) = &self.cause {
            text.push_str(&format!(" (caused by {cause})"));
        } else if state.is_defect() && state != CellState::Stale {
            text.push_str(" (root)");
        }
        text.push_str(&format!(
            ". {} expected = {} produced + {} expected skips + {} cascades + {} real failures + {} unaccounted; {} duplicates, {} unexpected",
            r.expected, r.produced, r.expected_skips, r.cascades, r.real_failures, r.unaccounted, r.duplicates, r.unexpected
        ));
        if let Some(up) = &self.stale_after {
            text.push_str(&format!("; older than {up}'s rows of the day"));
        }
        if let Some(repair) = &self.repair {
            text.push_str(&format!(". Repair: {repair}"));
        }
        text
    }
}

fn roots(catalog: &Catalog, f: &Findings) -> Markup {
    let defective = f.defective_rows().count();
    let lines = root_lines(catalog, f);
    html! {
        @if defective > 0 {
            section #roots {
                h2 { "Root causes" }
                p { (roots_sentence(lines.roots, defective)) }
                ul { @for line in &lines.lines { li { code { (line) } } } }
            }
        }
    }
}

fn summary(catalog: &Catalog, f: &Findings) -> Markup {
    let rows: Vec<Vec<String>> = f
        .summaries()
        .iter()
        .map(|s| summary_cells(catalog, s))
        .collect();
    html! {
        section #summary {
            h2 { "Summary" }
            (data_table(&SUMMARY_HEADER, &rows, 1))
        }
    }
}

fn failure_classes(catalog: &Catalog, f: &Findings) -> Markup {
    let rows = category_rows(catalog, f);
    let mut header = vec!["category", "class"];
    header.extend(f.selected.iter().map(|&id| catalog.code(id)));
    html! {
        section #failure-classes {
            h2 { "Failure rows by category" }
            @if rows.is_empty() {
                p { "No failure rows in the range." }
            } @else {
                (data_table(&header, &rows, 2))
            }
        }
    }
}

fn breakers(catalog: &Catalog, f: &Findings) -> Markup {
    let rows = breaker_rows(catalog, &f.breakers);
    html! {
        @if !rows.is_empty() {
            section #breakers {
                h2 { "Tripped circuit breakers (" (rows.len()) ")" }
                (data_table(&BREAKER_HEADER, &rows, 3))
            }
        }
    }
}

fn skip_share(catalog: &Catalog, f: &Findings) -> Markup {
    html! {
        @if !f.skip_weeks.is_empty() {
            section #skip-share {
                h2 { "Expected-skip share by season week" }
                (data_table(&SKIP_SHARE_HEADER, &skip_week_rows(catalog, f), 2))
            }
        }
    }
}

/// A table whose columns from `numeric_from` on are right-aligned numbers.
fn data_table(header: &[&str], rows: &[Vec<String>], numeric_from: usize) -> Markup {
    html! {
        div.scroll { table.data {
            thead { tr { @for (i, h) in header.iter().enumerate() { th.num[i >= numeric_from] { (h) } } } }
            tbody {
                @for row in rows {
                    tr { @for (i, cell) in row.iter().enumerate() { td.num[i >= numeric_from] { (cell) } } }
                }
            }
        } }
    }
}
