//! `phase4-check seed`: a deterministic synthetic warehouse, filled by the built-in
//! processors, with the defects real backfills leave behind injected on purpose and
//! written down in a manifest, so the checks can be proved against known answers.

use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::processors::{Builtin, bind_to, run_builtin};
use super::season::{League, generate_league};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::range::{DateRange, season_label};
use crate::settings::SeedSettings;
use crate::sql::{Param, Query};
use crate::warehouse::duckdb::DuckDbSettings;
use crate::warehouse::{Access, Value, Warehouse, WarehouseSpec, create_embedded};

const CREATE_WAREHOUSE: &str = include_str!("../../sql/create_warehouse.sql");
const SEED_INFO: &str = include_str!("../../sql/seed/seed_info.sql");
const INSERT_SEED_INFO: &str = include_str!("../../sql/seed/insert_seed_info.sql");
const IS_SEEDED: &str = include_str!("../../sql/seed/is_seeded.sql");
const CHECKPOINT: &str = include_str!("../../sql/seed/checkpoint.sql");

/// One injected defect: the (processor, date) and the kind the checks must report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestDefect {
    pub processor: String,
    pub date: NaiveDate,
    pub kind: String,
    pub what: String,
    /// For a defect derived from another (downstream, same date): that root's
    /// processor. `null` for an injected defect, which is a root.
    #[serde(default)]
    pub caused_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestPair {
    pub processor: String,
    pub date: NaiveDate,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestBreaker {
    pub processor: String,
    pub date: NaiveDate,
    pub entity: String,
}

/// One injected content defect: counts cannot see it, the content check must.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestContent {
    /// `content_change` (a value changed, counts equal: `gate` against the healthy
    /// seed's snapshot says `content changed`), `null_keys` (a failure row without its
    /// entity) or `invariant` (a row breaking a catalog invariant on `column`).
    pub kind: String,
    pub processor: String,
    pub date: NaiveDate,
    /// The column of an invariant, the table (`rows`, `failures`) of NULL keys.
    pub item: Option<String>,
    pub what: String,
}

/// One injected defect of the source (Phase 3), which the `source` section must find;
/// every Phase 4 processor was re-run on its date, so their counts reconcile against it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestSource {
    /// `one_team_game` or `short_day`, as the report's `source` section names them.
    pub kind: String,
    pub date: NaiveDate,
    /// The game of a `one_team_game`.
    pub game: Option<String>,
    pub what: String,
}

/// A processor that stopped before the source's last game dates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ManifestLag {
    pub processor: String,
    /// The game dates of the season after its latest date with rows.
    pub lag: usize,
    pub what: String,
}

/// What `seed` made: the answers the checks must find.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub seasons: Vec<String>,
    pub healthy: bool,
    pub player_game_rows: usize,
    pub game_dates: usize,
    /// Every defective (processor, date) with the kind `report` must give it.
    pub defects: Vec<ManifestDefect>,
    /// Every stale (processor, date).
    pub stale: Vec<ManifestPair>,
    /// Every tripped circuit breaker.
    pub breakers: Vec<ManifestBreaker>,
    /// Failure categories the catalog does not know.
    pub unknown_categories: Vec<String>,
    /// Content defects (fingerprints, NULL keys, invariants), by kind, processor, date.
    #[serde(default)]
    pub content: Vec<ManifestContent>,
    /// The source's own defects (a game with one team, a short day).
    #[serde(default)]
    pub source: Vec<ManifestSource>,
    /// Processors behind the source (their last game dates are also `missing` defects).
    #[serde(default)]
    pub lagging: Vec<ManifestLag>,
}

/// Builds the warehouse at `settings.path` (replacing one made by `seed` before; never
/// anything else without --force), and returns its manifest.
pub fn seed(settings: &SeedSettings) -> Result<Manifest, Error> {
    let path = &settings.target.path;
    refuse_foreign_file(&settings.target, settings.force)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "cannot seed {}: directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    // Build beside the target and rename into place: never a half-seeded warehouse.
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| crate::settings::defaults::WAREHOUSE_FILE.into());
    let building = dir.join(format!(".{file_name}.seeding-{}", std::process::id()));
    remove_db_files(&building);
    let result = build(&building, settings);
    match result {
        Ok(manifest) => {
            remove_db_files(path);
            std::fs::rename(&building, path)
                .map_err(Error::io("move the seeded warehouse to", path))?;
            Ok(manifest)
        }
        Err(e) => {
            remove_db_files(&building);
            Err(e)
        }
    }
}

