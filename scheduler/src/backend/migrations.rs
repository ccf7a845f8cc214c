//! Schema migrations, whatever the database: the ordered list of reversible scripts, their
//! checksums, and the checks and plans over a database's recorded history. Each backend
//! reads its history (in one snapshot) and runs the scripts in its own transactions; the
//! decisions (what to refuse, what to run, in which order) are made here, once, so both
//! backends refuse and plan alike.
// Public to this workspace's tests through the `internals` feature only.
#![cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]

use sha2::{Digest, Sha256};

use crate::{
    error::{Error, Result},
    model::{Direction, MigrationState, MigrationStatus, MigrationStep, time::from_ms},
};

/// One reversible schema change: the SQL to apply it and the SQL to revert it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    pub(crate) version: u32,
    pub(crate) name: String,
    pub(crate) up: String,
    pub(crate) down: String,
}

impl Migration {
    /// A migration with its version (1 for the first), name, and the SQL scripts that
    /// apply and revert it.
    #[must_use]
    pub fn new(
        version: u32,
        name: impl Into<String>,
        up: impl Into<String>,
        down: impl Into<String>,
    ) -> Self {
        Migration {
            version,
            name: name.into(),
            up: up.into(),
            down: down.into(),
        }
    }

    /// Its version.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Its name, e.g. `initial_schema`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SQL that applies it.
    #[must_use]
    pub fn up_sql(&self) -> &str {
        &self.up
    }

    /// The SQL that reverts it.
    #[must_use]
    pub fn down_sql(&self) -> &str {
        &self.down
    }

    /// The SHA-256 of the up script, as lowercase hex: what is recorded when the
    /// migration is applied and compared at every open.
    #[must_use]
    pub fn checksum(&self) -> String {
        let digest = Sha256::digest(self.up.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            use std::fmt::Write;
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }

    /// This migration as a step taken in `direction`, which took `duration_ms`.
    pub(crate) fn step(&self, direction: Direction, duration_ms: i64) -> MigrationStep {
        MigrationStep {
            version: self.version,
            name: self.name.clone(),
            direction,
            duration_ms,
        }
    }
}

/// One migration embedded in the binary: its version, name and both scripts.
#[derive(Debug)]
pub(crate) struct EmbeddedMigration {
    pub(crate) version: u32,
    pub(crate) name: &'static str,
    pub(crate) up: &'static str,
    pub(crate) down: &'static str,
}

/// `const $list: &[EmbeddedMigration]` from the files `sql/$folder/NNNN_name.up.sql`
/// and `.down.sql`, embedded at compile time: each backend lists its own folder.
macro_rules! embedded_migrations {
    ($list:ident, $folder:literal; $($version:literal $file:literal $name:literal,)*) => {
        #[doc = concat!("The migrations of `sql/", $folder, "/`, in order.")]
        pub(crate) const $list: &[$crate::backend::migrations::EmbeddedMigration] = &[$(
            $crate::backend::migrations::EmbeddedMigration {
                version: $version,
                name: $name,
                up: include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"), "/sql/", $folder, "/", $file, "_", $name,
                    ".up.sql"
                )),
                down: include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"), "/sql/", $folder, "/", $file, "_", $name,
                    ".down.sql"
                )),
            },
        )*];
    };
}
pub(crate) use embedded_migrations;

/// Milliseconds since `started`, as recorded in the history.
pub(crate) fn elapsed_ms(started: std::time::Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// One row of a database's migration history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) version: u32,
    pub(crate) checksum: String,
    pub(crate) applied_at: i64,
    pub(crate) duration_ms: i64,
}

impl Record {
    /// A recorded version as read from the database, refusing one that is no version.
    pub(crate) fn version_of(stored: i64) -> Result<u32> {
        u32::try_from(stored).map_err(|_| Error::MigrationHistory {
            version: 0,
            detail: format!("recorded version {stored} is not a migration version"),
        })
    }
}

/// An ordered list of migrations and the operations over it. The backends add the
/// operations on a database (`status`, `up`, `down` and their dry runs).
#[derive(Clone, Debug)]
pub struct Migrator {
    migrations: Vec<Migration>,
}

impl Migrator {
    /// A custom list, for testing the runner and for tools. Versions must start at 1 and
    /// increase by one.
    ///
    /// # Errors
    /// [`Error::InvalidMigrations`] when the versions are not 1, 2, 3, …
    pub fn new(migrations: Vec<Migration>) -> Result<Self> {
        for (i, m) in migrations.iter().enumerate() {
            let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if m.version != expected {
                return Err(Error::InvalidMigrations(format!(
                    "migration {:?} has version {}, expected {expected}",
                    m.name, m.version
                )));
            }
        }
        Ok(Migrator { migrations })
    }

