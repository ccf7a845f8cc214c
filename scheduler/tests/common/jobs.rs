//! Job types the runtime tests use, and the gates and logs they report through.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::{
    collections::HashMap,
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use runloom::sqlite::JobContextExt as _;
use runloom::{Job, JobContext, JobError, JobOptions, Perform};
use serde::{Deserialize, Serialize};

/// Named gates a job waits on until the test opens them.
fn gates() -> &'static (Mutex<HashMap<String, bool>>, std::sync::Condvar) {
    static G: OnceLock<(Mutex<HashMap<String, bool>>, std::sync::Condvar)> = OnceLock::new();
    G.get_or_init(|| (Mutex::new(HashMap::new()), std::sync::Condvar::new()))
}

pub fn open_gate(name: &str) {
    let (m, cv) = gates();
    m.lock().unwrap().insert(name.to_owned(), true);
    cv.notify_all();
}

/// Waits for the gate, up to `max`; true if it opened.
pub fn gate_wait(name: &str, max: Duration) -> bool {
    let (m, cv) = gates();
    let deadline = Instant::now() + max;
    let mut g = m.lock().unwrap();
    while !g.get(name).copied().unwrap_or(false) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        g = cv.wait_timeout(g, left).unwrap().0;
    }
    true
}

/// An ordered log of labels, per test.
fn logs() -> &'static Mutex<HashMap<String, Vec<String>>> {
    static L: OnceLock<Mutex<HashMap<String, Vec<String>>>> = OnceLock::new();
    L.get_or_init(|| Mutex::new(HashMap::new()))
}

pub fn log_of(test: &str) -> Vec<String> {
    logs()
        .lock()
        .unwrap()
        .get(test)
        .cloned()
        .unwrap_or_default()
}

fn push_log(test: &str, label: &str) {
    logs()
        .lock()
        .unwrap()
        .entry(test.to_owned())
        .or_default()
        .push(label.to_owned());
}

/// Counts of attempts per key.
fn attempts() -> &'static Mutex<HashMap<String, u32>> {
    static A: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    A.get_or_init(|| Mutex::new(HashMap::new()))
}

pub fn attempts_of(key: &str) -> u32 {
    attempts().lock().unwrap().get(key).copied().unwrap_or(0)
}

/// Counts one more under `key` (read back with `attempts_of`).
pub fn bump(key: &str) -> u32 {
    let mut a = attempts().lock().unwrap();
    let n = a.entry(key.to_owned()).or_default();
    *n += 1;
    *n
}

/// Does nothing.
#[derive(Serialize, Deserialize)]
pub struct Noop;

impl Job for Noop {
    const NAME: &'static str = "noop";
}

impl Perform for Noop {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        Ok(())
    }
}

/// Returns its value doubled.
#[derive(Serialize, Deserialize)]
pub struct Double {
    pub value: i64,
}

impl Job for Double {
    const NAME: &'static str = "double";
}

impl Perform for Double {
    type Output = i64;
    fn perform(&self, _: &JobContext) -> Result<i64, JobError> {
        Ok(self.value * 2)
    }
}

/// Appends its label to the test's log.
#[derive(Serialize, Deserialize)]
pub struct Record {
    pub test: String,
    pub label: String,
}

impl Job for Record {
    const NAME: &'static str = "record";
}

impl Perform for Record {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        push_log(&self.test, &self.label);
        Ok(())
    }
}

/// Fails its first `fail` attempts (counted per key), then succeeds.
#[derive(Serialize, Deserialize)]
pub struct Flaky {
    pub key: String,
    pub fail: u32,
}

impl Job for Flaky {
    const NAME: &'static str = "flaky";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(5)
            .backoff(Duration::from_millis(10))
    }
}

impl Perform for Flaky {
    type Output = u32;
    fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
        let n = bump(&self.key);
        assert_eq!(
            n,
            ctx.attempt(),
            "the context counts attempts like the test does"
        );
        if n <= self.fail {
            return Err(JobError::retry(format!("failure {n} of {}", self.fail)));
        }
        Ok(n)
    }
}

