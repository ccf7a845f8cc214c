//! The behavioural suite (`tests/behaviour/`) on SQLite: a fresh database file in a
//! temporary folder for each test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[macro_use]
#[path = "behaviour/suite.rs"]
mod suite;

suite!(sqlite => Some(crate::common::backend::Sqlite::new()));
