//! The bad-input corpus (`tests/bad_input/cases.txt`, one case a line): each bad input
//! gets its exit code and one line naming the problem, never a panic, and nothing in its
//! directory changes.

mod common;

use common::{BIN, Run, seeded};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CASES: &str = include_str!("bad_input/cases.txt");

struct Case {
    line: usize,
    exit: i32,
    needle: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    files: Vec<(String, String)>,
}

/// Words as a shell splits them: spaces separate, 'single quotes' keep them.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

fn parse(line: usize, text: &str) -> Case {
    let fields: Vec<&str> = text.splitn(4, " | ").collect();
    assert!(
        fields.len() >= 3,
        "line {line}: EXIT | WORD | ARGUMENTS [| FILES]"
    );
    let exit = fields[0].trim().parse().expect("an exit code");
    let mut args = Vec::new();
    let mut env = Vec::new();
    for word in words(fields[2].trim()) {
        if let Some(assignment) = word.strip_prefix("env:") {
            let (name, value) = assignment.split_once('=').expect("env:NAME=VALUE");
            env.push((name.to_string(), value.to_string()));
        } else if let Some(spec) = word.strip_prefix("@REPEAT:") {
            let (n, text) = spec.split_once(':').expect("@REPEAT:N:TEXT");
            args.push(text.repeat(n.parse().expect("a count")));
        } else {
            args.push(word);
        }
    }
    let files = fields
        .get(3)
        .map(|f| {
            f.split(" ;; ")
                .map(|spec| {
                    let spec = spec.trim();
                    if spec.starts_with("state:") || spec.starts_with("journal:") {
                        return (".phase4".to_string(), spec.to_string());
                    }
                    let (name, spec) = spec
                        .trim()
                        .split_once('=')
                        .unwrap_or_else(|| panic!("line {line}: `{spec}` is not name=spec"));
                    (name.to_string(), spec.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    Case {
        line,
        exit,
        needle: fields[1].trim().to_string(),
        args,
        env,
        files,
    }
}

fn cases() -> Vec<Case> {
    CASES
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| parse(i + 1, l))
        .collect()
}

/// `OLD=>NEW` applied once to `text` (OLD must be there; `*` is the whole text).
fn replaced(text: &str, edit: &str, case: &Case) -> String {
    let (old, new) = edit.split_once("=>").expect("OLD=>NEW");
    let new = new.replace("\\n", "\n");
    if old == "*" {
        return new;
    }
    let old = old.replace("\\n", "\n");
    assert!(
        text.contains(&old),
        "line {}: `{old}` is not there",
        case.line
    );
    text.replacen(&old, &new, 1)
}

fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e3779b97f4a7c15 ^ n as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// An unfinished repair of 2021-12-04 whose TDZA fails, with its catalog `false.toml`.
fn unfinished_state() -> &'static Path {
    static STATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, dir) = STATE.get_or_init(|| {
        let (keep, path) = seeded().copy();
        let dir = keep.path().to_path_buf();
        std::fs::rename(path, dir.join("phase4.duckdb")).unwrap();
        let catalog = phase4_check::catalog::DEFAULT_CATALOG.replacen(
            r#"command = ["{exe}", "process", "--warehouse", "{warehouse}", "--processor", "TDZA", "--start", "{start}", "--end", "{end}"]"#,
            r#"command = ["false"]"#,
            1,
        );
        std::fs::write(dir.join("false.toml"), catalog).unwrap();
        let run: Run = Command::new(BIN)
            .args([
                "--catalog",
                "false.toml",
                "repair",
                "--range",
                "2021-12-04",
                "--apply",
                "--retry-backoff",
                "1ms",
                "--progress",
                "none",
            ])
            .current_dir(&dir)
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, 1, "{}", run.stderr);
        (keep, dir)
    });
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn set_up(case: &Case, dir: &Path) {
    std::fs::copy(&seeded().path, dir.join("phase4.duckdb")).unwrap();
    for (name, spec) in &case.files {
        let path = dir.join(name);
        let (kind, body) = spec.split_once(':').expect("kind:body");
        match kind {
            "catalog" => std::fs::write(
                &path,
                replaced(phase4_check::catalog::DEFAULT_CATALOG, body, case),
            )
            .unwrap(),
            "snapshot" => {
                let committed = std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/season-2021-22.json"),
                )
                .unwrap();
                std::fs::write(&path, replaced(&committed, body, case)).unwrap();
            }
            "text" => std::fs::write(&path, body.replace("\\n", "\n")).unwrap(),
            "garbage" => std::fs::write(&path, garbage(body.parse().unwrap())).unwrap(),
            "dir" => std::fs::create_dir_all(&path).unwrap(),
            "sql" => {
                let db = duckdb::Connection::open(&path).unwrap();
                db.execute_batch(body)
                    .unwrap_or_else(|e| panic!("line {}: {body}: {e}", case.line));
                db.close().unwrap();
            }
            "state" | "journal" => {
                let template = unfinished_state();
                copy_tree(&template.join(".phase4"), &dir.join(".phase4"));
                std::fs::copy(template.join("false.toml"), dir.join("false.toml")).unwrap();
                // The stored request names the warehouse by its absolute path: this one's.
                let file = dir.join(".phase4/checkpoint.json");
                let mut stored: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                let here = std::path::absolute(dir.join("phase4.duckdb")).unwrap();
                stored["request"]["warehouse"] = format!("duckdb:{}", here.display()).into();
                stored["fingerprint"] =
                    phase4_check::runner::checkpoint::fingerprint(&stored["request"])
                        .unwrap()
                        .into();
                std::fs::write(&file, serde_json::to_string_pretty(&stored).unwrap()).unwrap();
                if kind == "state" {
                    let text = std::fs::read_to_string(&file).unwrap();
                    std::fs::write(&file, replaced(&text, body, case)).unwrap();
                } else {
                    let file = dir.join(".phase4/journal.jsonl");
                    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
                    text.push_str(&body.replace("\\n", "\n"));
                    std::fs::write(&file, text).unwrap();
                }
            }
            other => panic!("line {}: unknown file spec {other}", case.line),
        }
    }
}

/// Every file below `dir` by its SHA-256.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.insert(path.clone(), Vec::new());
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, Sha256::digest(&bytes).to_vec());
            }
        }
    }
    out
}

