//! The SQLite backend as the runtime sees it: [`Store`] is a [`Backend`], its
//! transactions are [`Reads`] and [`Writes`]. Each operation is the inherent method of
//! the same name (one file per table), whose documentation is the contract.

use std::{
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::Receiver;
use time::OffsetDateTime;

use super::{Location, ReadTx, Store, WriteTx};
use crate::{
    backend::{
        Backend, Cutoff, Finished, JobTypeFilter, LeaseRescue, Native, Notify, Reads, Writes,
    },
    clock::HostInstant,
    error::{Error, Result},
    model::{
        ArchiveMode, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun, DependencyLimits,
        Inserted, MigrationStatus, MigrationStep, NewDependency, NewRun, NewTask, NewWorker, RunId,
        RunStatus, Task, TaskId, TaskUpdate, WorkerId,
    },
    retry::RetryPolicy,
};

impl Backend for Store {
    fn read_dyn(&self, f: &mut dyn FnMut(&dyn Reads) -> Result<()>) -> Result<()> {
        self.read(|tx| f(tx))
    }

    fn write_dyn(
        &self,
        deadline: Instant,
        cutoff: Option<&Arc<Cutoff>>,
        f: &mut dyn FnMut(&dyn Writes) -> Result<()>,
    ) -> Result<()> {
        self.write_cut(deadline, cutoff, |tx| f(tx))
    }

    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        Store::add_dependencies(self, edges, limits, now)
    }

    fn busy_timeout(&self) -> Duration {
        self.options().busy_timeout_value()
    }

    fn describe(&self) -> String {
        match self.options().location() {
            super::Location::File(path) => path.display().to_string(),
            super::Location::Memory(name) => format!("memory:{name}"),
        }
    }

    fn schema_version(&self) -> Result<u32> {
        Store::schema_version(self)
    }

    fn latest_schema_version(&self) -> u32 {
        self.migrator().latest_version()
    }

    fn migrations(&self) -> Result<Vec<MigrationStatus>> {
        self.migration_status()
    }

    fn migrate_up(&self, to: Option<u32>, dry_run: bool) -> Result<Vec<MigrationStep>> {
        Store::migrate_up(self, to, dry_run)
    }

    fn migrate_down(&self, to: u32, dry_run: bool) -> Result<Vec<MigrationStep>> {
        Store::migrate_down(self, to, dry_run)
    }

    fn spawn_background(
        &self,
        stop: &Receiver<()>,
        _notify: &Notify,
    ) -> Result<Vec<JoinHandle<()>>> {
        // Other processes on the file wake nobody: they are found at the next poll.
        // An in-memory database has no log to copy back.
        if !matches!(self.options().location(), Location::File(_)) {
            return Ok(Vec::new());
        }
        self.defer_checkpoints()?;
        let (store, stop) = (self.clone(), stop.clone());
        let handle = std::thread::Builder::new()
            .name("runloom-checkpoint".to_owned())
            .spawn(move || super::run_checkpointer(&store, &stop))
            .map_err(Error::Thread)?;
        Ok(vec![handle])
    }

    fn reclaim_space(&self) {
        self.request_reclaim();
    }
}

