//! Scheduler processes for the multi-process tests: the test binary runs itself again
//! with its settings in an environment variable (a test binary that uses this module
//! has an ignored `child` test that calls [`run_child`]). Each process can run on a wall
//! clock shifted by an offset the test writes to a file, as every process on a host
//! sees the same jumps of the system clock; every execution of the `hold` job type is
//! logged, with whether its run had already finished when its code started.
//!
//! The database is a SQLite file or, when `db` is a `postgres://` URL, a PostgreSQL
//! database: the same processes, the same log, on either backend.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use runloom::{
    Clock, ExponentialBackoff, Job, JobContext, JobError, JobOptions, MaintenanceConfig, Perform,
    Scheduler, Service, SystemClock,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The variable that carries a child's settings (JSON).
pub const CHILD_ENV: &str = "RUNLOOM_TEST_CHILD";

/// What a child process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Runs a scheduler with the `hold` job type until its stop file appears.
    Scheduler,
    /// Runs lease-rescue passes back to back, as `maintenance run --only leases` in a
    /// loop would, until its stop file appears.
    Rescuer,
}

/// A child's settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub role: Role,
    /// A database file, or a `postgres://` URL.
    pub db: PathBuf,
    pub stop: PathBuf,
    pub log: PathBuf,
    /// A file holding the wall clock's offset in milliseconds, re-read every few ms.
    pub clock: Option<PathBuf>,
    pub threads: usize,
    pub lease_ms: u64,
    pub heartbeat_ms: u64,
    pub stale_ms: u64,
    pub poll_ms: u64,
    pub maintenance: bool,
    pub rescue_ms: u64,
    pub worker_check_ms: u64,
    pub grace_ms: u64,
    /// Where the child's log records go (one line each), if anywhere.
    pub log_file: Option<PathBuf>,
    /// The default retry policy's cap, when not the scheduler's default.
    pub max_backoff_ms: Option<u64>,
    /// The network namespace the child runs in (a host of its own), if any.
    pub netns: Option<String>,
    /// PostgreSQL's network timeout, when not the default.
    pub network_timeout_ms: Option<u64>,
}

impl Settings {
    /// The PostgreSQL URL `db` holds, if it is one.
    pub fn postgres_url(&self) -> Option<&str> {
        self.db
            .to_str()
            .filter(|d| d.starts_with("postgres://") || d.contains("dbname="))
    }

    /// A scheduler child on `db`, with the scheduler's default timings scaled down.
    pub fn scheduler(dir: &Path, db: &Path, name: &str) -> Self {
        Settings {
            role: Role::Scheduler,
            db: db.to_owned(),
            stop: dir.join(format!("{name}.stop")),
            log: dir.join("executions.log"),
            clock: None,
            threads: 4,
            lease_ms: 3_000,
            heartbeat_ms: 1_000,
            stale_ms: 10_000,
            poll_ms: 20,
            maintenance: true,
            rescue_ms: 100,
            worker_check_ms: 100,
            grace_ms: 5_000,
            log_file: None,
            max_backoff_ms: None,
            netns: None,
            network_timeout_ms: None,
        }
    }

