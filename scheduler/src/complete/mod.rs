//! ⑥ Complete: how an attempt ended becomes the run's next state. The dispatcher writes
//! these outcomes, fenced by the lease, many per transaction; events follow the commit.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    events::Event,
    inflight::{Attempt, SlotView},
    job::{JobErrorKind, registry::RunResult},
    model::time::{add_ms, from_ms, to_ms},
    model::{AttemptError, AttemptErrorKind, AttemptOutcome, AttemptTiming, RunStatus},
    retry::{FailedAttempt, RetryPolicy},
};

/// How an attempt ended, as the worker or the dispatcher saw it.
pub(crate) enum Ending {
    /// The job returned (or panicked).
    Ran {
        result: RunResult,
        timing: AttemptTiming,
    },
    /// It was cancelled before it started.
    CancelledBeforeStart,
    /// Its lease was no longer surely live when a worker took it: handed back unrun.
    HandedBack,
    /// It ran past its timeout.
    TimedOut { ran_for: Duration },
    /// Handed back at shutdown.
    Released,
}

/// An outcome waiting to be written, with what its events need.
#[derive(Clone, Debug)]
pub(crate) struct PendingWrite {
    /// The attempt and what deciding its outcome again needs.
    pub(crate) view: SlotView,
    pub(crate) outcome: AttemptOutcome,
    pub(crate) timing: Option<AttemptTiming>,
}

impl PendingWrite {
    pub(crate) fn attempt(&self) -> Attempt {
        self.view.attempt
    }

    /// The event to emit once the write committed with `status`; `cancel_reason` is
    /// the reason the run records when it ended cancelled (the operator's, when a
    /// cancel request gave one).
    pub(crate) fn event(&self, status: RunStatus, cancel_reason: Option<String>) -> Event {
        let run = self.view.attempt.run;
        let job_type = self.view.job_type.clone();
        match (&self.outcome, status) {
            (_, RunStatus::Completed) => Event::Completed {
                run,
                job_type,
                duration: self.timing.map_or(Duration::ZERO, |t| t.duration),
            },
            (AttemptOutcome::Retry { error, retry_at }, RunStatus::Pending) => Event::Retried {
                run,
                job_type,
                attempt: self.view.number,
                kind: error.kind,
                error: error.message.clone(),
                retry_at: *retry_at,
            },
            (AttemptOutcome::Snooze { until }, RunStatus::Pending) => Event::Snoozed {
                run,
                job_type,
                until: *until,
                snoozes: self.view.snoozes.saturating_add(1),
            },
            (AttemptOutcome::Release { .. }, RunStatus::Pending) => {
                Event::Released { run, job_type }
            }
            (AttemptOutcome::Fail { error }, _) => Event::Failed {
                run,
                job_type,
                attempt: self.view.number,
                kind: error.kind,
                error: error.message.clone(),
            },
            (AttemptOutcome::Cancel { reason }, _) => Event::Cancelled {
                run,
                job_type,
                reason: cancel_reason.unwrap_or_else(|| reason.clone()),
            },
            // A retry or release of a run whose cancel was requested meanwhile.
            (_, _) => Event::Cancelled {
                run,
                job_type,
                reason: cancel_reason.unwrap_or_else(|| "cancellation requested".to_owned()),
            },
        }
    }
}

/// What decides the course after an attempt: the retry policy and the bound on
/// snoozes.
#[derive(Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub(crate) policy: &'a dyn RetryPolicy,
    /// Snoozes a run may take; the next one counts as a failed attempt.
    pub(crate) max_snoozes: u32,
}

