//! The migration runner on PostgreSQL: the files of `sql/postgres/migrations/`,
//! recorded in `scheduler_migrations` with their checksums, checked and planned by the
//! backend-neutral [`Migrator`] exactly as on SQLite.
//!
//! PostgreSQL's DDL is transactional, so each migration and its history row commit
//! together or not at all. Hosts starting at once serialise on an advisory lock held
//! for the migration's transaction, and each re-reads the history under it, so every
//! migration is applied once. The tables live beside the application's: a database is
//! refused only when it already holds an object of ours that no history records.

use std::time::Instant;

use postgres::{Client, GenericClient};
use time::OffsetDateTime;

use super::{errors::database_error, sql};
use crate::{
    backend::migrations::{Migrator, Record, elapsed_ms},
    error::{Error, Result},
    model::{Direction, MigrationStatus, MigrationStep, time::to_ms},
};

/// The migrations of a PostgreSQL database, and the operations on them.
#[derive(Clone, Debug)]
pub struct PgMigrator {
    migrator: Migrator,
}

impl PgMigrator {
    /// The scheduler's own migrations, embedded from `sql/postgres/migrations/`.
    #[must_use]
    pub fn embedded() -> Self {
        PgMigrator {
            migrator: Migrator::from_embedded(sql::MIGRATIONS),
        }
    }

    /// A custom list (for testing the runner).
    #[cfg(feature = "internals")]
    #[must_use]
    pub fn new(migrator: Migrator) -> Self {
        PgMigrator { migrator }
    }

    /// The list and its checks.
    #[cfg(feature = "internals")]
    #[must_use]
    pub fn migrator(&self) -> &Migrator {
        &self.migrator
    }

    /// The highest version of the list.
    pub(crate) fn latest_version(&self) -> u32 {
        self.migrator.latest_version()
    }

    /// Every migration with its state in the database. Reads only.
    ///
    /// # Errors
    /// [`Error::SchemaTooNew`] when the history is a newer binary's; database errors.
    pub fn status(&self, client: &mut Client) -> Result<Vec<MigrationStatus>> {
        let records = snapshot(client, |tx| read_history(tx))?;
        self.migrator.statuses(&records)
    }

    /// The version the database is at (0 for one without our tables), after checking
    /// its whole history. Reads only.
    ///
    /// # Errors
    /// Every refusal of [`PgMigrator::up`].
    pub fn current_version(&self, client: &mut Client) -> Result<u32> {
        snapshot(client, |tx| self.checked_version(tx))
    }

    /// The steps [`PgMigrator::up`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`PgMigrator::up`], without changing anything.
    pub fn plan_up(&self, client: &mut Client, target: Option<u32>) -> Result<Vec<MigrationStep>> {
        let current = self.current_version(client)?;
        self.migrator.plan_up_from(current, target)
    }

    /// The steps [`PgMigrator::down`] would run, without running them (a dry run).
    ///
    /// # Errors
    /// As [`PgMigrator::down`], without changing anything.
    pub fn plan_down(&self, client: &mut Client, target: u32) -> Result<Vec<MigrationStep>> {
        let current = self.current_version(client)?;
        self.migrator.plan_down_from(current, target)
    }

