//! The PostgreSQL backend as the runtime sees it: [`PgStore`] is a [`Backend`], its
//! transactions ([`PgTx`]) are [`Reads`] and [`Writes`]. Each operation is the inherent
//! method of the same name (one file per table); its contract is the SQLite backend's
//! method of that name.
//!
//! The monotonic readings ([`HostInstant`]) the runtime passes are not used here: on
//! PostgreSQL, lease expiry and heartbeat staleness are judged on the database's clock,
//! read by the statements themselves, the one clock every host shares.

use std::{
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::Receiver;
use time::OffsetDateTime;

use super::{PgStore, PgTx};
use crate::{
    backend::{
        Backend, Cutoff, Finished, JobTypeFilter, LeaseRescue, Native, Notify, PgNative, Reads,
        Writes,
    },
    clock::HostInstant,
    error::Result,
    model::{
        ArchiveMode, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun, DependencyLimits,
        Inserted, MigrationStatus, MigrationStep, NewDependency, NewRun, NewTask, NewWorker, RunId,
        RunStatus, Task, TaskId, TaskUpdate, WorkerId,
    },
    retry::RetryPolicy,
};

impl Backend for PgStore {
    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Reads) -> Result<()>) -> Result<()> {
        self.read(|tx| f(tx))
    }

    fn write_dyn(
        &self,
        deadline: Instant,
        cutoff: Option<&Arc<Cutoff>>,
        f: &mut dyn FnMut(&dyn Writes) -> Result<()>,
    ) -> Result<()> {
        let until = cutoff
            .and_then(|c| c.get())
            .map_or(deadline, |c| c.min(deadline));
        self.write_until(until, |tx| f(tx))
    }

    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        self.write(|tx| tx.add_dependencies(edges, limits, now))
    }

    fn busy_timeout(&self) -> Duration {
        self.options.busy_timeout
    }

    fn describe(&self) -> String {
        self.describe()
    }

    fn schema_version(&self) -> Result<u32> {
        PgStore::schema_version(self)
    }

    fn latest_schema_version(&self) -> u32 {
        self.migrator.latest_version()
    }

    fn migrations(&self) -> Result<Vec<MigrationStatus>> {
        self.migration_status()
    }

    fn migrate_up(&self, to: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>> {
        PgStore::migrate_up(self, to, dry_run)
    }

    fn migrate_down(&self, to: u32, dry_run: bool) -> Result<Vec<MigrationStep>> {
        PgStore::migrate_down(self, to, dry_run)
    }

    fn spawn_background(
        &self,
        stop: &Receiver<()>,
        notify: &Notify,
    ) -> Result<Vec<JoinHandle<()>>> {
        Ok(vec![super::listen::spawn(
            &self.config,
            self.options.network_timeout,
            stop,
            notify,
        )?])
    }

    fn reclaim_space(&self) {
        // The server manages its own files; a full disk is the operator's to fix.
    }
}

