//! The one wiring place: opening the database, registering this instance, and
//! building each thread's loop with what it uses, in flow order (workers, dispatcher,
//! heartbeat, the backend's own threads, maintenance).

use std::{sync::Arc, thread::JoinHandle, time::Instant};

use parking_lot::Mutex;

use super::{
    Scheduler, Shared,
    shutdown::{Lifecycle, Threads},
};
use crate::{
    admin::Admin,
    backend::{Backend, JobTypeFilter, Notice, Notify},
    claim::Claimer,
    clock::HostInstant,
    config::{Checked, Config, SchedulerBuilder},
    dispatch::{
        self, Channels, Dispatcher,
        wake::{self, Wake},
    },
    error::{Error, Result},
    events::Event,
    heartbeat::Heartbeat,
    inflight::InFlight,
    job::context::Execution,
    maintenance::{Leader, Maintainer},
    metrics::Stats,
    model::{NewWorker, Promise},
    store::Store,
};

impl SchedulerBuilder {
    /// Checks the settings, opens the database (creating and migrating it), registers
    /// this instance in `workers`, and starts the threads.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first bad setting;
    /// [`Error::DuplicateJobType`]; any refusal of the database file (as
    /// [`crate::AdminBuilder::create`] lists them) or migration error.
    pub fn start(self) -> Result<Scheduler> {
        Scheduler::start(self.checked()?)
    }
}

