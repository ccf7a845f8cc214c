//! Moving to another database: [`Admin::copy_into`] copies what is still to do (the live
//! tasks with their schedules' positions, the unfinished runs with their history, the
//! edges between them, the registered job types) from this database into another, in
//! one transaction on each side, and pauses this one so that nothing runs twice.
//!
//! SQLite into PostgreSQL is the move it exists for (`runloom --db FILE copy-to URL`),
//! but it goes through the storage interface alone, so any pair of backends works.

use std::collections::HashMap;

use serde::Serialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::Admin;
use crate::{
    backend::{Reads, Writes},
    error::{Error, Result},
    maintenance::Service,
    model::{
        DependencyLimits, NewDependency, NewRun, NewTask, Run, RunFilter, RunId, RunStatus, Task,
        TaskId,
    },
};

/// The `system_state` key a copied database keeps: where it went and when. A database
/// holding it is not copied again.
pub(crate) const COPIED_TO: &str = "copied_to";

/// Runs read per page while collecting the unfinished ones.
const PAGE: u32 = 1_000;

/// What [`Admin::copy_into`] copied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CopyReport {
    /// Live tasks (schedules and named tasks), with their next fire times.
    pub tasks: u64,
    /// Runs copied as `pending` (a run that was `running` on a dead host is among them,
    /// its attempt counted, as the lease rescue leaves it).
    pub pending: u64,
    /// Runs copied as `blocked`, waiting for copied upstream runs.
    pub blocked: u64,
    /// Dependency edges between copied runs.
    pub dependencies: u64,
    /// Job types the source had recorded.
    pub job_types: u64,
}

impl Admin {
    /// Copies what is still to do from this database into `dest` and pauses this one:
    /// every live task (its schedule, its next fire time, enabled or not), every
    /// unfinished run (`pending` and `blocked`, with its attempts so far, its errors and
    /// when it was enqueued; ids are new), the edges among them, and the registered job
    /// types. Finished runs and the history stay behind.
    ///
    /// It first runs this database's stale-worker and lease-rescue passes, so runs of a
    /// host that died are back to `pending`; then, holding this database's write lock,
    /// it refuses with [`Error::HostsLive`] while any instance is still within the
    /// heartbeat it promised (a killed host counts until its own `stale_after` has
    /// passed), and writes `dest` in one transaction: all of it or, on any error, none.
    /// This database is then paused and marked, so a host started on it by mistake runs
    /// nothing and a second copy is refused ([`Error::AlreadyCopied`]).
    ///
    /// ```
    /// use runloom::{Admin, Scheduler};
    /// # let dir = tempfile::tempdir()?;
    /// # let old = dir.path().join("old.db");
    /// # let new = dir.path().join("new.db");
    /// # Scheduler::builder().database(&old).start()?.shutdown(std::time::Duration::from_secs(5))?;
    /// # Scheduler::builder().database(&new).start()?.shutdown(std::time::Duration::from_secs(5))?;
    /// // Usually into PostgreSQL: `Admin::builder_postgres(url).open()?`.
    /// let source = Admin::open(&old)?;
    /// let report = source.copy_into(&Admin::open(&new)?)?;
    /// assert_eq!(report.pending, 0);
    /// assert!(source.is_paused()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::HostsLive`]; [`Error::AlreadyCopied`]; [`Error::TaskNameTaken`] or
    /// [`Error::UniqueKeyTaken`] when `dest` already holds a live task of the same name
    /// or an unfinished run of the same unique key; [`Error::InvalidArgument`] when
    /// `dest` is this database; [`Error::SchemaBehind`] when `dest` needs migrations
    /// first ([`Admin::migrate_up`]); database errors. Every refusal changes neither database
    /// (the maintenance passes aside). Should this database fail to be marked after
    /// `dest` committed, the error says so: pause it by hand before starting any host.
    pub fn copy_into(&self, dest: &Admin) -> Result<CopyReport> {
        let to = dest.store.describe();
        if to == self.store.describe() {
            return Err(Error::invalid(
                "destination",
                format!("{to} is the database being copied"),
            ));
        }
        let (database, binary) = (dest.schema_version()?, dest.latest_version());
        if database < binary {
            return Err(Error::SchemaBehind { database, binary });
        }
        // The passes a host would run: a dead host's workers row is marked offline and
        // its runs are rescued, each judged by the promise it recorded.
        self.run_maintenance(Some(Service::StaleWorkers))?;
        self.run_maintenance(Some(Service::LeaseRescue))?;
        let mut copied = None;
        let result = self.store.write(|src| {
            if let Some(to) = src.get_state(COPIED_TO)? {
                return Err(Error::AlreadyCopied { to });
            }
            let now = self.clock.now();
            refuse_live_hosts(src, now)?;
            let snapshot = Snapshot::read(src)?;
            let report = dest
                .store
                .write(|dst| snapshot.write(dst, dest.clock.now()))?;
            copied = Some(report.clone());
            src.set_paused(true, now)?;
            let at = now.format(&Rfc3339).unwrap_or_else(|_| now.to_string());
            src.set_state(COPIED_TO, &format!("{to} at {at}"), now)?;
            Ok(report)
        });
        match (result, copied) {
            (Ok(report), _) => Ok(report),
            (Err(e), None) => Err(e),
            (Err(e), Some(_)) => Err(Error::invalid(
                "source",
                format!(
                    "everything was copied to {to}, but this database could not be paused \
                     and marked ({e}): pause it by hand (`runloom pause`) before starting \
                     any host on it"
                ),
            )),
        }
    }
}