fn remove_db_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    let _ = std::fs::remove_file(PathBuf::from(wal));
}

/// A file that exists and was not made by `seed` is never replaced without --force.
fn refuse_foreign_file(target: &DuckDbSettings, force: bool) -> Result<(), Error> {
    let path = &target.path;
    if !path.exists() || force {
        return Ok(());
    }
    let made_by_seed = WarehouseSpec::DuckDb(target.clone())
        .open()
        .and_then(|engine| {
            let mut wh = engine.session(Access::Read)?;
            let rows = wh.query(&Query::new("is_seeded", IS_SEEDED))?;
            rows.iter().next().map(|r| r.int("n")).transpose()
        })
        .ok()
        .flatten()
        .is_some_and(|n| n > 0);
    if made_by_seed {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "refusing to replace {}: it was not made by `phase4-check seed` (pass --force to replace it, or --warehouse duckdb:OTHER.duckdb)",
            path.display()
        )))
    }
}

fn build(path: &Path, settings: &SeedSettings) -> Result<Manifest, Error> {
    let catalog = Catalog::builtin()?;
    let mut warehouse = create_embedded(path)?;
    let wh = warehouse.as_mut();
    wh.run_script("create_warehouse", CREATE_WAREHOUSE)?;
    let league = generate_league(settings.seed, &settings.seasons);
    append_player_games(wh, &catalog, &league)?;

    for season in &league.seasons {
        let range = DateRange::new(season.first_game, season.last_game).map_err(Error::usage)?;
        for processor in Builtin::ALL {
            run_builtin(wh, &catalog, processor, range, None)?;
        }
    }

    let mut manifest = Manifest {
        seed: settings.seed,
        seasons: settings.seasons.iter().map(|&y| season_label(y)).collect(),
        healthy: settings.healthy,
        player_game_rows: league.rows.len(),
        game_dates: league.seasons.iter().map(|s| s.game_dates.len()).sum(),
        defects: Vec::new(),
        stale: Vec::new(),
        breakers: Vec::new(),
        unknown_categories: Vec::new(),
        content: Vec::new(),
        source: Vec::new(),
        lagging: Vec::new(),
    };
    if !settings.healthy
        && let Some(first) = league.seasons.first()
    {
        let mut seeding = Seeding {
            wh: &mut *wh,
            catalog: &catalog,
        };
        inject_defects(&mut seeding, &first.game_dates, &mut manifest)?;
    }
    manifest.defects.sort();
    manifest.content.sort();
    manifest.source.sort();
    manifest.stale.sort();
    manifest.breakers.sort();

    let info = serde_json::to_string(&manifest).map_err(|e| Error::internal(e.to_string()))?;
    wh.run_script("seed_info", SEED_INFO)?;
    wh.execute(
        &Query::new("insert_seed_info", INSERT_SEED_INFO)
            .param("seed", Param::Int(settings.seed as i64))
            .param("seasons", Param::Text(manifest.seasons.join(",")))
            .param("manifest", Param::Text(info))
            .param("created_at", Param::Timestamp(Utc::now().naive_utc())),
    )?;
    wh.run_script("checkpoint", CHECKPOINT)?;
    drop(warehouse);
    Ok(manifest)
}

