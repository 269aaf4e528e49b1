//! The log files of invocations, read back for a person: the last lines of a failed
//! attempt's output, shown in the run's summary.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the end of a log is read: enough for a few lines, never a whole big log.
const TAIL_BYTES: u64 = 64 * 1024;
/// A longer line is cut (a processor may print anything).
const LINE_CHARS: usize = 200;

/// The last `lines` non-empty lines of the log at `path`, as plain text: terminal escape
/// sequences and other control characters removed, long lines cut. Empty when the log
/// cannot be read (the summary then names only its path).
pub fn tail(path: &Path, lines: usize) -> Vec<String> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let from = len.saturating_sub(TAIL_BYTES);
    if file.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let text = console::strip_ansi_codes(&text);
    let mut all: Vec<&str> = text.lines().collect();
    // A read from the middle of the file starts inside a line.
    if from > 0 && !all.is_empty() {
        all.remove(0);
    }
    let kept: Vec<String> = all
        .iter()
        .map(|l| {
            let clean: String = l
                .chars()
                .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
                .collect();
            let clean = clean.trim_end();
            if clean.chars().count() > LINE_CHARS {
                let cut: String = clean.chars().take(LINE_CHARS).collect();
                format!("{cut}…")
            } else {
                clean.to_string()
            }
        })
        .filter(|l| !l.trim().is_empty())
        .collect();
    kept[kept.len().saturating_sub(lines)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_last_lines_as_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(
            &path,
            "one\ntwo\n\n\u{1b}[31mred\u{1b}[0m\rback\nlast\u{7}\n",
        )
        .unwrap();
        assert_eq!(tail(&path, 3), ["two", "red back", "last"]);
        assert!(tail(&dir.path().join("none.log"), 3).is_empty());
    }

    #[test]
    fn a_big_log_is_read_from_its_end_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let mut text = "x".repeat(300) + "\n";
        text.push_str(&"filler line\n".repeat(20_000));
        text.push_str("the end\n");
        std::fs::write(&path, text).unwrap();
        assert_eq!(tail(&path, 2), ["filler line", "the end"]);
    }
}
