//! Runs of consecutive game dates, so a long gap reads as one line in table output
//! (`ML 2021-12-08..2021-12-17 missing (10 dates)`). JSON and CSV keep one row a date.

use chrono::NaiveDate;
use std::collections::BTreeSet;
use std::ops::Bound;

use crate::checks::Findings;

/// The game dates of the findings: the dates with expected entities.
pub(crate) struct GameDays(BTreeSet<NaiveDate>);

impl GameDays {
    pub(crate) fn of(f: &Findings) -> GameDays {
        GameDays(
            f.rows
                .iter()
                .chain(&f.upstream_rows)
                .filter(|r| r.expected > 0)
                .map(|r| r.date)
                .collect(),
        )
    }

    /// Is `b` the game date right after `a`?
    pub(crate) fn next_to(&self, a: NaiveDate, b: NaiveDate) -> bool {
        self.0.range((Bound::Excluded(a), Bound::Unbounded)).next() == Some(&b)
    }
}

/// `items` cut into runs: an item joins the run before it when `continues(last, item)`.
pub(crate) fn runs<T>(items: &[T], continues: impl Fn(&T, &T) -> bool) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=items.len() {
        if i == items.len() || !continues(&items[i - 1], &items[i]) {
            if start < i {
                out.push(&items[start..i]);
            }
            start = i;
        }
    }
    out
}

/// `2021-12-04`, or `2021-12-08..2021-12-17` for a run.
pub(crate) fn span(first: NaiveDate, last: NaiveDate) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}..{last}")
    }
}

/// `2021-12-08..12-17`: a run's span in a table cell, the last date without the year
/// it shares with the first.
pub(crate) fn short_span(first: NaiveDate, last: NaiveDate) -> String {
    use chrono::Datelike;
    if first == last {
        first.to_string()
    } else if first.year() == last.year() {
        format!("{first}..{}", last.format("%m-%d"))
    } else {
        format!("{first}..{last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cut_where_an_item_does_not_continue_the_one_before() {
        let items = [1, 2, 3, 5, 6, 9];
        let cut = runs(&items, |a, b| b - a == 1);
        assert_eq!(cut, [&[1, 2, 3][..], &[5, 6], &[9]]);
        assert!(runs(&[] as &[i32], |_, _| true).is_empty());
    }
}