impl Scheduler {
    pub(crate) fn start(checked: Checked) -> Result<Scheduler> {
        let Checked {
            config,
            registry,
            state,
            clock,
            events,
        } = checked;
        let (store, sqlite) = open_backend(&config)?;
        if config.start_paused {
            let now = clock.now();
            store.write(|tx| tx.set_paused(true, now))?;
        }
        let database_id = store
            .read(|tx| tx.get_state("database_id"))?
            .unwrap_or_default();
        let host = host_name();
        let name = config
            .name
            .clone()
            .unwrap_or_else(|| format!("{host}:{}", std::process::id()));
        let threads = u32::try_from(config.worker_threads).unwrap_or(u32::MAX);
        let job_types = registry.names();
        let defaults = registry.defaults();
        let promise = Promise {
            heartbeat_interval: config.heartbeat_interval,
            lease_duration: config.lease_duration,
            stale_after: config.maintenance.stale_worker_after,
        };
        let registering = Instant::now();
        let worker_id = store.write(|tx| {
            let new = NewWorker::new(name, host, threads).promise(promise);
            let id = tx.register_worker(&new, clock.now(), HostInstant::now())?;
            // Tools (the CLI's enqueue) accept the job types some host registers, with
            // their defaults.
            tx.record_job_types(&job_types, clock.now())?;
            let current = tx.get_state(crate::backend::rules::JOB_DEFAULTS)?;
            if let Some(value) =
                crate::backend::rules::with_job_defaults(current.as_deref(), &defaults)?
            {
                tx.set_state(crate::backend::rules::JOB_DEFAULTS, &value, clock.now())?;
            }
            // The views use the threshold this instance's maintenance uses.
            let stale_ms = config
                .maintenance
                .stale_worker_after
                .as_millis()
                .to_string();
            tx.set_state("maintenance.stale_worker_after_ms", &stale_ms, clock.now())?;
            Ok(id)
        })?;

        // A new dispatcher looks at the schedules at once.
        let (waker, wakeups) = wake::channel(&[Wake::Schedules]);
        // One channel per queue, holding one place per run the queue may hold.
        let (to_workers, queues): (Vec<_>, Vec<_>) = config
            .queues
            .iter()
            .map(|q| crossbeam_channel::bounded(q.max_in_flight))
            .unzip();
        let (done_tx, done_rx) = crossbeam_channel::bounded(config.max_in_flight);
        let (control_tx, control_rx) = crossbeam_channel::bounded(1);
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        let claimer = Claimer {
            worker: worker_id,
            lease: config.lease_duration,
            job_types: JobTypeFilter::only(registry.names()),
            heartbeat_interval: config.heartbeat_interval,
            stale_after: config.maintenance.stale_worker_after,
            queues: config.queues.iter().map(|q| q.name.clone()).collect(),
        };
        let inflight = Arc::new(InFlight::new(
            registering + config.maintenance.stale_worker_after,
        ));
        let events = Arc::new(events);
        let stats = Arc::new(Stats::new());
        // The heartbeat and maintenance loops hold only what they use.
        let heartbeat = Heartbeat {
            store: store.clone(),
            clock: clock.clone(),
            inflight: inflight.clone(),
            events: events.clone(),
            stats: stats.clone(),
            worker: worker_id,
            interval: config.heartbeat_interval,
            lease: config.lease_duration,
            stale_after: config.maintenance.stale_worker_after,
        };
        let maintainer = config.maintenance.enabled.then(|| Maintainer {
            store: store.clone(),
            clock: clock.clone(),
            config: config.maintenance.clone(),
            retry: config.retry_policy.clone(),
            leader: Leader {
                worker: worker_id,
                lease: config
                    .maintenance
                    .leader_lease
                    .unwrap_or(config.lease_duration),
            },
            waker: waker.clone(),
        });
        let shared = Arc::new(Shared {
            store,
            config,
            registry,
            clock,
            worker_id,
            database_id,
            inflight,
            events,
            stats,
            dispatch_cutoff: Arc::default(),
            waker,
        });

        let execution = Arc::new(Execution {
            store: shared.store.clone(),
            clock: shared.clock.clone(),
            inflight: shared.inflight.clone(),
            events: shared.events.clone(),
            stats: shared.stats.clone(),
            registry: shared.registry.clone(),
            state,
            database_id: shared.database_id.clone(),
            max_payload_bytes: shared.config.max_payload_bytes,
            allow_foreign: shared.config.allow_foreign_job_types,
            new_work: {
                let waker = shared.waker.clone();
                Arc::new(move || waker.wake(Wake::Work))
            },
        });
        let lanes: Vec<(usize, &crossbeam_channel::Receiver<_>)> = shared
            .config
            .queues
            .iter()
            .map(|q| q.threads)
            .zip(&queues)
            .collect();
        let workers = crate::worker::spawn(&lanes, &execution, &done_tx)?;
        drop(done_tx);
        let dispatcher = Dispatcher::new(
            dispatch::Deps {
                store: shared.store.clone(),
                clock: shared.clock.clone(),
                inflight: shared.inflight.clone(),
                events: shared.events.clone(),
                stats: shared.stats.clone(),
                cutoff: shared.dispatch_cutoff.clone(),
                retry: shared.config.retry_policy.clone(),
                max_snoozes: shared.config.max_snoozes,
                poll_interval: shared.config.poll_interval,
                misfire_threshold: shared.config.misfire_threshold,
                lanes: shared
                    .config
                    .queues
                    .iter()
                    .map(|q| (q.threads, q.max_in_flight))
                    .collect(),
                adaptive_in_flight: shared.config.adaptive_in_flight,
            },
            claimer,
            Channels {
                to_workers,
                queues,
                completions: done_rx,
                wake: wakeups,
                control: control_rx,
            },
        );
        let dispatcher = spawn("runloom-dispatcher", move || dispatcher.run())?;
        let mut background = Vec::new();
        {
            let stop = stop_rx.clone();
            background.push(spawn("runloom-heartbeat", move || heartbeat.run(&stop))?);
        }
        let notify: Notify = {
            let waker = shared.waker.clone();
            Arc::new(move |notice| {
                waker.wake(match notice {
                    Notice::Work => Wake::Work,
                    Notice::Schedules => Wake::Schedules,
                    Notice::Resumed => Wake::Resumed,
                });
            })
        };
        background.extend(shared.store.spawn_background(&stop_rx, &notify)?);
        #[cfg(feature = "metrics")]
        {
            let (store, stop) = (shared.store.clone(), stop_rx.clone());
            let every = shared.config.metrics_interval;
            background.push(spawn("runloom-metrics", move || {
                crate::observe::metrics::gauges(&store, &stop, every);
            })?);
        }
        if let Some(maintainer) = maintainer {
            let stop = stop_rx;
            background.push(spawn("runloom-maintenance", move || {
                maintainer.run(&stop);
            })?);
        }
        shared
            .events
            .emit(Event::SchedulerStarted { worker: worker_id });
        log::info!(
            "scheduler {worker_id} started with {} worker thread(s)",
            shared.config.worker_threads
        );
        let admin = Admin::of(
            shared.store.clone(),
            shared.clock.clone(),
            shared.config.retry_policy.clone(),
            shared.config.maintenance.clone(),
            shared.events.changes(),
        );
        #[cfg(not(feature = "internals"))]
        drop(sqlite);
        Ok(Scheduler {
            shared,
            admin,
            #[cfg(feature = "internals")]
            sqlite,
            lifecycle: Mutex::new(Lifecycle::Running(Threads {
                dispatcher,
                workers,
                background,
                stop_background: stop_tx,
                control: control_tx,
            })),
            stopped: parking_lot::Condvar::new(),
        })
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map_err(Error::Thread)
}

/// The database the configuration names, and the SQLite store behind it when it is one
/// (for the `internals` feature's tests).
fn open_backend(config: &Config) -> Result<(Arc<dyn Backend>, Option<Store>)> {
    #[cfg(feature = "postgres")]
    if let Some(options) = &config.postgres {
        let options = options
            .clone()
            .busy_timeout(config.store.busy_timeout_value());
        let store =
            crate::store::postgres::PgStore::open_with_clock(options, config.store.clock_value())?;
        return Ok((Arc::new(store), None));
    }
    let sqlite = Store::open(config.store.clone())?;
    Ok((Arc::new(sqlite.clone()), Some(sqlite)))
}