    pub fn spawn(&self) -> Child {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = match &self.netns {
            // `ip netns exec` enters the namespace and executes the binary in place:
            // the child's pid is the test binary's own.
            Some(ns) => {
                let mut cmd = Command::new("ip");
                cmd.args(["netns", "exec", ns]).arg(exe);
                cmd
            }
            None => Command::new(exe),
        };
        cmd.args([
            "child",
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--quiet",
        ])
        .env(CHILD_ENV, serde_json::to_string(self).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
    }

    pub fn builder(&self, clock: Arc<dyn Clock>) -> runloom::SchedulerBuilder {
        let builder = Scheduler::builder();
        let builder = match self.max_backoff_ms {
            Some(ms) => builder.max_backoff(Duration::from_millis(ms)),
            None => builder,
        };
        let builder = match (self.postgres_url(), self.network_timeout_ms) {
            (Some(url), Some(ms)) => builder.postgres_options(
                runloom::postgres::PgOptions::new(url)
                    .network_timeout(Duration::from_millis(ms))
                    .connect_timeout(Duration::from_millis(ms)),
            ),
            (Some(url), None) => builder.postgres(url),
            (None, _) => builder.database(&self.db),
        };
        builder
            .clock(clock)
            .worker_threads(self.threads)
            .poll_interval(Duration::from_millis(self.poll_ms))
            .lease_duration(Duration::from_millis(self.lease_ms))
            .heartbeat_interval(Duration::from_millis(self.heartbeat_ms))
            .shutdown_grace(Duration::from_millis(self.grace_ms))
            .maintenance(
                MaintenanceConfig::default()
                    .enabled(self.maintenance)
                    .lease_rescue_interval(Duration::from_millis(self.rescue_ms))
                    .worker_check_interval(Duration::from_millis(self.worker_check_ms))
                    .stale_worker_after(Duration::from_millis(self.stale_ms)),
            )
    }
}

/// A wall clock shifted by an offset that a file sets (the system clock being stepped).
#[derive(Debug, Default)]
pub struct JumpClock {
    offset_ms: AtomicI64,
}

impl JumpClock {
    /// A clock that follows the offset in `file` (checked every 2 ms on a thread).
    pub fn following(file: &Path) -> Arc<JumpClock> {
        let clock = Arc::new(JumpClock::default());
        let c = clock.clone();
        let file = file.to_owned();
        std::thread::spawn(move || {
            loop {
                if let Some(ms) = read_offset(&file) {
                    c.offset_ms.store(ms, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        clock
    }
}

impl Clock for JumpClock {
    fn now(&self) -> OffsetDateTime {
        SystemClock.now() + time::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

fn read_offset(file: &Path) -> Option<i64> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Steps the wall clock of every process following `file` to `offset_ms`.
pub fn set_offset(file: &Path, offset_ms: i64) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, offset_ms.to_string()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// Holds its run for `ms` (waking early when cancelled), then, with `effect`, writes a
/// row to `effects` in the same transaction as its completion (whose closure panics
/// instead with `panic_in_transaction`).
#[derive(Serialize, Deserialize)]
pub struct Hold {
    pub ms: u64,
    pub effect: bool,
    #[serde(default)]
    pub panic_in_transaction: bool,
}

impl Job for Hold {
    const NAME: &'static str = "hold";
    fn options() -> JobOptions {
        JobOptions::new()
            .max_attempts(20)
            .backoff(Duration::from_millis(10))
    }
}

/// The table `effect` jobs write to (the same statement on either backend).
pub const EFFECTS_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS effects (run_id BIGINT NOT NULL, attempt BIGINT NOT NULL)";

impl Perform for Hold {
    type Output = u32;
    fn perform(&self, ctx: &JobContext) -> Result<u32, JobError> {
        let settings: Settings = serde_json::from_str(&std::env::var(CHILD_ENV)?)?;
        // Was the run already finished (by another worker) when this code started?
        let status: String = match settings.postgres_url() {
            Some(url) => postgres::Client::connect(url, postgres::NoTls)?
                .query_one(
                    "SELECT status FROM task_runs WHERE id = $1",
                    &[&ctx.run_id().get()],
                )?
                .try_get(0)?,
            None => {
                let conn = rusqlite::Connection::open(&settings.db)?;
                conn.busy_timeout(Duration::from_secs(30))?;
                conn.query_row(
                    "SELECT status FROM task_runs WHERE id = ?1",
                    [ctx.run_id().get()],
                    |r| r.get(0),
                )?
            }
        };
        let finished = matches!(status.as_str(), "completed" | "failed" | "cancelled");
        log_line(
            &settings.log,
            &format!(
                "start {} {} {} {}",
                ctx.run_id(),
                ctx.attempt(),
                std::process::id(),
                u8::from(finished)
            ),
        );
        ctx.sleep(Duration::from_millis(self.ms))?;
        let on_postgres = settings.postgres_url().is_some();
        if self.panic_in_transaction {
            let panic =
                || -> Result<u32, JobError> { panic!("planned panic inside the transaction") };
            return if on_postgres {
                runloom::postgres::JobContextExt::transaction(ctx, |_| panic())
            } else {
                runloom::sqlite::JobContextExt::transaction(ctx, |_| panic())
            };
        }
        let (run, attempt) = (ctx.run_id().get(), i64::from(ctx.attempt()));
        match (self.effect, on_postgres) {
            (false, _) => Ok(std::process::id()),
            (true, false) => runloom::sqlite::JobContextExt::transaction(ctx, |db| {
                db.execute(
                    "INSERT INTO effects (run_id, attempt) VALUES (?1, ?2)",
                    [run, attempt],
                )?;
                Ok(std::process::id())
            }),
            (true, true) => runloom::postgres::JobContextExt::transaction(ctx, |tx| {
                tx.execute(
                    "INSERT INTO effects (run_id, attempt) VALUES ($1, $2)",
                    &[&run, &attempt],
                )?;
                Ok(std::process::id())
            }),
        }
    }
}

fn log_line(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    // One write per line: lines of several processes never interleave.
    f.write_all(format!("{line}\n").as_bytes()).unwrap();
}

/// One logged start of the `hold` job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub run: i64,
    pub attempt: u32,
    pub pid: u32,
    /// The run was already finished when the code started.
    pub on_finished_run: bool,
}

/// Every start logged so far.
pub fn starts(log: &Path) -> Vec<Start> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() == 5 && f[0] == "start").then(|| Start {
                run: f[1].parse().unwrap(),
                attempt: f[2].parse().unwrap(),
                pid: f[3].parse().unwrap(),
                on_finished_run: f[4] == "1",
            })
        })
        .collect()
}

/// Writes every log record of the child to a file, one line each: `LEVEL message`.
struct FileLog(std::sync::Mutex<std::fs::File>);

impl log::Log for FileLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Info
    }

    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let line = format!("{} {}\n", r.level(), r.args());
            let _ = self.0.lock().unwrap().write_all(line.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// The log lines a child wrote at `level` (`"ERROR"`, `"WARN"`, `"INFO"`).
pub fn log_lines(file: &Path, level: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(&format!("{level} ")))
        .map(str::to_owned)
        .collect()
}

/// The child's body; returns at once when not started as a child.
pub fn run_child() {
    let Ok(json) = std::env::var(CHILD_ENV) else {
        return;
    };
    let settings: Settings = serde_json::from_str(&json).unwrap();
    if let Some(path) = &settings.log_file {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        let logger: &'static FileLog = Box::leak(Box::new(FileLog(std::sync::Mutex::new(file))));
        log::set_logger(logger).unwrap();
        log::set_max_level(log::LevelFilter::Info);
    }
    let clock: Arc<dyn Clock> = match &settings.clock {
        Some(file) => JumpClock::following(file),
        None => Arc::new(SystemClock),
    };
    match settings.role {
        Role::Scheduler => {
            let s = settings.builder(clock).register::<Hold>().start().unwrap();
            while !settings.stop.exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            let outcome = s.shutdown(Duration::from_millis(settings.grace_ms));
            log::info!("child shutdown: {outcome:?}");
        }
        Role::Rescuer => {
            let retry = settings
                .max_backoff_ms
                .map_or_else(ExponentialBackoff::default, |ms| {
                    ExponentialBackoff::new(Duration::from_millis(ms))
                });
            let builder = match settings.postgres_url() {
                Some(url) => runloom::Admin::builder_postgres(url),
                None => runloom::Admin::builder(&settings.db),
            };
            let admin = builder.clock(clock).retry_policy(retry).open().unwrap();
            while !settings.stop.exists() {
                let _ = admin.run_maintenance(Some(Service::LeaseRescue));
            }
        }
    }
}
