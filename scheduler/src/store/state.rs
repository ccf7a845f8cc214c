//! `system_state`: the runtime's own key/value rows (pause flag, maintenance records).

use rusqlite::{OptionalExtension, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{WorkerId, ms},
};
use crate::error::{Error, Result};

/// The key of the job types hosts sharing the database have registered (a JSON array).
pub(crate) const JOB_TYPES: &str = "job_types";

/// The key of the global pause flag (`"1"` paused, `"0"` running), honoured by every
/// process before it claims.
pub(crate) const PAUSED: &str = "paused";

impl ReadTx<'_> {
    /// The value of a state key, if set.
    ///
    /// # Errors
    /// Database errors.
    pub fn get_state(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(sql::STATE_GET)?
            .query_row(named_params! { ":key": key }, |r| r.get(0))
            .optional()?)
    }

    /// The job types some host sharing the database has registered (recorded at each
    /// scheduler start), sorted.
    ///
    /// # Errors
    /// Database errors; [`Error::CorruptValue`] for a record that is not a JSON list.
    pub fn registered_job_types(&self) -> Result<Vec<String>> {
        match self.get_state(JOB_TYPES)? {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_str(&v).map_err(|e| Error::CorruptValue {
                column: "system_state.job_types",
                detail: e.to_string(),
            }),
        }
    }

    /// Whether claiming is paused for every process sharing the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn is_paused(&self) -> Result<bool> {
        Ok(self.get_state(PAUSED)?.as_deref() == Some("1"))
    }
}

impl WriteTx<'_> {
    /// Sets a state key.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or oversized key; database errors.
    pub fn set_state(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<()> {
        if key.is_empty() || key.len() > 200 {
            return Err(Error::invalid("key", "must be 1 to 200 bytes"));
        }
        self.conn()
            .prepare_cached(sql::STATE_SET)?
            .execute(named_params! { ":key": key, ":value": value, ":now": ms(now) })?;
        Ok(())
    }

    /// Adds `names` to the job types registered by hosts sharing the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn record_job_types(&self, names: &[String], now: OffsetDateTime) -> Result<()> {
        let mut all = self.registered_job_types().unwrap_or_default();
        let before = all.len();
        for n in names {
            if !all.contains(n) {
                all.push(n.clone());
            }
        }
        if all.len() == before && self.get_state(JOB_TYPES)?.is_some() {
            return Ok(());
        }
        all.sort();
        let json = serde_json::to_string(&all).map_err(|e| Error::CorruptValue {
            column: "system_state.job_types",
            detail: e.to_string(),
        })?;
        self.set_state(JOB_TYPES, &json, now)
    }

    /// Pauses or resumes claiming in every process sharing the database. Runs already
    /// running finish; nothing new starts while paused.
    ///
    /// # Errors
    /// Database errors.
    pub fn set_paused(&self, paused: bool, now: OffsetDateTime) -> Result<()> {
        self.set_state(PAUSED, if paused { "1" } else { "0" }, now)
    }
}

/// The holder of a lease kept in `system_state` as `{"worker": id, "expires_at": ms}`.
fn holder(value: Option<&str>) -> Option<(i64, i64)> {
    let v: serde_json::Value = serde_json::from_str(value?).ok()?;
    Some((v.get("worker")?.as_i64()?, v.get("expires_at")?.as_i64()?))
}

impl WriteTx<'_> {
    /// Takes or renews the lease `key` for `worker` until `now + lease`, unless another
    /// worker holds it unexpired. Returns whether `worker` holds it now. Atomic across
    /// processes: the write transaction holds the database's write lock.
    ///
    /// # Errors
    /// Database errors.
    pub fn try_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
        lease: std::time::Duration,
    ) -> Result<bool> {
        let current = self.get_state(key)?;
        if let Some((holder, expires_at)) = holder(current.as_deref()) {
            if holder != worker.get() && expires_at > ms(now) {
                return Ok(false);
            }
        }
        let expires_at = crate::model::time::add_ms("leader lease", ms(now), lease)?;
        let value = serde_json::json!({ "worker": worker.get(), "expires_at": expires_at });
        self.set_state(key, &value.to_string(), now)?;
        Ok(true)
    }

    /// Gives the lease `key` up if `worker` holds it.
    ///
    /// # Errors
    /// Database errors.
    pub fn release_lead(&self, key: &str, worker: WorkerId, now: OffsetDateTime) -> Result<()> {
        let current = self.get_state(key)?;
        if holder(current.as_deref()).is_some_and(|(h, _)| h == worker.get()) {
            self.set_state(key, "{}", now)?;
        }
        Ok(())
    }
}
