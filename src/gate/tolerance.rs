//! How far a count may move before the gate fails: exact by default, a percentage of the
//! snapshot's value (`records=0.5%`), an absolute number (`records=3`), or anything
//! (`--allow expected_skips`).

use std::collections::BTreeMap;
use std::fmt;

use super::Metric;

/// The limit of one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// |actual - snapshot| <= snapshot * percent / 100, the percent kept as an exact
    /// decimal (`numerator / 10^scale`) so 0.5% of 1000 allows exactly 5.
    Percent { numerator: u64, scale: u32 },
    /// |actual - snapshot| <= n.
    Absolute(u64),
    /// Any change passes.
    Any,
}

impl Limit {
    /// Parses `0.5%`, `12` or `12.0%`. Negative, fractional absolute and non-numbers fail.
    pub fn parse(text: &str) -> Result<Limit, String> {
        let text = text.trim();
        if let Some(number) = text.strip_suffix('%') {
            let (numerator, scale) = decimal(number.trim()).ok_or_else(|| {
                format!("`{text}` is not a percentage (e.g. 0.5%, a number of 0 or more)")
            })?;
            Ok(Limit::Percent { numerator, scale })
        } else {
            text.parse::<u64>().map(Limit::Absolute).map_err(|_| {
                format!("`{text}` is not a limit: a whole number of 0 or more (e.g. 3) or a percentage (e.g. 0.5%)")
            })
        }
    }

    /// Whether moving from `snapshot` to `actual` stays within this limit.
    pub fn allows(self, snapshot: i64, actual: i64) -> bool {
        let delta = (i128::from(actual) - i128::from(snapshot)).unsigned_abs();
        match self {
            Limit::Any => true,
            Limit::Absolute(n) => delta <= u128::from(n),
            Limit::Percent { numerator, scale } => {
                // delta <= |snapshot| * numerator / (100 * 10^scale), in integers.
                let base = i128::from(snapshot).unsigned_abs();
                delta * 100 * 10u128.pow(scale) <= base * u128::from(numerator)
            }
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::Any => write!(f, "any"),
            Limit::Absolute(n) => write!(f, "{n}"),
            Limit::Percent { numerator, scale } => {
                let digits = numerator.to_string();
                let scale = scale as usize;
                if scale == 0 {
                    return write!(f, "{digits}%");
                }
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (whole, frac) = padded.split_at(padded.len() - scale);
                write!(f, "{whole}.{frac}%")
            }
        }
    }
}

/// `12`, `0.5`, `.5` as (digits, digits after the point); at most 6 decimals.
fn decimal(text: &str) -> Option<(u64, u32)> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole
        .chars()
        .chain(frac.chars())
        .all(|c| c.is_ascii_digit())
        || frac.len() > 6
    {
        return None;
    }
    let numerator = format!("{whole}{frac}").parse::<u64>().ok()?;
    Some((numerator, frac.len() as u32))
}

/// The limits of a gate run, by metric name; a metric without one is compared exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tolerances {
    limits: BTreeMap<String, Limit>,
}

impl Tolerances {
    /// Sets the limit of `name` (a metric name, e.g. `records`), replacing an earlier one.
    pub fn set(&mut self, name: &str, limit: Limit) -> Result<(), String> {
        if !Metric::names().any(|n| n == name) {
            return Err(format!(
                "`{name}` is not a count the gate compares (one of {})",
                Metric::names().collect::<Vec<_>>().join(", ")
            ));
        }
        if name == super::CONTENT && limit != Limit::Any {
            return Err(format!(
                "`{name}` takes no limit: a fingerprint matches or it does not (accept content changes with --allow {name})"
            ));
        }
        self.limits.insert(name.to_string(), limit);
        Ok(())
    }

    /// Parses `--tolerance NAME=LIMIT`.
    pub fn set_from_flag(&mut self, text: &str) -> Result<(), String> {
        let (name, limit) = text.split_once('=').ok_or_else(|| {
            format!(
                "--tolerance `{}` is not COUNT=LIMIT (e.g. records=0.5% or records=3)",
                crate::error::echo(text)
            )
        })?;
        let limit = Limit::parse(limit).map_err(|e| format!("--tolerance {}: {e}", name.trim()))?;
        self.set(name.trim(), limit)
            .map_err(|e| format!("--tolerance: {e}"))
    }

    /// Adds every limit of `other`, replacing this one's for the same metric.
    pub fn extend(&mut self, other: &Tolerances) {
        for (k, v) in &other.limits {
            self.limits.insert(k.clone(), *v);
        }
    }

    pub fn limit(&self, metric: &Metric) -> Option<Limit> {
        self.limits.get(metric.tolerance_name()).copied()
    }

