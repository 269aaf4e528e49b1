//! Resolved settings: the command line, the environment and `phase4.toml` become typed
//! settings before any work runs (flag > environment > file > default), each command's
//! in its own type, resolved and tested without clap's parser. Every default lives in
//! [`defaults`].

mod checks;
pub mod defaults;
mod embedded;
mod environment;
mod global;
mod provenance;
mod repair;
pub mod values;

pub use checks::{ExplainSettings, GapsSettings, GateSettings, HeatmapSettings, ReportSettings};
pub use embedded::{DemoSettings, ProcessSettings, SeedSettings};
pub use environment::Environment;
pub use global::{GlobalSettings, catalog_path, config_path};
pub use provenance::{Effective, effective};
pub use repair::{CheckpointSettings, CheckpointTask, RepairSettings};
