//! The domain model: the records the runtime and every storage backend share (ids, runs
//! and their attempts and outcomes, statuses, dependencies, task definitions, workers
//! and their promises, filters and counts, the shutdown report), with the limits and
//! checks that hold whatever the database. It is the foundation: it imports no other
//! module of the library but the clocks (its checks return their own [`ValueError`]),
//! and the store converts its records to and from its own representation.

mod dependency;
mod event;
mod figures;
mod filter;
mod ids;
mod migration;
pub(crate) mod options;
mod queue;
mod run;
mod shape;
mod shutdown;
mod status;
mod task;
pub(crate) mod time;
mod value;
mod worker;

pub(crate) use self::run::{
    DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, check_json, validate_attempts, validate_json,
    validate_name, validate_priority, validate_timeout, validate_token_id,
};
pub use self::{
    dependency::{DependencyEdge, DependencyLimits, NewDependency, UPSTREAM_FAILED},
    event::Event,
    figures::{Health, LastHour, MinuteThroughput, TaskStats},
    filter::{RunFilter, StatusCounts},
    ids::{RunId, TaskId, WorkerId},
    migration::{Direction, MigrationState, MigrationStatus, MigrationStep},
    options::JobOptions,
    queue::{DEFAULT_QUEUE, MAX_QUEUE_NAME_LEN, QueueInfo, validate_queue},
    run::{
        AttemptError, CancelOutcome, Inserted, Lease, MAX_ATTEMPTS, MAX_JSON_DEPTH, MAX_PRIORITY,
        MAX_UNIQUE_KEY_LEN, Run,
    },
    shape::PayloadShape,
    shutdown::ShutdownReport,
    status::{
        ArchiveMode, AttemptErrorKind, MisfirePolicy, OnUpstreamFailure, RunStatus, UnknownValue,
        WorkerStatus,
    },
    task::{SCHEDULE_CHANGED, SCHEDULE_DISABLED, SCHEDULE_REMOVED, Schedule, Task},
    value::ValueError,
    worker::{
        DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_LEASE_DURATION, DEFAULT_STALE_WORKER_AFTER, Worker,
    },
};
// What the runtime hands the store (and the store hands back) on the way: public only
// through the `internals` feature's storage layer.
#[cfg_attr(not(feature = "internals"), allow(unreachable_pub))]
pub use self::{
    run::{AttemptOutcome, AttemptTiming, ClaimedRun, NewRun},
    task::{NewTask, TaskUpdate},
    worker::{NewWorker, Promise},
};
