//! A processor's command: an argv template (no shell) whose placeholders are checked
//! when the catalog loads, so a typo is an error before anything runs.

use chrono::NaiveDate;

use crate::error::echo;

/// The placeholders a command may use.
pub const PLACEHOLDERS: [&str; 5] = ["start", "end", "date", "exe", "warehouse"];

/// What the placeholders of one invocation stand for.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// The first and last date of the invocation (`{date}` is the first).
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// This phase4-check binary.
    pub exe: &'a str,
    /// The warehouse as processors are told about it.
    pub warehouse: &'a str,
}

/// A validated argv template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTemplate {
    argv: Vec<String>,
}

impl CommandTemplate {
    /// Refuses an empty command, a blank program and an unknown `{placeholder}`.
    pub fn parse(argv: &[String]) -> Result<CommandTemplate, String> {
        match argv.first() {
            None => return Err("is empty".into()),
            Some(program) if program.trim().is_empty() => {
                return Err("names no program (its first element is blank)".into());
            }
            Some(_) => {}
        }
        for arg in argv {
            for piece in pieces(arg) {
                if let Piece::Placeholder(name) = piece
                    && !PLACEHOLDERS.contains(&name)
                {
                    return Err(format!(
                        "has the unknown placeholder `{{{name}}}` in `{}` (the placeholders are {})",
                        echo(arg),
                        PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ));
                }
            }
        }
        Ok(CommandTemplate {
            argv: argv.to_vec(),
        })
    }

    /// The program, placeholders unfilled (pre-flight checks it exists).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The argv of one invocation: every placeholder filled in one pass (a value that
    /// itself holds `{end}` is not filled again).
    pub fn fill(&self, inv: &Invocation<'_>) -> Vec<String> {
        self.argv
            .iter()
            .map(|arg| {
                pieces(arg)
                    .map(|piece| match piece {
                        Piece::Text(t) => t.to_string(),
                        Piece::Placeholder("start" | "date") => inv.start.to_string(),
                        Piece::Placeholder("end") => inv.end.to_string(),
                        Piece::Placeholder("exe") => inv.exe.to_string(),
                        Piece::Placeholder("warehouse") => inv.warehouse.to_string(),
                        Piece::Placeholder(other) => format!("{{{other}}}"),
                    })
                    .collect()
            })
            .collect()
    }
}

enum Piece<'a> {
    Text(&'a str),
    /// `{name}`: a name of letters, digits and `_` in braces.
    Placeholder(&'a str),
}

/// `a{start}b` as text, placeholder, text. Braces around anything else are text.
fn pieces(arg: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = arg;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if let Some(name) = rest.strip_prefix('{').and_then(|r| {
            let end = r.find('}')?;
            let name = &r[..end];
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then_some(name)
        }) {
            rest = &rest[name.len() + 2..];
            return Some(Piece::Placeholder(name));
        }
        // Past the first character, not the first byte: arguments may be any UTF-8.
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first..]
            .find('{')
            .map(|i| i + first)
            .unwrap_or(rest.len());
        let text = &rest[..next];
        rest = &rest[next..];
        Some(Piece::Text(text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 12, day).unwrap()
    }

    fn template(argv: &[&str]) -> Result<CommandTemplate, String> {
        CommandTemplate::parse(&argv.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn argv_templates_are_filled_without_a_shell_in_one_pass() {
        let t = template(&[
            "{exe}",
            "--from={start}",
            "{end}",
            "{date}",
            "{warehouse}",
            "$(rm -rf /)",
            "{\"json\": 1}",
        ])
        .unwrap();
        let argv = t.fill(&Invocation {
            start: d(1),
            end: d(3),
            exe: "/bin/p4",
            warehouse: "duckdb:/w/{end}.duckdb",
        });
        assert_eq!(
            argv,
            [
                "/bin/p4",
                "--from=2021-12-01",
                "2021-12-03",
                "2021-12-01",
                "duckdb:/w/{end}.duckdb",
                "$(rm -rf /)",
                "{\"json\": 1}"
            ]
        );
    }

    #[test]
    fn an_unknown_placeholder_or_an_empty_command_is_refused() {
        let e = template(&["run", "--until={ende}"]).unwrap_err();
        assert!(e.contains("unknown placeholder `{ende}`"), "{e}");
        assert!(
            e.contains("{start}, {end}, {date}, {exe}, {warehouse}"),
            "{e}"
        );
        assert!(template(&[]).is_err());
        assert!(template(&["  "]).is_err());
    }
}