/// What is wrong with the case's run, if anything.
fn check(case: &Case) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    set_up(case, dir.path());
    let before = fingerprint(dir.path());
    let mut command = Command::new(BIN);
    command
        .args(&case.args)
        .current_dir(dir.path())
        .env_remove("PHASE4_WAREHOUSE")
        .env_remove("PHASE4_CATALOG")
        .env_remove("PHASE4_CONFIG")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env("HOME", dir.path())
        .env("PHASE4_BUSY_WAIT", "5s");
    for (name, value) in &case.env {
        command.env(name, value);
    }
    let run: Run = command.output().unwrap().into();
    let after = fingerprint(dir.path());
    let what = format!("line {} `{}`", case.line, case.args.join(" "));
    let mut problems = Vec::new();
    if run.code != case.exit {
        problems.push(format!("exit {} instead of {}", run.code, case.exit));
    }
    if run.stderr.contains("panicked") {
        problems.push("a panic".into());
    }
    let lines = run.stderr.trim_end().lines().count();
    if lines != 1 {
        problems.push(format!("{lines} lines on stderr"));
    }
    if !run.stderr.contains(&case.needle) {
        problems.push(format!("no `{}` in the message", case.needle));
    }
    if !run.stdout.is_empty() {
        problems.push("output on stdout".into());
    }
    if before != after {
        let changed: Vec<String> = before
            .keys()
            .chain(after.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
        problems.push(format!("files changed: {changed:?}"));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{what}: {}\n  stderr: {}",
            problems.join(", "),
            run.stderr.trim_end()
        )
    })
}

#[test]
fn every_bad_input_of_the_corpus_gets_its_exit_code_one_line_and_changes_nothing() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    unfinished_state();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.iter().filter_map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!(
        "bad-input corpus: {} cases, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
