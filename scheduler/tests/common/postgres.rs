//! The throwaway PostgreSQL cluster of the tests (the workspace's `runloom-testkit`,
//! shared with the benches).
pub use runloom_testkit::postgres::*;
