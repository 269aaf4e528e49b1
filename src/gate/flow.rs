//! One gate run: the snapshot read and checked before the warehouse is (its catalog,
//! its range, the mode), then the warehouse's counts written (--update) or compared
//! with the tolerances of the snapshot and the command line merged.

use super::{Comparison, Counts, Snapshot, compare};
use crate::catalog::Catalog;
use crate::checks::Findings;
use crate::error::Error;
use crate::gate::render::short_fingerprint;
use crate::range::DateRange;
use crate::settings::GateSettings;
use crate::warehouse::WarehouseSpec;

/// What this run does: rewrite the snapshot (the one it replaces, if any) or compare.
#[derive(Debug)]
enum Mode {
    Update(Option<Snapshot>),
    Compare(Snapshot),
}

/// A gate run whose snapshot passed its checks.
#[derive(Debug)]
pub struct GateRun {
    mode: Mode,
    /// The range the checks must cover (none: every game date).
    pub range: Option<DateRange>,
    /// The snapshot file as the user named it.
    pub path: String,
    /// `--warehouse W ` when it is not the default, for the commands in messages.
    warehouse_flag: String,
}

/// What the run found.
#[derive(Debug)]
pub enum GateVerdict {
    /// The snapshot was (re)written.
    Updated {
        before: Option<Snapshot>,
        after: Snapshot,
    },
    /// The warehouse was compared with the snapshot.
    Compared {
        snapshot: Snapshot,
        actual: Counts,
        comparison: Comparison,
    },
}

impl GateRun {
    /// Reads and checks the snapshot before anything else: a missing one (without
    /// --update), another catalog or another range is an error saying what to do.
    pub fn prepare(
        settings: &GateSettings,
        catalog: &Catalog,
        warehouse: &WarehouseSpec,
    ) -> Result<GateRun, Error> {
        let path = settings.snapshot.display().to_string();
        let existing = Snapshot::read(&settings.snapshot, catalog)?;
        let warehouse_flag = if warehouse.is_default() {
            String::new()
        } else {
            format!("--warehouse {warehouse} ")
        };
        let mode = match (existing, settings.update) {
            (existing, true) => Mode::Update(existing),
            (None, false) => {
                return Err(Error::usage(format!(
                    "snapshot {path} does not exist: create it with `phase4-check {warehouse_flag}gate --snapshot {path} {}--update`, review it and commit it",
                    settings
                        .range_text
                        .as_ref()
                        .map(|r| format!("--range {r} "))
                        .unwrap_or_default()
                )));
            }
            (Some(s), false) => {
                if s.catalog_fingerprint != catalog.fingerprint() {
                    return Err(Error::config(format!(
                        "snapshot {path} was taken with another catalog (fingerprint {} here, {} in the file): review the catalog change, then rewrite the snapshot with --update",
                        short_fingerprint(catalog.fingerprint()),
                        short_fingerprint(&s.catalog_fingerprint)
                    )));
                }
                if let Some(r) = settings.range.filter(|r| *r != s.range) {
                    return Err(Error::usage(format!(
                        "snapshot {path} covers {}..{}, not --range {}..{}: drop --range, or rewrite the snapshot with --update",
                        s.range.start(),
                        s.range.end(),
                        r.start(),
                        r.end()
                    )));
                }
                Mode::Compare(s)
            }
        };
        let range = match &mode {
            Mode::Update(before) => settings.range.or(before.as_ref().map(|s| s.range)),
            Mode::Compare(snapshot) => Some(snapshot.range),
        };
        Ok(GateRun {
            mode,
            range,
            path,
            warehouse_flag,
        })
    }

    /// The command that accepts the warehouse's counts.
    pub fn update_command(&self) -> String {
        format!(
            "phase4-check {}gate --snapshot {} --update",
            self.warehouse_flag, self.path
        )
    }

    /// Writes the new snapshot (--update, tolerances of the old one kept and those of
    /// the command line added), or compares with the merged tolerances.
    pub fn conclude(
        self,
        settings: &GateSettings,
        catalog: &Catalog,
        findings: &Findings,
    ) -> Result<GateVerdict, Error> {
        let actual = Counts::from_findings(catalog, findings);
        let base = match &self.mode {
            Mode::Update(before) => before.as_ref().map(|s| s.tolerances.clone()),
            Mode::Compare(snapshot) => Some(snapshot.tolerances.clone()),
        };
        let mut tolerances = base.unwrap_or_default();
        tolerances.extend(&settings.tolerances);
        match self.mode {
            Mode::Update(before) => {
                let after = Snapshot {
                    catalog_fingerprint: catalog.fingerprint().to_string(),
                    range: findings.range,
                    tolerances,
                    counts: actual,
                };
                after.write(&settings.snapshot)?;
                Ok(GateVerdict::Updated { before, after })
            }
            Mode::Compare(snapshot) => {
                let comparison = compare(&snapshot.counts, &actual, findings.range, tolerances);
                Ok(GateVerdict::Compared {
                    snapshot,
                    actual,
                    comparison,
                })
            }
        }
    }
}
