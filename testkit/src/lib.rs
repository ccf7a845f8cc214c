//! What the workspace's tests (`scheduler/tests/`) and benches (`benches/`) share, and
//! the library must not ship: [`postgres`], a throwaway PostgreSQL server started from
//! the installed binaries.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod postgres;
