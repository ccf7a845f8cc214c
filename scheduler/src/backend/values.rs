//! How a backend reads and writes the model's stored values: times as milliseconds,
//! durations as milliseconds, integers narrowed to the model's types. The same on every
//! backend, since every backend stores the same representation.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    error::{Error, Result},
    model::time::{from_ms, to_ms},
};

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

/// The message recorded on an attempt whose lease expired.
pub(crate) const LEASE_EXPIRED: &str =
    "lease expired: the worker stopped renewing it (process died or stalled)";

/// A maintenance batch size as a `LIMIT`: at least 1.
pub(crate) fn batch_param(batch: usize) -> Result<i64> {
    if batch == 0 {
        return Err(Error::invalid("batch", "must be at least 1"));
    }
    Ok(i64::try_from(batch).unwrap_or(i64::MAX))
}
