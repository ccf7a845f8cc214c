//! Questions about many runs: which to list, and how many there are in each status.

use time::OffsetDateTime;

use super::{RunId, RunStatus, TaskId};

/// Which runs [`Admin::runs`](crate::Admin::runs) and
/// [`Scheduler::runs`](crate::Scheduler::runs) return: every filter is optional; newest
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunFilter {
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// Only runs of this job type.
    pub job_type: Option<String>,
    /// Only runs of this task definition.
    pub task_id: Option<TaskId>,
    /// Only runs in this queue.
    pub queue: Option<String>,
    /// Only runs created at or after this time.
    pub created_after: Option<OffsetDateTime>,
    /// Only runs created before this time.
    pub created_before: Option<OffsetDateTime>,
    /// Only runs with an id below this one (for paging backwards).
    pub before_id: Option<RunId>,
    /// At most this many runs. Defaults to 100.
    pub limit: u32,
}

impl Default for RunFilter {
    fn default() -> Self {
        RunFilter {
            status: None,
            job_type: None,
            task_id: None,
            queue: None,
            created_after: None,
            created_before: None,
            before_id: None,
            limit: 100,
        }
    }
}

impl RunFilter {
    /// Every run, newest first, at most 100.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Only runs in `status`.
    #[must_use]
    pub fn status(mut self, status: RunStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only runs of `job_type`.
    #[must_use]
    pub fn job_type(mut self, job_type: impl Into<String>) -> Self {
        self.job_type = Some(job_type.into());
        self
    }

    /// Only runs in `queue`.
    ///
    /// ```
    /// use runloom::RunFilter;
    ///
    /// let filter = RunFilter::new().queue("mail");
    /// assert_eq!(filter.queue.as_deref(), Some("mail"));
    /// ```
    #[must_use]
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.queue = Some(queue.into());
        self
    }

    /// Only runs of the task (schedule) `task`.
    #[must_use]
    pub fn task(mut self, task: TaskId) -> Self {
        self.task_id = Some(task);
        self
    }

    /// Only runs created in `[after, before)`.
    #[must_use]
    pub fn created_between(mut self, after: OffsetDateTime, before: OffsetDateTime) -> Self {
        self.created_after = Some(after);
        self.created_before = Some(before);
        self
    }

    /// At most `limit` runs.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
}

/// Number of runs in each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusCounts {
    /// Waiting for dependencies.
    pub blocked: u64,
    /// Waiting for their time or a worker.
    pub pending: u64,
    /// Held by a worker.
    pub running: u64,
    /// Finished successfully.
    pub completed: u64,
    /// Failed for good.
    pub failed: u64,
    /// Cancelled.
    pub cancelled: u64,
}

impl StatusCounts {
    /// The count for one status.
    #[must_use]
    pub fn get(&self, status: RunStatus) -> u64 {
        match status {
            RunStatus::Blocked => self.blocked,
            RunStatus::Pending => self.pending,
            RunStatus::Running => self.running,
            RunStatus::Completed => self.completed,
            RunStatus::Failed => self.failed,
            RunStatus::Cancelled => self.cancelled,
        }
    }

    /// All runs counted.
    #[must_use]
    pub fn total(&self) -> u64 {
        RunStatus::ALL.iter().map(|s| self.get(*s)).sum()
    }
}
