//! `task_queues`: what operators set per queue (paused), honoured by every process, and
//! the queues' figures.

use rusqlite::named_params;
use time::OffsetDateTime;

use super::{
    ReadTx, WriteTx, sql,
    types::{ms, narrow, ts_opt},
};
use crate::{
    error::Result,
    model::{QueueInfo, validate_queue},
};

impl ReadTx<'_> {
    /// Whether claiming is paused for every process, and the queues paused for every
    /// process: what a claim honours.
    ///
    /// # Errors
    /// Database errors.
    pub fn claim_pauses(&self) -> Result<(bool, Vec<String>)> {
        if self.is_paused()? {
            return Ok((true, Vec::new()));
        }
        Ok((false, self.paused_queues()?))
    }

    /// The queues paused for every process, by name.
    ///
    /// # Errors
    /// Database errors.
    pub fn paused_queues(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn().prepare_cached(sql::QUEUES_PAUSED)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// Every queue with unfinished runs or a pause record, by name, as seen at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub fn list_queues(&self, now: OffsetDateTime) -> Result<Vec<QueueInfo>> {
        let mut stmt = self.conn().prepare_cached(sql::QUEUES_LIST)?;
        let mut rows = stmt.query(named_params! { ":now": ms(now) })?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(QueueInfo {
                name: r.get("name")?,
                paused: r.get::<_, i64>("paused")? == 1,
                pending: narrow("pending", r.get("pending")?)?,
                due: narrow("due", r.get("due")?)?,
                oldest_due: ts_opt(r.get("oldest_due")?)?,
                running: narrow("running", r.get("running")?)?,
            });
        }
        Ok(out)
    }
}

impl WriteTx<'_> {
    /// Pauses or resumes `queue` for every process; true when that changed its state.
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] for a bad queue name; database errors.
    pub fn set_queue_paused(&self, queue: &str, paused: bool, now: OffsetDateTime) -> Result<bool> {
        validate_queue(queue)?;
        let mut stmt = self.conn().prepare_cached(sql::QUEUES_SET_PAUSED)?;
        let changed = stmt.exists(named_params! {
            ":name": queue, ":paused": i64::from(paused), ":now": ms(now),
        })?;
        Ok(changed)
    }
}
