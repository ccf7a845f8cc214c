//! `task_queues`, as on SQLite (`store/queues.rs`).

use time::OffsetDateTime;

use super::{PgTx, sql};
use crate::{
    backend::values::{ms, ts_opt},
    error::Result,
    model::{QueueInfo, validate_queue},
};

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl PgTx<'_> {
    /// The global pause flag and the paused queues in one round trip (the claimer
    /// reads both before every claim).
    pub(crate) fn claim_pauses(&self) -> Result<(bool, Vec<String>)> {
        let row = self.query_one(sql::CLAIM_PAUSES, &[])?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    pub(crate) fn list_queues(&self, now: OffsetDateTime) -> Result<Vec<QueueInfo>> {
        self.query(sql::QUEUES_LIST, &[&ms(now)])?
            .iter()
            .map(|r| {
                Ok(QueueInfo {
                    name: r.try_get("name")?,
                    paused: r.try_get::<_, i16>("paused")? == 1,
                    pending: count(r.try_get("pending")?),
                    due: count(r.try_get("due")?),
                    oldest_due: ts_opt(r.try_get("oldest_due")?)?,
                    running: count(r.try_get("running")?),
                })
            })
            .collect()
    }

    pub(crate) fn set_queue_paused(
        &self,
        queue: &str,
        paused: bool,
        now: OffsetDateTime,
    ) -> Result<bool> {
        validate_queue(queue)?;
        let flag = i16::from(paused);
        Ok(self
            .query_opt(sql::QUEUES_SET_PAUSED, &[&queue, &flag, &ms(now)])?
            .is_some())
    }
}
