//! How the domain model's values are stored in SQLite: ids as integers, closed sets as
//! their text (CHECK-constrained by the schema), times as milliseconds.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

pub(crate) use crate::backend::values::{dur_ms, dur_ms_opt, ms, narrow, ts, ts_opt};
pub(crate) use crate::model::validate_name;
pub use crate::model::{
    AttemptError, AttemptErrorKind, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun,
    Inserted, Lease, MAX_ATTEMPTS, MAX_JSON_DEPTH, MAX_PRIORITY, MAX_UNIQUE_KEY_LEN, MisfirePolicy,
    NewRun, OnUpstreamFailure, Run, RunId, RunStatus, TaskId, WorkerId, WorkerStatus,
};

macro_rules! sql_id {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.get()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($name::new)
            }
        }
    )*};
}

sql_id!(RunId, TaskId, WorkerId);

macro_rules! sql_text {
    ($($name:ident),*) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                s.parse().map_err(|e: crate::model::UnknownValue| FromSqlError::Other(Box::new(e)))
            }
        }
    )*};
}

sql_text!(
    RunStatus,
    AttemptErrorKind,
    OnUpstreamFailure,
    WorkerStatus,
    MisfirePolicy
);
