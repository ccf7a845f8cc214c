//! An embedded, synchronous job scheduler on one SQLite file.
//!
//! Jobs, schedules, leases, workers and history live in one SQLite database that the
//! host binary opens itself: no server to run. Several threads, and several processes
//! sharing the file, cooperate through row leases with fencing tokens.
//!
//! This release contains the foundation: the schema and its migration runner, and the
//! [`store`] layer that every part of the runtime is built on.
//!
//! ```
//! use scheduler::store::{NewRun, Store, StoreOptions};
//! use scheduler::{Clock, SystemClock};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(StoreOptions::file(dir.path().join("jobs.db")))?;
//! let now = SystemClock.now();
//! let run = store.write(|tx| tx.insert_run(&NewRun::new("send_email", "{}", now), now))?;
//! assert!(run.created);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod clock;
pub mod error;
pub mod store;

pub use crate::{
    clock::{Clock, ManualClock, SystemClock},
    error::{Error, Result},
};

/// The README's Rust snippets, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
