//! `workers`: one row per scheduler instance, kept alive by its heartbeat.

use std::time::Duration;

use rusqlite::{Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{WorkerId, WorkerStatus, dur_ms_opt, ms, narrow, ts, ts_opt, validate_name},
};
use crate::{
    clock::HostInstant,
    error::{Error, Result},
    model::time::duration_ms,
    model::{NewWorker, Worker},
};

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
        heartbeat_interval: dur_ms_opt(r.get("heartbeat_ms")?),
        lease_duration: dur_ms_opt(r.get("lease_ms")?),
        stale_after: dur_ms_opt(r.get("stale_after_ms")?),
        clock_domain: r.get("clock_domain")?,
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

    /// The worker with this id, if its row exists.
    ///
    /// # Errors
    /// Database errors.
    pub fn find_worker(&self, id: WorkerId) -> Result<Option<Worker>> {
        let mut stmt = self.conn().prepare_cached(sql::WORKERS_GET)?;
        let mut rows = stmt.query(named_params! { ":id": id })?;
        rows.next()?.map(worker_from_row).transpose()
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
    /// Registers an instance as `active`, heartbeating at `now` (`host` on the
    /// monotonic clock), and returns its id.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty name, zero threads, or a promise of zero
    /// or unrepresentable durations; database errors.
    pub fn register_worker(
        &self,
        worker: &NewWorker,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<WorkerId> {
        validate_name("worker name", &worker.name)?;
        if !(1..=1024).contains(&worker.threads) {
            return Err(Error::invalid("threads", "must be 1 to 1024"));
        }
        let positive = |name, d: Duration| -> Result<i64> {
            let ms = duration_ms(name, d)?;
            if ms < 1 {
                return Err(Error::invalid(name, "must be at least 1 ms"));
            }
            Ok(ms)
        };
        let p = worker.promise;
        self.conn()
            .prepare_cached(sql::WORKERS_INSERT)?
            .execute(named_params! {
                ":name": worker.name,
                ":host": worker.host,
                ":pid": worker.pid,
                ":threads": worker.threads,
                ":version": worker.version,
                ":now": ms(now),
                ":heartbeat_ms": positive("heartbeat_interval", p.heartbeat_interval)?,
                ":lease_ms": positive("lease_duration", p.lease_duration)?,
                ":stale_after_ms": positive("stale_after", p.stale_after)?,
                ":clock_domain": worker.clock_domain,
                ":mono": host.millis(),
            })?;
        Ok(WorkerId::new(self.conn().last_insert_rowid()))
    }

    /// Records a heartbeat at `now` (`host` on the monotonic clock). Returns false when
    /// the instance is marked offline (another process found it silent past its own
    /// stale limit and released its leases); see [`WriteTx::reactivate_worker`].
    ///
    /// # Errors
    /// Database errors.
    pub fn heartbeat_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(sql::WORKERS_HEARTBEAT)?
            .execute(named_params! { ":id": id, ":now": ms(now), ":mono": host.millis() })?;
        Ok(n == 1)
    }

    /// Marks an offline instance active again (it was presumed dead but is alive).
    ///
    /// # Errors
    /// Database errors.
    pub fn reactivate_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(sql::WORKERS_REACTIVATE)?
            .execute(named_params! { ":id": id, ":now": ms(now), ":mono": host.millis() })?;
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