    /// Whether `snapshot -> actual` passes for `metric` (exact when it has no limit).
    pub fn allows(&self, metric: &Metric, snapshot: i64, actual: i64) -> bool {
        match self.limit(metric) {
            Some(limit) => limit.allows(snapshot, actual),
            None => snapshot == actual,
        }
    }

    /// The limits that are numbers (`tolerances` in the snapshot), by name.
    pub fn numeric(&self) -> BTreeMap<&str, String> {
        self.limits
            .iter()
            .filter(|(_, l)| **l != Limit::Any)
            .map(|(k, l)| (k.as_str(), l.to_string()))
            .collect()
    }

    /// The metrics allowed to move freely (`allow` in the snapshot).
    pub fn allowed(&self) -> Vec<&str> {
        self.limits
            .iter()
            .filter(|(_, l)| **l == Limit::Any)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// `records ±0.5%, expected_skips any`, for summaries.
    pub fn describe(&self) -> String {
        self.limits
            .iter()
            .map(|(k, l)| match l {
                Limit::Any => format!("{k} any"),
                other => format!("{k} ±{other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::Count;

    fn pct(text: &str) -> Limit {
        Limit::parse(text).unwrap()
    }

    #[test]
    fn half_a_percent_of_1000_allows_exactly_5() {
        assert!(pct("0.5%").allows(1000, 1005));
        assert!(pct("0.5%").allows(1000, 995));
        assert!(!pct("0.5%").allows(1000, 1006));
        assert!(!pct("0.5%").allows(1000, 994));
    }

    #[test]
    fn a_percentage_of_zero_allows_no_change_from_zero() {
        assert!(pct("50%").allows(0, 0));
        assert!(!pct("50%").allows(0, 1));
    }

    #[test]
    fn zero_percent_is_exact() {
        assert!(pct("0%").allows(7, 7));
        assert!(!pct("0%").allows(7, 8));
    }

    #[test]
    fn an_absolute_limit_is_inclusive_in_both_directions() {
        assert!(pct("3").allows(10, 13));
        assert!(pct("3").allows(10, 7));
        assert!(!pct("3").allows(10, 14));
        assert!(pct("0").allows(10, 10));
        assert!(!pct("0").allows(10, 11));
    }

    #[test]
    fn percentages_above_100_and_tiny_ones_are_exact_decimals() {
        assert!(pct("150%").allows(10, 25));
        assert!(!pct("150%").allows(10, 26));
        // 0.000001% of 10^8 is exactly 1.
        assert!(pct("0.000001%").allows(100_000_000, 100_000_001));
        assert!(!pct("0.000001%").allows(100_000_000, 100_000_002));
        assert!(pct(".5%").allows(200, 201));
    }

    #[test]
    fn extreme_counts_do_not_overflow() {
        assert!(pct("100%").allows(i64::MAX, 0));
        assert!(!pct("1").allows(i64::MIN, i64::MAX));
    }

    #[test]
    fn bad_limits_are_refused() {
        for bad in [
            "-1",
            "-0.5%",
            "abc",
            "%",
            "",
            "1.5",
            "0.1234567%",
            "1e3",
            "5 %%",
            "0x10",
        ] {
            assert!(Limit::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn limits_print_as_they_were_written() {
        for text in ["0.5%", "12%", "0.05%", "3", "100.25%"] {
            assert_eq!(pct(text).to_string(), text);
        }
    }

    #[test]
    fn flags_name_a_known_count_and_a_limit() {
        let mut t = Tolerances::default();
        t.set_from_flag("records=0.5%").unwrap();
        t.set_from_flag("records=2").unwrap();
        assert_eq!(
            t.limit(&Metric::Count(Count::Records)),
            Some(Limit::Absolute(2))
        );
        assert!(
            t.set_from_flag("recordz=1")
                .unwrap_err()
                .contains("recordz")
        );
        assert!(
            t.set_from_flag("records")
                .unwrap_err()
                .contains("COUNT=LIMIT")
        );
        assert!(
            t.set_from_flag("records=lots")
                .unwrap_err()
                .contains("lots")
        );
    }

    #[test]
    fn no_limit_means_exact() {
        let t = Tolerances::default();
        assert!(t.allows(&Metric::GameDates, 3, 3));
        assert!(!t.allows(&Metric::GameDates, 3, 4));
    }

    #[test]
    fn every_category_shares_the_failures_by_category_limit() {
        let mut t = Tolerances::default();
        t.set("failures_by_category", Limit::Any).unwrap();
        assert!(t.allows(&Metric::Failures("PROCESSING_ERROR".into()), 1, 9));
        assert_eq!(t.allowed(), vec!["failures_by_category"]);
        assert!(t.numeric().is_empty());
    }
}
