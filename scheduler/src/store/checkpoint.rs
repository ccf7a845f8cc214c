//! WAL checkpoints off the write path.
//!
//! In WAL mode each commit appends its pages to the `-wal` file, and a checkpoint copies
//! them back into the database file and syncs it. By default SQLite checkpoints on the
//! committing connection as soon as the log passes 1 000 pages, inside whichever commit
//! crossed the line: that one enqueue or claim then takes milliseconds instead of tens
//! of microseconds (measured: pickup latency p99 of 3.3 ms instead of 0.23 ms).
//!
//! A running scheduler therefore checkpoints from its own thread, on a connection of its
//! own, in SQLite's `PASSIVE` mode (it never waits for or blocks a writer), whenever
//! commits happened since the last one; the writer keeps SQLite's automatic checkpoint
//! only as a backstop at a higher threshold, should the thread fall behind. Durability
//! is unchanged: which frames reach the database file, and when the log is synced, is
//! SQLite's business either way.

use std::{sync::atomic::Ordering, time::Duration};

use crossbeam_channel::{Receiver, select};
use rusqlite::Connection;

use super::{Location, Store, connection, sql};
use crate::error::Result;

/// The writer's own automatic checkpoint when a checkpoint thread runs: 4 000 pages
/// (16 MB of log with 4 KiB pages), reached only when writes come back to back for
/// long enough that the thread never catches up between them (a PASSIVE checkpoint
/// cannot rewind the log while the writer keeps appending). The checkpoint that
/// commit then pays grows with the log: 4 000 pages keep it near 30 ms.
pub(crate) const BACKSTOP_PAGES: u32 = 4_000;

/// How often the thread looks for new commits when the last pass found little to do
/// (an atomic read when nothing was committed). Short enough that a burst of large
/// transactions (a maintenance pass deleting scattered index entries writes a thousand
/// pages a batch) cannot reach the writer's backstop before the thread wakes.
const IDLE_WAIT: Duration = Duration::from_millis(20);
/// How soon it goes again when the log was busy: it must keep up with a writer that
/// appends thousands of pages a second.
const BUSY_WAIT: Duration = Duration::from_millis(2);
/// A log at least this long counts as busy.
const BUSY_FRAMES: i64 = 256;
/// How long a truncating checkpoint waits for readers and the writer.
pub(crate) const RECLAIM_WAIT: Duration = Duration::from_millis(200);

/// What one checkpoint did (`PRAGMA wal_checkpoint` reports it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkpoint {
    /// A reader or writer held back part of the log (it is copied next time).
    pub busy: bool,
    /// Pages in the log when the checkpoint ran.
    pub log_frames: i64,
    /// Pages of the log now copied into the database file.
    pub checkpointed_frames: i64,
}

impl Store {
    /// Copies the write-ahead log back into the database file as far as readers and
    /// the writer allow, without waiting for either (`PRAGMA wal_checkpoint(PASSIVE)`),
    /// on a connection of its own. A running scheduler does this from its own thread;
    /// a tool that holds a [`Store`] may call it at any time. A no-op in memory.
    ///
    /// # Errors
    /// Database errors.
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        self.run_checkpoint(sql::SCHEMA_WAL_CHECKPOINT, None)
    }

    /// Copies the whole write-ahead log into the database file and truncates it to zero
    /// bytes (`PRAGMA wal_checkpoint(TRUNCATE)`), waiting at most 200 ms for
    /// readers and the writer: after the disk filled up, this gives back the space the
    /// log grew into. `busy` in the answer means it could not finish yet. A no-op in
    /// memory.
    ///
    /// # Errors
    /// Database errors (on a disk still full, among others).
    pub fn reclaim_log(&self) -> Result<Checkpoint> {
        self.run_checkpoint(sql::SCHEMA_WAL_TRUNCATE, Some(RECLAIM_WAIT))
    }

    /// One checkpoint statement on the checkpoint connection (opened on first use),
    /// waiting `wait` for locks instead of the busy timeout when given.
    fn run_checkpoint(&self, statement: &str, wait: Option<Duration>) -> Result<Checkpoint> {
        if !matches!(self.inner.options.location, Location::File(_)) {
            return Ok(Checkpoint::default());
        }
        let mut slot = self.inner.checkpointer.lock();
        let conn = match &mut *slot {
            Some(conn) => conn,
            None => slot.insert(self.checkpoint_connection()?),
        };
        if let Some(wait) = wait {
            conn.busy_timeout(wait)?;
        }
        let answer = conn.query_row(statement, [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        });
        if wait.is_some() {
            conn.busy_timeout(self.inner.options.busy_timeout)?;
        }
        let (busy, log_frames, checkpointed_frames) = answer?;
        Ok(Checkpoint {
            busy: busy != 0,
            log_frames,
            checkpointed_frames,
        })
    }

    /// Asks the checkpoint thread to truncate the log as soon as it can (a write found
    /// the disk full).
    pub(crate) fn request_reclaim(&self) {
        self.inner.reclaim.store(true, Ordering::Release);
    }

    fn checkpoint_connection(&self) -> Result<Connection> {
        let options = &self.inner.options;
        let conn = connection::open_checked(&options.location, options.busy_timeout)?;
        connection::configure(&conn, self.settings(), false)?;
        Ok(conn)
    }

    /// Commits on the write connection since the store opened.
    pub(crate) fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// Raises the writer's automatic checkpoint to [`BACKSTOP_PAGES`]: a checkpoint
    /// thread ([`run_checkpointer`]) takes the work over.
    pub(crate) fn defer_checkpoints(&self) -> Result<()> {
        self.inner
            .writer
            .lock()
            .pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
        Ok(())
    }
}

/// The checkpoint thread's loop: checkpoints after commits until `stop` fires or
/// disconnects. Errors are logged; the writer's backstop keeps the log bounded anyway.
pub(crate) fn run_checkpointer(store: &Store, stop: &Receiver<()>) {
    let mut seen = store.commits();
    let mut wait = IDLE_WAIT;
    let mut failing = crate::failing::Failing::new("giving back the log's disk space");
    let mut checkpoints = crate::failing::Failing::new("checkpointing the log");
    let mut last_reclaim: Option<std::time::Instant> = None;
    loop {
        select! {
            recv(stop) -> _ => return,
            default(wait) => {}
        }
        if store.inner.reclaim.load(Ordering::Acquire) {
            match store.reclaim_log() {
                Ok(c) if !c.busy => {
                    failing.succeeded();
                    store.inner.reclaim.store(false, Ordering::Release);
                    // A disk that stays nearly full asks for a truncation at every
                    // write that fills it: one line per flap window, not one per flap.
                    let level = match last_reclaim {
                        Some(at) if at.elapsed() < crate::failing::FLAP_WINDOW => log::Level::Debug,
                        _ => log::Level::Info,
                    };
                    last_reclaim = Some(std::time::Instant::now());
                    log::log!(
                        level,
                        "the write-ahead log was truncated: its disk space is free again"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    wait = failing
                        .failed(&e, "the disk may still be full")
                        .max(IDLE_WAIT);
                    continue;
                }
            }
        }
        let commits = store.commits();
        if commits == seen {
            wait = IDLE_WAIT;
            continue;
        }
        seen = commits;
        wait = match store.checkpoint() {
            Ok(c) => {
                checkpoints.succeeded();
                if c.log_frames >= BUSY_FRAMES {
                    BUSY_WAIT
                } else {
                    IDLE_WAIT
                }
            }
            Err(e) => checkpoints
                .failed(&e, "the writer's own checkpoints keep the log bounded")
                .max(IDLE_WAIT),
        };
    }
}
