//! The repair runner: schedule, processes, checkpoint, progress.

pub mod checkpoint;
pub mod process;
pub mod progress;
pub mod repair;
pub mod schedule;
