//! The log line of each run event. Per-run lines are at debug (a service runs at info
//! without one line per job); a run that fails for good, and a panic, at warn; a retry
//! at debug, since retrying is the normal way an attempt fails (its error is in the
//! run's history). Lease losses, stuck threads and start and stop are logged where they
//! are detected, with what only that place knows.

use crate::model::{AttemptErrorKind, Event};

pub(super) fn event(e: &Event) {
    match e {
        Event::Enqueued {
            run,
            job_type,
            created,
            scheduled_at,
        } => {
            if *created {
                log::debug!("run {run} ({job_type}) enqueued, due {scheduled_at}");
            } else {
                log::debug!("run {run} ({job_type}) holds the unique key; nothing enqueued");
            }
        }
        Event::Started {
            run,
            job_type,
            attempt,
            ..
        } => log::debug!("run {run} ({job_type}) attempt {attempt} started"),
        Event::Completed {
            run,
            job_type,
            duration,
        } => log::debug!("run {run} ({job_type}) completed in {duration:?}"),
        Event::Retried {
            run,
            job_type,
            attempt,
            kind,
            error,
            retry_at,
        } => {
            if *kind == AttemptErrorKind::Panic {
                log::warn!(
                    "run {run} ({job_type}) attempt {attempt} panicked: {error}; retry at \
                     {retry_at}"
                );
            } else {
                log::debug!(
                    "run {run} ({job_type}) attempt {attempt} failed ({kind}): {error}; retry \
                     at {retry_at}"
                );
            }
        }
        Event::Failed {
            run,
            job_type,
            attempt,
            kind,
            error,
        } => log::warn!(
            "run {run} ({job_type}) failed for good at attempt {attempt} ({kind}): {error}"
        ),
        Event::Cancelled {
            run,
            job_type,
            reason,
        } => log::info!("run {run} ({job_type}) cancelled: {reason}"),
        Event::Snoozed {
            run,
            job_type,
            until,
            snoozes,
        } => log::debug!("run {run} ({job_type}) snoozed until {until} (snooze {snoozes})"),
        Event::Released { run, job_type } => {
            log::debug!("run {run} ({job_type}) handed back without counting its attempt");
        }
        Event::LeaseLost { .. }
        | Event::ThreadStuck { .. }
        | Event::SchedulerStarted { .. }
        | Event::SchedulerStopped { .. } => {}
    }
}
