//! Figures for operators, one type per view of the schema (`system_health`,
//! `task_execution_stats`, `performance_metrics`, `throughput_last_hour`): what the
//! CLI's `stats` and `watch` print and a dashboard draws. Field names are the views'
//! column names, so their JSON is the view's row.
//!
//! The views compute ages with the database's clock: they are a snapshot for people,
//! never an input to liveness decisions (those use each worker's own promise).

use serde::{Deserialize, Deserializer, Serialize};

/// A count that a view reports as SQL `NULL` over no rows (`sum()` of nothing).
fn zero_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

/// Whether the system is healthy, in one row (the `system_health` view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Health {
    /// When the database computed it (RFC 3339, its own clock).
    pub checked_at: String,
    /// Whether claiming is paused in every process.
    #[serde(deserialize_with = "bool_from_int")]
    pub paused: bool,
    /// Instances not marked offline.
    #[serde(deserialize_with = "zero_if_null")]
    pub live_workers: u64,
    /// Instances silent for longer than their own stale limit.
    #[serde(deserialize_with = "zero_if_null")]
    pub stale_workers: u64,
    /// Runs waiting for their time or a free worker.
    #[serde(deserialize_with = "zero_if_null")]
    pub pending: u64,
    /// Runs holding a lease.
    #[serde(deserialize_with = "zero_if_null")]
    pub running: u64,
    /// Runs waiting for upstream runs.
    #[serde(deserialize_with = "zero_if_null")]
    pub blocked: u64,
    /// Leases past their expiry that maintenance has not taken back yet.
    #[serde(deserialize_with = "zero_if_null")]
    pub expired_leases: u64,
    /// Seconds the oldest due pending run has waited (`None`: none is due).
    pub oldest_due_wait_s: Option<f64>,
    /// Runs completed in the last hour.
    #[serde(deserialize_with = "zero_if_null")]
    pub completed_last_hour: u64,
    /// Runs failed in the last hour.
    #[serde(deserialize_with = "zero_if_null")]
    pub failed_last_hour: u64,
}

/// SQLite has no boolean: the view's `paused` is 0 or 1.
fn bool_from_int<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(n) => n != 0,
    })
}

/// Runs by outcome, success rate and durations of one job type and task (a row of the
/// `task_execution_stats` view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskStats {
    /// The job type.
    pub job_type: String,
    /// The task (schedule) the runs came from, if any.
    pub task_id: Option<i64>,
    /// That task's name.
    pub task_name: Option<String>,
    /// Runs in the database.
    #[serde(deserialize_with = "zero_if_null")]
    pub runs: u64,
    /// Of them, completed.
    #[serde(deserialize_with = "zero_if_null")]
    pub completed: u64,
    /// Failed for good.
    #[serde(deserialize_with = "zero_if_null")]
    pub failed: u64,
    /// Cancelled.
    #[serde(deserialize_with = "zero_if_null")]
    pub cancelled: u64,
    /// Blocked, pending or running.
    #[serde(deserialize_with = "zero_if_null")]
    pub unfinished: u64,
    /// completed / (completed + failed), in percent (`None` before either).
    pub success_rate_pct: Option<f64>,
    /// Attempts started, summed over the runs.
    #[serde(deserialize_with = "zero_if_null")]
    pub attempts: u64,
    /// Mean duration of the finished runs, in milliseconds.
    pub avg_duration_ms: Option<f64>,
    /// Longest duration, in milliseconds.
    pub max_duration_ms: Option<i64>,
}

/// Figures over the last hour, in one row (the `performance_metrics` view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastHour {
    /// Runs that finished (completed, failed or cancelled).
    #[serde(deserialize_with = "zero_if_null")]
    pub finished_last_hour: u64,
    /// Of them, completed.
    #[serde(deserialize_with = "zero_if_null")]
    pub completed_last_hour: u64,
    /// Of them, failed.
    #[serde(deserialize_with = "zero_if_null")]
    pub failed_last_hour: u64,
    /// Finished runs per second over the hour.
    pub finished_per_s: f64,
    /// Mean duration, in milliseconds.
    pub avg_duration_ms: Option<f64>,
    /// Longest duration, in milliseconds.
    pub max_duration_ms: Option<i64>,
    /// Mean wait between a run's time and its start, in milliseconds.
    pub avg_start_delay_ms: Option<f64>,
    /// Longest such wait, in milliseconds.
    pub max_start_delay_ms: Option<i64>,
}

/// Runs finished in one minute of the last hour (a row of the `throughput_last_hour`
/// view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MinuteThroughput {
    /// The minute, as `2026-01-05T09:41Z`.
    pub minute: String,
    /// Runs completed in it.
    #[serde(deserialize_with = "zero_if_null")]
    pub completed: u64,
    /// Runs failed in it.
    #[serde(deserialize_with = "zero_if_null")]
    pub failed: u64,
    /// Runs cancelled in it.
    #[serde(deserialize_with = "zero_if_null")]
    pub cancelled: u64,
    /// Mean duration, in milliseconds.
    pub avg_duration_ms: Option<f64>,
}