fn append_player_games(
    wh: &mut dyn Warehouse,
    catalog: &Catalog,
    league: &League,
) -> Result<(), Error> {
    let mut rows = league.rows.iter().map(|r| {
        vec![
            Value::Text(r.game_id.clone()),
            Value::Date(r.game_date),
            Value::Int(r.season_year.into()),
            Value::Text(r.player_lookup.clone()),
            Value::Text(r.team_abbr.clone()),
            Value::Text(r.opponent_team_abbr.clone()),
            Value::Float(r.minutes_played),
            Value::Int(r.points.into()),
            Value::Int(r.paint_attempts.into()),
            Value::Int(r.paint_makes.into()),
            Value::Int(r.mid_range_attempts.into()),
            Value::Int(r.mid_range_makes.into()),
            Value::Int(r.three_pt_attempts.into()),
            Value::Int(r.three_pt_makes.into()),
        ]
    });
    wh.append(&catalog.source.table, &mut rows)?;
    Ok(())
}

/// The warehouse being seeded and the catalog of the processors it is seeded with.
struct Seeding<'a> {
    wh: &'a mut dyn Warehouse,
    catalog: &'a Catalog,
}

impl Seeding<'_> {
    /// A statement of `p`'s table, date and entity columns and code.
    fn on(&self, p: Builtin, q: Query) -> Result<Query, Error> {
        let target = self.catalog.get(self.catalog.find(p.code())?);
        Ok(bind_to(target, q))
    }

    fn execute(&mut self, q: &Query) -> Result<u64, Error> {
        self.wh.execute(q)
    }
}

/// Picks distinct game dates: the first unused game date on or after a day.
struct DatePicker<'a> {
    game_dates: &'a [NaiveDate],
    used: Vec<NaiveDate>,
}

impl DatePicker<'_> {
    fn on_or_after(&mut self, month: u32, day: u32) -> Result<NaiveDate, Error> {
        let first = self
            .game_dates
            .first()
            .copied()
            .ok_or_else(|| Error::usage("a season without games"))?;
        let year = if month >= 7 {
            first.year()
        } else {
            first.year() + 1
        };
        let from = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| Error::usage("bad defect date"))?;
        let date = self
            .game_dates
            .iter()
            .copied()
            .find(|d| *d >= from && !self.used.contains(d))
            .ok_or_else(|| {
                Error::usage(format!(
                    "no game date on or after {from} to put a defect on"
                ))
            })?;
        self.used.push(date);
        Ok(date)
    }

    /// Takes `date` itself, which no other defect may have.
    fn take(&mut self, date: NaiveDate) -> Result<(), Error> {
        if self.used.contains(&date) {
            return Err(Error::internal(format!("{date} has a defect already")));
        }
        self.used.push(date);
        Ok(())
    }
}

fn defect(manifest: &mut Manifest, p: Builtin, date: NaiveDate, kind: &str, what: &str) {
    manifest.defects.push(ManifestDefect {
        processor: p.code().into(),
        date,
        kind: kind.into(),
        what: what.into(),
        caused_by: None,
    });
}

/// A defect `root`'s defect on `date` causes in `p` downstream: MISSING_DEPENDENCY rows.
fn consequence(manifest: &mut Manifest, p: Builtin, date: NaiveDate, what: &str, root: Builtin) {
    manifest.defects.push(ManifestDefect {
        processor: p.code().into(),
        date,
        kind: "failures".into(),
        what: what.into(),
        caused_by: Some(root.code().into()),
    });
}

/// Makes `n` entities of `p` on `date` fail with `category` (rows removed, failure rows
/// written, attempts recorded) and returns their names.
fn fail_entities(
    s: &mut Seeding<'_>,
    p: Builtin,
    date: NaiveDate,
    n: i64,
    category: &str,
    reason: &str,
    attempts: i64,
) -> Result<Vec<String>, Error> {
    let now = Utc::now().naive_utc();
    let bind = |s: &Seeding<'_>, q: Query| -> Result<Query, Error> {
        Ok(s.on(p, q)?
            .param("date", Param::Date(date))
            .param("category", Param::Text(category.into())))
    };
    let fail = bind(
        s,
        Query::new(
            "fail_entities",
            include_str!("../../sql/seed/fail_entities.sql"),
        ),
    )?
    .param("reason", Param::Text(reason.into()))
    .param("created_at", Param::Timestamp(now))
    .param("n", Param::Int(n));
    s.execute(&fail)?;
    let rows = bind(
        s,
        Query::new(
            "fail_entities_rows",
            include_str!("../../sql/seed/fail_entities_rows.sql"),
        ),
    )?;
    s.execute(&rows)?;
    if attempts > 0 {
        let record = bind(
            s,
            Query::new(
                "record_attempts",
                include_str!("../../sql/seed/record_attempts.sql"),
            ),
        )?
        .param("attempts", Param::Int(attempts))
        .param("created_at", Param::Timestamp(now));
        s.execute(&record)?;
    }
    let failed = bind(
        s,
        Query::new(
            "failed_entities",
            include_str!("../../sql/seed/failed_entities.sql"),
        ),
    )?;
    let rows = s.wh.query(&failed)?;
    rows.iter().map(|r| r.text("entity_id")).collect()
}

