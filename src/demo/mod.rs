//! The synthetic warehouse: a generated season and the built-in reference processors.

pub mod season;
