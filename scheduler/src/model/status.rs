//! The closed sets of values a record can take (a run's status, how an attempt ended,
//! a worker's state, the rules for upstream failures and missed schedules), each stored
//! as its text.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A text that names none of the values of a closed set (`RunStatus`, `WorkerStatus`
/// …): what was expected, what was given, and the values allowed. Converts into
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownValue {
    /// What the text was meant to be (`"status"`, `"misfire policy"` …).
    pub what: &'static str,
    /// The text given.
    pub value: String,
    /// Every value allowed.
    pub allowed: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not one of {}",
            self.value,
            self.allowed.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The text stored in the database.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(UnknownValue {
                        what: $what,
                        value: other.to_owned(),
                        allowed: &[$($text),*],
                    }),
                }
            }
        }


    };
}

text_enum!(
    /// Where a run is in its life.
    ///
    /// ```text
    /// blocked ──(all upstream runs completed)──> pending ──(claimed under a lease)──> running
    ///    │                                         ^  │                                 │
    ///    │                                         │  └──(cancel)──> cancelled          │
    ///    └──(upstream failed / cancel)──> cancelled└──(failed attempt, attempts left)───┤
    ///                                                          completed <──(success)───┤
    ///                                                          failed <──(attempts exhausted)
    /// ```
    RunStatus, "status" {
        /// Waiting for upstream runs to complete.
        Blocked => "blocked",
        /// Waiting for its scheduled time and a free worker.
        Pending => "pending",
        /// Held by a worker under a lease.
        Running => "running",
        /// Finished successfully.
        Completed => "completed",
        /// Finished after its last attempt failed.
        Failed => "failed",
        /// Cancelled before it could finish.
        Cancelled => "cancelled",
    }
);

impl RunStatus {
    /// True for `completed`, `failed` and `cancelled`: the run will not change again
    /// unless retried by hand.
    #[must_use]
    pub const fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

text_enum!(
    /// How an attempt ended without completing, as recorded in
    /// [`Run::errors`](super::Run::errors).
    AttemptErrorKind, "error kind" {
        /// The job returned an error.
        Error => "error",
        /// The job panicked; the message is the panic's.
        Panic => "panic",
        /// The job ran past its timeout.
        Timeout => "timeout",
        /// The worker's lease expired (its process died or stalled) and maintenance
        /// took the run back.
        LeaseExpired => "lease_expired",
        /// Not a failure: the run was handed back at a graceful shutdown before it ran to
        /// the end. The attempt is not counted.
        Released => "released",
    }
);

text_enum!(
    /// What a dependent run does when one of its upstream runs fails for good or is
    /// cancelled.
    OnUpstreamFailure, "on_failure" {
        /// Cancel the dependent run (reason `upstream_failed`), and its dependents in turn.
        Cancel => "cancel",
        /// Run the dependent anyway, as if the upstream had completed.
        Run => "run",
    }
);

text_enum!(
    /// The state of a scheduler instance.
    WorkerStatus, "worker status" {
        /// Running and heartbeating.
        Active => "active",
        /// Shutting down: no longer claiming, finishing in-flight runs.
        Stopping => "stopping",
        /// Stopped, or presumed dead after its heartbeat went stale.
        Offline => "offline",
    }
);

text_enum!(
    /// What happens to occurrences of a schedule that were missed while no scheduler ran.
    MisfirePolicy, "misfire policy" {
        /// Run one occurrence for the whole missed period, then continue on schedule.
        RunOnce => "run_once",
        /// Run every missed occurrence, up to the schedule's cap.
        RunAll => "run_all",
        /// Run none of the missed occurrences; continue with the next future one.
        Skip => "skip",
    }
);

/// Whether finished runs past their retention are kept in `task_runs_archive` or dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ArchiveMode {
    /// Move them to `task_runs_archive` (the default).
    #[default]
    Archive,
    /// Delete them.
    Delete,
}
