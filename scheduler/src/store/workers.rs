//! `workers`: one row per scheduler instance, kept alive by its heartbeat.

use rusqlite::{Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{WorkerId, WorkerStatus, ms, narrow, ts, ts_opt, validate_name},
};
use crate::error::{Error, Result};

/// A scheduler instance to register.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewWorker {
    /// A readable name, e.g. `host:pid`.
    pub name: String,
    /// The host it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its worker threads.
    pub threads: u32,
    /// The library version it runs.
    pub version: String,
}

impl NewWorker {
    /// An instance of this process on `host` with `threads` worker threads.
    #[must_use]
    pub fn new(name: impl Into<String>, host: impl Into<String>, threads: u32) -> Self {
        NewWorker {
            name: name.into(),
            host: host.into(),
            pid: std::process::id(),
            threads,
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A scheduler instance as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Worker {
    /// Its id (the owner named in its leases).
    pub id: WorkerId,
    /// Its name.
    pub name: String,
    /// Its host.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// Its worker threads.
    pub threads: u32,
    /// The library version it runs.
    pub version: String,
    /// Its state.
    pub status: WorkerStatus,
    /// When it registered.
    pub started_at: OffsetDateTime,
    /// Its latest heartbeat.
    pub last_heartbeat: OffsetDateTime,
    /// When it stopped or was presumed dead.
    pub stopped_at: Option<OffsetDateTime>,
    /// Leases it holds now.
    pub leases_held: u64,
}

fn worker_from_row(r: &Row<'_>) -> Result<Worker> {
    Ok(Worker {
        id: r.get("id")?,
        name: r.get("name")?,
        host: r.get("host")?,
        pid: narrow("workers.pid", r.get("pid")?)?,
        threads: narrow("workers.threads", r.get("threads")?)?,
        version: r.get("version")?,
        status: r.get("status")?,
        started_at: ts(r.get("started_at")?)?,
        last_heartbeat: ts(r.get("last_heartbeat")?)?,
        stopped_at: ts_opt(r.get("stopped_at")?)?,
        leases_held: narrow("leases_held", r.get("leases_held")?)?,
    })
}

impl ReadTx<'_> {
    /// The instance with this id.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when no instance has this id; database errors.
    pub fn get_worker(&self, id: WorkerId) -> Result<Worker> {
        let mut stmt = self.conn().prepare_cached(sql::WORKERS_GET)?;
        let mut rows = stmt.query(named_params! { ":id": id })?;
        match rows.next()? {
            Some(row) => worker_from_row(row),
            None => Err(Error::invalid("worker", format!("no worker has id {id}"))),
        }
    }

    /// Instances by id; offline ones only when asked.
    ///
    /// # Errors
    /// Database errors.
    pub fn list_workers(&self, include_offline: bool) -> Result<Vec<Worker>> {
        let mut stmt = self.conn().prepare_cached(sql::WORKERS_LIST)?;
        let mut rows =
            stmt.query(named_params! { ":include_offline": i64::from(include_offline) })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(worker_from_row(row)?);
        }
        Ok(out)
    }
}

impl WriteTx<'_> {
    /// Registers an instance as `active` and returns its id.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name or zero threads; database errors.
    pub fn register_worker(&self, worker: &NewWorker, now: OffsetDateTime) -> Result<WorkerId> {
        validate_name("worker name", &worker.name)?;
        if !(1..=1024).contains(&worker.threads) {
            return Err(Error::invalid("threads", "must be 1 to 1024"));
        }
        self.conn()
            .prepare_cached(sql::WORKERS_INSERT)?
            .execute(named_params! {
                ":name": worker.name,
                ":host": worker.host,
                ":pid": worker.pid,
                ":threads": worker.threads,
                ":version": worker.version,
                ":now": ms(now),
            })?;
        Ok(WorkerId::new(self.conn().last_insert_rowid()))
    }

    /// Records a heartbeat. Returns false when the instance is marked offline (another
    /// process found its heartbeat stale and released its leases); see
    /// [`WriteTx::reactivate_worker`].
    ///
    /// # Errors
    /// Database errors.
    pub fn heartbeat_worker(&self, id: WorkerId, now: OffsetDateTime) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(sql::WORKERS_HEARTBEAT)?
            .execute(named_params! { ":id": id, ":now": ms(now) })?;
        Ok(n == 1)
    }

    /// Marks an offline instance active again (it was presumed dead but is alive).
    ///
    /// # Errors
    /// Database errors.
    pub fn reactivate_worker(&self, id: WorkerId, now: OffsetDateTime) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(sql::WORKERS_REACTIVATE)?
            .execute(named_params! { ":id": id, ":now": ms(now) })?;
        Ok(n == 1)
    }

    /// Marks an instance `stopping` (it no longer claims).
    ///
    /// # Errors
    /// Database errors.
    pub fn set_worker_stopping(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        self.conn()
            .prepare_cached(sql::WORKERS_SET_STATUS)?
            .execute(named_params! {
                ":id": id,
                ":status": WorkerStatus::Stopping,
                ":now": ms(now),
            })?;
        Ok(())
    }

    /// Marks an instance `offline`. Its leases are not touched: release or finish them
    /// first, or let them expire.
    ///
    /// # Errors
    /// Database errors.
    pub fn mark_worker_offline(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        self.conn()
            .prepare_cached(sql::WORKERS_MARK_OFFLINE)?
            .execute(named_params! { ":id": id, ":now": ms(now) })?;
        Ok(())
    }
}
