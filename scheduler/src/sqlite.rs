//! The SQLite backend's integration with the host's own use of the database: a job's
//! writes committed with its completion, and runs enqueued inside the host's own
//! transaction. These name rusqlite's types, so they live here, as extension traits
//! (bring them into scope with `use runloom::sqlite::{JobContextExt, SchedulerExt}`);
//! the rest of the API names no database. With `store/` (the backend itself) this is
//! the only code that names SQLite's crates: it sits beside the store rather than in
//! it because it names the `Scheduler` and `JobContext`, and the store must not. [`rusqlite`] is re-exported, so a host uses
//! the very version the scheduler links (one SQLite per binary).

pub use rusqlite;

use crate::{
    EnqueueOptions, Error, Inserted, Job, JobContext, JobError, Result, Scheduler, backend::Native,
    store::WriteTx,
};

/// [`JobContext`] on SQLite: the job's own writes, committed with its completion.
pub trait JobContextExt {
    /// Runs `f` on the scheduler's own database in one transaction **with the
    /// completion of this run**: the rows `f` writes and the run's `completed` state
    /// (with `f`'s value as its result) commit together, or not at all. If this worker
    /// no longer holds the run's lease (it expired and the run was taken back), nothing
    /// `f` wrote is kept. So the writes take effect exactly once, even when the job
    /// itself runs twice.
    ///
    /// Call it as the job's last step and return its value; the run is then complete
    /// whatever the job does after it. `f` gets the connection inside the transaction
    /// (do not begin or commit transactions in it) and holds the database's write lock
    /// while it runs: keep it short.
    ///
    /// ```no_run
    /// # use runloom::{JobContext, JobError, sqlite::JobContextExt};
    /// # fn perform(ctx: &JobContext) -> Result<i64, JobError> {
    /// let balance = ctx.transaction(|db| {
    ///     db.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1", [])?;
    ///     Ok(db.query_row("SELECT balance FROM accounts WHERE id = 1", [], |r| r.get(0))?)
    /// })?;
    /// Ok(balance)
    /// # }
    /// ```
    ///
    /// # Errors
    /// `f`'s own error (nothing it wrote is kept; the attempt fails as usual); a
    /// cancelling error when the lease was lost; a retryable error when the database
    /// refused the write (busy, full).
    fn transaction<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> std::result::Result<T, JobError>,
    ) -> std::result::Result<T, JobError>;
}

impl JobContextExt for JobContext {
    fn transaction<T: serde::Serialize>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> std::result::Result<T, JobError>,
    ) -> std::result::Result<T, JobError> {
        self.transaction_with(|tx| match tx.native() {
            Native::Sqlite(conn) => match conn.downcast_ref::<rusqlite::Connection>() {
                Some(conn) => f(conn),
                None => Err(not_sqlite()),
            },
            #[allow(unreachable_patterns)]
            _ => Err(not_sqlite()),
        })
    }
}

fn not_sqlite() -> JobError {
    JobError::fail("ctx.transaction of runloom::sqlite needs a scheduler on SQLite")
}

/// [`Scheduler`] on SQLite: runs enqueued inside the host's own transaction.
pub trait SchedulerExt {
    /// Enqueues a job inside a transaction the host opened on its own connection to the
    /// same database: the run exists if and only if the host's transaction commits.
    /// The dispatcher notices it within the poll interval; call
    /// [`Scheduler::notify`] after the commit to start it at once.
    ///
    /// Begin the transaction with `TransactionBehavior::Immediate`: it then holds the
    /// write lock from the start. A deferred transaction is accepted if it has written
    /// already, or has not read yet (the lock is taken here, within the connection's
    /// busy timeout); one that has read but not written is refused, because SQLite
    /// cannot reliably upgrade it to a write.
    ///
    /// ```no_run
    /// # use runloom::{EnqueueOptions, Job, Scheduler, sqlite::{SchedulerExt, rusqlite}};
    /// # fn f<J: Job>(scheduler: &Scheduler, conn: &mut rusqlite::Connection, job: J)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    /// tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1", [])?;
    /// scheduler.enqueue_tx(&tx, job, EnqueueOptions::new())?;
    /// tx.commit()?;
    /// scheduler.notify();
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`Scheduler::enqueue_with`]; [`Error::InvalidArgument`] for a deferred
    /// transaction that has read but not written, or when the scheduler runs on
    /// PostgreSQL (the run would land in another database than its workers').
    fn enqueue_tx<J: Job>(
        &self,
        tx: &rusqlite::Transaction<'_>,
        job: J,
        opts: EnqueueOptions,
    ) -> Result<Inserted>;
}

impl SchedulerExt for Scheduler {
    fn enqueue_tx<J: Job>(
        &self,
        tx: &rusqlite::Transaction<'_>,
        job: J,
        opts: EnqueueOptions,
    ) -> Result<Inserted> {
        if self.on_postgres() {
            return Err(Error::invalid(
                "transaction",
                "this scheduler runs on PostgreSQL: enqueue with runloom::postgres::SchedulerExt",
            ));
        }
        self.enqueue_in(job, &opts, |run, now| {
            WriteTx::from_host_locked(tx)?.insert_run(run, now)
        })
    }
}
