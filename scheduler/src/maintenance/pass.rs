//! One pass of a service: its batches, each one bounded write transaction, sized by how
//! long the last one held the write lock, with a pause between them.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, select};
use time::OffsetDateTime;

use super::{Counts, Ctx, PassReport, Service};
use crate::{backend::Writes, clock::HostInstant, error::Result};

/// Measures the batches of one pass, and sizes them.
///
/// A batch is one write transaction, and every other writer of the file waits while it
/// runs. A pass's first batch is a quarter of [`MaintenanceConfig::batch_size`] rows
/// (at least [`MIN_BATCH`]): it runs on cold caches, and a full-size first batch was
/// each pass's longest transaction, past the goal on PostgreSQL. One that takes longer
/// than [`BATCH_TIME_GOAL`] halves the next (down to [`MIN_BATCH`]), and quick ones grow
/// it, up to the batch size. A slow disk, or an index whose deletes scatter over many pages (revoked
/// tokens have random ids), thus never holds the lock for long.
pub(crate) struct Pass {
    service: Service,
    started_at: OffsetDateTime,
    started: Instant,
    batches: usize,
    longest: Duration,
    size: usize,
    max_size: usize,
}

/// How long one maintenance batch should hold the write lock at most.
pub const BATCH_TIME_GOAL: Duration = Duration::from_millis(20);
/// The smallest batch the adaptive sizing goes down to.
pub const MIN_BATCH: usize = 10;

impl Pass {
    pub(crate) fn new(cx: &Ctx<'_>, service: Service) -> Self {
        Pass {
            service,
            started_at: cx.clock.now(),
            started: Instant::now(),
            batches: 0,
            longest: Duration::ZERO,
            size: first_batch_size(cx.config.batches.size),
            max_size: cx.config.batches.size,
        }
    }

    /// How many rows the next batch may take.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// One batch: one write transaction, timed, of at most [`Pass::size`] rows; the
    /// time it took sizes the next. Both clocks are read once the write lock is held,
    /// once each: every decision of the batch is made on those readings.
    pub(crate) fn batch<T>(
        &mut self,
        cx: &Ctx<'_>,
        f: impl FnOnce(&dyn Writes, OffsetDateTime, HostInstant) -> Result<T>,
    ) -> Result<T> {
        let t = Instant::now();
        let out = cx
            .store
            .write(|tx| f(tx, cx.clock.now(), HostInstant::now()))?;
        let took = t.elapsed();
        self.batches += 1;
        self.longest = self.longest.max(took);
        self.size = next_batch_size(self.size, self.max_size, took);
        Ok(out)
    }

    /// Batches of [`Pass::size`] rows until one comes back short (the backlog is
    /// drained) or the thread is asked to stop, pausing between them (`batch_pause`,
    /// jittered); returns the rows
    /// acted on. `f` does one batch: given the size, the two clock readings and the
    /// transaction, it returns what it did and how many rows it took (which decides
    /// whether another batch follows).
    pub(crate) fn drain<T>(
        &mut self,
        cx: &Ctx<'_>,
        stop: &Receiver<()>,
        mut f: impl FnMut(&dyn Writes, usize, OffsetDateTime, HostInstant) -> Result<(T, usize)>,
        mut add: impl FnMut(T),
    ) -> Result<()> {
        loop {
            let size = self.size();
            let (did, taken) = self.batch(cx, |tx, now, host| f(tx, size, now, host))?;
            add(did);
            // Jittered (half to one and a half times the setting) so that batches of
            // passes started together, or of a leader and a CLI pass, do not keep
            // meeting at the write lock in step.
            let rest = cx
                .config
                .batches
                .pause
                .mul_f64(0.5 + crate::retry::jitter());
            if taken < size || !pause(stop, rest) {
                return Ok(());
            }
        }
    }

    pub(crate) fn finish(self, counts: Counts) -> PassReport {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        PassReport {
            service: self.service,
            started_at: self.started_at,
            duration_ms: ms(self.started.elapsed()),
            batches: self.batches,
            longest_batch_ms: ms(self.longest),
            counts,
        }
    }
}

/// The size of a pass's first batch when batches may hold `max` rows.
fn first_batch_size(max: usize) -> usize {
    (max / 4).max(MIN_BATCH.min(max))
}

/// The size of the batch after one of `size` rows (at most `max`) that took `took`.
fn next_batch_size(size: usize, max: usize, took: Duration) -> usize {
    if took > BATCH_TIME_GOAL {
        (size / 2).max(MIN_BATCH.min(max))
    } else if took < BATCH_TIME_GOAL / 4 {
        size.saturating_mul(2).min(max)
    } else {
        size
    }
}

/// Pauses between two batches of a pass; false when the thread is asked to stop.
fn pause(stop: &Receiver<()>, d: Duration) -> bool {
    select! {
        recv(stop) -> _ => false,
        default(d) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_batches_halve_the_next_and_quick_ones_grow_it_back() {
        let slow = BATCH_TIME_GOAL + Duration::from_millis(1);
        let quick = BATCH_TIME_GOAL / 8;
        let steady = BATCH_TIME_GOAL / 2;
        assert_eq!(first_batch_size(1000), 250);
        assert_eq!(first_batch_size(20), MIN_BATCH);
        assert_eq!(first_batch_size(7), 7);
        assert_eq!(next_batch_size(1000, 1000, slow), 500);
        assert_eq!(next_batch_size(500, 1000, steady), 500);
        assert_eq!(next_batch_size(500, 1000, quick), 1000);
        assert_eq!(
            next_batch_size(1000, 1000, quick),
            1000,
            "never above the setting"
        );
        assert_eq!(next_batch_size(12, 1000, slow), MIN_BATCH);
        assert_eq!(next_batch_size(MIN_BATCH, 1000, slow), MIN_BATCH);
        // A configured size below the floor is kept as it is.
        assert_eq!(next_batch_size(3, 3, slow), 3);
    }
}