    /// A backend's embedded list (numbered from 1 by construction).
    pub(crate) fn from_embedded(list: &[EmbeddedMigration]) -> Self {
        Migrator {
            migrations: list
                .iter()
                .map(|m| Migration::new(m.version, m.name, m.up, m.down))
                .collect(),
        }
    }

    /// The migrations, in order.
    #[must_use]
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// The highest version this migrator knows (0 when empty).
    #[must_use]
    pub fn latest_version(&self) -> u32 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    pub(crate) fn get(&self, version: u32) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.version == version)
    }

    /// Every migration with its state in `records`, refusing only a newer schema (a
    /// status report shows mismatches rather than refusing them).
    pub(crate) fn statuses(&self, records: &[Record]) -> Result<Vec<MigrationStatus>> {
        self.refuse_newer(records)?;
        let mut out = Vec::with_capacity(self.migrations.len());
        for m in &self.migrations {
            let checksum = m.checksum();
            let state = match records.iter().find(|r| r.version == m.version) {
                None => MigrationState::Pending,
                Some(r) if r.checksum != checksum => MigrationState::ChecksumMismatch {
                    recorded: r.checksum.clone(),
                },
                Some(r) => MigrationState::Applied {
                    applied_at: from_ms(r.applied_at)?,
                    duration_ms: r.duration_ms,
                },
            };
            out.push(MigrationStatus {
                version: m.version,
                name: m.name.clone(),
                checksum,
                state,
            });
        }
        Ok(out)
    }

    /// The version `records` leave the database at, after checking the whole history
    /// against this binary: no newer version, no gap, no unknown version, no changed
    /// script.
    pub(crate) fn verify(&self, records: &[Record]) -> Result<u32> {
        self.refuse_newer(records)?;
        let mut current = 0;
        for (i, r) in records.iter().enumerate() {
            let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if r.version != expected {
                return Err(Error::MigrationHistory {
                    version: r.version,
                    detail: format!("version {expected} is missing before it"),
                });
            }
            let Some(m) = self.get(r.version) else {
                return Err(Error::MigrationHistory {
                    version: r.version,
                    detail: "this binary does not know it".into(),
                });
            };
            let checksum = m.checksum();
            if checksum != r.checksum {
                return Err(Error::ChecksumMismatch {
                    version: m.version,
                    name: m.name.clone(),
                    expected: checksum,
                    found: r.checksum.clone(),
                });
            }
            current = r.version;
        }
        Ok(current)
    }

    fn refuse_newer(&self, records: &[Record]) -> Result<()> {
        let latest = self.latest_version();
        match records.iter().map(|r| r.version).max() {
            Some(max) if max > latest => Err(Error::SchemaTooNew {
                database: max,
                binary: latest,
            }),
            _ => Ok(()),
        }
    }

    /// What `up` runs from `current` to `target` (all when `None`), in order.
    pub(crate) fn plan_up_from(
        &self,
        current: u32,
        target: Option<u32>,
    ) -> Result<Vec<MigrationStep>> {
        let latest = self.latest_version();
        let target = match target {
            None => latest,
            Some(t) if t > latest => {
                return Err(Error::InvalidMigrationTarget {
                    target: t,
                    reason: format!("this binary knows migrations up to {latest}"),
                });
            }
            Some(t) if t < current => {
                return Err(Error::InvalidMigrationTarget {
                    target: t,
                    reason: format!("the database is already at {current}; use down to revert"),
                });
            }
            Some(t) => t,
        };
        Ok(self
            .migrations
            .iter()
            .filter(|m| m.version > current && m.version <= target)
            .map(|m| m.step(Direction::Up, 0))
            .collect())
    }

    /// What `down` runs from `current` to `target`, newest first.
    pub(crate) fn plan_down_from(&self, current: u32, target: u32) -> Result<Vec<MigrationStep>> {
        if target > current {
            return Err(Error::InvalidMigrationTarget {
                target,
                reason: format!("the database is at {current}; use up to apply"),
            });
        }
        Ok(self
            .migrations
            .iter()
            .rev()
            .filter(|m| m.version > target && m.version <= current)
            .map(|m| m.step(Direction::Down, 0))
            .collect())
    }
}