    /// Applies pending migrations up to `target` (all when `None`), each in its own
    /// transaction with its history row, and returns what ran. A database already at
    /// the target is not written to.
    ///
    /// # Errors
    /// Refuses without writing: [`Error::ChecksumMismatch`], [`Error::SchemaTooNew`],
    /// [`Error::MigrationHistory`], [`Error::NameClash`],
    /// [`Error::InvalidMigrationTarget`]. A failing script gives
    /// [`Error::MigrationFailed`]; its transaction is rolled back and the migrations
    /// before it stay applied.
    pub fn up(
        &self,
        client: &mut Client,
        target: Option<u32>,
        now: OffsetDateTime,
    ) -> Result<Vec<MigrationStep>> {
        let plan = self.plan_up(client, target)?;
        let mut done = Vec::with_capacity(plan.len());
        for planned in plan {
            let Some(m) = self.migrator.get(planned.version) else {
                continue;
            };
            let started = Instant::now();
            let mut tx = client.transaction()?;
            tx.execute(sql::MIGRATIONS_LOCK, &[])?;
            // Another host may have applied it between our plan and our lock.
            if self.checked_version(&mut tx)? >= m.version {
                continue;
            }
            tx.batch_execute(sql::MIGRATIONS_CREATE_TABLE)?;
            tx.batch_execute(&m.up)
                .map_err(|source| Error::MigrationFailed {
                    version: m.version,
                    name: m.name.clone(),
                    source: database_error(source),
                })?;
            let duration_ms = elapsed_ms(started);
            let version = i32::try_from(m.version).unwrap_or(i32::MAX);
            tx.execute(
                sql::MIGRATIONS_INSERT,
                &[&version, &m.name, &m.checksum(), &to_ms(now), &duration_ms],
            )?;
            tx.commit()?;
            log::info!("applied PostgreSQL migration {:04} {}", m.version, m.name);
            done.push(m.step(Direction::Up, duration_ms));
        }
        Ok(done)
    }

    /// Reverts applied migrations down to `target` (0 reverts all), newest first, each
    /// in its own transaction.
    ///
    /// # Errors
    /// As [`PgMigrator::up`]; a failing down script is rolled back and leaves the
    /// database at the version before it.
    pub fn down(&self, client: &mut Client, target: u32) -> Result<Vec<MigrationStep>> {
        let plan = self.plan_down(client, target)?;
        let mut done = Vec::with_capacity(plan.len());
        for planned in plan {
            let Some(m) = self.migrator.get(planned.version) else {
                continue;
            };
            let started = Instant::now();
            let mut tx = client.transaction()?;
            tx.execute(sql::MIGRATIONS_LOCK, &[])?;
            let current = self.checked_version(&mut tx)?;
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
            tx.batch_execute(&m.down)
                .map_err(|source| Error::MigrationFailed {
                    version: m.version,
                    name: m.name.clone(),
                    source: database_error(source),
                })?;
            let version = i32::try_from(m.version).unwrap_or(i32::MAX);
            tx.execute(sql::MIGRATIONS_DELETE, &[&version])?;
            tx.commit()?;
            let duration_ms = elapsed_ms(started);
            log::info!("reverted PostgreSQL migration {:04} {}", m.version, m.name);
            done.push(m.step(Direction::Down, duration_ms));
        }
        Ok(done)
    }

    /// The checked version, refusing a database that holds one of our objects without
    /// our history (an application's own table of the same name, or a half-removed
    /// schedule of ours that a human must look at).
    fn checked_version(&self, tx: &mut impl GenericClient) -> Result<u32> {
        let records = read_history(tx)?;
        if records.is_empty() {
            if let Some(row) = tx.query_opt(sql::SCHEMA_CLASHING_OBJECT, &[])? {
                return Err(Error::NameClash {
                    object: row.try_get("name")?,
                });
            }
        }
        self.migrator.verify(&records)
    }
}

/// Runs `read` in a read-only transaction under the migrations' shared lock: no
/// migration commits while it reads, so one another host is applying is seen whole or
/// not at all.
fn snapshot<T>(
    client: &mut Client,
    read: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let mut tx = client.build_transaction().read_only(true).start()?;
    tx.execute(sql::MIGRATIONS_LOCK_SHARED, &[])?;
    let out = read(&mut tx)?;
    tx.commit()?;
    Ok(out)
}

fn read_history(tx: &mut impl GenericClient) -> Result<Vec<Record>> {
    let present: bool = tx
        .query_one(sql::MIGRATIONS_TABLE_EXISTS, &[])?
        .try_get(0)?;
    if !present {
        return Ok(Vec::new());
    }
    tx.query(sql::MIGRATIONS_LIST, &[])?
        .iter()
        .map(|row| {
            Ok(Record {
                version: Record::version_of(row.try_get("version")?)?,
                checksum: row.try_get("checksum")?,
                applied_at: row.try_get("applied_at")?,
                duration_ms: row.try_get("duration_ms")?,
            })
        })
        .collect()
}
