//! The measurements behind the criterion benches and the summary: each function does one
//! piece of measured work on a fresh database file and returns how long it took, so the
//! benches (`benches/*.rs`, through criterion's `iter_custom`) and the summary binary
//! (`src/bin/summary.rs`) measure exactly the same thing.
//!
//! * [`raw`] is the baseline: the minimal SQL of the same work on a minimal schema;
//! * [`pg`] is the same pair on PostgreSQL (the scheduler on a database of a throwaway
//!   server, and its raw baseline on the same server);
//! * [`ours`] drives the scheduler through its public API, end to end;
//! * [`fixture`] fills databases quickly for the figures that need big tables;
//! * [`hosts`] runs hosts as child processes, for the figures across processes;
//! * [`holds`] measures how long large pieces of work hold the write lock;
//! * [`stats`] turns samples into rates and percentiles.

pub mod fixture;
pub mod holds;
pub mod hosts;
pub mod ours;
pub mod pg;
pub mod raw;
pub mod stats;

use std::path::PathBuf;

use tempfile::TempDir;
use time::{OffsetDateTime, macros::datetime};

pub use runloom::Synchronous;

/// Any error of a measurement (scheduler, SQLite, a run that never completed).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The result of a measurement.
pub type Result<T> = std::result::Result<T, BoxError>;

/// A fixed "now" for storage-level figures: ms since the epoch of [`NOW`].
pub const NOW_MS: i64 = 1_767_225_600_000;
/// [`NOW_MS`] as a timestamp.
pub const NOW: OffsetDateTime = datetime!(2026-01-01 00:00 UTC);

/// A temporary directory holding one database file for the scheduler (`bench.db`) and
/// one for the raw baseline (`raw.db`), removed on drop.
#[derive(Debug)]
pub struct BenchDb {
    dir: TempDir,
}

impl BenchDb {
    /// A fresh directory under the system's temp dir (or `$BENCH_TMPDIR` when set, to
    /// measure on a particular disk).
    ///
    /// # Panics
    /// When the directory cannot be created: a bench cannot run without it.
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn new() -> BenchDb {
        let dir = match std::env::var_os("BENCH_TMPDIR") {
            Some(base) => tempfile::tempdir_in(base),
            None => tempfile::tempdir(),
        }
        .expect("creating a temporary directory for the bench databases");
        BenchDb { dir }
    }

    /// The scheduler's database file.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("bench.db")
    }

    /// The raw baseline's database file.
    #[must_use]
    pub fn raw_path(&self) -> PathBuf {
        self.dir.path().join("raw.db")
    }
}

impl Default for BenchDb {
    fn default() -> Self {
        Self::new()
    }
}

/// The name a synchronous mode is printed with.
#[must_use]
pub fn sync_label(sync: Synchronous) -> &'static str {
    match sync {
        Synchronous::Full => "FULL",
        _ => "NORMAL",
    }
}
