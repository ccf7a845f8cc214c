//! Decisions every backend makes alike from what it has read: kept here once, so the
//! two backends cannot drift apart on them.

use crate::{
    error::{Error, Result},
    model::{DependencyEdge, MAX_ATTEMPTS, OnUpstreamFailure, Run, RunId, RunStatus},
};

/// What retrying `run` by hand does to its upstream edges.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RetryPlan {
    /// Upstreams that have not settled: the run waits for them again (blocked).
    pub(crate) blocked_on: u32,
    /// Edges whose `resolved` flag changes, with its new value.
    pub(crate) reopen: Vec<(RunId, bool)>,
}

/// Whether `run` (with its unique key's live holder, if any) may be retried by hand,
/// and with which upstream edges reopened: see `WriteTx::retry_run` for the contract.
///
/// # Errors
/// [`Error::InvalidRunState`], [`Error::UniqueKeyTaken`], [`Error::UpstreamNotRetried`].
pub(crate) fn plan_retry(
    run: &Run,
    key_holder: Option<RunId>,
    upstream: &[DependencyEdge],
) -> Result<RetryPlan> {
    if !matches!(run.status, RunStatus::Failed | RunStatus::Cancelled)
        || run.attempt >= MAX_ATTEMPTS
    {
        return Err(Error::InvalidRunState {
            run: run.id,
            status: run.status,
            operation: "retry",
        });
    }
    if let (Some(key), Some(holder)) = (&run.unique_key, key_holder) {
        return Err(Error::UniqueKeyTaken {
            key: key.clone(),
            holder,
        });
    }
    let mut plan = RetryPlan::default();
    for edge in upstream {
        let settled = match edge.upstream_status {
            RunStatus::Completed => true,
            RunStatus::Failed | RunStatus::Cancelled => {
                if edge.on_failure == OnUpstreamFailure::Cancel {
                    return Err(Error::UpstreamNotRetried {
                        run: run.id,
                        upstream: edge.upstream,
                        status: edge.upstream_status,
                    });
                }
                true
            }
            RunStatus::Blocked | RunStatus::Pending | RunStatus::Running => false,
        };
        if !settled {
            plan.blocked_on += 1;
        }
        if edge.resolved != settled {
            plan.reopen.push((edge.upstream, settled));
        }
    }
    Ok(plan)
}