/// [`Error::HostsLive`] unless every instance is offline. The stale-worker pass has just
/// marked offline every instance that broke its own promise, so whoever is left kept it.
fn refuse_live_hosts(src: &dyn Writes, now: OffsetDateTime) -> Result<()> {
    let live: Vec<String> = src
        .list_workers(false)?
        .into_iter()
        .map(|w| {
            let silent = (now - w.last_heartbeat).max(time::Duration::ZERO);
            let promise = match w.stale_after {
                Some(limit) => format!(", presumed dead after {} s", limit.as_secs()),
                None => String::new(),
            };
            format!(
                "{} on {} (pid {}): last heartbeat {} s ago{promise}",
                w.name,
                w.host,
                w.pid,
                silent.whole_seconds()
            )
        })
        .collect();
    if !live.is_empty() {
        return Err(Error::HostsLive { instances: live });
    }
    let running = src.count_runs_by_status()?.running;
    if running > 0 {
        // No instance holds them, yet their leases have not run out: the rescue takes
        // them back once they do.
        return Err(Error::HostsLive {
            instances: vec![format!(
                "{running} run(s) still running under leases that have not expired; \
                 copy again once they have (`runloom maintenance run` rescues them)"
            )],
        });
    }
    Ok(())
}

/// What is still to do in the source, read in its write transaction.
struct Snapshot {
    tasks: Vec<Task>,
    /// Unfinished runs, oldest first, with the unresolved edges onto each.
    runs: Vec<(Run, Vec<NewDependency>)>,
    job_types: Vec<String>,
}

impl Snapshot {
    fn read(src: &dyn Reads) -> Result<Snapshot> {
        let mut runs = Vec::new();
        for status in [RunStatus::Pending, RunStatus::Blocked] {
            let mut filter = RunFilter::new().status(status).limit(PAGE);
            loop {
                let page = src.list_runs(&filter)?;
                let Some(last) = page.last() else { break };
                filter.before_id = Some(last.id);
                let full = page.len() == PAGE as usize;
                for run in page {
                    let edges = if run.status == RunStatus::Blocked {
                        src.upstream_of(run.id)?
                            .into_iter()
                            .filter(|e| !e.resolved)
                            .map(|e| {
                                NewDependency::new(e.downstream, e.upstream)
                                    .on_failure(e.on_failure)
                            })
                            .collect()
                    } else {
                        Vec::new()
                    };
                    runs.push((run, edges));
                }
                if !full {
                    break;
                }
            }
        }
        // Inserted in the order they were enqueued, so equal-priority runs due at the
        // same time keep their order, and upstream runs exist before their edges.
        runs.sort_by_key(|(run, _)| run.id);
        Ok(Snapshot {
            tasks: src.list_tasks(false)?,
            runs,
            job_types: src.registered_job_types()?,
        })
    }

