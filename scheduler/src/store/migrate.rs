//! The migration runner on SQLite: applies the ordered, reversible SQL files of
//! `sql/migrations/` (embedded in the binary at compile time) and records each in
//! `scheduler_migrations` with the checksum of its file. What to refuse and what to run
//! is decided by the backend-neutral [`Migrator`]; this file reads the history and runs
//! the scripts.
//!
//! Every check that can refuse a database (a checksum mismatch, a newer schema, a name
//! clash, a damaged file) runs before anything is written. Each migration runs in its own
//! IMMEDIATE transaction that also re-reads the history, so two processes opening a new
//! file at once apply each migration exactly once.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, named_params};
use time::OffsetDateTime;

use super::sql;
pub use crate::{
    backend::migrations::{Migration, Migrator},
    model::{Direction, MigrationState, MigrationStatus, MigrationStep},
};
use crate::{
    backend::migrations::{Record, elapsed_ms},
    error::{Error, Result},
    model::time::to_ms,
};

impl Migrator {
    /// The scheduler's own migrations, embedded from `sql/migrations/`.
    #[must_use]
    pub fn embedded() -> Self {
        Migrator::from_embedded(sql::MIGRATIONS)
    }

    /// Every migration with its state in the database. Reads only.
    ///
    /// # Errors
    /// [`Error::SchemaTooNew`] when the history is a newer binary's; database errors.
    pub fn status(&self, conn: &Connection) -> Result<Vec<MigrationStatus>> {
        self.statuses(&snapshot(conn, read_history)?)
    }

    /// The version the database is at (0 for a new database), after checking its whole
    /// history against this binary. Reads only.
    ///
    /// # Errors
    /// Every refusal of [`Migrator::up`]: checksum mismatch, newer schema, inconsistent
    /// history, a name clash with the application's objects.
    pub fn current_version(&self, conn: &Connection) -> Result<u32> {
        self.checked_version(conn)
    }

    /// The steps [`Migrator::up`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`Migrator::up`], without changing anything.
    pub fn plan_up(&self, conn: &Connection, target: Option<u32>) -> Result<Vec<MigrationStep>> {
        self.plan_up_from(self.checked_version(conn)?, target)
    }

    /// The steps [`Migrator::down`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`Migrator::down`], without changing anything.
    pub fn plan_down(&self, conn: &Connection, target: u32) -> Result<Vec<MigrationStep>> {
        self.plan_down_from(self.checked_version(conn)?, target)
    }

    /// Applies pending migrations up to `target` (all when `None`), each in its own
    /// transaction, and returns what ran. A database already at the target is not
    /// written to at all.
    ///
    /// # Errors
    /// Refuses without writing: [`Error::ChecksumMismatch`], [`Error::SchemaTooNew`],
    /// [`Error::MigrationHistory`], [`Error::NameClash`],
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
            let Some(m) = self.get(planned.version) else {
                continue;
            };
            let started = Instant::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql::MIGRATIONS_CREATE_TABLE)?;
            // Another process may have applied it between our plan and our write lock.
            if self.checked_version(&tx)? >= m.version {
                continue;
            }
            tx.execute_batch(&m.up)
                .map_err(|source| Error::MigrationFailed {
                    version: m.version,
                    name: m.name.clone(),
                    source: super::errors::database_error(source),
                })?;
            let duration_ms = elapsed_ms(started);
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
            done.push(m.step(Direction::Up, duration_ms));
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
            let Some(m) = self.get(planned.version) else {
                continue;
            };
            let started = Instant::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current = self.checked_version(&tx)?;
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
            let duration_ms = elapsed_ms(started);
            log::info!("reverted migration {:04} {}", m.version, m.name);
            done.push(m.step(Direction::Down, duration_ms));
        }
        Ok(done)
    }

    /// The checked version, refusing a database that holds an object of one of our
    /// names without our history: an application's own table called `tasks`, or a
    /// schema of ours a human half removed. Every other object is the application's and
    /// stays untouched beside ours.
    fn checked_version(&self, conn: &Connection) -> Result<u32> {
        let (records, clash) = snapshot(conn, |c| {
            let records = read_history(c)?;
            let clash = if records.is_empty() {
                clashing_object(c)?
            } else {
                None
            };
            Ok((records, clash))
        })?;
        if let Some(object) = clash {
            return Err(Error::NameClash { object });
        }
        self.verify(&records)
    }
}

/// Runs `read` on one snapshot: statement by statement, a migration another process
/// commits in between would show its tables without its history (and read as another
/// application's database).
fn snapshot<T>(conn: &Connection, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if !conn.is_autocommit() {
        return read(conn);
    }
    let tx = conn.unchecked_transaction()?;
    let out = read(&tx)?;
    tx.commit()?;
    Ok(out)
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
        out.push(Record {
            version: Record::version_of(version)?,
            checksum,
            applied_at,
            duration_ms,
        });
    }
    Ok(out)
}

fn clashing_object(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .query_row(sql::SCHEMA_CLASHING_OBJECT, [], |r| r.get(0))
        .optional()?)
}
