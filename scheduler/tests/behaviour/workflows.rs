//! Workflows that pass data, on any backend: a step reads its upstream runs' results,
//! typed (one upstream, or every branch of a fan-in), and a step creates its follow-up
//! runs in the transaction that completes it, so a follow-up exists exactly when its
//! step completed: none from a failed attempt, one from the attempt that succeeded.

use std::time::Duration;

use crate::common::{backend::TestBackend, jobs::attempts_of};
use runloom::{
    EnqueueOptions, Job, JobContext, JobError, OnUpstreamFailure, Perform, RunFilter, RunStatus,
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

/// The first step: rows as its output.
#[derive(Serialize, Deserialize)]
struct Extract {
    rows: Vec<i64>,
}
impl Job for Extract {
    const NAME: &'static str = "wf_extract";
}
impl Perform for Extract {
    type Output = Vec<i64>;
    fn perform(&self, _: &JobContext) -> Result<Vec<i64>, JobError> {
        Ok(self.rows.clone())
    }
}

/// The second step: reads Extract's output, doubles it.
#[derive(Serialize, Deserialize)]
struct Transform;
impl Job for Transform {
    const NAME: &'static str = "wf_transform";
}
impl Perform for Transform {
    type Output = Vec<i64>;
    fn perform(&self, ctx: &JobContext) -> Result<Vec<i64>, JobError> {
        let rows = ctx.upstream_result::<Extract>()?;
        Ok(rows.iter().map(|r| r * 2).collect())
    }
}

/// The fan-in: sums every branch's output.
#[derive(Serialize, Deserialize)]
struct Sum;
impl Job for Sum {
    const NAME: &'static str = "wf_sum";
}
impl Perform for Sum {
    type Output = i64;
    fn perform(&self, ctx: &JobContext) -> Result<i64, JobError> {
        let branches = ctx.upstream_results::<Extract>()?;
        let upstream = ctx.upstream()?;
        if upstream.len() != branches.len() {
            return Err(JobError::fail("an upstream run is not an Extract"));
        }
        Ok(branches.iter().flatten().sum())
    }
}

/// Fails for good (an upstream whose failure a run-anyway edge tolerates).
#[derive(Serialize, Deserialize)]
struct Broken;
impl Job for Broken {
    const NAME: &'static str = "wf_broken";
}
impl Perform for Broken {
    type Output = Vec<i64>;
    fn perform(&self, _: &JobContext) -> Result<Vec<i64>, JobError> {
        Err(JobError::fail("no rows today"))
    }
}

/// Asks for a follow-up, then fails its first `fail_first` attempts after asking.
#[derive(Serialize, Deserialize)]
struct Fetch {
    key: String,
    fail_first: u32,
    follow_ups: u32,
}
impl Job for Fetch {
    const NAME: &'static str = "wf_fetch";
}
impl Perform for Fetch {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        for i in 0..self.follow_ups {
            ctx.enqueue_on_completion_with(
                Parse {
                    body: format!("{}:{i}", self.key),
                },
                EnqueueOptions::new().priority(5),
            )?;
        }
        if ctx.attempt() <= self.fail_first {
            return Err(JobError::retry_after(Duration::ZERO, "the server hung up"));
        }
        Ok(format!("fetched {}", self.key))
    }
}

#[derive(Serialize, Deserialize)]
struct Parse {
    body: String,
}
impl Job for Parse {
    const NAME: &'static str = "wf_parse";
}
impl Perform for Parse {
    type Output = usize;
    fn perform(&self, _: &JobContext) -> Result<usize, JobError> {
        crate::common::jobs::bump(&self.body);
        Ok(self.body.len())
    }
}

