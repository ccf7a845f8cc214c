//! What the runtime tells the host's observability: log lines at levels a service can
//! run with (per-run lines at debug, failures at warn, no warning per retry), a
//! `tracing` span around each attempt (feature `tracing`), and metrics through the
//! `metrics` facade (feature `metrics`; the names are in [`metrics`](self#metrics)).
//! Every run event passes through one function here once, after its write committed,
//! so each backend and each code path reports alike.

mod logs;
#[cfg(feature = "metrics")]
pub mod metrics;
mod spans;

use std::time::Duration;

pub(crate) use self::spans::attempt_span;
use crate::model::Event;

/// Reports one event: its log line, and its counters when metrics are on.
pub(crate) fn event(e: &Event) {
    logs::event(e);
    #[cfg(feature = "metrics")]
    metrics::event(e);
}

/// Whether events are wanted even with no hook or subscriber: their counters, or their
/// debug lines.
pub(crate) fn wants_events() -> bool {
    cfg!(feature = "metrics") || log::log_enabled!(log::Level::Debug)
}

/// An attempt started `wait` after it was due.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn queue_wait(job_type: &str, wait: Duration) {
    #[cfg(feature = "metrics")]
    metrics::queue_wait(job_type, wait);
}

/// One dispatcher transaction (outcomes written, runs claimed) took `took`, from the
/// wait for the write lock to its commit.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn dispatcher_transaction(took: Duration) {
    #[cfg(feature = "metrics")]
    metrics::transaction(took);
}
