//! What the runtime and a backend hand each other besides the domain model: the job
//! types a claimer runs, what finishing an attempt or a rescue batch did.
// Public only through the `internals` feature's storage layer.
#![cfg_attr(not(feature = "internals"), allow(unreachable_pub, dead_code))]

use crate::model::{RunId, RunStatus};

/// Which job types a claimer can run: a process only claims runs it knows how to
/// execute, so several binaries can share one database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobTypeFilter(Option<(String, Vec<String>)>);

impl JobTypeFilter {
    /// Runs of any job type.
    #[must_use]
    pub fn any() -> Self {
        JobTypeFilter(None)
    }

    /// Runs of these job types only.
    #[must_use]
    pub fn only<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_owned()).collect();
        let list = names
            .iter()
            .map(|n| serde_json::Value::String(n.clone()))
            .collect();
        JobTypeFilter(Some((serde_json::Value::Array(list).to_string(), names)))
    }

    /// The names as a JSON array (SQLite's `json_each` reads it), or `None` for any job
    /// type.
    pub(crate) fn as_json(&self) -> Option<&str> {
        self.0.as_ref().map(|(json, _)| json.as_str())
    }

    /// The names (an array parameter on PostgreSQL), or `None` for any job type.
    pub(crate) fn names(&self) -> Option<&[String]> {
        self.0.as_ref().map(|(_, names)| names.as_slice())
    }
}

/// What finishing an attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finished {
    /// The run's status after the write.
    pub status: RunStatus,
    /// Dependents that became pending because of it.
    pub unblocked: usize,
    /// The reason the run records when the write left it cancelled (a reason given
    /// with a cancel request wins over the job's own).
    pub cancel_reason: Option<String>,
}

/// One run taken back from an expired lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RescuedRun {
    /// The run.
    pub run: RunId,
    /// `pending` (to be retried) or `failed` (no attempt left).
    pub status: RunStatus,
}

/// What one batch of lease rescue did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRescue {
    /// The runs taken back, with their new status.
    pub runs: Vec<RescuedRun>,
    /// Expired lease rows removed (rescued runs' leases and any stray ones).
    pub leases_dropped: usize,
    /// Dependents that became pending (of runs that failed and had `run` edges).
    pub unblocked: usize,
}

impl LeaseRescue {
    /// Runs put back to pending.
    #[must_use]
    pub fn requeued(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.status == RunStatus::Pending)
            .count()
    }

    /// Runs failed for good (their last attempt's lease expired).
    #[must_use]
    pub fn failed(&self) -> usize {
        self.runs
            .iter()
            .filter(|r| r.status == RunStatus::Failed)
            .count()
    }
}
