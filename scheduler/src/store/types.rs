//! How the domain model's values are stored in SQLite: ids as integers, closed sets as
//! their text (CHECK-constrained by the schema), times as milliseconds.

use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use time::OffsetDateTime;

pub use crate::model::{
    AttemptError, AttemptErrorKind, AttemptOutcome, AttemptTiming, CancelOutcome, ClaimedRun,
    Inserted, Lease, MAX_ATTEMPTS, MAX_JSON_DEPTH, MAX_PRIORITY, MAX_UNIQUE_KEY_LEN, MisfirePolicy,
    NewRun, OnUpstreamFailure, Run, RunId, RunStatus, TaskId, WorkerId, WorkerStatus,
};
pub(crate) use crate::model::{
    no_nul, validate_attempts, validate_json, validate_name, validate_priority, validate_timeout,
};
use crate::{
    error::{Error, Result},
    model::time::{from_ms, to_ms},
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

/// Reads a timestamp column (milliseconds) into a time.
pub(crate) fn ts(ms: i64) -> Result<OffsetDateTime> {
    Ok(from_ms(ms)?)
}

pub(crate) fn ts_opt(ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    Ok(ms.map(from_ms).transpose()?)
}

pub(crate) fn ms(t: OffsetDateTime) -> i64 {
    to_ms(t)
}

pub(crate) fn dur_ms_opt(ms: Option<i64>) -> Option<Duration> {
    ms.map(|m| Duration::from_millis(u64::try_from(m).unwrap_or(0)))
}

pub(crate) fn dur_ms(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Narrows a database integer known to fit (the schema's CHECKs bound it).
pub(crate) fn narrow<T: TryFrom<i64>>(column: &'static str, v: i64) -> Result<T> {
    T::try_from(v).map_err(|_| Error::CorruptValue {
        column,
        detail: format!("{v} is out of range"),
    })
}