/// Panics with its message.
#[derive(Serialize, Deserialize)]
pub struct Panics {
    pub message: String,
}

impl Job for Panics {
    const NAME: &'static str = "panics";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(2)
            .backoff(Duration::from_millis(1))
    }
}

impl Perform for Panics {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        panic!("{}", self.message);
    }
}

/// Waits for the gate named `gate` (at most `max_ms`), optionally checking for
/// cancellation, and logs what it saw.
#[derive(Serialize, Deserialize)]
pub struct Gate {
    pub gate: String,
    pub max_ms: u64,
    /// Stop early when cancelled (a cooperative job).
    pub cooperative: bool,
}

impl Job for Gate {
    const NAME: &'static str = "gate";
}

impl Perform for Gate {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        bump(&format!("{}:started", self.gate));
        let deadline = Instant::now() + Duration::from_millis(self.max_ms);
        loop {
            if gate_wait(&self.gate, Duration::from_millis(5)) {
                return Ok("opened".into());
            }
            if self.cooperative {
                if let Some(reason) = ctx.cancel_reason() {
                    push_log(&self.gate, &format!("cancelled: {reason:?}"));
                    return Err(JobError::cancel(reason.to_string()));
                }
            }
            if Instant::now() >= deadline {
                return Ok("gave up".into());
            }
        }
    }
}

/// Sleeps through its context (wakes on cancellation).
#[derive(Serialize, Deserialize)]
pub struct Nap {
    pub ms: u64,
}

impl Job for Nap {
    const NAME: &'static str = "nap";
}

impl Perform for Nap {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.sleep(Duration::from_millis(self.ms))
    }
}

/// Ends as its `how` says: "cancel", "fail", "retry_after:<ms>".
#[derive(Serialize, Deserialize)]
pub struct Decides {
    pub how: String,
}

impl Job for Decides {
    const NAME: &'static str = "decides";
    fn options() -> JobOptions {
        JobOptions::new().max_attempts(3)
    }
}

impl Perform for Decides {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        if self.how == "cancel" {
            return Err(JobError::cancel("not needed any more"));
        }
        if self.how == "fail" {
            return Err(JobError::fail("permanently broken"));
        }
        if let Some(ms) = self.how.strip_prefix("retry_after:") {
            let ms: u64 = ms.parse()?;
            return Err(JobError::retry_after(
                Duration::from_millis(ms),
                "come back later",
            ));
        }
        Ok(())
    }
}

/// Counts every execution of a key, to tell how often a run executed.
#[derive(Serialize, Deserialize)]
pub struct Count {
    pub key: String,
}

impl Job for Count {
    const NAME: &'static str = "count";
}

impl Perform for Count {
    type Output = u32;
    fn perform(&self, _: &JobContext) -> Result<u32, JobError> {
        Ok(bump(&self.key))
    }
}

pub static NEVER: AtomicU32 = AtomicU32::new(0);

/// A job type that is never registered.
#[derive(Serialize, Deserialize)]
pub struct Unregistered;

impl Job for Unregistered {
    const NAME: &'static str = "unregistered";
}

impl Perform for Unregistered {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        NEVER.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Waits for the gate `"{gate}:{attempt}"` of its own attempt (at most `max_ms`),
/// logging `"{attempt} started"` and how it ended in the log of `gate`; stops when
/// cancelled if `cooperative`. Returns `"attempt {n}"`.
#[derive(Serialize, Deserialize)]
pub struct PerAttempt {
    pub gate: String,
    pub max_ms: u64,
    pub cooperative: bool,
}

impl Job for PerAttempt {
    const NAME: &'static str = "per_attempt";
    fn options() -> JobOptions {
        JobOptions::new().max_attempts(5)
    }
}

impl Perform for PerAttempt {
    type Output = String;
    fn perform(&self, ctx: &JobContext) -> Result<String, JobError> {
        let n = ctx.attempt();
        push_log(&self.gate, &format!("{n} started"));
        let gate = format!("{}:{n}", self.gate);
        let deadline = Instant::now() + Duration::from_millis(self.max_ms);
        loop {
            if gate_wait(&gate, Duration::from_millis(5)) {
                push_log(&self.gate, &format!("{n} returned"));
                return Ok(format!("attempt {n}"));
            }
            if self.cooperative {
                if let Some(reason) = ctx.cancel_reason() {
                    push_log(&self.gate, &format!("{n} cancelled: {reason:?}"));
                    return Err(JobError::cancel(reason.to_string()));
                }
            }
            if Instant::now() >= deadline {
                push_log(&self.gate, &format!("{n} gave up"));
                return Ok(format!("attempt {n} gave up"));
            }
        }
    }
}

/// Runs a transaction whose closure panics with `message`.
#[derive(Serialize, Deserialize)]
pub struct PanicInTransaction {
    pub message: String,
}

impl Job for PanicInTransaction {
    const NAME: &'static str = "panic_in_transaction";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(2)
            .backoff(Duration::from_millis(1))
    }
}

