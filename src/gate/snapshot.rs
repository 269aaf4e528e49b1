//! The snapshot file: reviewed expected counts, written so a pull request shows one
//! changed line per changed (processor, date), and read strictly so a hand edit or a
//! merge accident is an error naming the file and the field, never a silent pass.

use chrono::NaiveDate;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::Path;

use super::{Count, Counts, DateCounts, FAILURES_BY_CATEGORY, Limit, ProcessorCounts, Tolerances};

/// The fields of the hash the fingerprints were made with, and of one date's fingerprint.
const FINGERPRINT_HASH: &str = "fingerprint_hash";
const FINGERPRINT: &str = "fingerprint";
use crate::catalog::Catalog;
use crate::error::Error;
use crate::range::DateRange;

/// The format marker and version of the file.
const FORMAT: &str = "phase4-check gate snapshot";
const VERSION: i64 = 1;

/// A snapshot: the counts, what they were taken with, and their tolerances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub catalog_fingerprint: String,
    pub range: DateRange,
    pub tolerances: Tolerances,
    pub counts: Counts,
}

impl Snapshot {
    /// Reads and validates `path` against the catalog. `Ok(None)` when it does not exist.
    pub fn read(path: &Path, catalog: &Catalog) -> Result<Option<Snapshot>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Error::config(format!(
                    "snapshot {}: cannot be read: {e}",
                    path.display()
                )));
            }
        };
        Snapshot::parse(&text, catalog)
            .map(Some)
            .map_err(|e| Error::config(format!("snapshot {}: {e}", path.display())))
    }

    /// Parses the text of a snapshot; the error names the field (`processors.PSZA...`).
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Snapshot, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let top = object(&value, "the document")?;
        only_fields(
            top,
            "",
            &[
                "format",
                "version",
                "catalog_fingerprint",
                FINGERPRINT_HASH,
                "range",
                "tolerances",
                "allow",
                "processors",
            ],
        )?;
        match field(top, "", "format")? {
            Value::String(s) if s == FORMAT => {}
            _ => return Err(format!("format: is not \"{FORMAT}\"")),
        }
        let version = integer(field(top, "", "version")?, "version")?;
        if version != VERSION {
            return Err(format!(
                "version: {version} is not a version this phase4-check reads ({VERSION})"
            ));
        }
        let catalog_fingerprint = match field(top, "", "catalog_fingerprint")? {
            Value::String(s) if !s.is_empty() => s.clone(),
            _ => return Err("catalog_fingerprint: is not a non-empty string".into()),
        };
        let hash_kind = match top.get(FINGERPRINT_HASH) {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err(format!("{FINGERPRINT_HASH}: is not a non-empty string")),
        };
        let range = parse_range(field(top, "", "range")?)?;
        let tolerances = parse_tolerances(top)?;

        let processors = object(field(top, "", "processors")?, "processors")?;
        for code in processors.keys() {
            if !catalog.ids().any(|id| catalog.code(id) == code) {
                return Err(format!(
                    "processors.{code}: unknown processor (the catalog has {})",
                    codes(catalog)
                ));
            }
        }
        let mut counts = Counts {
            hash_kind,
            ..Counts::default()
        };
        for id in catalog.ids() {
            let code = catalog.code(id);
            let at = format!("processors.{code}");
            let value = processors
                .get(code)
                .ok_or_else(|| format!("{at}: missing (the catalog has {})", codes(catalog)))?;
            counts
                .processors
                .push((code.to_string(), parse_processor(value, &at, range)?));
        }
        if counts.hash_kind.is_none()
            && let Some((code, date)) = counts.processors.iter().find_map(|(code, p)| {
                p.dates
                    .iter()
                    .find(|(_, d)| d.fingerprint.is_some())
                    .map(|(date, _)| (code, date))
            })
        {
            return Err(format!(
                "{FINGERPRINT_HASH}: missing, but processors.{code}.dates.{date} has a fingerprint"
            ));
        }
        Ok(Snapshot {
            catalog_fingerprint,
            range,
            tolerances,
            counts,
        })
    }

    /// The file's text: stable key order, one (processor, date) per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{{");
        let _ = writeln!(out, "  \"format\": {},", json(FORMAT));
        let _ = writeln!(out, "  \"version\": {VERSION},");
        let _ = writeln!(
            out,
            "  \"catalog_fingerprint\": {},",
            json(&self.catalog_fingerprint)
        );
        if let Some(hash) = &self.counts.hash_kind {
            let _ = writeln!(out, "  {}: {},", json(FINGERPRINT_HASH), json(hash));
        }
        let _ = writeln!(
            out,
            "  \"range\": {{\"start\": \"{}\", \"end\": \"{}\"}},",
            self.range.start(),
            self.range.end()
        );
        let _ = writeln!(
            out,
            "  \"tolerances\": {},",
            inline_object(
                self.tolerances
                    .numeric()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), json(&v)))
            )
        );
        let allowed: Vec<String> = self.tolerances.allowed().iter().map(|a| json(a)).collect();
        let _ = writeln!(out, "  \"allow\": [{}],", allowed.join(", "));
        let _ = writeln!(out, "  \"processors\": {{");
        for (i, (code, p)) in self.counts.processors.iter().enumerate() {
            let _ = writeln!(out, "    {}: {{", json(code));
            let _ = writeln!(out, "      \"game_dates\": {},", p.game_dates());
            if p.dates.is_empty() {
                let _ = writeln!(out, "      \"dates\": {{}}");
            } else {
                let _ = writeln!(out, "      \"dates\": {{");
                for (j, (date, d)) in p.dates.iter().enumerate() {
                    let comma = if j + 1 < p.dates.len() { "," } else { "" };
                    let _ = writeln!(out, "        \"{date}\": {}{comma}", date_line(d));
                }
                let _ = writeln!(out, "      }}");
            }
            let comma = if i + 1 < self.counts.processors.len() {
                ","
            } else {
                ""
            };
            let _ = writeln!(out, "    }}{comma}");
        }
        let _ = writeln!(out, "  }}");
        let _ = writeln!(out, "}}");
        out
    }

    /// Writes the file atomically, creating its directory if needed.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        crate::output::write_document(path, &self.to_text(), "write the snapshot")
    }
}

