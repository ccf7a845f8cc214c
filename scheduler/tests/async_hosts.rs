//! Async hosts (feature `tokio`): the awaited calls never block the executor, even
//! while the database's write lock is held elsewhere (an enqueue then waits on the
//! blocking pool while the runtime's other tasks keep running), and async job bodies
//! run on the host's runtime with the same outcomes as synchronous ones.
#![cfg(all(feature = "tokio", feature = "derive"))]

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::{TestDb, builder};
use runloom::{
    Job, JobContext, JobError, RunStatus,
    tokio::{AsyncPerform, AsyncRegister, AsyncScheduler},
};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(20);

#[derive(Serialize, Deserialize, Job)]
struct Sum {
    values: Vec<u64>,
}

impl AsyncPerform for Sum {
    type Output = u64;
    async fn perform(&self, ctx: &JobContext) -> Result<u64, JobError> {
        // Work spawned on the runtime, joined, with a timer in between.
        let values = self.values.clone();
        let total = tokio::spawn(async move { values.iter().sum::<u64>() })
            .await
            .map_err(|e| JobError::fail(e.to_string()))?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        if ctx.attempt() == 1 && total == 0 {
            return Err(JobError::retry_after(Duration::ZERO, "nothing yet"));
        }
        Ok(total)
    }
}

#[derive(Serialize, Deserialize, Job)]
struct Explodes;

impl AsyncPerform for Explodes {
    type Output = ();
    async fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        tokio::task::yield_now().await;
        panic!("async boom");
    }
}

#[test]
fn an_enqueue_behind_a_busy_writer_leaves_the_executor_free() {
    let db = TestDb::new();
    let s = builder(&db)
        .busy_timeout(Duration::from_secs(30))
        .register::<common::jobs::Noop>()
        .start()
        .unwrap();
    // One thread of executor: a blocking call inside it would stop every other task.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicU64::new(0));
    // Another connection holds the write lock until the executor has proved it runs
    // other tasks while the enqueue waits (or 10 s pass, which fails the test).
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let holder = {
        let path = db.path.clone();
        let ticks = ticks.clone();
        std::thread::spawn(move || {
            let conn = rusqlite_conn(&path);
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let start = ticks.load(Ordering::SeqCst);
            while ticks.load(Ordering::SeqCst) < start + 5 && Instant::now() < deadline {
                std::thread::yield_now();
            }
            conn.execute_batch("COMMIT").unwrap();
            ticks.load(Ordering::SeqCst) - start
        })
    };
    locked_rx.recv().unwrap();
    let s = AsyncScheduler::new(s);
    let inserted = runtime.block_on(async {
        let ticker = {
            let ticks = ticks.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        let inserted = s.enqueue(common::jobs::Noop).await;
        ticker.abort();
        inserted
    });
    let ticked_while_locked = holder.join().unwrap();
    assert!(
        ticked_while_locked >= 5,
        "the executor ran {ticked_while_locked} ticks while the enqueue waited"
    );
    let inserted = inserted.unwrap();
    assert!(inserted.created);
    runtime.block_on(s.shutdown(WAIT)).expect("shutdown");
}

fn rusqlite_conn(path: &std::path::Path) -> runloom::sqlite::rusqlite::Connection {
    let c = runloom::sqlite::rusqlite::Connection::open(path).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c
}

#[test]
fn async_bodies_run_on_the_hosts_runtime_with_the_usual_outcomes() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = TestDb::new();
    let s = builder(&db)
        .register_async::<Sum>(runtime.handle().clone())
        .register_async::<Explodes>(runtime.handle().clone())
        .start()
        .unwrap();
    let s = AsyncScheduler::new(s);
    runtime.block_on(async {
        let sum = s
            .enqueue(Sum {
                values: vec![1, 2, 3],
            })
            .await
            .unwrap()
            .id;
        let retried = s.enqueue(Sum { values: vec![] }).await.unwrap().id;
        let panics = s.enqueue(Explodes).await.unwrap().id;
        let runs = s.wait_all(vec![sum, retried, panics], WAIT).await.unwrap();
        assert_eq!(runs[0].status, RunStatus::Completed);
        assert_eq!(runs[0].result::<u64>().unwrap(), 6);
        assert_eq!(runs[1].status, RunStatus::Completed);
        assert_eq!(runs[1].attempt, 2, "retried once");
        assert_eq!(runs[2].status, RunStatus::Failed);
        assert!(
            runs[2]
                .errors
                .iter()
                .all(|e| e.message.contains("async boom")),
            "{:?}",
            runs[2].errors
        );
        // Any other call, on the blocking pool.
        let counts = s.call(|s| s.admin().counts()).await.unwrap().unwrap();
        assert_eq!((counts.completed, counts.failed), (2, 1));
        s.shutdown(WAIT).await.unwrap();
    });
}
