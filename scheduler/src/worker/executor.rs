//! ⑤ Execute one claimed run, as a readable pipeline: take it (or learn it must not
//! run), resolve its job type, build its context, run it under `catch_unwind`, and hand
//! back how it ended. The dispatcher turns that into the run's next state.

use std::{
    any::Any,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::Instant,
};

use crate::{
    complete::Ending,
    dispatch::{Completion, Dispatch, inflight::Begin},
    events::Event,
    job::{JobContext, registry::RunResult},
    scheduler::Shared,
    store::AttemptTiming,
};

pub(crate) fn execute(shared: &Arc<Shared>, dispatch: Dispatch) -> Completion {
    let run = dispatch.run;
    let (deadline, cancel) = match shared.inflight.begin(run.id, Instant::now()) {
        Begin::Run { deadline, cancel } => (deadline, cancel),
        Begin::Cancelled => {
            return Completion {
                run: run.id,
                ending: Ending::CancelledBeforeStart,
            };
        }
        Begin::Skip => {
            return Completion {
                run: run.id,
                ending: Ending::Skipped,
            };
        }
    };
    let started_at = shared.clock.now();
    let started = Instant::now();
    let result = match shared.registry.get(&run.job_type) {
        None => RunResult::NotRegistered,
        Some(runner) => {
            let ctx = JobContext {
                run_id: run.id,
                job_type: run.job_type.clone(),
                attempt: run.attempt,
                max_attempts: run.max_attempts,
                scheduled_at: run.scheduled_at,
                deadline,
                idempotency_key: format!("{}:{}", shared.database_id, run.id),
                cancel,
                token: run.token,
                started_at,
                started,
                shared: shared.clone(),
                completed: std::sync::atomic::AtomicBool::new(false),
            };
            shared.events.emit(Event::Started {
                run: run.id,
                job_type: run.job_type.clone(),
                attempt: run.attempt,
            });
            let result = catch_unwind(AssertUnwindSafe(|| runner.run(&run.payload, &ctx)))
                .unwrap_or_else(|panic| RunResult::Panic(panic_message(panic.as_ref())));
            if ctx.completed.load(std::sync::atomic::Ordering::Acquire) {
                // The job's transaction already recorded the completion.
                return Completion {
                    run: run.id,
                    ending: Ending::Skipped,
                };
            }
            result
        }
    };
    if matches!(result, RunResult::Panic(_)) {
        shared.stats.panics.inc();
    }
    Completion {
        run: run.id,
        ending: Ending::Ran {
            result,
            timing: AttemptTiming::new(started_at, started.elapsed()),
        },
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