fn codes(catalog: &Catalog) -> String {
    catalog
        .ids()
        .map(|id| catalog.code(id))
        .collect::<Vec<_>>()
        .join(", ")
}

fn json(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn inline_object(fields: impl Iterator<Item = (String, String)>) -> String {
    let parts: Vec<String> = fields.map(|(k, v)| format!("{}: {v}", json(&k))).collect();
    format!("{{{}}}", parts.join(", "))
}

/// `{"expected": 4, "records": 4, ..., "failures_by_category": {"INSUFFICIENT_DATA": 2},
/// "fingerprint": "1234"}`
fn date_line(d: &DateCounts) -> String {
    let mut fields: Vec<(String, String)> = Count::ALL
        .iter()
        .map(|&c| (c.name().to_string(), d.get(c).to_string()))
        .collect();
    fields.push((
        FAILURES_BY_CATEGORY.to_string(),
        inline_object(d.failures.iter().map(|(k, v)| (k.clone(), v.to_string()))),
    ));
    if let Some(fingerprint) = &d.fingerprint {
        fields.push((FINGERPRINT.to_string(), json(fingerprint)));
    }
    inline_object(fields.into_iter())
}

/// `at.name`; a name from the file is escaped (`\n`), so a message stays on one line.
fn path_of(at: &str, name: &str) -> String {
    let name = name.escape_debug();
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

fn object<'a>(value: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{at}: is not an object"))
}

fn field<'a>(obj: &'a Map<String, Value>, at: &str, name: &str) -> Result<&'a Value, String> {
    obj.get(name)
        .ok_or_else(|| format!("{}: missing", path_of(at, name)))
}

/// Refuses fields the format does not have (a typo would otherwise be ignored).
fn only_fields(obj: &Map<String, Value>, at: &str, known: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "{}: unknown field (expected {})",
            path_of(at, k),
            known.join(", ")
        )),
        None => Ok(()),
    }
}

fn integer(value: &Value, at: &str) -> Result<i64, String> {
    value
        .as_i64()
        .ok_or_else(|| format!("{at}: {value} is not a whole number"))
}

fn count(value: &Value, at: &str) -> Result<i64, String> {
    let n = integer(value, at)?;
    if n < 0 {
        return Err(format!("{at}: {n} is negative"));
    }
    Ok(n)
}

fn date(text: &str, at: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| format!("{at}: `{}` is not a date (YYYY-MM-DD)", text.escape_debug()))
}

fn parse_range(value: &Value) -> Result<DateRange, String> {
    let obj = object(value, "range")?;
    only_fields(obj, "range", &["start", "end"])?;
    let get = |name: &str| -> Result<NaiveDate, String> {
        let at = path_of("range", name);
        match field(obj, "range", name)? {
            Value::String(s) => date(s, &at),
            other => Err(format!("{at}: {other} is not a date (YYYY-MM-DD)")),
        }
    };
    DateRange::new(get("start")?, get("end")?).map_err(|e| format!("range: {e}"))
}

