//! The domain model: the records the runtime and every storage backend share (ids,
//! runs, statuses, attempts and their outcomes), with the limits and checks that hold
//! whatever the database. It depends on no storage code; the store converts these to
//! and from its own representation.

mod ids;
mod run;
mod shutdown;
mod status;

pub(crate) use self::run::{
    DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, check_json, no_nul, validate_attempts, validate_json,
    validate_name, validate_priority, validate_timeout,
};
pub use self::{
    ids::{RunId, TaskId, WorkerId},
    run::{
        AttemptError, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun, Inserted, Lease,
        MAX_ATTEMPTS, MAX_JSON_DEPTH, MAX_PRIORITY, MAX_UNIQUE_KEY_LEN, NewRun, Run,
    },
    shutdown::ShutdownReport,
    status::{
        AttemptErrorKind, MisfirePolicy, OnUpstreamFailure, RunStatus, UnknownValue, WorkerStatus,
    },
};
