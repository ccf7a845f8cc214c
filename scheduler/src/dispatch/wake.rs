//! The dispatcher's one wake-up channel: any thread says why it should look again
//! (work to claim or settle, schedules changed, claiming resumed), and the dispatcher
//! takes every reason given since it last looked, in one go. Reasons coalesce, so a
//! burst of enqueues costs one wake-up, and none is lost: a reason is recorded before
//! the signal that announces it, and the dispatcher takes the reasons after receiving
//! a signal, so a reason given after it took them comes with a signal of its own.
//! (Shutdown is not a reason: it asks for a reply and has its own control channel.)

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use crossbeam_channel::{Receiver, Sender};

/// Why the dispatcher should look again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Runs may be due or waiting to settle: enqueued, retried, cancelled, rescued,
    /// given dependencies, or written around the scheduler.
    Work,
    /// A schedule was created, changed or removed (here or, after a `notify`, by
    /// another program).
    Schedules,
    /// This process resumed claiming: a paused dispatcher, which ignores plain work
    /// while paused, claims again at once.
    Resumed,
}

impl Wake {
    fn bit(self) -> u8 {
        match self {
            Wake::Work => 1,
            Wake::Schedules => 2,
            Wake::Resumed => 4,
        }
    }
}

/// The reasons given since the dispatcher last took them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reasons(u8);

impl Reasons {
    /// Whether `why` is among them.
    pub(crate) fn contains(self, why: Wake) -> bool {
        self.0 & why.bit() != 0
    }
}

/// The sending half, for every thread and handle.
#[derive(Clone, Debug)]
pub(crate) struct Waker {
    reasons: Arc<AtomicU8>,
    signal: Sender<()>,
}

impl Waker {
    /// Asks the dispatcher to look again, for `why`. Never blocks.
    pub(crate) fn wake(&self, why: Wake) {
        self.reasons.fetch_or(why.bit(), Ordering::AcqRel);
        // A full channel already holds a signal the dispatcher has not received: it
        // takes this reason with that one.
        let _ = self.signal.try_send(());
    }
}

/// The dispatcher's half.
#[derive(Debug)]
pub(crate) struct Wakeups {
    reasons: Arc<AtomicU8>,
    signal: Receiver<()>,
}

impl Wakeups {
    /// The channel a signal arrives on, for `select!`.
    pub(crate) fn signal(&self) -> &Receiver<()> {
        &self.signal
    }

    /// Every reason given since the last call, and none again.
    pub(crate) fn take(&self) -> Reasons {
        Reasons(self.reasons.swap(0, Ordering::AcqRel))
    }
}

/// A connected pair, with `initial` reasons already given (a new dispatcher looks at
/// schedules at once).
pub(crate) fn channel(initial: &[Wake]) -> (Waker, Wakeups) {
    let bits = initial.iter().fold(0, |acc, w| acc | w.bit());
    let reasons = Arc::new(AtomicU8::new(bits));
    let (tx, rx) = crossbeam_channel::bounded(1);
    if bits != 0 {
        let _ = tx.try_send(());
    }
    (
        Waker {
            reasons: reasons.clone(),
            signal: tx,
        },
        Wakeups {
            reasons,
            signal: rx,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_coalesce_into_one_signal_and_none_is_lost() {
        let (waker, wakeups) = channel(&[Wake::Schedules]);
        assert!(wakeups.signal().try_recv().is_ok());
        let first = wakeups.take();
        assert!(first.contains(Wake::Schedules) && !first.contains(Wake::Work));
        for _ in 0..100 {
            waker.wake(Wake::Work);
        }
        waker.wake(Wake::Resumed);
        assert!(wakeups.signal().try_recv().is_ok());
        assert!(
            wakeups.signal().try_recv().is_err(),
            "one signal for the burst"
        );
        let burst = wakeups.take();
        assert!(burst.contains(Wake::Work) && burst.contains(Wake::Resumed));
        assert!(!burst.contains(Wake::Schedules));
        assert_eq!(wakeups.take(), Reasons::default(), "taken once");
    }

    #[test]
    fn no_reason_is_ever_left_without_a_signal_to_announce_it() {
        use std::sync::atomic::AtomicBool;
        // Wakers race a dispatcher that always takes the reasons after a signal. If a
        // reason could be recorded after its signal was taken (the wrong order), some
        // round ends with a reason and no signal: a wake-up the dispatcher would miss
        // until its next poll.
        for _ in 0..50 {
            let (waker, wakeups) = channel(&[]);
            let waker = Arc::new(waker);
            let stop = Arc::new(AtomicBool::new(false));
            let dispatcher = {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    loop {
                        match wakeups
                            .signal()
                            .recv_timeout(std::time::Duration::from_millis(1))
                        {
                            Ok(()) => {
                                wakeups.take();
                            }
                            Err(_) if stop.load(Ordering::Acquire) => return wakeups,
                            Err(_) => {}
                        }
                    }
                })
            };
            let threads: Vec<_> = (0..3)
                .map(|i| {
                    let w = waker.clone();
                    std::thread::spawn(move || {
                        for n in 0..300 {
                            w.wake(if (n + i) % 2 == 0 {
                                Wake::Work
                            } else {
                                Wake::Schedules
                            });
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            stop.store(true, Ordering::Release);
            let wakeups = dispatcher.join().unwrap();
            let left = wakeups.take();
            if left != Reasons::default() {
                assert!(
                    wakeups.signal().try_recv().is_ok(),
                    "reasons {left:?} were left without a signal"
                );
            }
        }
    }
}