    fn write(&self, dst: &dyn Writes, now: OffsetDateTime) -> Result<CopyReport> {
        let mut report = CopyReport::default();
        let mut tasks: HashMap<TaskId, TaskId> = HashMap::new();
        for task in &self.tasks {
            let created = dst.create_task(&new_task(task), now)?;
            tasks.insert(task.id, created.id);
            report.tasks += 1;
        }
        let fresh: Vec<NewRun> = self
            .runs
            .iter()
            .map(|(run, _)| new_run(run, run.task_id.and_then(|t| tasks.get(&t).copied())))
            .collect();
        let inserted = dst.insert_runs(&fresh, now)?;
        let mut ids: HashMap<RunId, RunId> = HashMap::with_capacity(inserted.len());
        for ((run, _), ins) in self.runs.iter().zip(&inserted) {
            if !ins.created {
                return Err(Error::UniqueKeyTaken {
                    key: run.unique_key.clone().unwrap_or_default(),
                    holder: ins.id,
                });
            }
            if !dst.restore_history(ins.id, run)? {
                return Err(Error::InvalidRunState {
                    run: ins.id,
                    status: dst.run_status(ins.id)?,
                    operation: "restore the history of",
                });
            }
            ids.insert(run.id, ins.id);
        }
        let mut edges = Vec::new();
        for (run, upstream) in &self.runs {
            if run.status != RunStatus::Blocked {
                report.pending += 1;
                continue;
            }
            // An unresolved edge always points at an unfinished run, copied too: one
            // that does not would leave the copy runnable before its upstream ran.
            let mapped: Vec<NewDependency> = upstream
                .iter()
                .filter_map(|e| {
                    let (down, up) = (ids.get(&e.downstream)?, ids.get(&e.upstream)?);
                    Some(NewDependency::new(*down, *up).on_failure(e.on_failure))
                })
                .collect();
            if mapped.len() != run.blocked_on as usize {
                return Err(Error::invalid(
                    "source",
                    format!(
                        "run {} waits for {} upstream runs but {} of them are unfinished; \
                         refusing to copy it runnable",
                        run.id,
                        run.blocked_on,
                        mapped.len()
                    ),
                ));
            }
            report.blocked += 1;
            edges.extend(mapped);
        }
        let unbounded = DependencyLimits {
            max_fan_in: usize::MAX,
            max_graph_size: usize::MAX,
        };
        // The copies are fresh runs and the source's graph had no cycle.
        report.dependencies = dst.add_dependencies_acyclic(&edges, &unbounded, now)? as u64;
        dst.record_job_types(&self.job_types, now)?;
        report.job_types = self.job_types.len() as u64;
        Ok(report)
    }
}

fn new_task(task: &Task) -> NewTask {
    let mut new = NewTask::new(&task.name, &task.job_type, &task.payload);
    new.priority = task.priority;
    new.queue.clone_from(&task.queue);
    new.max_attempts = task.max_attempts;
    new.timeout = task.timeout;
    new.backoff = task.backoff;
    new.unique_key.clone_from(&task.unique_key);
    new.schedule = task.schedule.clone();
    new.misfire_policy = task.misfire_policy;
    new.misfire_cap = task.misfire_cap;
    new.next_run_at = task.next_run_at;
    new.enabled = task.enabled;
    new
}

fn new_run(run: &Run, task_id: Option<TaskId>) -> NewRun {
    let mut new = NewRun::new(&run.job_type, &run.payload, run.scheduled_at);
    new.priority = run.priority;
    new.queue.clone_from(&run.queue);
    new.max_attempts = run.max_attempts;
    new.timeout = run.timeout;
    new.backoff = run.backoff;
    new.unique_key.clone_from(&run.unique_key);
    new.task_id = task_id;
    new
}
