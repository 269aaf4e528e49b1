//! The repair runner: schedule, processes, checkpoint.

pub mod checkpoint;
pub mod process;
