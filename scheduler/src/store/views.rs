//! The operator views of the schema (migrations 0003 and 0004), read as rows of JSON
//! objects: for tools that print them (the operator CLI) without a type per view.

use rusqlite::{named_params, types::ValueRef};

use super::{ReadTx, sql};
use crate::{
    error::{Error, Result},
    model::{Health, LastHour, MinuteThroughput, TaskStats},
};

/// One of the schema's views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum View {
    /// One row: is the system healthy.
    SystemHealth,
    /// Runs in each status.
    RunsByStatus,
    /// Per job type and task: runs by outcome, success rate, durations.
    TaskExecutionStats,
    /// Finished runs per minute over the last hour.
    ThroughputLastHour,
    /// One row of figures over the last hour.
    PerformanceMetrics,
    /// Instances that have not stopped.
    ActiveWorkers,
    /// Leases past their expiry.
    ExpiredLeases,
    /// Instances whose heartbeat is stale.
    StaleWorkers,
    /// Pending runs in claim order.
    PendingTaskRuns,
    /// Live, enabled task definitions.
    ActiveTasks,
}

impl View {
    /// The view's name in the schema.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            View::SystemHealth => "system_health",
            View::RunsByStatus => "runs_by_status",
            View::TaskExecutionStats => "task_execution_stats",
            View::ThroughputLastHour => "throughput_last_hour",
            View::PerformanceMetrics => "performance_metrics",
            View::ActiveWorkers => "active_workers",
            View::ExpiredLeases => "expired_leases",
            View::StaleWorkers => "stale_workers",
            View::PendingTaskRuns => "pending_task_runs",
            View::ActiveTasks => "active_tasks",
        }
    }

    fn query(self) -> &'static str {
        match self {
            View::SystemHealth => sql::VIEWS_SYSTEM_HEALTH,
            View::RunsByStatus => sql::VIEWS_RUNS_BY_STATUS,
            View::TaskExecutionStats => sql::VIEWS_TASK_EXECUTION_STATS,
            View::ThroughputLastHour => sql::VIEWS_THROUGHPUT_LAST_HOUR,
            View::PerformanceMetrics => sql::VIEWS_PERFORMANCE_METRICS,
            View::ActiveWorkers => sql::VIEWS_ACTIVE_WORKERS,
            View::ExpiredLeases => sql::VIEWS_EXPIRED_LEASES,
            View::StaleWorkers => sql::VIEWS_STALE_WORKERS,
            View::PendingTaskRuns => sql::VIEWS_PENDING_TASK_RUNS,
            View::ActiveTasks => sql::VIEWS_ACTIVE_TASKS,
        }
    }
}

impl ReadTx<'_> {
    /// Up to `limit` rows of `view`, each a JSON object of its columns, in the view's
    /// order.
    ///
    /// # Errors
    /// Database errors.
    pub fn read_view(
        &self,
        view: View,
        limit: u32,
    ) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
        let mut stmt = self.conn().prepare_cached(view.query())?;
        let names: Vec<String> = stmt
            .column_names()
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        let mut rows = stmt.query(named_params! { ":limit": limit })?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut obj = serde_json::Map::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => serde_json::Value::from(n),
                    ValueRef::Real(f) => serde_json::Number::from_f64(f)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number),
                    ValueRef::Text(t) => serde_json::Value::String(
                        std::str::from_utf8(t)
                            .map_err(|e| Error::CorruptValue {
                                column: "view",
                                detail: e.to_string(),
                            })?
                            .to_owned(),
                    ),
                    ValueRef::Blob(b) => serde_json::Value::String(format!("<{} bytes>", b.len())),
                };
                obj.insert(name.clone(), v);
            }
            out.push(obj);
        }
        Ok(out)
    }

    /// Up to `limit` rows of `view` as `T` (a type of [`crate::model`] whose fields
    /// are the view's columns).
    ///
    /// # Errors
    /// Database errors; [`Error::CorruptValue`] when a row does not fit `T`.
    fn view_rows<T: serde::de::DeserializeOwned>(&self, view: View, limit: u32) -> Result<Vec<T>> {
        self.read_view(view, limit)?
            .into_iter()
            .map(|row| {
                serde_json::from_value(serde_json::Value::Object(row)).map_err(|e| {
                    Error::CorruptValue {
                        column: view.name(),
                        detail: e.to_string(),
                    }
                })
            })
            .collect()
    }

    /// Whether the system is healthy, in one row (the `system_health` view).
    ///
    /// # Errors
    /// Database errors.
    pub fn health(&self) -> Result<Health> {
        one_row(self.view_rows(View::SystemHealth, 1)?)
    }

    /// Per job type and task: outcomes, success rate, durations.
    ///
    /// # Errors
    /// Database errors.
    pub fn task_stats(&self) -> Result<Vec<TaskStats>> {
        self.view_rows(View::TaskExecutionStats, VIEW_ROWS)
    }

    /// The last hour in one row (the `performance_metrics` view).
    ///
    /// # Errors
    /// Database errors.
    pub fn last_hour(&self) -> Result<LastHour> {
        one_row(self.view_rows(View::PerformanceMetrics, 1)?)
    }

    /// Runs finished per minute over the last hour, oldest minute first.
    ///
    /// # Errors
    /// Database errors.
    pub fn throughput_last_hour(&self) -> Result<Vec<MinuteThroughput>> {
        self.view_rows(View::ThroughputLastHour, VIEW_ROWS)
    }
}

/// Rows read from views that have one row per job type or minute: far more than any
/// real database holds, so nothing is cut.
const VIEW_ROWS: u32 = 100_000;

/// The one row of a one-row view.
fn one_row<T>(rows: Vec<T>) -> Result<T> {
    rows.into_iter().next().ok_or(Error::CorruptValue {
        column: "view",
        detail: "a one-row view returned no row".to_owned(),
    })
}