/// The processor never ran on `date`: no rows, no failure rows.
fn never_ran(s: &mut Seeding<'_>, p: Builtin, date: NaiveDate) -> Result<(), Error> {
    let rows = Query::new(
        "delete_rows",
        include_str!("../../sql/seed/delete_rows.sql"),
    );
    let failures = Query::new(
        "delete_failures",
        include_str!("../../sql/seed/delete_failures.sql"),
    );
    let rows = s.on(p, rows)?.param("date", Param::Date(date));
    let failures = s.on(p, failures)?.param("date", Param::Date(date));
    s.execute(&rows)?;
    s.execute(&failures)?;
    Ok(())
}

fn rerun(s: &mut Seeding<'_>, processors: &[Builtin], date: NaiveDate) -> Result<(), Error> {
    let day = DateRange::day(date).map_err(Error::usage)?;
    for &p in processors {
        run_builtin(s.wh, s.catalog, p, day, None)?;
    }
    Ok(())
}

/// Defects only the content check sees: no count moves (a failure row without an
/// entity adds one failure row, nothing else).
fn inject_content_defects(
    wh: &mut Seeding<'_>,
    pick: &mut DatePicker<'_>,
    manifest: &mut Manifest,
) -> Result<(), Error> {
    use Builtin::*;
    let mut content = |kind: &str, p: Builtin, date, item: Option<&str>, what: &str| {
        manifest.content.push(ManifestContent {
            kind: kind.into(),
            processor: p.code().into(),
            date,
            item: item.map(Into::into),
            what: what.into(),
        })
    };
    let date = pick.on_or_after(1, 5)?;
    let changed = wh.on(
        Psza,
        Query::new(
            "silent_value_change",
            include_str!("../../sql/seed/silent_value_change.sql"),
        ),
    )?;
    wh.execute(&changed.param("date", Param::Date(date)))?;
    content(
        "content_change",
        Psza,
        date,
        None,
        "one PSZA paint_rate halved, counts unchanged",
    );

    let date = pick.on_or_after(1, 12)?;
    let wrong = wh.on(
        Ml,
        Query::new(
            "wrong_feature_count",
            include_str!("../../sql/seed/wrong_feature_count.sql"),
        ),
    )?;
    wh.execute(&wrong.param("date", Param::Date(date)))?;
    content(
        "invariant",
        Ml,
        date,
        Some("features"),
        "an ML row whose feature_count is one more than its features",
    );
    // A changed value too: its fingerprint moves with equal counts.
    content(
        "content_change",
        Ml,
        date,
        None,
        "an ML row's feature_count changed, counts unchanged",
    );

    let date = pick.on_or_after(1, 19)?;
    wh.execute(
        &Query::new(
            "null_key_failure",
            include_str!("../../sql/seed/null_key_failure.sql"),
        )
        .param("code", Param::Text(Pcf.code().into()))
        .param("date", Param::Date(date))
        .param(
            "created_at",
            Param::Timestamp(date.and_hms_opt(12, 0, 0).unwrap_or_default()),
        ),
    )?;
    content(
        "null_keys",
        Pcf,
        date,
        Some("failures"),
        "a PCF failure row without its entity",
    );
    Ok(())
}

