//! The PostgreSQL backend, for several hosts on one database. Under construction: so far
//! the connection pool and the schema's migrations (`sql/postgres/`), which the
//! backend-neutral [`Migrator`](crate::backend::migrations::Migrator) checks and plans as
//! it does SQLite's. The storage interface's operations follow; until they do, nothing
//! here is part of the API.
//!
//! Time is stored as on SQLite, `bigint` milliseconds since the Unix epoch, so the model,
//! the views' meaning and the archive are one across backends.

mod errors;
mod migrate;
mod sql;

use std::{str::FromStr, time::Duration};

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

pub use self::migrate::PgMigrator;
use crate::{
    clock::{Clock, SystemClock},
    error::{Error, Result},
    model::{MigrationStatus, MigrationStep},
};

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// A pooled connection.
pub type PgConnection = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// How to reach a PostgreSQL database (the options pattern of
/// [`StoreOptions`](crate::store::StoreOptions): private fields, a constructor with the
/// defaults, a setter each).
#[derive(Clone, Debug)]
pub struct PgOptions {
    url: String,
    max_connections: u32,
    connect_timeout: Duration,
    migrate: bool,
}

impl PgOptions {
    /// The database at `url`, with 8 connections, a 5 s connect timeout and migrations
    /// at open.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        PgOptions {
            url: url.into(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            migrate: true,
        }
    }

    /// Applies pending migrations at open (`true`, the default), or refuses a schema
    /// that is behind.
    #[must_use]
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// The most connections the pool holds (at least 1).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long a caller waits for a connection (and the pool for the server) before a
    /// database error of kind `Unavailable`.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// A PostgreSQL database with the scheduler's schema: a pool and its migrations.
#[derive(Debug)]
pub struct PgStore {
    pool: Pool,
    migrator: PgMigrator,
}

impl PgStore {
    /// Connects to the database and brings its schema up to date (unless told not to).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a malformed URL or pool size; a database error of
    /// kind `Unavailable` when the server cannot be reached in time; every refusal of
    /// [`PgMigrator::up`]; [`Error::SchemaBehind`] with `migrate(false)` on an old
    /// schema.
    pub fn open(options: PgOptions) -> Result<PgStore> {
        Self::open_with_migrator(options, PgMigrator::embedded())
    }

    /// As [`PgStore::open`], with a custom migration list (for testing the runner).
    ///
    /// # Errors
    /// As [`PgStore::open`].
    pub fn open_with_migrator(options: PgOptions, migrator: PgMigrator) -> Result<PgStore> {
        let config = postgres::Config::from_str(&options.url)
            .map_err(|e| Error::invalid("postgres url", e.to_string()))?;
        if options.max_connections == 0 {
            return Err(Error::invalid("max_connections", "must be at least 1"));
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            .build(PostgresConnectionManager::new(config, NoTls))?;
        let store = PgStore { pool, migrator };
        let mut client = store.connection()?;
        let latest = store.migrator.migrator().latest_version();
        if options.migrate {
            store.migrator.up(&mut client, None, SystemClock.now())?;
        } else {
            let found = store.migrator.current_version(&mut client)?;
            if found < latest {
                return Err(Error::SchemaBehind {
                    database: found,
                    binary: latest,
                });
            }
        }
        drop(client);
        Ok(store)
    }

    /// A connection from the pool.
    ///
    /// # Errors
    /// A database error of kind `Unavailable` when none comes within the timeout.
    pub fn connection(&self) -> Result<PgConnection> {
        Ok(self.pool.get()?)
    }

    /// The schema version the database is at.
    ///
    /// # Errors
    /// Every refusal of [`PgMigrator::current_version`]; database errors.
    pub fn schema_version(&self) -> Result<u32> {
        self.migrator.current_version(&mut *self.connection()?)
    }

    /// Every migration with its state.
    ///
    /// # Errors
    /// As [`PgMigrator::status`].
    pub fn migration_status(&self) -> Result<Vec<MigrationStatus>> {
        self.migrator.status(&mut *self.connection()?)
    }

    /// Applies migrations up to `target` (all when `None`), or only says which when
    /// `dry_run`.
    ///
    /// # Errors
    /// As [`PgMigrator::up`].
    pub fn migrate_up(&self, target: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>> {
        let mut client = self.connection()?;
        if dry_run {
            return self.migrator.plan_up(&mut client, target);
        }
        self.migrator.up(&mut client, target, SystemClock.now())
    }

    /// Reverts migrations down to `target`, or only says which when `dry_run`.
    ///
    /// # Errors
    /// As [`PgMigrator::down`].
    pub fn migrate_down(&self, target: u32, dry_run: bool) -> Result<Vec<MigrationStep>> {
        let mut client = self.connection()?;
        if dry_run {
            return self.migrator.plan_down(&mut client, target);
        }
        self.migrator.down(&mut client, target)
    }
}
