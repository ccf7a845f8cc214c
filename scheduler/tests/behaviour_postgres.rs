//! The behavioural suite (`tests/behaviour/`) on PostgreSQL: a fresh database on this
//! binary's throwaway cluster (`tests/common/postgres.rs`) for each test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[macro_use]
#[path = "behaviour/suite.rs"]
mod suite;

suite!(postgres => crate::common::backend::Postgres::new());
