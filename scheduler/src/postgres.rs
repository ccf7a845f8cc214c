//! The PostgreSQL backend (feature `postgres`), for several hosts on one database:
//! [`SchedulerBuilder::postgres`](crate::SchedulerBuilder::postgres) and
//! [`Admin::builder_postgres`](crate::Admin::builder_postgres) open one, and
//! [`PgOptions`] tunes its pool. The behaviour is SQLite's (the same behavioural suite
//! runs on both), with two differences a host sees:
//!
//! * several write transactions run at once, each at `READ COMMITTED`, and each
//!   statement locks what it decides on (claims skip the rows other claimers hold,
//!   `FOR UPDATE SKIP LOCKED`);
//! * lease expiry, heartbeat staleness and the maintenance leader's lease are judged on
//!   the database server's clock, which the statements read themselves, so hosts whose
//!   clocks disagree still agree on who is alive. Every other time (when a run is due,
//!   what the history records) is the host's, as on SQLite.
//!
//! Times are stored as on SQLite, `bigint` milliseconds since the Unix epoch, so the
//! model, the views' meaning and the archive are one across backends; JSON documents are
//! `jsonb` (the server normalises their text: spacing and key order may change).
//!
//! ```no_run
//! use std::time::Duration;
//! use runloom::postgres::PgOptions;
//!
//! let scheduler = runloom::Scheduler::builder()
//!     .postgres_options(
//!         PgOptions::new("postgres://jobs@db.internal/jobs").max_connections(16),
//!     )
//!     .start()?;
//! scheduler.shutdown(Duration::from_secs(10))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The host's own use of the database goes through the two extension traits here
//! (`use runloom::postgres::{JobContextExt, SchedulerExt}`): a job's writes committed
//! with its completion, and runs enqueued inside the host's own transaction. They name
//! the `postgres` crate's types; [`postgres`](mod@postgres) is re-exported, so a host
//! uses the very version the scheduler links.

pub use postgres;

pub use crate::store::postgres::{DEFAULT_NETWORK_TIMEOUT, PgOptions};
#[doc(hidden)]
pub use crate::store::postgres::{
    Manager, PgClient, PgConnection, PgMigrator, PgStore, PgTx, STATEMENT_MARGIN,
};
use crate::{
    EnqueueOptions, Error, Inserted, Job, JobContext, JobError, Result, Scheduler, backend::Native,
};

/// [`JobContext`] on PostgreSQL: the job's own writes, committed with its completion.
pub trait JobContextExt {
    /// Runs `f` in the scheduler's own write transaction **with the completion of this
    /// run**: the rows `f` writes and the run's `completed` state (with `f`'s value as
    /// its result) commit together, or not at all. If this worker no longer holds the
    /// run's lease (it expired and another host took the run back), the completion is
    /// refused and nothing `f` wrote is kept. So the writes take effect exactly once,
    /// even when the job itself runs twice.
    ///
    /// Call it as the job's last step and return its value; the run is then complete
    /// whatever the job does after it. `f` gets the transaction (`READ COMMITTED`, on
    /// the scheduler's pool): run statements on it, or open a nested transaction (a
    /// savepoint) with `tx.transaction()`; do not commit it. Its statements wait for
    /// locks at most the busy timeout ([`PgOptions::busy_timeout`], the server's
    /// `lock_timeout`), and the server ends a transaction left idle longer than
    /// [`PgOptions::network_timeout`]: keep `f` to database work, and short.
    ///
    /// ```no_run
    /// # use runloom::{JobContext, JobError, postgres::JobContextExt};
    /// # fn perform(ctx: &JobContext) -> Result<i64, JobError> {
    /// let balance = ctx.transaction(|tx| {
    ///     tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1", &[])?;
    ///     let row = tx.query_one("SELECT balance FROM accounts WHERE id = 1", &[])?;
    ///     Ok(row.try_get::<_, i64>(0)?)
    /// })?;
    /// Ok(balance)
    /// # }
    /// ```
    ///
    /// # Errors
    /// `f`'s own error (nothing it wrote is kept; the attempt fails as usual); a
    /// cancelling error when the lease was lost; a retryable error when the database
    /// refused the write (a lock not had in time, a lost connection); a permanent one
    /// when the scheduler runs on SQLite.
    fn transaction<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> std::result::Result<T, JobError>,
    ) -> std::result::Result<T, JobError>;
}

impl JobContextExt for JobContext {
    fn transaction<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> std::result::Result<T, JobError>,
    ) -> std::result::Result<T, JobError> {
        self.transaction_with(|tx| match tx.native() {
            Native::Postgres(pg) => {
                let mut f = Some(f);
                let mut out = None;
                pg.with_transaction(&mut |t| {
                    if let Some(f) = f.take() {
                        out = Some(f(t));
                    }
                });
                out.unwrap_or_else(|| Err(JobError::fail("the transaction was not lent")))
            }
            Native::Sqlite(_) => Err(JobError::fail(
                "ctx.transaction of runloom::postgres needs a scheduler on PostgreSQL",
            )),
        })
    }
}

/// [`Scheduler`] on PostgreSQL: runs enqueued inside the host's own transaction.
pub trait SchedulerExt {
    /// Enqueues a job inside a transaction the host opened on its own connection to the
    /// scheduler's database: the run exists if and only if the host's transaction
    /// commits, and its commit wakes the schedulers of every host (the insert's trigger
    /// notifies them), so no [`Scheduler::notify`] is needed.
    ///
    /// The insert is one savepoint of the host's transaction: if it is refused, the
    /// host's transaction goes on as it was. The host's transaction keeps its own
    /// isolation level and limits; a unique key an uncommitted run of another
    /// transaction holds waits for that transaction (the live-key index decides).
    ///
    /// ```no_run
    /// # use runloom::{EnqueueOptions, Job, Scheduler, postgres::{SchedulerExt, postgres}};
    /// # fn f<J: Job>(scheduler: &Scheduler, client: &mut postgres::Client, job: J)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// let mut tx = client.transaction()?;
    /// tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1", &[])?;
    /// scheduler.enqueue_tx(&mut tx, job, EnqueueOptions::new())?;
    /// tx.commit()?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::enqueue_with`]; [`Error::InvalidArgument`] when the scheduler
    /// runs on SQLite (the run would land in another database than its workers').
    fn enqueue_tx<J: Job>(
        &self,
        tx: &mut postgres::Transaction<'_>,
        job: J,
        opts: EnqueueOptions,
    ) -> Result<Inserted>;
}

impl SchedulerExt for Scheduler {
    fn enqueue_tx<J: Job>(
        &self,
        tx: &mut postgres::Transaction<'_>,
        job: J,
        opts: EnqueueOptions,
    ) -> Result<Inserted> {
        if !self.on_postgres() {
            return Err(Error::invalid(
                "transaction",
                "this scheduler runs on SQLite: enqueue with runloom::sqlite::SchedulerExt",
            ));
        }
        self.enqueue_in(job, &opts, |run, now| {
            PgTx::in_host(tx, |pg| pg.insert_run(run, now))
        })
    }
}
