//! `seed`: what was built, or its manifest as JSON.

use std::path::Path;
use std::time::Duration;

use super::{SummaryFormat, to_json};
use crate::demo::seed::Manifest;

pub fn render_seed(
    path: &Path,
    manifest: &Manifest,
    took: Duration,
    format: SummaryFormat,
) -> String {
    match format {
        SummaryFormat::Json => to_json(manifest),
        SummaryFormat::Text => format!(
            "Seeded {} with {} ({} player-game rows, {} game dates, seed {}) in {:.1}s: {} defective pairs, {} stale, {} tripped breakers, {} content and {} source defects, {} lagging{}.\n",
            path.display(),
            manifest.seasons.join(", "),
            manifest.player_game_rows,
            manifest.game_dates,
            manifest.seed,
            took.as_secs_f64(),
            manifest.defects.len(),
            manifest.stale.len(),
            manifest.breakers.len(),
            manifest.content.len(),
            manifest.source.len(),
            manifest.lagging.len(),
            if manifest.healthy { " (healthy)" } else { "" },
        ),
    }
}