/// Defects of the source itself, each followed by a re-run of every processor on its
/// date: Phase 4 then reconciles exactly against a broken source, which only the source
/// checks can see.
fn inject_source_defects(
    wh: &mut Seeding<'_>,
    pick: &mut DatePicker<'_>,
    manifest: &mut Manifest,
) -> Result<(), Error> {
    let date = pick.on_or_after(2, 2)?;
    let game = wh
        .wh
        .query(
            &Query::new("first_game", include_str!("../../sql/seed/first_game.sql"))
                .param("date", Param::Date(date)),
        )?
        .iter()
        .next()
        .map(|r| r.text("game_id"))
        .transpose()?
        .ok_or_else(|| Error::internal(format!("no game on {date} to break")))?;
    wh.execute(
        &Query::new(
            "one_team_game",
            include_str!("../../sql/seed/one_team_game.sql"),
        )
        .param("date", Param::Date(date)),
    )?;
    rerun(wh, &Builtin::ALL, date)?;
    manifest.source.push(ManifestSource {
        kind: "one_team_game".into(),
        date,
        game: Some(game),
        what: "one team's rows of a game never loaded".into(),
    });
    // The other team's players have no TDZA row for their opponent: real failures that
    // a rerun cannot fix (the root names the source's issue that day).
    defect(
        manifest,
        Builtin::Pcf,
        date,
        "failures",
        "MISSING_DEPENDENCY for the players facing the team the source lost",
    );
    for p in [Builtin::Pdc, Builtin::Ml] {
        consequence(
            manifest,
            p,
            date,
            "MISSING_DEPENDENCY on PCF's failures that day",
            Builtin::Pcf,
        );
    }

    let date = pick.on_or_after(2, 9)?;
    wh.execute(
        &Query::new("short_day", include_str!("../../sql/seed/short_day.sql"))
            .param("date", Param::Date(date))
            .param("keep", Param::Int(3)),
    )?;
    rerun(wh, &Builtin::ALL, date)?;
    manifest.source.push(ManifestSource {
        kind: "short_day".into(),
        date,
        game: None,
        what: "every team of the day kept 3 players".into(),
    });
    // TDZA still has a row per team that day, computed from 3 players each: its counts
    // are the healthy seed's, its values are not.
    manifest.content.push(ManifestContent {
        kind: "content_change".into(),
        processor: Builtin::Tdza.code().into(),
        date,
        item: None,
        what: "TDZA's team rows of the short day, from 3 players each".into(),
    });
    Ok(())
}

