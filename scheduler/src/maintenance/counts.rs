//! What each maintenance service counted, as typed fields: a pass's report says
//! `LeaseRescue { requeued, .. }`, never a name to look up (where a typo read 0).

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::model::ArchiveMode;

/// What one pass counted, by service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Counts {
    /// [`Service::LeaseRescue`](super::Service::LeaseRescue).
    LeaseRescue(RescueCounts),
    /// [`Service::StaleWorkers`](super::Service::StaleWorkers).
    StaleWorkers(StaleWorkerCounts),
    /// [`Service::TokenPurge`](super::Service::TokenPurge).
    TokenPurge(TokenCounts),
    /// [`Service::RunRetention`](super::Service::RunRetention).
    RunRetention(RetentionCounts),
}

/// Runs taken back from expired leases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RescueCounts {
    /// Back to `pending`, the crashed attempt counted, after the retry policy's delay.
    pub requeued: u64,
    /// To `failed`: that was their last attempt.
    pub failed: u64,
    /// Dependents released or cancelled by those that failed.
    pub unblocked: u64,
}

/// Instances presumed dead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaleWorkerCounts {
    /// Marked offline, their leases expired for the rescue.
    pub offline: u64,
}

/// Revoked tokens removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCounts {
    /// Purged (past their expiry and the leeway).
    pub purged: u64,
}

/// Finished runs past their retention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionCounts {
    /// Completed runs removed.
    pub completed: u64,
    /// Failed runs removed.
    pub failed: u64,
    /// Cancelled runs removed.
    pub cancelled: u64,
    /// Whether they were archived or deleted.
    pub mode: ArchiveMode,
}

impl RetentionCounts {
    /// Every run removed, whatever its status.
    #[must_use]
    pub fn removed(&self) -> u64 {
        self.completed + self.failed + self.cancelled
    }
}

impl Counts {
    /// The lease rescue's counts, if this is the rescue's report.
    ///
    /// ```
    /// use runloom::maintenance::{Counts, RescueCounts};
    /// let c = Counts::LeaseRescue(RescueCounts::default());
    /// assert_eq!(c.lease_rescue().map(|c| c.requeued), Some(0));
    /// assert!(c.retention().is_none());
    /// ```
    #[must_use]
    pub fn lease_rescue(&self) -> Option<RescueCounts> {
        match *self {
            Counts::LeaseRescue(c) => Some(c),
            _ => None,
        }
    }

    /// The stale-worker check's counts, if this is its report.
    #[must_use]
    pub fn stale_workers(&self) -> Option<StaleWorkerCounts> {
        match *self {
            Counts::StaleWorkers(c) => Some(c),
            _ => None,
        }
    }

    /// The token purge's counts, if this is its report.
    #[must_use]
    pub fn token_purge(&self) -> Option<TokenCounts> {
        match *self {
            Counts::TokenPurge(c) => Some(c),
            _ => None,
        }
    }

    /// The run retention's counts, if this is its report.
    #[must_use]
    pub fn retention(&self) -> Option<RetentionCounts> {
        match *self {
            Counts::RunRetention(c) => Some(c),
            _ => None,
        }
    }

    /// Each count with its name, in a fixed order, for display (`requeued 3, failed 0`).
    /// The retention's total is named after what was done with the runs (`archived` or
    /// `deleted`).
    #[must_use]
    pub fn named(&self) -> Vec<(&'static str, u64)> {
        match *self {
            Counts::LeaseRescue(c) => vec![
                ("requeued", c.requeued),
                ("failed", c.failed),
                ("unblocked", c.unblocked),
            ],
            Counts::StaleWorkers(c) => vec![("offline", c.offline)],
            Counts::TokenPurge(c) => vec![("purged", c.purged)],
            Counts::RunRetention(c) => vec![
                ("completed", c.completed),
                ("failed", c.failed),
                ("cancelled", c.cancelled),
                (
                    match c.mode {
                        ArchiveMode::Archive => "archived",
                        ArchiveMode::Delete => "deleted",
                    },
                    c.removed(),
                ),
            ],
        }
    }
}

/// A map of the named counts, as the CLI's JSON has always shown them.
impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let named = self.named();
        let mut map = ser.serialize_map(Some(named.len()))?;
        for (name, n) in named {
            map.serialize_entry(name, &n)?;
        }
        map.end()
    }
}