fn parse_tolerances(top: &Map<String, Value>) -> Result<Tolerances, String> {
    let mut tolerances = Tolerances::default();
    if let Some(value) = top.get("tolerances") {
        for (name, limit) in object(value, "tolerances")? {
            let at = path_of("tolerances", name);
            let text = match limit {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(format!("{at}: {other} is not a limit (e.g. \"0.5%\" or 3)")),
            };
            let limit = Limit::parse(&text).map_err(|e| format!("{at}: {e}"))?;
            tolerances
                .set(name, limit)
                .map_err(|e| format!("{at}: {e}"))?;
        }
    }
    if let Some(value) = top.get("allow") {
        let list = value
            .as_array()
            .ok_or_else(|| "allow: is not a list of count names".to_string())?;
        for (i, name) in list.iter().enumerate() {
            let at = format!("allow[{i}]");
            let name = name
                .as_str()
                .ok_or_else(|| format!("{at}: {name} is not a count name"))?;
            tolerances
                .set(name, Limit::Any)
                .map_err(|e| format!("{at}: {e}"))?;
        }
    }
    Ok(tolerances)
}

fn parse_processor(value: &Value, at: &str, range: DateRange) -> Result<ProcessorCounts, String> {
    let obj = object(value, at)?;
    only_fields(obj, at, &["game_dates", "dates"])?;
    let game_dates = count(field(obj, at, "game_dates")?, &path_of(at, "game_dates"))?;
    let dates_at = path_of(at, "dates");
    let mut counts = ProcessorCounts::default();
    for (key, value) in object(field(obj, at, "dates")?, &dates_at)? {
        let day = date(key, &dates_at)?;
        let here = path_of(&dates_at, key);
        if !range.contains(day) {
            return Err(format!(
                "{here}: outside the snapshot's range {}..{}",
                range.start(),
                range.end()
            ));
        }
        counts.dates.insert(day, parse_date_counts(value, &here)?);
    }
    if counts.game_dates() != game_dates {
        return Err(format!(
            "{}: {game_dates}, but {} dates have expected entities",
            path_of(at, "game_dates"),
            counts.game_dates()
        ));
    }
    Ok(counts)
}

