//! Values as the user writes them, parsed into the program's types with messages that
//! name the flag and the value.

use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog::{Catalog, ProcessorId};
use crate::error::{Error, echo};
use crate::range::{DateRange, MAX_DATE, MIN_DATE, parse_season};
use crate::render::{Fit, Format, SummaryFormat, TableFormat};

/// `--range`, if given.
pub fn parse_range(text: Option<&str>) -> Result<Option<DateRange>, Error> {
    text.map(|t| t.parse::<DateRange>().map_err(Error::usage))
        .transpose()
}

/// One date (`YYYY-MM-DD`) of `flag`, within the dates the checks support.
pub fn parse_date(flag: &str, text: &str) -> Result<NaiveDate, Error> {
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(Error::usage(format!(
            "{flag} `{}` is not a date (YYYY-MM-DD)",
            echo(text)
        )));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Error::usage(format!("{flag} `{text}` is not a real date")))?;
    if !(MIN_DATE..=MAX_DATE).contains(&date) {
        return Err(Error::usage(format!(
            "{flag} `{text}`: dates must lie within {MIN_DATE}..{MAX_DATE}"
        )));
    }
    Ok(date)
}

/// A duration of `flag` (`90s`, `10m`, `6h`).
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration, Error> {
    humantime::parse_duration(text)
        .map_err(|e| Error::usage(format!("{flag} `{}`: {e} (e.g. 90s, 10m, 6h)", echo(text))))
}

/// A duration of `flag` that must be more than zero.
pub fn parse_positive_duration(flag: &str, text: &str) -> Result<Duration, Error> {
    let d = parse_duration(flag, text)?;
    if d.is_zero() {
        return Err(Error::usage(format!("{flag} must be more than zero")));
    }
    Ok(d)
}

/// `--processor` values, by catalog code, case-insensitively. A blank one is an error,
/// never "every processor".
pub fn parse_processors(catalog: &Catalog, names: &[String]) -> Result<Vec<ProcessorId>, Error> {
    names
        .iter()
        .map(|n| {
            if n.trim().is_empty() {
                Err(Error::usage(
                    "--processor: a processor name is empty (e.g. --processor PCF,ML)",
                ))
            } else {
                catalog.find(n)
            }
        })
        .collect()
}

/// `--seasons 2021-22,2022-23`: distinct seasons, sorted.
pub fn parse_seasons(text: &str) -> Result<Vec<i32>, Error> {
    let mut seasons = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let year = parse_season(part).map_err(|e| Error::usage(format!("--seasons: {e}")))?;
        if !(1946..=2099).contains(&year) {
            return Err(Error::usage(format!(
                "--seasons: season {part} is outside 1946-47..2099-00"
            )));
        }
        if seasons.contains(&year) {
            return Err(Error::usage(format!(
                "--seasons: season {part} is listed twice"
            )));
        }
        seasons.push(year);
    }
    if seasons.is_empty() {
        return Err(Error::usage(
            "--seasons: name at least one season, e.g. 2021-22",
        ));
    }
    seasons.sort();
    Ok(seasons)
}

fn refuse(format: Format, command: &str, takes: &str) -> Error {
    match format {
        Format::Junit => Error::usage(format!(
            "--format junit is for `gate` only (`{command}` takes {takes})"
        )),
        Format::Table | Format::Json | Format::Csv | Format::Markdown => Error::usage(format!(
            "--format {} is not available for `{command}` (it takes {takes})",
            format.name()
        )),
    }
}

/// The format of a command that prints tables of findings.
pub fn table_format(format: Format, fit: Fit, command: &str) -> Result<TableFormat, Error> {
    match format {
        Format::Table => Ok(TableFormat::Table(fit)),
        Format::Json => Ok(TableFormat::Json),
        Format::Csv => Ok(TableFormat::Csv),
        Format::Markdown => Ok(TableFormat::Markdown),
        Format::Junit => Err(refuse(format, command, "table, json, csv or markdown")),
    }
}

