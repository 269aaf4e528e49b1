//! Date ranges as the user writes them: `A..B`, `YYYY-MM`, `YYYY-MM-DD`, `season:YYYY-YY`
//! or `YYYY-YY` (a season when the suffix is the next year's last two digits and above 12).

use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::str::FromStr;

use crate::error::echo;

/// The earliest date phase4-check accepts (the first professional season).
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1946, 1, 1) {
    Some(d) => d,
    None => panic!("valid constant"),
};
/// The latest date phase4-check accepts.
pub const MAX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2100, 12, 31) {
    Some(d) => d,
    None => panic!("valid constant"),
};

/// Why a range was refused. Every message names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error(
        "invalid range `{0}`: expected A..B, YYYY-MM-DD, YYYY-MM, season:YYYY-YY or YYYY-YY (e.g. 2021-12-01..2021-12-31)"
    )]
    Malformed(String),
    #[error("invalid range `{input}`: {date} is not a real date")]
    ImpossibleDate { input: String, date: String },
    #[error("invalid range `{input}`: {start} is after {end} (a reversed range)")]
    Reversed {
        input: String,
        start: NaiveDate,
        end: NaiveDate,
    },
    #[error("invalid range `{input}`: dates must lie within {MIN_DATE}..{MAX_DATE}")]
    OutOfBounds { input: String },
    #[error(
        "invalid range `{input}`: a season is written YYYY-YY with the next year's last two digits (e.g. 2021-22)"
    )]
    BadSeason { input: String },
    #[error(
        "invalid range `{input}`: month {month:02} does not exist (months are 01-12), and {text} is not a season either (that would be {season})"
    )]
    NoSuchMonth {
        input: String,
        text: String,
        month: u32,
        season: String,
    },
}

/// An inclusive, validated range of dates within [`MIN_DATE`]..[`MAX_DATE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl DateRange {
    /// A range from `start` to `end`, both included.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, RangeError> {
        let input = format!("{start}..{end}");
        Self::checked(&input, start, end)
    }

    fn checked(input: &str, start: NaiveDate, end: NaiveDate) -> Result<Self, RangeError> {
        if start < MIN_DATE || end > MAX_DATE || start > MAX_DATE || end < MIN_DATE {
            return Err(RangeError::OutOfBounds { input: echo(input) });
        }
        if start > end {
            return Err(RangeError::Reversed {
                input: echo(input),
                start,
                end,
            });
        }
        Ok(Self { start, end })
    }

    /// A single day.
    pub fn day(date: NaiveDate) -> Result<Self, RangeError> {
        Self::new(date, date)
    }

    /// The season `season_year`-(`season_year`+1): July 1 to June 30.
    pub fn season(season_year: i32) -> Result<Self, RangeError> {
        let input = format!("season:{}", season_label(season_year));
        let start =
            NaiveDate::from_ymd_opt(season_year, 7, 1).ok_or_else(|| RangeError::OutOfBounds {
                input: input.clone(),
            })?;
        let end = NaiveDate::from_ymd_opt(season_year + 1, 6, 30).ok_or_else(|| {
            RangeError::OutOfBounds {
                input: input.clone(),
            }
        })?;
        Self::checked(&input, start, end)
    }

    pub fn start(&self) -> NaiveDate {
        self.start
    }

    pub fn end(&self) -> NaiveDate {
        self.end
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }

    /// This range widened back to July 1 of its first season: season weeks and
    /// "games this season" need the season's first game date.
    pub fn from_season_start(&self) -> DateRange {
        let start = season_start(self.start).max(MIN_DATE);
        DateRange {
            start,
            end: self.end,
        }
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for DateRange {
    type Err = RangeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        if let Some((a, b)) = text.split_once("..") {
            let first = parse_span(input, a.trim())?;
            let last = parse_span(input, b.trim())?;
            return Self::checked(input, first.start, last.end);
        }
        let span = parse_span(input, text)?;
        Self::checked(input, span.start, span.end)
    }
}