/// The defects of real backfills, each written into the manifest with the kind the
/// checks must report for every (processor, date) it touches.
fn inject_defects(
    wh: &mut Seeding<'_>,
    game_dates: &[NaiveDate],
    manifest: &mut Manifest,
) -> Result<(), Error> {
    use Builtin::*;
    let mut pick = DatePicker {
        game_dates,
        used: Vec::new(),
    };
    let downstream_of_psza = [Pcf, Pdc, Ml];

    // Duplicated rows: a retried insert wrote some PSZA rows twice.
    let date = pick.on_or_after(11, 3)?;
    let duplicate = wh
        .on(
            Psza,
            Query::new(
                "duplicate_rows",
                include_str!("../../sql/seed/duplicate_rows.sql"),
            ),
        )?
        .param("date", Param::Date(date))
        .param("n", Param::Int(5));
    wh.execute(&duplicate)?;
    defect(
        manifest,
        Psza,
        date,
        "duplicates",
        "5 PSZA rows written twice",
    );

    // A row for a player who had no game that day.
    let date = pick.on_or_after(11, 6)?;
    wh.execute(
        &Query::new(
            "unexpected_row",
            include_str!("../../sql/seed/unexpected_row.sql"),
        )
        .param("date", Param::Date(date)),
    )?;
    defect(
        manifest,
        Pdc,
        date,
        "unexpected",
        "a PDC row for a player without a game that day",
    );

    // A partial date: a third of PCF's rows lost, no failure rows.
    let date = pick.on_or_after(11, 10)?;
    let partial = wh
        .on(
            Pcf,
            Query::new(
                "partial_rows",
                include_str!("../../sql/seed/partial_rows.sql"),
            ),
        )?
        .param("date", Param::Date(date));
    wh.execute(&partial)?;
    defect(manifest, Pcf, date, "partial", "every third PCF row lost");

    // Tripped circuit breakers: 3 PCF entities failed 3 attempts.
    let date = pick.on_or_after(11, 13)?;
    let tripped = fail_entities(
        wh,
        Pcf,
        date,
        3,
        "PROCESSING_ERROR",
        "failed 3 attempts; circuit breaker tripped",
        3,
    )?;
    defect(
        manifest,
        Pcf,
        date,
        "failures",
        "3 PCF entities failed 3 times, breakers tripped",
    );
    for entity in tripped {
        manifest.breakers.push(ManifestBreaker {
            processor: Pcf.code().into(),
            date,
            entity,
        });
    }

    // PROCESSING_ERROR in PSZA, and the MISSING_DEPENDENCY rows it causes downstream
    // (real failures: the upstream row is missing because of a bug, not a skip).
    let date = pick.on_or_after(11, 17)?;
    fail_entities(
        wh,
        Psza,
        date,
        4,
        "PROCESSING_ERROR",
        "ZeroDivisionError in zone rates",
        2,
    )?;
    rerun(wh, &downstream_of_psza, date)?;
    defect(
        manifest,
        Psza,
        date,
        "failures",
        "4 PSZA PROCESSING_ERROR rows",
    );
    for p in downstream_of_psza {
        consequence(
            manifest,
            p,
            date,
            "MISSING_DEPENDENCY caused by PSZA's PROCESSING_ERROR",
            Psza,
        );
    }

    // A failure category the catalog does not know: a real failure, listed by name.
    let date = pick.on_or_after(11, 24)?;
    fail_entities(
        wh,
        Pdc,
        date,
        2,
        "UPSTREAM_TIMEOUT",
        "BigQuery job exceeded 600s",
        1,
    )?;
    defect(
        manifest,
        Pdc,
        date,
        "failures",
        "2 PDC rows failed with unknown category UPSTREAM_TIMEOUT",
    );
    manifest.unknown_categories.push("UPSTREAM_TIMEOUT".into());

    // A stale date: PSZA re-run after its downstream processors.
    let stale_date = pick.on_or_after(11, 27)?;

    // TDZA missing entirely on Dec 4, its downstream run afterwards: PCF, PDC and ML
    // record MISSING_DEPENDENCY for every player, real failures since TDZA has no skips.
    let date = pick.on_or_after(12, 4)?;
    never_ran(wh, Tdza, date)?;
    rerun(wh, &[Pcf, Pdc, Ml], date)?;
    defect(manifest, Tdza, date, "missing", "TDZA never ran");
    for p in [Pcf, Pdc, Ml] {
        consequence(
            manifest,
            p,
            date,
            "MISSING_DEPENDENCY on the missing TDZA rows",
            Tdza,
        );
    }

    // ML never ran on 10 dates of December (the backfill timed out).
    for _ in 0..10 {
        let date = pick.on_or_after(12, 8)?;
        never_ran(wh, Ml, date)?;
        defect(manifest, Ml, date, "missing", "ML never ran (timed out)");
    }

    inject_content_defects(wh, &mut pick, manifest)?;
    inject_source_defects(wh, &mut pick, manifest)?;

    // ML stopped three game dates before the season's end: it lags the source by 3, and
    // each of those dates is missing.
    const LAG: usize = 3;
    for &date in game_dates.iter().rev().take(LAG) {
        pick.take(date)?;
        never_ran(wh, Ml, date)?;
        defect(
            manifest,
            Ml,
            date,
            "missing",
            "ML stopped before the season's end",
        );
    }
    manifest.lagging.push(ManifestLag {
        processor: Ml.code().into(),
        lag: LAG,
        what: "ML has not run on the season's last 3 game dates".into(),
    });

    // Last, so nothing downstream is re-run after it.
    rerun(wh, &[Psza], stale_date)?;
    for p in downstream_of_psza {
        manifest.stale.push(ManifestPair {
            processor: p.code().into(),
            date: stale_date,
            what: "PSZA re-run after it".into(),
        });
    }
    Ok(())
}
