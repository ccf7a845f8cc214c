//! The operator views of the schema on PostgreSQL, read as rows of JSON objects (for
//! tools that print them without a type per view), and the figures of `crate::model`
//! read from them.
//!
//! The views themselves render times as `timestamptz` and ages and rates as `numeric`,
//! which the client has no Rust type for: each statement (`views_*.sql`) reads its view
//! with casts, times to the text SQLite's views write (RFC 3339, UTC, milliseconds) and
//! numerics to `float8`, so every column arrives as an integer, a float, a boolean or
//! text, and the figures (Health, TaskStats, LastHour, MinuteThroughput) deserialise
//! from the same rows as on SQLite.

use postgres::{Row, types::Type};
use serde_json::{Map, Value};

use super::{sql, tx::PgTx};
use crate::{
    error::{Error, Result},
    model::{Health, LastHour, MinuteThroughput, TaskStats},
    store::View,
};

/// The statement that reads `view` (its `LIMIT` is `$1`).
fn view_sql(view: View) -> &'static str {
    match view {
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

/// Column `i` of `row` as JSON, by its type.
fn json_of(view: View, row: &Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_();
    let v = if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?.map(Value::from)
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?.map(Value::from)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?.map(Value::from)
    } else if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::from)
    } else if *ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?
            .and_then(|f| serde_json::Number::from_f64(f64::from(f)))
            .map(Value::Number)
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
        row.try_get::<_, Option<String>>(i)?.map(Value::String)
    } else {
        // A statement that forgot a cast: said so rather than guessed.
        return Err(Error::CorruptValue {
            column: view.name(),
            detail: format!(
                "column {} is of type {ty}, which the statement should cast",
                row.columns()[i].name()
            ),
        });
    };
    Ok(v.unwrap_or(Value::Null))
}

impl PgTx<'_> {
    /// Up to `limit` rows of `view`, each a JSON object of its columns, in the view's
    /// order.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn read_view(&self, view: View, limit: u32) -> Result<Vec<Map<String, Value>>> {
        let rows = self.query(view_sql(view), &[&i64::from(limit)])?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut obj = Map::new();
            for (i, column) in row.columns().iter().enumerate() {
                obj.insert(column.name().to_owned(), json_of(view, row, i)?);
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
                serde_json::from_value(Value::Object(row)).map_err(|e| Error::CorruptValue {
                    column: view.name(),
                    detail: e.to_string(),
                })
            })
            .collect()
    }

    /// Whether the system is healthy, in one row (the `system_health` view, read with
    /// casts).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn health(&self) -> Result<Health> {
        one_row(self.view_rows(View::SystemHealth, 1)?)
    }

    /// Per job type and task: outcomes, success rate, durations (the
    /// `task_execution_stats` view, read with casts).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn task_stats(&self) -> Result<Vec<TaskStats>> {
        self.view_rows(View::TaskExecutionStats, VIEW_ROWS)
    }

    /// The last hour in one row (the `performance_metrics` view, read with casts).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn last_hour(&self) -> Result<LastHour> {
        one_row(self.view_rows(View::PerformanceMetrics, 1)?)
    }

    /// Runs finished per minute over the last hour, oldest minute first (the
    /// `throughput_last_hour` view, read with casts).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) fn throughput_last_hour(&self) -> Result<Vec<MinuteThroughput>> {
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
