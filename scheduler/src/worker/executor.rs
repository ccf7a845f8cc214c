//! ⑤ Execute one claimed attempt, as a readable pipeline: take it (or learn it must not
//! run), resolve its job type, build its context, run it under `catch_unwind`, and hand
//! back how it ended. The dispatcher turns that into the run's next state.

use std::{
    any::Any,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    complete::Ending,
    dispatch::{Completion, Dispatch},
    events::Event,
    inflight::Begin,
    job::{JobContext, context::Execution, registry::RunResult},
    model::AttemptTiming,
};

/// Runs one attempt, or learns it must not run, and reports how it ended.
pub(crate) fn execute(env: &Arc<Execution>, dispatch: Dispatch) -> Completion {
    let attempt = dispatch.attempt();
    let run = dispatch.run;
    let ending = match env.inflight.begin(attempt, Instant::now()) {
        Begin::Run { deadline, cancel } => {
            let started_at = env.clock.now();
            let started = Instant::now();
            let result = match env.registry.get(&run.job_type) {
                None => RunResult::NotRegistered,
                Some(runner) => {
                    let ctx = JobContext {
                        attempt,
                        job_type: run.job_type.clone(),
                        number: run.attempt,
                        max_attempts: run.max_attempts,
                        scheduled_at: run.scheduled_at,
                        deadline,
                        idempotency_key: format!("{}:{}", env.database_id, run.id),
                        cancel,
                        started_at,
                        started,
                        env: env.clone(),
                        completed: std::sync::atomic::AtomicBool::new(false),
                        follow_ups: parking_lot::Mutex::new(Vec::new()),
                        inline: None,
                    };
                    crate::observe::queue_wait(
                        &run.job_type,
                        Duration::try_from(started_at - run.scheduled_at).unwrap_or_default(),
                    );
                    env.events.emit(Event::Started {
                        run: run.id,
                        job_type: run.job_type.clone(),
                        attempt: run.attempt,
                        scheduled_at: run.scheduled_at,
                    });
                    let _span = crate::observe::attempt_span(run.id, &run.job_type, run.attempt);
                    catch_unwind(AssertUnwindSafe(|| runner.run(&run.payload, &ctx)))
                        .unwrap_or_else(|panic| RunResult::Panic(panic_message(panic.as_ref())))
                }
            };
            if matches!(result, RunResult::Panic(_)) {
                env.stats.panics.inc();
            }
            Ending::Ran {
                result,
                timing: AttemptTiming::new(started_at, started.elapsed()),
            }
        }
        Begin::Cancelled => Ending::CancelledBeforeStart,
        Begin::HandBack => {
            log::warn!(
                "{attempt} ({}): its lease was no longer surely live when a worker took it \
                 (this process was paused or could not renew it); handed back without running",
                run.job_type
            );
            Ending::HandedBack
        }
        Begin::Skip => return Completion { outcome: None },
    };
    // The outcome is the thread's only if nothing decided it meanwhile (a timeout, a
    // lost lease, a release, the job's own transaction): then the job's ending is
    // discarded.
    Completion {
        outcome: env.inflight.thread_done(attempt).map(|view| (view, ending)),
    }
}

/// The message a panic was raised with (`panic!("...")` gives a `&str` or a `String`).
fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = panic.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked (with a non-string payload)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_kept() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "panicked: boom 7");
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "panicked: static");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(42u8)).unwrap_err();
        assert!(panic_message(p.as_ref()).contains("non-string"));
    }
}
