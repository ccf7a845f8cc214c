//! Procedural macros of the `scheduler` crate.
//!
//! `#[derive(Job)]` lands here with the jobs-in-code work; until then this crate only
//! reserves its place in the workspace so that the facade can pin it with `=`.
