//! `system_state`: the runtime's own key/value rows (pause flag, maintenance records).

use rusqlite::{OptionalExtension, named_params};
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{WorkerId, ms},
};
use crate::{
    backend::rules::{JOB_TYPES, PAUSED, job_types_of, lead_holder, with_job_types},
    error::{Error, Result},
};

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
        job_types_of(self.get_state(JOB_TYPES)?.as_deref())
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
        match with_job_types(self.get_state(JOB_TYPES)?.as_deref(), names)? {
            Some(json) => self.set_state(JOB_TYPES, &json, now),
            None => Ok(()),
        }
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
        if let Some((holder, expires_at)) = lead_holder(current.as_deref()) {
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
        if lead_holder(current.as_deref()).is_some_and(|(h, _)| h == worker.get()) {
            self.set_state(key, "{}", now)?;
        }
        Ok(())
    }
}