/// The season year (2021 = 2021-22) a date belongs to: seasons run July 1 to June 30.
pub fn season_of(date: NaiveDate) -> i32 {
    if date.month() >= 7 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// July 1 of the season `date` belongs to.
pub fn season_start(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(season_of(date), 7, 1).unwrap_or(MIN_DATE)
}

/// `2021` -> `2021-22`.
pub fn season_label(season_year: i32) -> String {
    format!("{}-{:02}", season_year, (season_year + 1).rem_euclid(100))
}

/// Parses a season written `YYYY-YY` (also accepted with a `season:` prefix).
pub fn parse_season(input: &str) -> Result<i32, RangeError> {
    let text = input.trim();
    let body = text.strip_prefix("season:").unwrap_or(text);
    let bad = || RangeError::BadSeason { input: echo(input) };
    let (year, suffix) = body.split_once('-').ok_or_else(bad)?;
    if year.len() != 4 || suffix.len() != 2 {
        return Err(bad());
    }
    let year: i32 = digits(year).ok_or_else(bad)?;
    let suffix: i32 = digits(suffix).ok_or_else(bad)?;
    if (year + 1).rem_euclid(100) != suffix {
        return Err(bad());
    }
    Ok(year)
}

#[derive(Clone, Copy)]
struct Span {
    start: NaiveDate,
    end: NaiveDate,
}

/// One side of a range, or a whole one: a day, a month or a season.
fn parse_span(input: &str, text: &str) -> Result<Span, RangeError> {
    let malformed = || RangeError::Malformed(echo(input));
    if let Some(season) = text.strip_prefix("season:") {
        let year =
            parse_season(season).map_err(|_| RangeError::BadSeason { input: echo(input) })?;
        return season_span(input, year);
    }
    let parts: Vec<&str> = text.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => {
            let (y, m, d) = (
                digits::<i32>(y).ok_or_else(malformed)?,
                digits::<u32>(m).ok_or_else(malformed)?,
                digits::<u32>(d).ok_or_else(malformed)?,
            );
            let date =
                NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| RangeError::ImpossibleDate {
                    input: echo(input),
                    date: echo(text),
                })?;
            Ok(Span {
                start: date,
                end: date,
            })
        }
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let year = digits::<i32>(y).ok_or_else(malformed)?;
            let suffix = digits::<u32>(m).ok_or_else(malformed)?;
            // 2021-22 is a season; 2011-12 is December 2011 (a month wins when it can be one).
            if suffix > 12 {
                if (year + 1).rem_euclid(100) as u32 == suffix {
                    return season_span(input, year);
                }
                return Err(RangeError::NoSuchMonth {
                    input: echo(input),
                    text: echo(text),
                    month: suffix,
                    season: season_label(year),
                });
            }
            let start = NaiveDate::from_ymd_opt(year, suffix, 1).ok_or_else(|| {
                RangeError::NoSuchMonth {
                    input: echo(input),
                    text: echo(text),
                    month: suffix,
                    season: season_label(year),
                }
            })?;
            let next = if suffix == 12 {
                NaiveDate::from_ymd_opt(year + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(year, suffix + 1, 1)
            };
            let end = next
                .and_then(|n| n.pred_opt())
                .ok_or_else(|| RangeError::OutOfBounds { input: echo(input) })?;
            Ok(Span { start, end })
        }
        _ => Err(malformed()),
    }
}

fn season_span(input: &str, year: i32) -> Result<Span, RangeError> {
    let out = || RangeError::OutOfBounds { input: echo(input) };
    let start = NaiveDate::from_ymd_opt(year, 7, 1).ok_or_else(out)?;
    let end = NaiveDate::from_ymd_opt(year + 1, 6, 30).ok_or_else(out)?;
    Ok(Span { start, end })
}

