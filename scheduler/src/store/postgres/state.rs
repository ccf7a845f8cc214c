//! `system_state`: the runtime's own key/value rows (pause flag, registered job types,
//! leadership, maintenance records), as on SQLite (`store/state.rs`). What SQLite gets
//! from its single writer, a read-decide-write here gets from locking the key's row.

use time::OffsetDateTime;

use super::{PgTx, sql};
use crate::{
    backend::rules::{JOB_TYPES, PAUSED, job_types_of, lead_holder, with_job_types},
    backend::values::ms,
    error::{Error, Result},
    model::{WorkerId, time::add_ms},
};

impl PgTx<'_> {
    pub(crate) fn get_state(&self, key: &str) -> Result<Option<String>> {
        self.query_opt(sql::STATE_GET, &[&key])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    pub(crate) fn registered_job_types(&self) -> Result<Vec<String>> {
        job_types_of(self.get_state(JOB_TYPES)?.as_deref())
    }

    pub(crate) fn is_paused(&self) -> Result<bool> {
        Ok(self.get_state(PAUSED)?.as_deref() == Some("1"))
    }

    pub(crate) fn set_state(&self, key: &str, value: &str, now: OffsetDateTime) -> Result<()> {
        if key.is_empty() || key.len() > 200 {
            return Err(Error::invalid("key", "must be 1 to 200 bytes"));
        }
        self.execute(sql::STATE_SET, &[&key, &value, &ms(now)])?;
        Ok(())
    }

    /// The value of `key` (created as `initial` when missing), its row locked until the
    /// transaction ends, and the database's clock now in milliseconds.
    fn lock_state(&self, key: &str, initial: &str, now: OffsetDateTime) -> Result<(String, i64)> {
        if key.is_empty() || key.len() > 200 {
            return Err(Error::invalid("key", "must be 1 to 200 bytes"));
        }
        self.execute(sql::STATE_ENSURE, &[&key, &initial, &ms(now)])?;
        let row = self.query_one(sql::STATE_LOCK, &[&key])?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// As on SQLite; the list's row is locked first, so two hosts starting at once
    /// both have their job types recorded.
    pub(crate) fn record_job_types(&self, names: &[String], now: OffsetDateTime) -> Result<()> {
        let (current, _) = self.lock_state(JOB_TYPES, "[]", now)?;
        match with_job_types(Some(&current), names)? {
            Some(json) => self.set_state(JOB_TYPES, &json, now),
            None => Ok(()),
        }
    }

    pub(crate) fn set_paused(&self, paused: bool, now: OffsetDateTime) -> Result<()> {
        self.set_state(PAUSED, if paused { "1" } else { "0" }, now)
    }

    /// As on SQLite, but the lease is judged on the database's clock, so hosts whose
    /// clocks disagree never both lead: its expiry is the database's time plus `lease`,
    /// and another host may take it only once the database's clock has passed that.
    /// The key's row is locked while deciding.
    pub(crate) fn try_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
        lease: std::time::Duration,
    ) -> Result<bool> {
        let (current, db_now) = self.lock_state(key, "{}", now)?;
        if let Some((holder, expires_at)) = lead_holder(Some(&current)) {
            if holder != worker.get() && expires_at > db_now {
                return Ok(false);
            }
        }
        let expires_at = add_ms("leader lease", db_now, lease)?;
        let value = serde_json::json!({ "worker": worker.get(), "expires_at": expires_at });
        self.set_state(key, &value.to_string(), now)?;
        Ok(true)
    }

    pub(crate) fn release_lead(
        &self,
        key: &str,
        worker: WorkerId,
        now: OffsetDateTime,
    ) -> Result<()> {
        let (current, _) = self.lock_state(key, "{}", now)?;
        if lead_holder(Some(&current)).is_some_and(|(h, _)| h == worker.get()) {
            self.set_state(key, "{}", now)?;
        }
        Ok(())
    }
}
