//! A panic inside the closure given to `ctx.transaction`, in a real scheduler process:
//! the attempt fails with the panic's message (every attempt, until the run fails), no
//! slot stays held, and the process shuts down at once with nothing stuck.

mod common;

use std::time::{Duration, Instant};

use common::{
    TestDb,
    child::{Hold, Settings, log_lines},
    wait_for,
};
use runloom::{
    Clock, RunStatus, SystemClock,
    store::{AttemptErrorKind, NewRun},
};

#[test]
#[ignore = "started as a child process by the test below"]
fn child() {
    common::child::run_child();
}

#[test]
fn a_panic_inside_the_transaction_fails_the_attempt_and_the_process_stops_at_once() {
    let db = TestDb::new();
    let store = db.open();
    let now = SystemClock.now();
    let payload = serde_json::to_string(&Hold {
        ms: 1,
        effect: false,
        panic_in_transaction: true,
    })
    .unwrap();
    let ids: Vec<_> = store
        .write(|tx| {
            let mut run = NewRun::new("hold", payload.clone(), now);
            run.max_attempts = 2;
            run.backoff = Duration::from_millis(1);
            Ok(tx
                .insert_runs(&[run.clone(), run.clone(), run], now)?
                .iter()
                .map(|i| i.id)
                .collect())
        })
        .unwrap();
    let mut settings = Settings::scheduler(db.dir.path(), &db.path, "panics");
    settings.threads = 1;
    settings.grace_ms = 30_000;
    let log_file = db.dir.path().join("child.log");
    settings.log_file = Some(log_file.clone());
    let mut child = settings.spawn();
    let failed = |id| store.read(|tx| tx.get_run(id)).unwrap().status == RunStatus::Failed;
    assert!(
        wait_for(Duration::from_secs(30), || ids.iter().all(|id| failed(*id))),
        "wedged: {:?}",
        ids.iter()
            .map(|id| store.read(|tx| tx.get_run(*id)).unwrap())
            .collect::<Vec<_>>()
    );
    for id in &ids {
        let run = store.read(|tx| tx.get_run(*id)).unwrap();
        assert_eq!(run.attempt, 2);
        assert!(run.errors.iter().all(|e| e.kind == AttemptErrorKind::Panic
            && e.message.contains("planned panic inside the transaction")));
    }
    // Nothing is held: the shutdown (30 s of grace) ends at once, with nothing stuck.
    let stopping = Instant::now();
    std::fs::write(&settings.stop, b"").unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "the shutdown waits for a wedged slot"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    let shutdown = log_lines(&log_file, "INFO")
        .into_iter()
        .find(|l| l.contains("child shutdown"))
        .unwrap();
    assert!(
        shutdown.contains("Ok(") && shutdown.contains("stuck: []"),
        "{shutdown}"
    );
}
