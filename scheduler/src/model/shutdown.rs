//! What a shutdown did with the runs the instance held.

use super::RunId;

/// What a shutdown did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Runs whose outcome was recorded during the shutdown (they finished in the grace
    /// period).
    pub finished: usize,
    /// Runs handed back unfinished, without counting their attempt: they run again.
    pub released: Vec<RunId>,
    /// Runs whose job was still running when the scheduler stopped (it ignored its
    /// cancellation): their threads are left to finish on their own and their results
    /// will be discarded.
    pub stuck: Vec<(RunId, String)>,
    /// Runs whose outcome could not be written before the shutdown's deadline (the
    /// database was locked by another process, full, or failing). Nothing is lost:
    /// their leases run out and other workers, or this host's next start, take them
    /// back; fencing refuses any late write of this instance.
    pub unwritten: Vec<RunId>,
}