/// ASCII digits only: `+5` or ` 5` are not dates.
fn digits<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn range(s: &str) -> DateRange {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_that_does_not_exist_says_so_and_names_the_season_it_is_not() {
        let e = "2021-13".parse::<DateRange>().unwrap_err().to_string();
        assert!(e.contains("month 13 does not exist"), "{e}");
        assert!(e.contains("that would be 2021-22"), "{e}");
        let e = "2021-00".parse::<DateRange>().unwrap_err().to_string();
        assert!(e.contains("month 00 does not exist"), "{e}");
    }

    #[test]
    fn explicit_range_includes_both_ends() {
        let r = range("2021-12-01..2021-12-31");
        assert_eq!((r.start(), r.end()), (d(2021, 12, 1), d(2021, 12, 31)));
        assert!(r.contains(d(2021, 12, 31)));
        assert!(!r.contains(d(2022, 1, 1)));
    }

    #[test]
    fn single_day_and_month() {
        assert_eq!(range("2021-12-04"), DateRange::day(d(2021, 12, 4)).unwrap());
        let feb = range("2024-02");
        assert_eq!((feb.start(), feb.end()), (d(2024, 2, 1), d(2024, 2, 29)));
        let dec = range("2021-12");
        assert_eq!(dec.end(), d(2021, 12, 31));
    }

    #[test]
    fn season_forms_run_july_to_june() {
        let s = range("season:2021-22");
        assert_eq!((s.start(), s.end()), (d(2021, 7, 1), d(2022, 6, 30)));
        assert_eq!(range("2021-22"), s);
        assert_eq!(range("season:1999-00").start(), d(1999, 7, 1));
        assert!(
            "1999-00".parse::<DateRange>().is_err(),
            "00 is not above 12: a month, and no month 00"
        );
    }

    #[test]
    fn ambiguous_suffix_of_twelve_or_less_is_a_month() {
        let r = range("2011-12");
        assert_eq!((r.start(), r.end()), (d(2011, 12, 1), d(2011, 12, 31)));
        assert_eq!(range("season:2011-12").start(), d(2011, 7, 1));
    }

    #[test]
    fn range_sides_may_be_months() {
        let r = range("2021-11..2021-12");
        assert_eq!((r.start(), r.end()), (d(2021, 11, 1), d(2021, 12, 31)));
    }

    #[test]
    fn reversed_range_is_refused() {
        let err = "2021-12-31..2021-12-01".parse::<DateRange>().unwrap_err();
        assert!(matches!(err, RangeError::Reversed { .. }));
        assert!(err.to_string().contains("reversed"), "{err}");
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2021-02-30",
            "2021-13-01",
            "2021-00",
            "2021-12-32..2022-01-01",
        ] {
            let err = bad.parse::<DateRange>().unwrap_err();
            assert!(
                matches!(
                    err,
                    RangeError::ImpossibleDate { .. } | RangeError::NoSuchMonth { .. }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn out_of_bounds_dates_are_refused() {
        for bad in [
            "1945-12-31",
            "2101-01-01",
            "1900-01..2021-01",
            "season:2100-01",
        ] {
            let err = bad.parse::<DateRange>().unwrap_err();
            assert!(
                matches!(err, RangeError::OutOfBounds { .. }),
                "{bad}: {err}"
            );
        }
        assert!("1946-01-01..2100-12-31".parse::<DateRange>().is_ok());
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "",
            "yesterday",
            "2021/12/01",
            "2021-12-01..",
            "..2021-12-01",
            "21-12-01",
            "+2021-12-01",
            "2021-1-01",
        ] {
            assert!(bad.parse::<DateRange>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn wrong_season_suffix_is_refused() {
        let err = "2021-23".parse::<DateRange>().unwrap_err();
        assert!(matches!(err, RangeError::NoSuchMonth { .. }), "{err}");
        assert!(err.to_string().contains("that would be 2021-22"), "{err}");
        assert!(parse_season("2021-23").is_err());
        assert_eq!(parse_season("2021-22").unwrap(), 2021);
    }

    #[test]
    fn widening_goes_back_to_july_first() {
        let r = range("2022-01-10..2022-01-20").from_season_start();
        assert_eq!(r.start(), d(2021, 7, 1));
        assert_eq!(season_of(d(2021, 7, 1)), 2021);
        assert_eq!(season_of(d(2021, 6, 30)), 2020);
        assert_eq!(season_label(2099), "2099-00");
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::any_text;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_text_is_a_range_or_a_named_refusal(text in any_text()) {
                if let Err(e) = text.parse::<DateRange>() {
                    prop_assert!(e.to_string().starts_with("invalid range"));
                }
            }

            #[test]
            fn date_shaped_text_never_panics_and_a_range_is_ordered(
                text in r"(season:)?[0-9-]{0,12}(\.{1,3}(season:)?[0-9-]{0,12})?"
            ) {
                if let Ok(range) = text.parse::<DateRange>() {
                    prop_assert!(range.start() <= range.end());
                    prop_assert!(range.start() >= MIN_DATE && range.end() <= MAX_DATE);
                }
            }
        }
    }
}
