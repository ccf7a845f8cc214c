//! Dependencies: an edge says a run waits for another, and what it does if that one
//! fails; the limits on the graphs one call may add.

use time::OffsetDateTime;

use super::{OnUpstreamFailure, RunId, RunStatus};

/// The reason recorded on runs cancelled because an upstream run failed or was cancelled.
pub const UPSTREAM_FAILED: &str = "upstream_failed";

/// An edge to add: `downstream` waits for `upstream`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewDependency {
    /// The run that waits.
    pub downstream: RunId,
    /// The run it waits for.
    pub upstream: RunId,
    /// What `downstream` does if `upstream` fails for good or is cancelled.
    pub on_failure: OnUpstreamFailure,
}

impl NewDependency {
    /// `downstream` waits for `upstream`, and is cancelled if `upstream` fails.
    #[must_use]
    pub fn new(downstream: RunId, upstream: RunId) -> Self {
        NewDependency {
            downstream,
            upstream,
            on_failure: OnUpstreamFailure::Cancel,
        }
    }

    /// Sets what happens to `downstream` if `upstream` fails.
    #[must_use]
    pub fn on_failure(mut self, on_failure: OnUpstreamFailure) -> Self {
        self.on_failure = on_failure;
        self
    }
}

/// An edge as stored, with the status of both ends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DependencyEdge {
    /// The run that waits.
    pub downstream: RunId,
    /// The run it waits for.
    pub upstream: RunId,
    /// What `downstream` does if `upstream` fails.
    pub on_failure: OnUpstreamFailure,
    /// True once `upstream` finished and the edge was settled.
    pub resolved: bool,
    /// When the edge was added.
    pub created_at: OffsetDateTime,
    /// The upstream run's status.
    pub upstream_status: RunStatus,
    /// The downstream run's status.
    pub downstream_status: RunStatus,
}

/// Limits on the dependency graphs the store accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DependencyLimits {
    /// Most upstream runs one run may wait for. Defaults to 10 000.
    pub max_fan_in: usize,
    /// Most edges (or runs) one call may add. Defaults to 100 000.
    pub max_graph_size: usize,
}

impl Default for DependencyLimits {
    fn default() -> Self {
        DependencyLimits {
            max_fan_in: 10_000,
            max_graph_size: 100_000,
        }
    }
}

impl DependencyLimits {
    /// Sets [`DependencyLimits::max_fan_in`].
    #[must_use]
    pub fn max_fan_in(mut self, n: usize) -> Self {
        self.max_fan_in = n;
        self
    }

    /// Sets [`DependencyLimits::max_graph_size`].
    #[must_use]
    pub fn max_graph_size(mut self, n: usize) -> Self {
        self.max_graph_size = n;
        self
    }
}