crate::backend::forward::forward_reads!(PgTx<'_>, PgTx);

impl Writes for PgTx<'_> {
    fn step_dyn(&self, f: &mut dyn FnMut(&dyn Writes) -> Result<()>) -> Result<()> {
        PgTx::step(self, |tx| f(tx))
    }
    fn insert_run(&self, run: &NewRun, now: OffsetDateTime) -> Result<Inserted> {
        PgTx::insert_run(self, run, now)
    }
    fn insert_runs(&self, runs: &[NewRun], now: OffsetDateTime) -> Result<Vec<Inserted>> {
        PgTx::insert_runs(self, runs, now)
    }
    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        PgTx::add_dependencies(self, edges, limits, now)
    }
    fn add_dependencies_acyclic(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        PgTx::add_dependencies_acyclic(self, edges, limits, now)
    }
    fn cancel_run(&self, id: RunId, reason: &str, now: OffsetDateTime) -> Result<CancelOutcome> {
        PgTx::cancel_run(self, id, reason, now)
    }
    fn retry_run(&self, id: RunId, now: OffsetDateTime) -> Result<()> {
        PgTx::retry_run(self, id, now)
    }
    fn restore_history(&self, id: RunId, from: &crate::model::Run) -> Result<bool> {
        PgTx::restore_history(self, id, from)
    }
    fn claim_unpaused(
        &self,
        worker: WorkerId,
        queue: &str,
        limit: usize,
        now: (OffsetDateTime, HostInstant),
        lease_ttl: Duration,
        job_types: &JobTypeFilter,
    ) -> Result<Vec<ClaimedRun>> {
        PgTx::claim_unpaused(self, worker, queue, limit, now.0, lease_ttl, job_types)
    }
    fn renew_leases(
        &self,
        worker: WorkerId,
        attempts: &[(RunId, i64)],
        now: OffsetDateTime,
        _host: HostInstant,
        lease_ttl: Duration,
    ) -> Result<Vec<(RunId, i64)>> {
        PgTx::renew_leases(self, worker, attempts, now, lease_ttl)
    }
    fn finish_attempt(
        &self,
        run: RunId,
        token: i64,
        outcome: &AttemptOutcome,
        timing: Option<AttemptTiming>,
        now: OffsetDateTime,
    ) -> Result<Finished> {
        PgTx::finish_attempt(self, run, token, outcome, timing, now)
    }
    fn settle_queued(&self, now: OffsetDateTime) -> Result<bool> {
        PgTx::settle_queued(self, now)
    }
    fn create_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<Task> {
        PgTx::create_task(self, task, now)
    }
    fn update_task(
        &self,
        id: TaskId,
        expected_version: i64,
        update: &TaskUpdate,
        now: OffsetDateTime,
    ) -> Result<Task> {
        PgTx::update_task(self, id, expected_version, update, now)
    }
    fn delete_task(&self, id: TaskId, expected_version: i64, now: OffsetDateTime) -> Result<()> {
        PgTx::delete_task(self, id, expected_version, now)
    }
    fn insert_occurrence(
        &self,
        task: &Task,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<RunId>> {
        PgTx::insert_occurrence(self, task, at, now)
    }
    fn advance_schedule(
        &self,
        task: &Task,
        next: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        PgTx::advance_schedule(self, task, next, last, now)
    }
    fn register_worker(
        &self,
        worker: &NewWorker,
        now: OffsetDateTime,
        _host: HostInstant,
    ) -> Result<WorkerId> {
        PgTx::register_worker(self, worker, now)
    }
    fn heartbeat_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        _host: HostInstant,
    ) -> Result<bool> {
        PgTx::heartbeat_worker(self, id, now)
    }
    fn reactivate_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        _host: HostInstant,
    ) -> Result<bool> {
        PgTx::reactivate_worker(self, id, now)
    }
    fn set_worker_stopping(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        PgTx::set_worker_stopping(self, id, now)
    }
    fn mark_worker_offline(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        PgTx::mark_worker_offline(self, id, now)
    }
    fn set_state(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<()> {
        PgTx::set_state(self, key, value, now)
    }
    fn set_queue_paused(&self, queue: &str, paused: bool, now: OffsetDateTime) -> Result<bool> {
        PgTx::set_queue_paused(self, queue, paused, now)
    }
    fn set_paused(&self, paused: bool, now: OffsetDateTime) -> Result<()> {
        PgTx::set_paused(self, paused, now)
    }
    fn record_job_types(&self, names: &[String], now: OffsetDateTime) -> Result<()> {
        PgTx::record_job_types(self, names, now)
    }
    fn try_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool> {
        PgTx::try_lead(self, key, worker, now, lease)
    }
    fn release_lead(&self, key: &str, worker: WorkerId, now: OffsetDateTime) -> Result<()> {
        PgTx::release_lead(self, key, worker, now)
    }
    fn revoke_token(
        &self,
        token_id: &str,
        expires_at: OffsetDateTime,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        PgTx::revoke_token(self, token_id, expires_at, reason, now)
    }
    fn rescue_expired_leases(
        &self,
        now: OffsetDateTime,
        _host: HostInstant,
        batch: usize,
        policy: &dyn RetryPolicy,
    ) -> Result<LeaseRescue> {
        PgTx::rescue_expired_leases(self, now, batch, policy)
    }
    fn mark_stale_workers_offline(
        &self,
        now: OffsetDateTime,
        _host: HostInstant,
        batch: usize,
    ) -> Result<Vec<WorkerId>> {
        PgTx::mark_stale_workers_offline(self, now, batch)
    }
    fn purge_expired_tokens(&self, before: OffsetDateTime, batch: usize) -> Result<usize> {
        PgTx::purge_expired_tokens(self, before, batch)
    }
    fn remove_finished_runs(
        &self,
        status: RunStatus,
        finished_before: OffsetDateTime,
        batch: usize,
        mode: ArchiveMode,
        now: OffsetDateTime,
    ) -> Result<usize> {
        PgTx::remove_finished_runs(self, status, finished_before, batch, mode, now)
    }
    fn native(&self) -> Native<'_> {
        Native::Postgres(self)
    }
}

impl PgNative for PgTx<'_> {
    fn with_transaction(&self, f: &mut dyn FnMut(&mut postgres::Transaction<'_>)) {
        self.with_transaction(f);
    }
}
