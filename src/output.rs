//! Where output goes: the document on stdout, warnings and notes on stderr.
//!
//! A closed pipe (`| head`) ends the output quietly; any other failure to write stdout
//! (a full disk behind a redirect) is an error, never a silent exit 0.

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// Set once stdout's reader has gone: nothing more is written to it.
static PIPE_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout.
pub fn print(text: &str) -> Result<(), Error> {
    print_to(&mut std::io::stdout().lock(), text)
}

fn print_to(out: &mut impl Write, text: &str) -> Result<(), Error> {
    if PIPE_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            PIPE_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::io("write", Path::new("standard output"))(e)),
    }
}

/// Set by `--quiet`: warnings and notes are not said (errors always are).
static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Is `--quiet` on?
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `phase4-check: warning: ...` on stderr.
pub fn warn(text: &str) {
    note(&format!("warning: {text}"));
}

/// `phase4-check: ...` on stderr (best effort: stderr is where failures are reported).
pub fn note(text: &str) {
    if is_quiet() {
        return;
    }
    let _ = writeln!(std::io::stderr().lock(), "phase4-check: {text}");
}

/// `-v`/`-vv` (or RUST_LOG): what the tool does, on stderr; nothing by default.
pub fn init_tracing(verbose: u8, color: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(match verbose {
            0 => "off",
            1 => "phase4_check=info",
            _ => "phase4_check=debug",
        })
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

/// Writes a document (a snapshot, a page) atomically: a temp file beside it, synced,
/// then a rename, so a reader sees the old file or the new one, never half of one. Its
/// directory is created if needed; the file is an ordinary one (0644, or the mode of the
/// file it replaces), not the temp file's private 0600.
pub fn write_document(path: &Path, text: &str, action: &'static str) -> Result<(), Error> {
    // A symlink is written through (the rename would replace the link itself), and only
    // a regular file is ever replaced (never a device such as /dev/null).
    let resolved;
    let path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            resolved = std::fs::canonicalize(path).map_err(Error::io(action, path))?;
            resolved.as_path()
        }
        _ => path,
    };
    if let Ok(m) = std::fs::metadata(path)
        && !m.is_file()
    {
        return Err(Error::usage(format!(
            "{} is not a regular file: name a file to write",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = Error::io(action, path);
    std::fs::create_dir_all(dir).map_err(Error::io("create the directory", dir))?;
    let mut tmp = match tempfile::NamedTempFile::new_in(dir) {
        Ok(tmp) => tmp,
        Err(e) => return Err(fail(e)),
    };
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions())
        .unwrap_or_else(|_| std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let written = tmp
        .write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().set_permissions(mode))
        .and_then(|()| tmp.as_file().sync_all());
    if let Err(e) = written {
        return Err(fail(e));
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_behind_stdout_is_an_error_naming_it() {
        let e = print_to(&mut Failing(ErrorKind::StorageFull), "report").unwrap_err();
        assert_eq!(e.exit_code().code(), 4);
        assert!(
            e.to_string().starts_with("cannot write standard output"),
            "{e}"
        );
    }
}