impl Perform for PanicInTransaction {
    type Output = ();
    fn perform(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.transaction(|_db| -> Result<(), JobError> { panic!("{}", self.message) })
    }
}

/// Returns a JSON value nested `depth` arrays deep (deeper than SQLite's JSON functions
/// accept past 1000).
#[derive(Serialize, Deserialize)]
pub struct Deep {
    pub depth: usize,
}

impl Job for Deep {
    const NAME: &'static str = "deep";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(2)
            .backoff(Duration::from_millis(1))
    }
}

impl Perform for Deep {
    type Output = serde_json::Value;
    fn perform(&self, _: &JobContext) -> Result<serde_json::Value, JobError> {
        let mut v = serde_json::Value::from(0);
        for _ in 0..self.depth {
            v = serde_json::Value::Array(vec![v]);
        }
        Ok(v)
    }
}

/// Snoozes for `ms` until its key has been tried `times` times, then completes with the
/// number of tries (`times = u32::MAX`: snoozes for ever).
#[derive(Serialize, Deserialize)]
pub struct Snoozes {
    pub key: String,
    pub times: u32,
    pub ms: u64,
}

impl Job for Snoozes {
    const NAME: &'static str = "snoozes";
    fn options() -> JobOptions {
        JobOptions::new().max_attempts(2)
    }
}

impl Perform for Snoozes {
    type Output = u32;
    fn perform(&self, _: &JobContext) -> Result<u32, JobError> {
        let n = bump(&self.key);
        if n <= self.times {
            return Err(JobError::snooze(Duration::from_millis(self.ms)));
        }
        Ok(n)
    }
}

/// Runs in queue `mail` unless the enqueue says otherwise; records its queue's
/// concurrent executions under `key` (see `overlap_max`) while it naps `ms`.
#[derive(Serialize, Deserialize)]
pub struct Mailed {
    pub key: String,
    pub ms: u64,
}

impl Job for Mailed {
    const NAME: &'static str = "mailed";
    fn options() -> JobOptions {
        JobOptions::new().queue("mail")
    }
}

impl Perform for Mailed {
    type Output = ();
    fn perform(&self, _: &JobContext) -> Result<(), JobError> {
        overlap(&self.key, self.ms);
        Ok(())
    }
}

/// Executions under way and the most at once, per key.
fn overlaps() -> &'static Mutex<HashMap<String, (u32, u32)>> {
    static O: OnceLock<Mutex<HashMap<String, (u32, u32)>>> = OnceLock::new();
    O.get_or_init(|| Mutex::new(HashMap::new()))
}

/// One execution under `key` lasting `ms`, counted while it lasts.
pub fn overlap(key: &str, ms: u64) {
    {
        let mut o = overlaps().lock().unwrap();
        let e = o.entry(key.to_owned()).or_default();
        e.0 += 1;
        e.1 = e.1.max(e.0);
    }
    bump(key);
    std::thread::sleep(Duration::from_millis(ms));
    overlaps().lock().unwrap().get_mut(key).unwrap().0 -= 1;
}

/// The most executions under `key` seen at once.
pub fn overlap_max(key: &str) -> u32 {
    overlaps().lock().unwrap().get(key).map_or(0, |e| e.1)
}
