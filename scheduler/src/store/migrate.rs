//! The migration runner: applies the ordered, reversible SQL files of `sql/migrations/`
//! (embedded in the binary at compile time) and records each in `scheduler_migrations`
//! with the checksum of its file.
//!
//! Every check that can refuse a database (a checksum mismatch, a newer schema, a foreign
//! or damaged file) runs before anything is written. Each migration runs in its own
//! IMMEDIATE transaction that also re-reads the history, so two processes opening a new
//! file at once apply each migration exactly once.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, named_params};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::sql;
pub use crate::model::{Direction, MigrationState, MigrationStatus, MigrationStep};
use crate::{
    error::{Error, Result},
    model::time::to_ms,
};

/// One reversible schema change: the SQL to apply it and the SQL to revert it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    version: u32,
    name: String,
    up: String,
    down: String,
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
}

/// What a database's migration history says, once checked against this binary.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verified {
    /// Versions applied, in order (a prefix of the known list).
    applied: Vec<u32>,
}

/// An ordered list of migrations and the operations over it.
#[derive(Clone, Debug)]
pub struct Migrator {
    migrations: Vec<Migration>,
}

impl Migrator {
    /// The scheduler's own migrations, embedded from `sql/migrations/`.
    #[must_use]
    pub fn embedded() -> Self {
        Migrator {
            migrations: sql::MIGRATIONS
                .iter()
                .map(|m| Migration::new(m.version, m.name, m.up, m.down))
                .collect(),
        }
    }

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