/// Decides the outcome of an attempt.
pub(crate) fn decide(
    view: &SlotView,
    ending: Ending,
    now: OffsetDateTime,
    rules: Rules<'_>,
) -> PendingWrite {
    let policy = rules.policy;
    let error = |kind, message: String| AttemptError::new(view.number, now, kind, message);
    let (outcome, timing) = match ending {
        Ending::Ran { result, timing } => {
            let outcome = match result {
                RunResult::Ok(json) => AttemptOutcome::Completed { result: json },
                RunResult::Err(e) => match e.kind() {
                    JobErrorKind::Cancel => AttemptOutcome::Cancel {
                        reason: e.message().to_owned(),
                    },
                    JobErrorKind::Fail => AttemptOutcome::Fail {
                        error: error(AttemptErrorKind::Error, e.message().to_owned()),
                    },
                    JobErrorKind::Retry => retry_or_fail(
                        view,
                        error(AttemptErrorKind::Error, e.message().to_owned()),
                        None,
                        now,
                        policy,
                    ),
                    JobErrorKind::RetryAfter(d) => retry_or_fail(
                        view,
                        error(AttemptErrorKind::Error, e.message().to_owned()),
                        Some(d),
                        now,
                        policy,
                    ),
                    JobErrorKind::Snooze(_) if view.snoozes >= rules.max_snoozes => retry_or_fail(
                        view,
                        error(
                            AttemptErrorKind::Error,
                            format!(
                                "snoozed {} times, the most max_snoozes allows: this \
                                     snooze counts as a failed attempt",
                                view.snoozes
                            ),
                        ),
                        None,
                        now,
                        policy,
                    ),
                    JobErrorKind::Snooze(d) => AttemptOutcome::Snooze {
                        until: add_ms("snooze", to_ms(now), d)
                            .and_then(from_ms)
                            .unwrap_or(now),
                    },
                },
                RunResult::Panic(message) => retry_or_fail(
                    view,
                    error(AttemptErrorKind::Panic, message),
                    None,
                    now,
                    policy,
                ),
                // Neither goes away by retrying: fail now with the reason.
                RunResult::BadPayload(detail) => AttemptOutcome::Fail {
                    error: error(
                        AttemptErrorKind::Error,
                        format!("payload does not decode into {}: {detail}", view.job_type),
                    ),
                },
                RunResult::BadOutput(detail) => AttemptOutcome::Fail {
                    error: error(
                        AttemptErrorKind::Error,
                        format!("result does not serialize to JSON: {detail}"),
                    ),
                },
                RunResult::NotRegistered => AttemptOutcome::Release {
                    reason: format!("job type {} is not registered here", view.job_type),
                },
            };
            (outcome, Some(timing))
        }
        Ending::CancelledBeforeStart => (
            AttemptOutcome::Cancel {
                reason: "cancellation requested".to_owned(),
            },
            None,
        ),
        Ending::TimedOut { ran_for } => (
            retry_or_fail(
                view,
                error(
                    AttemptErrorKind::Timeout,
                    format!("attempt timed out after {ran_for:.1?}"),
                ),
                None,
                now,
                policy,
            ),
            None,
        ),
        Ending::HandedBack => (
            AttemptOutcome::Release {
                reason: "handed back unrun: the lease was no longer surely live when a \
                         worker took the run (this process was paused or could not renew it)"
                    .to_owned(),
            },
            None,
        ),
        Ending::Released => (
            AttemptOutcome::Release {
                reason: "released at shutdown".to_owned(),
            },
            None,
        ),
    };
    PendingWrite {
        view: view.clone(),
        outcome,
        timing,
    }
}

/// What to write instead of an outcome the database refused for good (a result it
/// rejects, say): the attempt fails with the storage error, retried while attempts
/// remain like any failure. The rest of the transaction goes on without it.
pub(crate) fn unstorable(
    write: &PendingWrite,
    refusal: &crate::Error,
    now: OffsetDateTime,
    rules: Rules<'_>,
) -> PendingWrite {
    let policy = rules.policy;
    let view = &write.view;
    let error = AttemptError::new(
        view.number,
        now,
        AttemptErrorKind::Error,
        format!("the attempt's outcome could not be stored: {refusal}"),
    );
    PendingWrite {
        view: view.clone(),
        outcome: retry_or_fail(view, error, None, now, policy),
        timing: write.timing,
    }
}

fn retry_or_fail(
    view: &SlotView,
    error: AttemptError,
    after: Option<Duration>,
    now: OffsetDateTime,
    policy: &dyn RetryPolicy,
) -> AttemptOutcome {
    if view.number >= view.max_attempts {
        return AttemptOutcome::Fail { error };
    }
    let delay = after.unwrap_or_else(|| {
        policy.retry_delay(&FailedAttempt::new(
            &view.job_type,
            view.number,
            view.backoff,
            error.kind,
        ))
    });
    let retry_at = add_ms("backoff", to_ms(now), delay)
        .and_then(from_ms)
        .unwrap_or(now);
    AttemptOutcome::Retry { error, retry_at }
}
