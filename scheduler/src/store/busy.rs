//! Waiting for another connection's write lock, with a deadline per transaction.
//!
//! SQLite's own busy timeout is one duration for every statement of a connection. The
//! writer's waits need more: a shutdown must stop waiting when its grace period ends,
//! whatever the configured timeout. The writer therefore gets a busy handler that waits
//! until a deadline the caller of each transaction sets ([`scope`]), pausing on SQLite's
//! own schedule (1 ms growing to 100 ms). A handler is a plain function, so the
//! deadline lives in a thread-local: SQLite calls the handler on the thread that runs
//! the statement, which is the thread that holds the writer.

use std::{
    cell::{Cell, RefCell},
    sync::Arc,
    time::{Duration, Instant},
};

use rusqlite::Connection;

pub(crate) use crate::backend::Cutoff;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    static CUTOFF: RefCell<Option<Arc<Cutoff>>> = const { RefCell::new(None) };
}

/// The earlier of `deadline` and the cutoff, if any.
pub(crate) fn earliest(deadline: Instant, cutoff: Option<&Cutoff>) -> Instant {
    cutoff
        .and_then(Cutoff::get)
        .map_or(deadline, |c| c.min(deadline))
}

/// SQLite's pauses between two tries for a lock (`sqliteDefaultBusyCallback`), in ms.
const PAUSES_MS: [u64; 12] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];

/// Makes `conn` wait for locks until the deadline of the current [`scope`].
pub(crate) fn install(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_handler(Some(wait))
}

fn wait(tries: i32) -> bool {
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return false;
    };
    let deadline = CUTOFF.with(|c| earliest(deadline, c.borrow().as_deref()));
    let now = Instant::now();
    if now >= deadline {
        return false;
    }
    let i = usize::try_from(tries).unwrap_or(0).min(PAUSES_MS.len() - 1);
    std::thread::sleep(Duration::from_millis(PAUSES_MS[i]).min(deadline - now));
    true
}

/// Until it is dropped, lock waits on this thread end at `deadline`, or earlier if
/// `cutoff` is brought forward meanwhile.
pub(crate) fn scope(deadline: Instant, cutoff: Option<Arc<Cutoff>>) -> Scope {
    Scope {
        previous: DEADLINE.with(|d| d.replace(Some(deadline))),
        previous_cutoff: CUTOFF.with(|c| c.replace(cutoff)),
    }
}

/// Restores the deadline of the enclosing scope when dropped.
pub(crate) struct Scope {
    previous: Option<Instant>,
    previous_cutoff: Option<Arc<Cutoff>>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.previous));
        CUTOFF.with(|c| *c.borrow_mut() = self.previous_cutoff.take());
    }
}

/// The error of a write that could not get the lock in time: SQLite's own busy error,
/// so callers classify it like any other ([`crate::Error::is_busy`]).
pub(crate) fn timed_out(what: &str) -> crate::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some(format!("database is locked: {what}")),
    )
    .into()
}
