//! `workers`: one row per scheduler instance, kept alive by its heartbeat.

use std::time::Duration;

use rusqlite::{Row, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{WorkerId, WorkerStatus, dur_ms_opt, ms, narrow, ts, ts_opt, validate_name},
};
use crate::{
    clock::{HostInstant, clock_domain, duration_ms},
    config::{DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LEASE_DURATION},
    error::{Error, Result},
    maintenance::DEFAULT_STALE_WORKER_AFTER,
};

/// What a worker promises, recorded in its row: other processes judge its liveness by
/// this and nothing else (never by their own settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Promise {
    /// How often it renews its leases and its row.
    pub heartbeat_interval: Duration,
    /// How long each of its leases lasts without a renewal.
    pub lease_duration: Duration,
    /// After how long without a heartbeat it may be presumed dead.
    pub stale_after: Duration,
}

impl Default for Promise {
    /// The scheduler's defaults: heartbeat 5 s, lease 30 s, stale after 60 s.
    fn default() -> Self {
        Promise {
            heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
            lease_duration: DEFAULT_LEASE_DURATION,
            stale_after: DEFAULT_STALE_WORKER_AFTER,
        }
    }
}

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
    /// What it promises (heartbeat, lease, stale limit).
    pub promise: Promise,
    /// The monotonic clock it keeps its promise on ([`clock_domain`]: this host's boot);
    /// `None` makes others judge it by wall-clock times.
    pub clock_domain: Option<String>,
}

impl NewWorker {
    /// An instance of this process on `host` with `threads` worker threads, promising
    /// the default intervals ([`Promise::default`]) on this host's monotonic clock.
    #[must_use]
    pub fn new(name: impl Into<String>, host: impl Into<String>, threads: u32) -> Self {
        NewWorker {
            name: name.into(),
            host: host.into(),
            pid: std::process::id(),
            threads,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            promise: Promise::default(),
            clock_domain: clock_domain().map(str::to_owned),
        }
    }

    /// Sets what the instance promises.
    #[must_use]
    pub fn promise(mut self, promise: Promise) -> Self {
        self.promise = promise;
        self
    }

    /// Sets the clock domain it keeps its promise on (`None`: judged by wall clock).
    #[must_use]
    pub fn clock_domain(mut self, domain: Option<String>) -> Self {
        self.clock_domain = domain;
        self
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
    /// How often it promised to heartbeat (`None` for a row written before 0005).
    pub heartbeat_interval: Option<Duration>,
    /// How long it promised its leases last.
    pub lease_duration: Option<Duration>,
    /// After how long a silence it may be presumed dead.
    pub stale_after: Option<Duration>,
    /// The monotonic clock it keeps its promise on.
    pub clock_domain: Option<String>,
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
