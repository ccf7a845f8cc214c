//! `workers`: one row per scheduler instance, kept alive by its heartbeat. As on SQLite
//! (`store/workers.rs`), but the promise is kept on the database's clock: every host
//! records its heartbeats as the database's `clock_timestamp()`, and the rescue judges
//! them on that same clock.

use std::time::Duration;

use postgres::Row;
use time::OffsetDateTime;

use super::{PgTx, sql, types::flag};
use crate::{
    backend::values::{dur_ms_opt, ms, narrow, ts, ts_opt},
    error::{Error, Result},
    model::{NewWorker, Worker, WorkerId, WorkerStatus, time::duration_ms, validate_name},
};

/// The clock domain every worker of a PostgreSQL database keeps its promise on: the
/// database server's clock, read by the statements themselves.
pub(crate) const DATABASE_CLOCK: &str = "database";

fn worker_from_row(r: &Row) -> Result<Worker> {
    Ok(Worker {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        host: r.try_get("host")?,
        pid: narrow("workers.pid", r.try_get("pid")?)?,
        threads: narrow("workers.threads", r.try_get("threads")?)?,
        version: r.try_get("version")?,
        status: r.try_get("status")?,
        started_at: ts(r.try_get("started_at")?)?,
        last_heartbeat: ts(r.try_get("last_heartbeat")?)?,
        stopped_at: ts_opt(r.try_get("stopped_at")?)?,
        heartbeat_interval: dur_ms_opt(r.try_get("heartbeat_ms")?),
        lease_duration: dur_ms_opt(r.try_get("lease_ms")?),
        stale_after: dur_ms_opt(r.try_get("stale_after_ms")?),
        clock_domain: r.try_get("clock_domain")?,
        leases_held: narrow("leases_held", r.try_get("leases_held")?)?,
    })
}

impl PgTx<'_> {
    pub(crate) fn find_worker(&self, id: WorkerId) -> Result<Option<Worker>> {
        self.query_opt(sql::WORKERS_GET, &[&id])?
            .as_ref()
            .map(worker_from_row)
            .transpose()
    }

    pub(crate) fn list_workers(&self, include_offline: bool) -> Result<Vec<Worker>> {
        self.query(sql::WORKERS_LIST, &[&flag(include_offline)])?
            .iter()
            .map(worker_from_row)
            .collect()
    }

    /// As on SQLite; the worker's clock domain is the database's whatever `worker`
    /// says, since that is the clock its heartbeats are recorded on.
    pub(crate) fn register_worker(
        &self,
        worker: &NewWorker,
        now: OffsetDateTime,
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
        let row = self.query_one(
            sql::WORKERS_INSERT,
            &[
                &worker.name,
                &worker.host,
                &i64::from(worker.pid),
                &i64::from(worker.threads),
                &worker.version,
                &ms(now),
                &positive("heartbeat_interval", p.heartbeat_interval)?,
                &positive("lease_duration", p.lease_duration)?,
                &positive("stale_after", p.stale_after)?,
                &DATABASE_CLOCK,
            ],
        )?;
        Ok(row.try_get(0)?)
    }

    pub(crate) fn heartbeat_worker(&self, id: WorkerId, now: OffsetDateTime) -> Result<bool> {
        Ok(self.execute(sql::WORKERS_HEARTBEAT, &[&id, &ms(now)])? == 1)
    }

    pub(crate) fn reactivate_worker(&self, id: WorkerId, now: OffsetDateTime) -> Result<bool> {
        Ok(self.execute(sql::WORKERS_REACTIVATE, &[&id, &ms(now)])? == 1)
    }

    pub(crate) fn set_worker_stopping(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        self.execute(
            sql::WORKERS_SET_STATUS,
            &[&id, &WorkerStatus::Stopping, &ms(now)],
        )?;
        Ok(())
    }

    pub(crate) fn mark_worker_offline(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        self.execute(sql::WORKERS_MARK_OFFLINE, &[&id, &ms(now)])?;
        Ok(())
    }
}
