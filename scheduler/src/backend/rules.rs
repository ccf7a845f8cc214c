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

/// The `system_state` key of the job types hosts sharing the database have registered
/// (a JSON array).
pub(crate) const JOB_TYPES: &str = "job_types";

/// The `system_state` key of the registered job types' default options (a JSON object:
/// name → `{"priority", "max_attempts", "timeout_ms", "backoff_ms"}`, each optional),
/// written by every scheduler at start, so tools enqueueing by name (the CLI) apply the
/// type's `#[job]` defaults. The latest start wins: hosts of one database should agree.
pub(crate) const JOB_DEFAULTS: &str = "job_type_defaults";

/// The `JOB_DEFAULTS` value with `types` set in `current` (an unreadable value is
/// replaced), or `None` when it holds them already.
///
/// # Errors
/// [`Error::CorruptValue`] if the value cannot be written as JSON.
pub(crate) fn with_job_defaults(
    current: Option<&str>,
    types: &[(
        String,
        crate::model::JobOptions,
        Option<crate::model::PayloadShape>,
    )],
) -> Result<Option<String>> {
    let mut all: serde_json::Map<String, serde_json::Value> = current
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default();
    let before = all.clone();
    for (name, o, shape) in types {
        let mut entry = serde_json::Map::new();
        if let Some(shape) = shape {
            entry.insert("shape".into(), shape.to_json());
        }
        if let Some(p) = o.priority {
            entry.insert("priority".into(), p.into());
        }
        if let Some(n) = o.max_attempts {
            entry.insert("max_attempts".into(), n.into());
        }
        if let Some(t) = o.timeout {
            entry.insert(
                "timeout_ms".into(),
                u64::try_from(t.as_millis()).unwrap_or(u64::MAX).into(),
            );
        }
        if let Some(b) = o.backoff {
            entry.insert(
                "backoff_ms".into(),
                u64::try_from(b.as_millis()).unwrap_or(u64::MAX).into(),
            );
        }
        if let Some(q) = &o.queue {
            entry.insert("queue".into(), q.to_string().into());
        }
        all.insert(name.clone(), serde_json::Value::Object(entry));
    }
    if current.is_some() && all == before {
        return Ok(None);
    }
    serde_json::to_string(&all)
        .map(Some)
        .map_err(|e| Error::CorruptValue {
            column: "system_state.job_type_defaults",
            detail: e.to_string(),
        })
}

/// The default options and payload shape a host recorded for `job_type` (none
/// recorded: no defaults, no shape). An unreadable value gives none rather than
/// refusing the enqueue.
pub(crate) fn job_defaults_of(
    value: Option<&str>,
    job_type: &str,
) -> (crate::model::JobOptions, Option<crate::model::PayloadShape>) {
    let entry = value
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.get(job_type).cloned());
    let Some(entry) = entry else {
        return (crate::model::JobOptions::new(), None);
    };
    let shape = entry
        .get("shape")
        .and_then(crate::model::PayloadShape::from_json);
    let num = |k: &str| entry.get(k).and_then(serde_json::Value::as_u64);
    let mut o = crate::model::JobOptions::new();
    o.priority = num("priority").and_then(|n| u8::try_from(n).ok());
    o.max_attempts = num("max_attempts").and_then(|n| u32::try_from(n).ok());
    o.timeout = num("timeout_ms").map(std::time::Duration::from_millis);
    o.backoff = num("backoff_ms").map(std::time::Duration::from_millis);
    o.queue = entry
        .get("queue")
        .and_then(serde_json::Value::as_str)
        .map(|q| std::borrow::Cow::Owned(q.to_owned()));
    (o, shape)
}

/// The `system_state` key of the global pause flag (`"1"` paused, `"0"` running),
/// honoured by every process before it claims.
pub(crate) const PAUSED: &str = "paused";

/// The registered job types a `JOB_TYPES` value holds.
///
/// # Errors
/// [`Error::CorruptValue`] for a value that is not a JSON list of names.
pub(crate) fn job_types_of(value: Option<&str>) -> Result<Vec<String>> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => serde_json::from_str(v).map_err(|e| Error::CorruptValue {
            column: "system_state.job_types",
            detail: e.to_string(),
        }),
    }
}

/// The `JOB_TYPES` value to write once `names` are added to `current` (sorted), or
/// `None` when a value exists and already holds them all. An unreadable value is
/// replaced.
///
/// # Errors
/// [`Error::CorruptValue`] if the list cannot be written as JSON.
pub(crate) fn with_job_types(current: Option<&str>, names: &[String]) -> Result<Option<String>> {
    let mut all = job_types_of(current).unwrap_or_default();
    let before = all.len();
    for n in names {
        if !all.contains(n) {
            all.push(n.clone());
        }
    }
    if all.len() == before && current.is_some() {
        return Ok(None);
    }
    all.sort();
    serde_json::to_string(&all)
        .map(Some)
        .map_err(|e| Error::CorruptValue {
            column: "system_state.job_types",
            detail: e.to_string(),
        })
}

/// The holder of a lease kept in `system_state` as `{"worker": id, "expires_at": ms}`.
pub(crate) fn lead_holder(value: Option<&str>) -> Option<(i64, i64)> {
    let v: serde_json::Value = serde_json::from_str(value?).ok()?;
    Some((v.get("worker")?.as_i64()?, v.get("expires_at")?.as_i64()?))
}
