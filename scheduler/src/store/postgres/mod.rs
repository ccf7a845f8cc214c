//! The PostgreSQL backend (feature `postgres`): [`PgStore`], a pool of connections
//! with the scheduler's schema, implements the storage interface; its transactions
//! ([`PgTx`]) run the statements of `sql/postgres/`, one file per table here as in
//! `store/`. The public face of this backend (its options and the host-transaction
//! integration) is `runloom::postgres`.
// What only this workspace's tests use (the `internals` feature) is hidden from the
// docs; without it, it is crate-private in effect.
#![cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]

mod backend;
mod deps;
mod errors;
mod leases;
mod listen;
mod maintenance;
mod migrate;
mod pool;
mod queues;
mod runs;
mod schedules;
mod sql;
mod state;
mod tasks;
mod tokens;
mod tx;
mod types;
mod views;
mod workers;

use std::{
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

#[doc(hidden)]
pub use self::{
    migrate::PgMigrator,
    pool::{Manager, PgClient},
    tx::PgTx,
};
use crate::{
    clock::{Clock, SystemClock},
    error::{Error, Result},
    model::{MigrationStatus, MigrationStep},
};

type Pool = r2d2::Pool<Manager>;

/// Most dependency edges one write transaction settles (as on SQLite); the rest wait
/// in the settle queue for the next transactions.
const SETTLE_EDGES_PER_TX: usize = 1000;

/// How much longer than its lock deadline a statement of a write may run before the
/// server cancels it: room for a legitimately slow statement, and a bound on a stuck
/// one.
#[doc(hidden)]
pub const STATEMENT_MARGIN: Duration = Duration::from_secs(30);

/// Whether a session whose write limits have a lock timeout of `set` ms (if any) may
/// run a write with `want` ms left to its deadline without setting them again: a few
/// milliseconds over (the deadline drifts by the time a connection took to come) or a
/// tenth under. Each statement has its own lock timeout anyway, so the deadline bounds a
/// write's waits to within this, never exactly; setting the limits again each time
/// would cost every write a round trip.
fn limits_fit(set: Option<u128>, want: u128) -> bool {
    const OVER_MS: u128 = 5;
    set.is_some_and(|set| set <= want.saturating_add(OVER_MS) && set * 10 >= want * 9)
}

/// How long either end of a connection waits on a silent network by default
/// ([`PgOptions::network_timeout`]).
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled connection.
#[doc(hidden)]
pub type PgConnection = r2d2::PooledConnection<Manager>;

/// How to reach a PostgreSQL database and how big its pool is: a constructor with the
/// defaults, a setter each.
///
/// ```
/// use std::time::Duration;
/// use runloom::postgres::PgOptions;
///
/// let options = PgOptions::new("host=/run/postgresql dbname=jobs")
///     .max_connections(16)
///     .connect_timeout(Duration::from_secs(2));
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct PgOptions {
    url: String,
    max_connections: u32,
    connect_timeout: Duration,
    busy_timeout: Duration,
    network_timeout: Duration,
    migrate: bool,
}

impl PgOptions {
    /// The database at `url`, with 8 connections, a 5 s connect timeout, a 10 s
    /// network timeout and migrations at open.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        PgOptions {
            url: url.into(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            busy_timeout: crate::store::DEFAULT_BUSY_TIMEOUT,
            network_timeout: DEFAULT_NETWORK_TIMEOUT,
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

    /// How long a write waits for the locks it needs (rows another host's transaction
    /// holds) unless its caller set a deadline: the server's `lock_timeout`, as SQLite's
    /// busy timeout. Defaults to 5 s.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long either end waits on a silent network before it gives the connection
    /// up (at least 1 s; 10 s by default). On the host, a call whose server stopped
    /// answering (the host was cut off from it, the server died without closing its
    /// connections) fails after about this long instead of blocking for the kernel's
    /// TCP timeout, a quarter of an hour; the scheduler then backs off and reconnects.
    /// On the server, a session whose host went silent is ended after about this long,
    /// and so is a transaction the host left idle (`idle_in_transaction_session_timeout`):
    /// the row locks it held (a lease being ended, say) are freed, so a host cut off in
    /// the middle of a transaction delays the rescue of its runs by at most this.
    ///
    /// Keep it well above the longest pause inside a transaction: the closure given to
    /// [`JobContextExt::transaction`](crate::postgres::JobContextExt::transaction) is
    /// one.
    #[must_use]
    pub fn network_timeout(mut self, timeout: Duration) -> Self {
        self.network_timeout = timeout;
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

/// A PostgreSQL database with the scheduler's schema: a pool and its migrations (the
/// storage layer, for this workspace's tests).
#[doc(hidden)]
#[derive(Debug)]
pub struct PgStore {
    pool: Pool,
    /// How to connect, for the listener's connection of its own.
    config: postgres::Config,
    migrator: PgMigrator,
    options: PgOptions,
}

impl PgStore {
    /// The database as `postgres://user@host:port/dbname`, never with the password.
    pub(crate) fn describe(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(name)) => name.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(dir)) => dir.display().to_string(),
            None => String::new(),
        };
        let port = self
            .config
            .get_ports()
            .first()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let user = self
            .config
            .get_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let db = self.config.get_dbname().unwrap_or_default();
        format!("postgres://{user}{host}{port}/{db}")
    }

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
        Self::open_with(options, migrator, &SystemClock, true)
    }

    /// [`PgStore::open`], stamping migrations with `clock`'s time (the scheduler's).
    pub(crate) fn open_with_clock(options: PgOptions, clock: Arc<dyn Clock>) -> Result<PgStore> {
        Self::open_with(options, PgMigrator::embedded(), clock.as_ref(), true)
    }

    /// Opens the database at whatever schema version it is, migrating nothing (the
    /// operator's tools): refused only as a foreign, newer or tampered-with schema is.
    pub(crate) fn open_as_is(options: PgOptions) -> Result<PgStore> {
        Self::open_with(
            options.migrate(false),
            PgMigrator::embedded(),
            &SystemClock,
            false,
        )
    }

    fn open_with(
        options: PgOptions,
        migrator: PgMigrator,
        clock: &dyn Clock,
        refuse_behind: bool,
    ) -> Result<PgStore> {
        let config = postgres::Config::from_str(&options.url)
            .map_err(|e| Error::invalid("postgres url", e.to_string()))?;
        if options.max_connections == 0 {
            return Err(Error::invalid("max_connections", "must be at least 1"));
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            // A failed connect is reported by its caller (once per streak, with its
            // backoff); r2d2's own handler would log each retry of its background
            // threads as an error, many a second while the server is unreachable.
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build(Manager {
                config: config.clone(),
                network_timeout: options.network_timeout,
            })?;
        let store = PgStore {
            pool,
            config,
            migrator,
            options,
        };
        let mut client = store.connection()?;
        let latest = store.migrator.latest_version();
        if store.options.migrate {
            store.migrator.up(&mut client, None, clock.now())?;
        } else {
            let found = store.migrator.current_version(&mut client)?;
            if refuse_behind && found < latest {
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
        let mut conn = self.pool.get()?;
        if conn.write_limits.is_some() {
            conn.client.batch_execute(sql::WRITE_LIMITS_RESET)?;
            conn.write_limits = None;
        }
        Ok(conn)
    }

    /// Runs `f` in a read transaction (`REPEATABLE READ`, read only): every read
    /// inside sees one snapshot.
    ///
    /// # Errors
    /// The error of `f`; a database error of kind `Unavailable` when no connection
    /// comes within the connect timeout; other database errors.
    pub fn read<T>(&self, f: impl FnOnce(&PgTx<'_>) -> Result<T>) -> Result<T> {
        // Straight from the pool: a session that carries the limits of a write keeps
        // them (they bound the read too, and are not set again for the next write).
        let mut conn = self.pool.get()?;
        let PgClient {
            client, statements, ..
        } = &mut *conn;
        let tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let tx = PgTx::new(tx, statements, 0);
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in a write transaction (`READ COMMITTED`: each statement sees what
    /// committed before it, and the statements lock what they decide on) and commits
    /// it when `f` returns `Ok`; on an error nothing it did remains. Lock waits last the
    /// busy timeout.
    ///
    /// # Errors
    /// The error of `f`; a busy error when a lock or a connection did not come in time
    /// ([`Error::is_busy`]); other database errors.
    pub fn write<T>(&self, f: impl FnOnce(&PgTx<'_>) -> Result<T>) -> Result<T> {
        self.write_until(Instant::now() + self.options.busy_timeout, f)
    }

    /// [`PgStore::write`], waiting for a connection and for locks only until
    /// `deadline`; every statement also ends within the deadline plus a margin
    /// ([`STATEMENT_MARGIN`]), so a wedged server cannot hold the caller forever.
    ///
    /// The limits are the session's `lock_timeout` and `statement_timeout`, kept from
    /// one write to the next while the deadlines stay about the same (each lock wait
    /// ends within a few milliseconds of the deadline): a `SET LOCAL` in each
    /// transaction cost every write a round trip.
    ///
    /// # Errors
    /// As [`PgStore::write`].
    pub fn write_until<T>(
        &self,
        deadline: Instant,
        f: impl FnOnce(&PgTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let left = || deadline.saturating_duration_since(Instant::now());
        let mut conn = self
            .pool
            .get_timeout(left().max(Duration::from_millis(1)))
            .map_err(|e| errors::busy(format!("no connection of the pool came in time: {e}")))?;
        // Whole milliseconds, at least 1: 0 would mean no limit at all.
        let lock_ms = left().as_millis().max(1);
        if !limits_fit(conn.write_limits, lock_ms) {
            conn.write_limits = None;
            let statement_ms = lock_ms.saturating_add(STATEMENT_MARGIN.as_millis());
            conn.client.query_one(
                sql::WRITE_LIMITS,
                &[&format!("{lock_ms}ms"), &format!("{statement_ms}ms")],
            )?;
            conn.write_limits = Some(lock_ms);
        }
        let PgClient {
            client, statements, ..
        } = &mut *conn;
        let tx = PgTx::new(client.transaction()?, statements, SETTLE_EDGES_PER_TX);
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
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
