//! The synthetic warehouse: a generated league, the built-in reference processors,
//! and the seed that puts them together with known defects.

pub mod processors;
pub mod season;
pub mod seed;
