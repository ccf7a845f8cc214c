//! Named queues, on any backend: a run waits in its job type's queue unless the enqueue
//! names another; a process runs only the queues it lists, each with threads of its
//! own (at most that many of its runs at once, and a full queue never holds up
//! another); an operator pauses and resumes one queue for every process; schedules
//! carry a queue to their occurrences; the figures count runs per queue.

use std::time::Duration;

use crate::common::{
    backend::TestBackend,
    jobs::{Count, Mailed, attempts_of, overlap_max},
    wait_for,
};
use runloom::{EnqueueOptions, Error, RunStatus, ScheduleSpec};

const WAIT: Duration = Duration::from_secs(20);

fn mailed(key: &str, ms: u64) -> Mailed {
    Mailed {
        key: key.into(),
        ms,
    }
}

pub(crate) fn a_run_waits_in_its_types_queue_unless_the_enqueue_names_another(
    db: &dyn TestBackend,
) {
    let s = db
        .with_queues(&[("default", 1), ("mail", 1), ("bulk", 1)])
        .register::<Mailed>()
        .register::<Count>()
        .start()
        .unwrap();
    let typed = s.enqueue(mailed("q-typed", 0)).unwrap().id;
    let moved = s
        .enqueue_with(mailed("q-moved", 0), EnqueueOptions::new().queue("bulk"))
        .unwrap()
        .id;
    let plain = s
        .enqueue(Count {
            key: "q-plain".into(),
        })
        .unwrap()
        .id;
    for (id, queue) in [(typed, "mail"), (moved, "bulk"), (plain, "default")] {
        let run = s.wait(id, WAIT).unwrap();
        assert_eq!(
            (run.status, run.queue.as_str()),
            (RunStatus::Completed, queue)
        );
    }
    // A bad name is refused, naming the option, and nothing is written.
    let before = s.admin().figures().unwrap().counts.total();
    for bad in ["", "two words", &"x".repeat(65)] {
        let err = s
            .enqueue_with(mailed("q-bad", 0), EnqueueOptions::new().queue(bad))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { name: "queue", .. }),
            "{bad:?}: {err:?}"
        );
    }
    assert_eq!(s.admin().figures().unwrap().counts.total(), before);
    let in_bulk = s.runs(&runloom::RunFilter::new().queue("bulk")).unwrap();
    assert_eq!(
        in_bulk.iter().map(|r| r.id).collect::<Vec<_>>(),
        [moved],
        "listed by queue"
    );
    // A schedule's occurrences wait in the queue its spec names.
    let task = s
        .schedule(
            "mail-digest",
            Count {
                key: "q-digest".into(),
            },
            ScheduleSpec::every(Duration::from_secs(3600)).queue("bulk"),
        )
        .unwrap();
    assert_eq!(task.queue, "bulk");
    let triggered = s.trigger("mail-digest").unwrap().id;
    let run = s.wait(triggered, WAIT).unwrap();
    assert_eq!(
        (run.status, run.queue.as_str()),
        (RunStatus::Completed, "bulk")
    );
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_process_runs_only_the_queues_it_lists(db: &dyn TestBackend) {
    let default_only = db.builder().register::<Mailed>().start().unwrap();
    let id = default_only.enqueue(mailed("q-listed", 0)).unwrap().id;
    assert!(
        matches!(
            default_only.wait(id, Duration::from_millis(500)),
            Err(Error::WaitTimeout { .. })
        ),
        "a process that does not list `mail` never takes its runs"
    );
    assert_eq!(attempts_of("q-listed"), 0);
    let mail = db
        .with_queues(&[("mail", 1)])
        .register::<Mailed>()
        .start()
        .unwrap();
    let run = mail.wait(id, WAIT).unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.worker_id, Some(mail.worker_id()));
    default_only.shutdown(WAIT).unwrap();
    mail.shutdown(WAIT).unwrap();
}

pub(crate) fn each_queue_runs_at_most_its_threads_and_never_holds_up_another(db: &dyn TestBackend) {
    let s = db
        .with_queues(&[("default", 1), ("mail", 2)])
        .register::<Mailed>()
        .register::<Count>()
        .start()
        .unwrap();
    let key = "q-at-most-two";
    let slow: Vec<_> = (0..8)
        .map(|_| s.enqueue(mailed(key, 150)).unwrap().id)
        .collect();
    // While mail is full, the default queue's run is taken by its own thread.
    assert!(wait_for(WAIT, || attempts_of(key) >= 2));
    let quick = s
        .enqueue(Count {
            key: "q-quick".into(),
        })
        .unwrap()
        .id;
    assert_eq!(s.wait(quick, WAIT).unwrap().status, RunStatus::Completed);
    let pending = slow
        .iter()
        .filter(|id| s.run(**id).unwrap().status == RunStatus::Pending)
        .count();
    assert!(
        pending > 0,
        "mail was still busy when the default run finished"
    );
    for run in s.wait_all(&slow, WAIT).unwrap() {
        assert_eq!(run.status, RunStatus::Completed);
    }
    assert_eq!(
        overlap_max(key),
        2,
        "two mail threads, two mail runs at once"
    );
    // Misconfigurations are refused before anything starts.
    for bad in [
        db.with_queues(&[("mail", 0)]),
        db.with_queues(&[("mail", 1), ("mail", 2)]),
        db.with_queues(&[("no spaces", 1)]),
        db.with_queues(&[("mail", 1)]).worker_threads(4),
    ] {
        assert!(matches!(
            bad.start(),
            Err(Error::InvalidArgument {
                name: "queue" | "worker_threads",
                ..
            })
        ));
    }
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_paused_queue_waits_in_every_process_while_the_others_go_on(db: &dyn TestBackend) {
    let queues = [("default", 1), ("mail", 1)];
    let a = db
        .with_queues(&queues)
        .register::<Mailed>()
        .register::<Count>()
        .start()
        .unwrap();
    let b = db
        .with_queues(&queues)
        .register::<Mailed>()
        .register::<Count>()
        .start()
        .unwrap();
    let operator = db.admin();
    assert!(operator.pause_queue("mail").unwrap());
    assert!(!operator.pause_queue("mail").unwrap(), "already paused");
    let held: Vec<_> = (0..4)
        .map(|_| a.enqueue(mailed("q-paused", 0)).unwrap().id)
        .collect();
    let other = b
        .enqueue(Count {
            key: "q-other".into(),
        })
        .unwrap()
        .id;
    assert_eq!(a.wait(other, WAIT).unwrap().status, RunStatus::Completed);
    // Several polls of both processes pass: the paused queue's runs stay pending.
    assert!(matches!(
        a.wait_all(&held, Duration::from_millis(400)),
        Err(Error::WaitTimeout { .. })
    ));
    assert_eq!(attempts_of("q-paused"), 0);
    let mail = operator
        .queues()
        .unwrap()
        .into_iter()
        .find(|q| q.name == "mail")
        .unwrap();
    assert!(mail.paused);
    assert_eq!((mail.pending, mail.due, mail.running), (4, 4, 0));
    assert!(mail.oldest_due.is_some());
    assert!(operator.figures().unwrap().queues.contains(&mail));
    assert!(operator.resume_queue("mail").unwrap());
    for run in b.wait_all(&held, WAIT).unwrap() {
        assert_eq!(run.status, RunStatus::Completed);
    }
    assert!(operator.queues().unwrap().iter().all(|q| !q.paused));
    a.shutdown(WAIT).unwrap();
    b.shutdown(WAIT).unwrap();
}