/// The format of a command that prints a short summary.
pub fn summary_format(format: Format, command: &str) -> Result<SummaryFormat, Error> {
    match format {
        Format::Table => Ok(SummaryFormat::Text),
        Format::Json => Ok(SummaryFormat::Json),
        Format::Csv | Format::Markdown | Format::Junit => {
            Err(refuse(format, command, "table or json"))
        }
    }
}

/// The format of a command for a person (`demo`, `heatmap`): tables only, `why` says so.
pub fn table_only(format: Format, command: &str, why: &str) -> Result<(), Error> {
    match format {
        Format::Table => Ok(()),
        Format::Json | Format::Csv | Format::Markdown | Format::Junit => {
            Err(refuse(format, command, &format!("table only: {why}")))
        }
    }
}

/// `--html PATH`: a file to write once the checks have run. Checked before they run, so
/// a path that cannot be written costs no query and writes nothing: it must name a file
/// (not a directory), an existing one must be a regular file (a symlink is followed), and
/// its directory must take a new file (tried with a temporary one), or, when it does not
/// exist yet, its nearest existing ancestor must be a directory this user can write
/// (missing directories are created when the page is written).
pub fn parse_page_path(flag: &str, path: &Path) -> Result<PathBuf, Error> {
    let shown = echo(&path.display().to_string());
    let refuse = |why: String| Err(Error::usage(format!("{flag} {shown}: {why}")));
    if path.as_os_str().is_empty() {
        return Err(Error::usage(format!("{flag} needs a file name")));
    }
    if path.is_dir() || path.file_name().is_none() || path.to_string_lossy().ends_with('/') {
        return refuse(format!(
            "a directory; name a file, e.g. {}",
            Path::new(&shown).join("coverage.html").display()
        ));
    }
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) => return refuse("a symlink to nothing".into()),
        },
        _ => path.to_path_buf(),
    };
    if let Ok(m) = std::fs::metadata(&path)
        && !m.is_file()
    {
        return refuse("not a regular file; name a file to write".into());
    }
    let parent = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if parent.is_dir() {
        return match tempfile::NamedTempFile::new_in(parent) {
            Ok(_) => Ok(path),
            Err(e) => {
                // tempfile's error names its temporary file: the user named the directory.
                let why = e
                    .raw_os_error()
                    .map(std::io::Error::from_raw_os_error)
                    .map_or_else(|| e.kind().to_string(), |os| os.to_string());
                refuse(format!("cannot write in {}: {why}", parent.display()))
            }
        };
    }
    let mut ancestor = Some(parent);
    while let Some(dir) = ancestor {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if dir.exists() {
            if !dir.is_dir() {
                return refuse(format!("{} is a file, not a directory", dir.display()));
            }
            if nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_err() {
                return refuse(format!("{} is not writable", dir.display()));
            }
            return Ok(path);
        }
        ancestor = dir.parent();
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_command_takes_its_formats_and_refuses_the_others() {
        use Format::*;
        for f in [Table, Json, Csv, Markdown] {
            assert!(table_format(f, Fit::default(), "report").is_ok());
        }
        let e = table_format(Junit, Fit::default(), "report")
            .unwrap_err()
            .to_string();
        assert!(e.contains("junit is for `gate` only"), "{e}");
        for f in [Table, Json] {
            assert!(summary_format(f, "seed").is_ok());
        }
        for f in [Csv, Markdown, Junit] {
            let e = summary_format(f, "checkpoint status").unwrap_err();
            assert_eq!(e.exit_code().code(), 2);
            assert!(e.to_string().contains("`checkpoint status`"), "{e}");
        }
        assert!(table_only(Table, "demo", "a story").is_ok());
        assert!(table_only(Json, "demo", "a story").is_err());
    }

    #[test]
    fn durations_name_their_flag() {
        assert_eq!(
            parse_duration("--grace", "90s").unwrap(),
            Duration::from_secs(90)
        );
        let e = parse_duration("--grace", "soon").unwrap_err().to_string();
        assert!(e.starts_with("--grace `soon`"), "{e}");
        let e = parse_positive_duration("--timeout", "0s")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "--timeout must be more than zero");
    }
}
