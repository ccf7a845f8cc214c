//! Testing jobs and the code that enqueues them, the way Oban.Testing and River's
//! `rivertest` let users do: no sleeps, no polling, real databases.
//!
//! - [`TestContext`] runs one job's [`Perform::perform`](crate::Perform::perform) inline
//!   on the calling thread, with a context whose attempt, state, upstream results and
//!   database the test chooses, and reports its result and the follow-up runs it asked
//!   for. No scheduler, no thread.
//! - [`TestScheduler`] is a real scheduler (the builder's database, the registered job
//!   types) on a [`ManualClock`](crate::ManualClock) that runs nothing until the test
//!   asks: [`TestScheduler::drain`] runs every run due now (and what those make due
//!   now) and returns what happened; the clock moves only when the test moves it, so a
//!   retry's backoff or a schedule's next occurrence is one [`TestScheduler::advance`]
//!   away. [`TestScheduler::enqueued`] and [`TestScheduler::is_enqueued`] assert what
//!   the code under test enqueued.

mod drain;
mod inline;

pub use self::{
    drain::{DRAIN_TIMEOUT, Drained, TestScheduler},
    inline::{Performed, TestContext},
};