    /// Every migration with its state in the database. Reads only.
    ///
    /// # Errors
    /// [`Error::ForeignDatabase`] or [`Error::SchemaTooNew`] when the history cannot be
    /// read as this binary's; database errors.
    pub fn status(&self, conn: &Connection) -> Result<Vec<MigrationStatus>> {
        let records = read_history(conn)?;
        if let Some(max) = records.iter().map(|r| r.version).max() {
            if max > self.latest_version() {
                return Err(Error::SchemaTooNew {
                    database: max,
                    binary: self.latest_version(),
                });
            }
        }
        let mut out = Vec::with_capacity(self.migrations.len());
        for m in &self.migrations {
            let checksum = m.checksum();
            let state = match records.iter().find(|r| r.version == m.version) {
                None => MigrationState::Pending,
                Some(r) if r.checksum != checksum => MigrationState::ChecksumMismatch {
                    recorded: r.checksum.clone(),
                },
                Some(r) => MigrationState::Applied {
                    applied_at: crate::model::time::from_ms(r.applied_at)?,
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

    /// The version the database is at (0 for a new database), after checking its whole
    /// history against this binary. Reads only.
    ///
    /// # Errors
    /// Every refusal of [`Migrator::up`]: checksum mismatch, newer schema, inconsistent
    /// history, foreign database.
    pub fn current_version(&self, conn: &Connection) -> Result<u32> {
        Ok(self.verify(conn)?.applied.last().copied().unwrap_or(0))
    }

    /// The steps [`Migrator::up`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`Migrator::up`], without changing anything.
    pub fn plan_up(&self, conn: &Connection, target: Option<u32>) -> Result<Vec<MigrationStep>> {
        let verified = self.verify(conn)?;
        let current = verified.applied.last().copied().unwrap_or(0);
        let target = self.up_target(current, target)?;
        Ok(self
            .migrations
            .iter()
            .filter(|m| m.version > current && m.version <= target)
            .map(|m| step(m, Direction::Up, 0))
            .collect())
    }

    /// The steps [`Migrator::down`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`Migrator::down`], without changing anything.
    pub fn plan_down(&self, conn: &Connection, target: u32) -> Result<Vec<MigrationStep>> {
        let verified = self.verify(conn)?;
        let current = verified.applied.last().copied().unwrap_or(0);
        self.down_target(current, target)?;
        Ok(self
            .migrations
            .iter()
            .rev()
            .filter(|m| m.version > target && m.version <= current)
            .map(|m| step(m, Direction::Down, 0))
            .collect())
    }

    /// Applies pending migrations up to `target` (all when `None`), each in its own
    /// transaction, and returns what ran. A database already at the target is not
    /// written to at all.
    ///
    /// # Errors
    /// Refuses without writing: [`Error::ChecksumMismatch`], [`Error::SchemaTooNew`],
    /// [`Error::MigrationHistory`], [`Error::ForeignDatabase`],
    /// [`Error::InvalidMigrationTarget`]. A failing script gives
    /// [`Error::MigrationFailed`]; its transaction is rolled back and the migrations
    /// before it stay applied.
    pub fn up(
        &self,
        conn: &mut Connection,
        target: Option<u32>,
        now: OffsetDateTime,
    ) -> Result<Vec<MigrationStep>> {
        let plan = self.plan_up(conn, target)?;
        let mut done = Vec::with_capacity(plan.len());
        for planned in plan {
            let Some(m) = self
                .migrations
                .iter()
                .find(|m| m.version == planned.version)
            else {
                continue;
            };
            let started = Instant::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql::MIGRATIONS_CREATE_TABLE)?;
            // Another process may have applied it between our plan and our write lock.
            let current = self.verify(&tx)?.applied.last().copied().unwrap_or(0);
            if current >= m.version {
                continue;
            }
            tx.execute_batch(&m.up)
                .map_err(|source| Error::MigrationFailed {
                    version: m.version,
                    name: m.name.clone(),
                    source: super::errors::database_error(source),
                })?;
            let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            tx.execute(
                sql::MIGRATIONS_INSERT,
                named_params! {
                    ":version": m.version,
                    ":name": m.name,
                    ":checksum": m.checksum(),
                    ":applied_at": to_ms(now),
                    ":duration_ms": duration_ms,
                },
            )?;
            tx.commit()?;
            log::info!("applied migration {:04} {}", m.version, m.name);
            done.push(step(m, Direction::Up, duration_ms));
        }
        Ok(done)
    }

    /// Reverts applied migrations down to `target` (0 reverts all), newest first, each
    /// in its own transaction, running their down scripts.
    ///
    /// # Errors
    /// As [`Migrator::up`]; a failing down script is rolled back and leaves the database
    /// at the version before it.
    pub fn down(&self, conn: &mut Connection, target: u32) -> Result<Vec<MigrationStep>> {
        let plan = self.plan_down(conn, target)?;
        let mut done = Vec::with_capacity(plan.len());
        for planned in plan {
            let Some(m) = self
                .migrations
                .iter()
                .find(|m| m.version == planned.version)
            else {
                continue;
            };
            let started = Instant::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = self.verify(&tx)?.applied.last().copied().unwrap_or(0);
            if current != m.version {
                // Someone else moved the database meanwhile; stop rather than guess.
                return Err(Error::MigrationHistory {
                    version: m.version,
                    detail: format!(
                        "expected the database at version {} but it is at {current}",
                        m.version
                    ),
                });
            }
            tx.execute_batch(&m.down)
                .map_err(|source| Error::MigrationFailed {
                    version: m.version,
                    name: m.name.clone(),
                    source: super::errors::database_error(source),
                })?;
            tx.execute(
                sql::MIGRATIONS_DELETE,
                named_params! { ":version": m.version },
            )?;
            tx.commit()?;
            let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            log::info!("reverted migration {:04} {}", m.version, m.name);
            done.push(step(m, Direction::Down, duration_ms));
        }
        Ok(done)
    }

    fn up_target(&self, current: u32, target: Option<u32>) -> Result<u32> {
        let latest = self.latest_version();
        match target {
            None => Ok(latest),
            Some(t) if t > latest => Err(Error::InvalidMigrationTarget {
                target: t,
                reason: format!("this binary knows migrations up to {latest}"),
            }),
            Some(t) if t < current => Err(Error::InvalidMigrationTarget {
                target: t,
                reason: format!("the database is already at {current}; use down to revert"),
            }),
            Some(t) => Ok(t),
        }
    }

    fn down_target(&self, current: u32, target: u32) -> Result<()> {
        if target > current {
            return Err(Error::InvalidMigrationTarget {
                target,
                reason: format!("the database is at {current}; use up to apply"),
            });
        }
        Ok(())
    }

    /// Checks the recorded history against this binary. Reads only, from one snapshot:
    /// read statement by statement, a migration another process commits in between
    /// would show its tables without its history (and read as another application's
    /// database).
    fn verify(&self, conn: &Connection) -> Result<Verified> {
        if !conn.is_autocommit() {
            return self.verify_snapshot(conn);
        }
        let tx = conn.unchecked_transaction()?;
        let verified = self.verify_snapshot(&tx)?;
        tx.commit()?;
        Ok(verified)
    }

    fn verify_snapshot(&self, conn: &Connection) -> Result<Verified> {
        let records = read_history(conn)?;
        if records.is_empty() && has_foreign_objects(conn)? {
            return Err(Error::ForeignDatabase(db_path(conn)));
        }
        let latest = self.latest_version();
        if let Some(max) = records.iter().map(|r| r.version).max() {
            if max > latest {
                return Err(Error::SchemaTooNew {
                    database: max,
                    binary: latest,
                });
            }
        }
        let mut applied = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            let expected = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if r.version != expected {
                return Err(Error::MigrationHistory {
                    version: r.version,
                    detail: format!("version {expected} is missing before it"),
                });
            }
            let Some(m) = self.migrations.iter().find(|m| m.version == r.version) else {
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
            applied.push(r.version);
        }
        Ok(Verified { applied })
    }
}

fn step(m: &Migration, direction: Direction, duration_ms: i64) -> MigrationStep {
    MigrationStep {
        version: m.version,
        name: m.name.clone(),
        direction,
        duration_ms,
    }
}

struct Record {
    version: u32,
    checksum: String,
    applied_at: i64,
    duration_ms: i64,
}

fn read_history(conn: &Connection) -> Result<Vec<Record>> {
    let exists: Option<i64> = conn
        .query_row(sql::MIGRATIONS_TABLE_EXISTS, [], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(sql::MIGRATIONS_LIST)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>("version")?,
            r.get::<_, String>("checksum")?,
            r.get::<_, i64>("applied_at")?,
            r.get::<_, i64>("duration_ms")?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (version, checksum, applied_at, duration_ms) = row?;
        let version = u32::try_from(version).map_err(|_| Error::MigrationHistory {
            version: 0,
            detail: format!("recorded version {version} is not a migration version"),
        })?;
        out.push(Record {
            version,
            checksum,
            applied_at,
            duration_ms,
        });
    }
    Ok(out)
}

fn has_foreign_objects(conn: &Connection) -> Result<bool> {
    let n: i64 = conn.query_row(sql::SCHEMA_COUNT_USER_OBJECTS, [], |r| r.get(0))?;
    Ok(n > 0)
}

fn db_path(conn: &Connection) -> std::path::PathBuf {
    conn.path()
        .filter(|p| !p.is_empty())
        .map_or_else(|| "(in-memory database)".into(), Into::into)
}