pub(crate) fn a_step_reads_its_upstreams_typed_result(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Extract>()
        .register::<Transform>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let extract = b
        .add(Extract {
            rows: vec![1, 2, 3],
        })
        .unwrap();
    let transform = b.add(Transform).unwrap();
    b.depends_on(transform, extract).unwrap();
    let runs = b.submit().unwrap();
    let done = s.wait(runs[1].id, WAIT).unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.last_error);
    assert_eq!(done.result::<Vec<i64>>().unwrap(), [2, 4, 6]);
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_fan_in_reads_every_branchs_result(db: &dyn TestBackend) {
    let s = db
        .builder()
        .worker_threads(4)
        .register::<Extract>()
        .register::<Sum>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let sum = b.add(Sum).unwrap();
    for i in 0..5 {
        let branch = b.add(Extract { rows: vec![i, 10] }).unwrap();
        b.depends_on(sum, branch).unwrap();
    }
    let runs = b.submit().unwrap();
    let done = s.wait(runs[0].id, WAIT).unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.last_error);
    assert_eq!(done.result::<i64>().unwrap(), (0..5).sum::<i64>() + 50);
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_missing_upstream_result_fails_the_step_for_good(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Broken>()
        .register::<Transform>()
        .start()
        .unwrap();
    let mut b = s.batch();
    let broken = b.add(Broken).unwrap();
    let transform = b.add(Transform).unwrap();
    // It runs although its upstream failed, and then finds no result to read.
    b.depends_on_with(transform, broken, OnUpstreamFailure::Run)
        .unwrap();
    let runs = b.submit().unwrap();
    let done = s.wait(runs[1].id, WAIT).unwrap();
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(done.attempt, 1, "not retried");
    let message = done.last_error.unwrap_or_default();
    assert!(
        message.contains("0 completed upstream runs") && message.contains("wf_extract"),
        "{message}"
    );
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn follow_ups_exist_only_for_the_attempt_that_completed(db: &dyn TestBackend) {
    let s = db
        .builder()
        .register::<Fetch>()
        .register::<Parse>()
        .start()
        .unwrap();
    let events = s.subscribe(256);
    let id = s
        .enqueue(Fetch {
            key: "wf-once".into(),
            fail_first: 2,
            follow_ups: 2,
        })
        .unwrap()
        .id;
    let fetched = s.wait(id, WAIT).unwrap();
    assert_eq!(fetched.status, RunStatus::Completed);
    assert_eq!(fetched.attempt, 3, "two attempts failed after asking");
    assert_eq!(fetched.result::<String>().unwrap(), "fetched wf-once");
    s.wait_idle(WAIT).unwrap();
    let parsed = s.runs(&RunFilter::new().job_type(Parse::NAME)).unwrap();
    assert_eq!(
        parsed.len(),
        2,
        "one follow-up each, from the third attempt only"
    );
    for run in &parsed {
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.priority, 5, "the options asked for");
        assert!(run.created_at >= fetched.started_at.unwrap());
    }
    assert_eq!(attempts_of("wf-once:0"), 1);
    assert_eq!(attempts_of("wf-once:1"), 1);
    // Each follow-up was announced once.
    let mut announced = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(&e, runloom::Event::Enqueued { job_type, .. } if job_type == Parse::NAME) {
            announced += 1;
        }
    }
    assert_eq!(announced, 2);
    s.shutdown(WAIT).unwrap();
}

pub(crate) fn a_follow_up_of_an_unregistered_type_fails_the_step_and_creates_nothing(
    db: &dyn TestBackend,
) {
    // Parse is not registered here: asking for it is refused like an enqueue.
    let s = db.builder().register::<Fetch>().start().unwrap();
    let id = s
        .enqueue(Fetch {
            key: "wf-unknown".into(),
            fail_first: 0,
            follow_ups: 1,
        })
        .unwrap()
        .id;
    let run = s.wait(id, WAIT).unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let message = run.last_error.unwrap_or_default();
    assert!(message.contains("unknown job type"), "{message}");
    assert_eq!(s.admin().counts().unwrap().total(), 1);
    s.shutdown(WAIT).unwrap();
}