fn parse_date_counts(value: &Value, at: &str) -> Result<DateCounts, String> {
    let obj = object(value, at)?;
    let mut known: Vec<&str> = Count::ALL.iter().map(|c| c.name()).collect();
    known.push(FAILURES_BY_CATEGORY);
    known.push(FINGERPRINT);
    only_fields(obj, at, &known)?;
    let mut d = DateCounts::default();
    for c in Count::ALL {
        d.set(c, count(field(obj, at, c.name())?, &path_of(at, c.name()))?);
    }
    let failures_at = path_of(at, FAILURES_BY_CATEGORY);
    for (category, n) in object(field(obj, at, FAILURES_BY_CATEGORY)?, &failures_at)? {
        let n = count(n, &path_of(&failures_at, category))?;
        if n == 0 {
            return Err(format!(
                "{}: 0 (categories without rows are left out)",
                path_of(&failures_at, category)
            ));
        }
        d.failures.insert(category.clone(), n);
    }
    d.fingerprint = match obj.get(FINGERPRINT) {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(other) => {
            return Err(format!(
                "{}: {other} is not a fingerprint (a non-empty string)",
                path_of(at, FINGERPRINT)
            ));
        }
    };
    if let Some(broken) = d.identity_error() {
        return Err(format!(
            "{at}: {broken} (edited by hand? rewrite it with --update)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    fn sample() -> Snapshot {
        let catalog = catalog();
        let mut counts = Counts {
            hash_kind: Some("duckdb v1.4.1 hash".into()),
            ..Counts::default()
        };
        for id in catalog.ids() {
            let mut p = ProcessorCounts::default();
            let mut d = DateCounts::default();
            for (c, v) in [
                (Count::Expected, 10),
                (Count::Produced, 7),
                (Count::ExpectedSkips, 2),
                (Count::Unaccounted, 1),
                (Count::Records, 8),
                (Count::Duplicates, 1),
            ] {
                d.set(c, v);
            }
            d.failures.insert("INSUFFICIENT_DATA".into(), 2);
            d.fingerprint = Some("-4242".into());
            p.dates
                .insert(NaiveDate::from_ymd_opt(2021, 11, 2).unwrap(), d);
            counts.processors.push((catalog.code(id).to_string(), p));
        }
        let mut tolerances = Tolerances::default();
        tolerances
            .set("records", Limit::parse("0.5%").unwrap())
            .unwrap();
        tolerances.set("expected_skips", Limit::Any).unwrap();
        Snapshot {
            catalog_fingerprint: catalog.fingerprint().to_string(),
            range: "2021-11".parse().unwrap(),
            tolerances,
            counts,
        }
    }

    #[test]
    fn the_written_text_reads_back_equal() {
        let s = sample();
        let text = s.to_text();
        assert_eq!(Snapshot::parse(&text, &catalog()).unwrap(), s);
        // one line per (processor, date)
        assert_eq!(
            text.lines()
                .filter(|l| l.contains("\"2021-11-02\""))
                .count(),
            5
        );
    }

    fn edited(from: &str, to: &str) -> String {
        let text = sample().to_text();
        assert!(text.contains(from), "{from} not in the sample");
        Snapshot::parse(&text.replacen(from, to, 1), &catalog()).unwrap_err()
    }

    #[test]
    fn hand_edits_name_the_field() {
        assert!(edited("\"records\": 8", "\"records\": 9").starts_with(
            "processors.TDZA.dates.2021-11-02: records 9 is not produced + unexpected + duplicates = 8"
        ));
        assert_eq!(
            edited("\"records\": 8, ", ""),
            "processors.TDZA.dates.2021-11-02.records: missing"
        );
        assert!(edited("\"TDZA\"", "\"XYZ\"").starts_with("processors.XYZ: unknown processor"));
        assert!(
            edited("\"game_dates\": 1", "\"game_dates\": 2")
                .starts_with("processors.TDZA.game_dates: 2, but 1 dates")
        );
        assert!(edited("\"2021-11-02\"", "\"2021-11-31\"").contains("`2021-11-31` is not a date"));
        assert!(
            edited("\"2021-11-02\"", "\"2021-12-02\"").contains("outside the snapshot's range")
        );
        assert_eq!(
            edited("\"produced\": 7", "\"produced\": -7"),
            "processors.TDZA.dates.2021-11-02.produced: -7 is negative"
        );
        assert!(
            edited("\"produced\": 7", "\"produced\": \"7\"")
                .contains("produced: \"7\" is not a whole number")
        );
        assert!(edited("\"version\": 1", "\"version\": 2").starts_with("version: 2"));
        assert!(edited("\"0.5%\"", "\"lots\"").starts_with("tolerances.records:"));
        assert!(edited("[\"expected_skips\"]", "[\"skips\"]").starts_with("allow[0]:"));
        assert!(edited("\"allow\"", "\"alow\"").starts_with("alow: unknown field"));
        assert!(edited("\"2021-11-01\"", "2021").starts_with("range.start:"));
        let mut blank = sample();
        blank.catalog_fingerprint.clear();
        assert!(
            Snapshot::parse(&blank.to_text(), &catalog())
                .unwrap_err()
                .starts_with("catalog_fingerprint: is not")
        );
        assert!(edited("{\n", "{\n<<<<<<< HEAD\n").starts_with("not valid JSON: "));
        assert_eq!(
            edited("\"fingerprint\": \"-4242\"", "\"fingerprint\": 7"),
            "processors.TDZA.dates.2021-11-02.fingerprint: 7 is not a fingerprint (a non-empty string)"
        );
        assert_eq!(
            edited("  \"fingerprint_hash\": \"duckdb v1.4.1 hash\",\n", ""),
            "fingerprint_hash: missing, but processors.TDZA.dates.2021-11-02 has a fingerprint"
        );
    }

    #[test]
    fn a_missing_processor_is_named() {
        let mut s = sample();
        s.counts.processors.retain(|(c, _)| c != "PDC");
        let err = Snapshot::parse(&s.to_text(), &catalog()).unwrap_err();
        assert!(err.starts_with("processors.PDC: missing"), "{err}");
    }

    mod fuzz {
        use super::*;
        use crate::fuzz::{any_text, mutated};
        use proptest::prelude::*;

        const COMMITTED: &str = include_str!("../../snapshots/season-2021-22.json");

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn any_text_is_a_snapshot_or_a_reason_in_one_line(text in any_text()) {
                let catalog = Catalog::builtin().expect("catalog");
                if let Err(reason) = Snapshot::parse(&text, &catalog) {
                    prop_assert!(!reason.contains('\n'), "{}", reason);
                }
            }

            #[test]
            fn an_edited_snapshot_reads_or_is_refused_in_one_line(text in mutated(COMMITTED)) {
                let catalog = Catalog::builtin().expect("catalog");
                if let Err(reason) = Snapshot::parse(&text, &catalog) {
                    prop_assert!(!reason.contains('\n'), "{}", reason);
                }
            }
        }
    }
}