crate::backend::forward::forward_reads!(ReadTx<'_>, ReadTx);
crate::backend::forward::forward_reads!(WriteTx<'_>, ReadTx);

impl Writes for WriteTx<'_> {
    fn step_dyn(&self, f: &mut dyn FnMut(&dyn Writes) -> Result<()>) -> Result<()> {
        WriteTx::step(self, |tx| f(tx))
    }
    fn insert_run(&self, run: &NewRun, now: OffsetDateTime) -> Result<Inserted> {
        WriteTx::insert_run(self, run, now)
    }
    fn insert_runs(&self, runs: &[NewRun], now: OffsetDateTime) -> Result<Vec<Inserted>> {
        WriteTx::insert_runs(self, runs, now)
    }
    fn add_dependencies(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        WriteTx::add_dependencies(self, edges, limits, now)
    }
    fn add_dependencies_acyclic(
        &self,
        edges: &[NewDependency],
        limits: &DependencyLimits,
        now: OffsetDateTime,
    ) -> Result<usize> {
        WriteTx::add_dependencies_acyclic(self, edges, limits, now)
    }
    fn cancel_run(&self, id: RunId, reason: &str, now: OffsetDateTime) -> Result<CancelOutcome> {
        WriteTx::cancel_run(self, id, reason, now)
    }
    fn retry_run(&self, id: RunId, now: OffsetDateTime) -> Result<()> {
        WriteTx::retry_run(self, id, now)
    }
    fn restore_history(&self, id: RunId, from: &crate::model::Run) -> Result<bool> {
        WriteTx::restore_history(self, id, from)
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
        WriteTx::claim_unpaused(self, worker, queue, limit, now, lease_ttl, job_types)
    }
    fn renew_leases(
        &self,
        worker: WorkerId,
        attempts: &[(RunId, i64)],
        now: OffsetDateTime,
        host: HostInstant,
        lease_ttl: Duration,
    ) -> Result<Vec<(RunId, i64)>> {
        WriteTx::renew_leases(self, worker, attempts, now, host, lease_ttl)
    }
    fn finish_attempt(
        &self,
        run: RunId,
        token: i64,
        outcome: &AttemptOutcome,
        timing: Option<AttemptTiming>,
        now: OffsetDateTime,
    ) -> Result<Finished> {
        WriteTx::finish_attempt(self, run, token, outcome, timing, now)
    }
    fn settle_queued(&self, now: OffsetDateTime) -> Result<bool> {
        WriteTx::settle_queued(self, now)
    }
    fn create_task(&self, task: &NewTask, now: OffsetDateTime) -> Result<Task> {
        WriteTx::create_task(self, task, now)
    }
    fn update_task(
        &self,
        id: TaskId,
        expected_version: i64,
        update: &TaskUpdate,
        now: OffsetDateTime,
    ) -> Result<Task> {
        WriteTx::update_task(self, id, expected_version, update, now)
    }
    fn delete_task(&self, id: TaskId, expected_version: i64, now: OffsetDateTime) -> Result<()> {
        WriteTx::delete_task(self, id, expected_version, now)
    }
    fn insert_occurrence(
        &self,
        task: &Task,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Option<RunId>> {
        WriteTx::insert_occurrence(self, task, at, now)
    }
    fn advance_schedule(
        &self,
        task: &Task,
        next: Option<OffsetDateTime>,
        last: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<bool> {
        WriteTx::advance_schedule(self, task, next, last, now)
    }
    fn register_worker(
        &self,
        worker: &NewWorker,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<WorkerId> {
        WriteTx::register_worker(self, worker, now, host)
    }
    fn heartbeat_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool> {
        WriteTx::heartbeat_worker(self, id, now, host)
    }
    fn reactivate_worker(
        &self,
        id: WorkerId,
        now: OffsetDateTime,
        host: HostInstant,
    ) -> Result<bool> {
        WriteTx::reactivate_worker(self, id, now, host)
    }
    fn set_worker_stopping(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        WriteTx::set_worker_stopping(self, id, now)
    }
    fn mark_worker_offline(&self, id: WorkerId, now: OffsetDateTime) -> Result<()> {
        WriteTx::mark_worker_offline(self, id, now)
    }
    fn set_state(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<()> {
        WriteTx::set_state(self, key, value, now)
    }
    fn set_queue_paused(&self, queue: &str, paused: bool, now: OffsetDateTime) -> Result<bool> {
        WriteTx::set_queue_paused(self, queue, paused, now)
    }
    fn set_paused(&self, paused: bool, now: OffsetDateTime) -> Result<()> {
        WriteTx::set_paused(self, paused, now)
    }
    fn record_job_types(&self, names: &[String], now: OffsetDateTime) -> Result<()> {
        WriteTx::record_job_types(self, names, now)
    }
    fn try_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<bool> {
        WriteTx::try_lead(self, key, worker, now, lease)
    }
    fn release_lead(&self, key: &str, worker: WorkerId, now: OffsetDateTime) -> Result<()> {
        WriteTx::release_lead(self, key, worker, now)
    }
    fn revoke_token(
        &self,
        token_id: &str,
        expires_at: OffsetDateTime,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        WriteTx::revoke_token(self, token_id, expires_at, reason, now)
    }
    fn rescue_expired_leases(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
        policy: &dyn RetryPolicy,
    ) -> Result<LeaseRescue> {
        WriteTx::rescue_expired_leases(self, now, host, batch, policy)
    }
    fn mark_stale_workers_offline(
        &self,
        now: OffsetDateTime,
        host: HostInstant,
        batch: usize,
    ) -> Result<Vec<WorkerId>> {
        WriteTx::mark_stale_workers_offline(self, now, host, batch)
    }
    fn purge_expired_tokens(&self, before: OffsetDateTime, batch: usize) -> Result<usize> {
        WriteTx::purge_expired_tokens(self, before, batch)
    }
    fn remove_finished_runs(
        &self,
        status: RunStatus,
        finished_before: OffsetDateTime,
        batch: usize,
        mode: ArchiveMode,
        now: OffsetDateTime,
    ) -> Result<usize> {
        WriteTx::remove_finished_runs(self, status, finished_before, batch, mode, now)
    }
    fn native(&self) -> Native<'_> {
        Native::Sqlite(self.connection())
    }
}
