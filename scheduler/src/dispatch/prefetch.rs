//! How many runs to hold: enough that no worker thread waits while the dispatcher
//! writes, and no more.
//!
//! The dispatcher claims only in its write transactions, so each thread needs, besides
//! the run it executes, the runs it will finish while one transaction is written. With
//! jobs that take milliseconds that is one more; with jobs of a few microseconds it is
//! dozens, and holding only two per thread left the workers idle most of the time (a
//! third of the throughput). Runs held beyond that would only wait in this instance's
//! queue under its leases, where another process or a higher-priority run cannot get
//! ahead of them: the target keeps that wait to about one write cycle.

use std::time::Duration;

/// Weight of the newest sample in the moving averages.
const ALPHA: f64 = 0.125;
/// Runs per thread before anything was measured (the conservative choice: a host
/// starting with long jobs never takes more than it would run soon).
const INITIAL_PER_THREAD: usize = 2;

#[derive(Debug, Default, Clone, Copy)]
struct Ewma(Option<f64>);

impl Ewma {
    fn add(&mut self, seconds: f64) {
        self.0 = Some(match self.0 {
            None => seconds,
            Some(avg) => avg + ALPHA * (seconds - avg),
        });
    }
}

/// The moving averages of job and write-cycle durations, and the target they give.
#[derive(Debug)]
pub(crate) struct Prefetch {
    threads: usize,
    max: usize,
    /// False when the host set `max_in_flight`: then the target is that, always.
    adaptive: bool,
    job: Ewma,
    cycle: Ewma,
}

impl Prefetch {
    pub(crate) fn new(threads: usize, max_in_flight: usize, adaptive: bool) -> Self {
        Prefetch {
            threads,
            max: max_in_flight,
            adaptive,
            job: Ewma::default(),
            cycle: Ewma::default(),
        }
    }

    /// A job ran for `d`.
    pub(crate) fn job_ran(&mut self, d: Duration) {
        self.job.add(d.as_secs_f64());
    }

    /// A write transaction (outcomes, schedules, claim) took `d`.
    pub(crate) fn cycle_took(&mut self, d: Duration) {
        self.cycle.add(d.as_secs_f64());
    }

    /// Runs to hold now: per thread, the one it runs plus those it finishes during one
    /// write cycle; between the worker threads and `max_in_flight` (which it is when
    /// the host set it).
    pub(crate) fn target(&self) -> usize {
        if !self.adaptive {
            return self.max;
        }
        let per_thread = match (self.job.0, self.cycle.0) {
            (Some(job), Some(cycle)) => {
                let during_cycle = (cycle / job.max(1e-6)).ceil();
                // Saturates far above any max_in_flight.
                1 + during_cycle.min(1e6) as usize
            }
            _ => INITIAL_PER_THREAD,
        };
        self.threads
            .saturating_mul(per_thread)
            .clamp(self.threads.min(self.max), self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: f64) -> Duration {
        Duration::from_secs_f64(n / 1e3)
    }

    #[test]
    fn starts_at_two_per_thread() {
        assert_eq!(Prefetch::new(4, 128, true).target(), 8);
        assert_eq!(
            Prefetch::new(4, 6, true).target(),
            6,
            "never above max_in_flight"
        );
    }

    #[test]
    fn a_max_the_host_set_is_held_whatever_the_jobs_take() {
        let mut p = Prefetch::new(1, 3, false);
        assert_eq!(p.target(), 3);
        p.job_ran(ms(1000.0));
        p.cycle_took(ms(0.1));
        assert_eq!(p.target(), 3);
    }

    #[test]
    fn long_jobs_hold_one_extra_run_per_thread() {
        let mut p = Prefetch::new(4, 128, true);
        for _ in 0..50 {
            p.job_ran(ms(200.0));
            p.cycle_took(ms(0.5));
        }
        assert_eq!(p.target(), 8);
    }

    #[test]
    fn short_jobs_hold_what_a_write_cycle_lets_them_finish() {
        let mut p = Prefetch::new(4, 1000, true);
        for _ in 0..50 {
            p.job_ran(ms(0.1));
            p.cycle_took(ms(1.0));
        }
        // 1 + 1.0 / 0.1 = 11 per thread (the averages converge to the samples).
        assert_eq!(p.target(), 44);
        // Instant jobs: capped by max_in_flight.
        for _ in 0..50 {
            p.job_ran(Duration::ZERO);
        }
        assert_eq!(p.target(), 1000);
    }

    #[test]
    fn the_target_follows_a_change_of_job_length() {
        let mut p = Prefetch::new(2, 64, true);
        for _ in 0..50 {
            p.job_ran(ms(0.01));
            p.cycle_took(ms(0.5));
        }
        assert_eq!(p.target(), 64);
        for _ in 0..60 {
            p.job_ran(ms(100.0));
        }
        assert_eq!(p.target(), 4);
    }
}
