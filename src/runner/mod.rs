//! The repair runner: `repair` (pre-flight and the run), `schedule` (the DAG and its
//! dispatcher), `executor` (one unit), `process` (one supervised invocation), `verify`
//! (the re-count), `checkpoint`, `events`, `progress`.

pub mod checkpoint;
pub mod events;
pub mod executor;
pub mod lease;
pub mod logs;
pub mod process;
pub mod progress;
pub mod repair;
pub mod schedule;
pub mod verify;
