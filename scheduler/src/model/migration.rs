//! Schema migrations as operators see them: which are applied, and the steps an
//! upgrade or a downgrade runs (or would run, in a dry run). Every backend reports its
//! own numbered migrations in these terms.

use time::OffsetDateTime;

/// Whether a migration is applied to a database.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationState {
    /// Applied, with the same checksum as this binary's file.
    Applied {
        /// When it was applied.
        applied_at: OffsetDateTime,
        /// How long it took, in milliseconds.
        duration_ms: i64,
    },
    /// Applied, but the file changed since: the database will be refused.
    ChecksumMismatch {
        /// The checksum recorded when it was applied.
        recorded: String,
    },
    /// Not applied yet.
    Pending,
}

/// One migration of this binary and its state in a database.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The migration's version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// The checksum of this binary's file.
    pub checksum: String,
    /// Its state in the database.
    pub state: MigrationState,
}

/// Which way a step goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Applying (the up script).
    Up,
    /// Reverting (the down script).
    Down,
}

/// One step that a migration up or down ran, or that a dry run would run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStep {
    /// The migration's version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// Which way.
    pub direction: Direction,
    /// How long it took (0 in a dry run).
    pub duration_ms: i64,
}
