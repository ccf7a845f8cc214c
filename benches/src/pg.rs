//! The PostgreSQL figures: the scheduler on a PostgreSQL database next to the raw
//! baseline on the same server in the same run, the minimal SQL of the same work on a
//! minimal schema through the `postgres` crate (as [`crate::raw`] is for SQLite).
//!
//! The server is a throwaway cluster of the workspace's testkit, started from the
//! installed binaries with its default durability (every commit flushed, as SQLite's
//! `FULL`), on a Unix socket; each measurement gets a fresh database.

use std::{
    path::Path,
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use postgres::{Client, NoTls, Statement, fallible_iterator::FallibleIterator as _};
use runloom_testkit::postgres::Server;

use crate::{NOW_MS, Result, hosts::Hosts, stats::rate};

const SCHEMA: &str = "
    CREATE TABLE runs (
        id           bigserial PRIMARY KEY,
        job_type     text     NOT NULL,
        payload      jsonb    NOT NULL,
        status       smallint NOT NULL DEFAULT 0,
        scheduled_at bigint   NOT NULL,
        attempt      int      NOT NULL DEFAULT 0,
        token        bigint   NOT NULL DEFAULT 0,
        worker       bigint,
        finished_at  bigint
    );
    CREATE INDEX runs_pending ON runs (scheduled_at) WHERE status = 0;
    CREATE TABLE leases (
        run_id     bigint PRIMARY KEY,
        worker     bigint NOT NULL,
        token      bigint NOT NULL,
        expires_at bigint NOT NULL
    );
";

const INSERT: &str = "INSERT INTO runs (job_type, payload, scheduled_at) VALUES ('noop', '{}', $1)";
/// The same insert on the scheduler's own table: its CHECK constraints, indexes and
/// the statement-level trigger that notifies listeners (migration 0003).
const INSERT_SCHEDULER: &str = "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at) \
     VALUES ('noop', '{}', $1, $1)";
const CLAIM: &str = "UPDATE runs SET status = 1, attempt = attempt + 1, token = token + 1, worker = $1 \
     WHERE id IN (SELECT id FROM runs WHERE status = 0 AND scheduled_at <= $2 \
                  ORDER BY scheduled_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
     RETURNING id, token";
const LEASE: &str =
    "INSERT INTO leases (run_id, worker, token, expires_at) VALUES ($1, $2, $3, $4)";
const COMPLETE: &str =
    "UPDATE runs SET status = 2, finished_at = $2 WHERE id = $1 AND status = 1 AND token = $3";
const UNLEASE: &str = "DELETE FROM leases WHERE run_id = $1 AND token = $2";

/// One throwaway server for a set of figures, and fresh databases on it.
#[derive(Debug)]
pub struct PgBench {
    server: Server,
    next: AtomicU32,
}

impl PgBench {
    /// Starts the server, or `None` when PostgreSQL is not installed (or skipped).
    #[must_use]
    pub fn start() -> Option<PgBench> {
        if !runloom_testkit::postgres::server_binaries_found() {
            return None;
        }
        Some(PgBench {
            server: Server::start_with(&[], None, true)?,
            next: AtomicU32::new(0),
        })
    }

    /// The raw pickup across connections: one connection inserts a run and notifies in
    /// one transaction, another (listening, on a thread of its own) claims it once the
    /// notification arrives; from just before the insert to the claim's return,
    /// `samples` times.
    ///
    /// # Errors
    /// Database errors; a notification that never came.
    pub fn raw_pickup(&self, samples: usize) -> Result<Vec<Duration>> {
        let url = self.fresh_db();
        let mut producer = Client::connect(&url, NoTls)?;
        producer.batch_execute(SCHEMA)?;
        let (claimed_tx, claimed) = std::sync::mpsc::channel::<Instant>();
        let (ready_tx, ready) = std::sync::mpsc::channel::<()>();
        let consumer = std::thread::spawn(move || -> Result<()> {
            let mut client = Client::connect(&url, NoTls)?;
            client.batch_execute("LISTEN raw")?;
            let claim = client.prepare(CLAIM)?;
            ready_tx.send(())?;
            for _ in 0..samples {
                let note = client
                    .notifications()
                    .timeout_iter(Duration::from_secs(60))
                    .next()?;
                if note.is_none() {
                    return Err("no notification within 60 s".into());
                }
                if client.query(&claim, &[&1_i64, &NOW_MS, &1_i64])?.is_empty() {
                    return Err("notified, but nothing to claim".into());
                }
                claimed_tx.send(Instant::now())?;
            }
            Ok(())
        });
        ready.recv()?;
        let insert = format!(
            "BEGIN; INSERT INTO runs (job_type, payload, scheduled_at) \
             VALUES ('noop', '{{}}', {NOW_MS}); NOTIFY raw; COMMIT"
        );
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            let t0 = Instant::now();
            producer.batch_execute(&insert)?;
            let at = claimed.recv_timeout(Duration::from_secs(60))?;
            out.push(at.saturating_duration_since(t0));
        }
        consumer.join().map_err(|_| "the raw consumer panicked")??;
        Ok(out)
    }

    /// A fresh, empty database's connection string.
    #[must_use]
    pub fn fresh_db(&self) -> String {
        let name = format!("bench_{}", self.next.fetch_add(1, Ordering::Relaxed));
        self.server.create_db(&name);
        self.server.url(&name)
    }

    /// A fresh database with the scheduler's schema, for hosts that do not migrate
    /// (an `Admin` refuses a database behind its binary).
    ///
    /// # Errors
    /// Migration errors.
    pub fn fresh_migrated_db(&self) -> Result<String> {
        let url = self.fresh_db();
        drop(runloom::postgres::PgStore::open(
            runloom::postgres::PgOptions::new(&url),
        )?);
        Ok(url)
    }

    /// The raw baseline on a fresh database: the minimal schema (or the scheduler's,
    /// migrated by a store that is then closed).
    ///
    /// # Errors
    /// Database errors.
    pub fn raw(&self, scheduler_schema: bool) -> Result<RawPg> {
        let url = if scheduler_schema {
            self.fresh_migrated_db()?
        } else {
            self.fresh_db()
        };
        let mut client = Client::connect(&url, NoTls)?;
        if !scheduler_schema {
            client.batch_execute(SCHEMA)?;
        }
        let insert = client.prepare(if scheduler_schema {
            INSERT_SCHEDULER
        } else {
            INSERT
        })?;
        let (claim, lease, complete, unlease) = if scheduler_schema {
            // Only the insert is measured on the scheduler's tables.
            let s = client.prepare("SELECT 1")?;
            (s.clone(), s.clone(), s.clone(), s)
        } else {
            (
                client.prepare(CLAIM)?,
                client.prepare(LEASE)?,
                client.prepare(COMPLETE)?,
                client.prepare(UNLEASE)?,
            )
        };
        Ok(RawPg {
            client,
            insert,
            claim,
            lease,
            complete,
            unlease,
        })
    }
}

/// The baseline's connection with its statements prepared.
pub struct RawPg {
    client: Client,
    insert: Statement,
    claim: Statement,
    lease: Statement,
    complete: Statement,
    unlease: Statement,
}

impl std::fmt::Debug for RawPg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawPg").finish_non_exhaustive()
    }
}

impl RawPg {
    /// Inserts `n` pending runs in one transaction.
    ///
    /// # Errors
    /// Database errors.
    pub fn insert_batch(&mut self, n: usize) -> Result<()> {
        let mut tx = self.client.transaction()?;
        for _ in 0..n {
            tx.execute(&self.insert, &[&NOW_MS])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `batches` transactions of one statement inserting `per_tx` rows (`unnest` of an
    /// array of due times): the rate, the batched insert at its fastest.
    ///
    /// # Errors
    /// Database errors.
    pub fn inserts_one_statement(&mut self, per_tx: usize, batches: usize) -> Result<f64> {
        let insert = self.client.prepare(
            "INSERT INTO runs (job_type, payload, scheduled_at) \
             SELECT 'noop', '{}', t FROM unnest($1::bigint[]) AS t",
        )?;
        let due = vec![NOW_MS; per_tx];
        let t0 = Instant::now();
        for _ in 0..batches {
            self.client.execute(&insert, &[&due])?;
        }
        Ok(rate(per_tx * batches, t0.elapsed()))
    }

    /// `batches` transactions of `per_tx` inserts: the rate.
    ///
    /// # Errors
    /// Database errors.
    pub fn inserts(&mut self, per_tx: usize, batches: usize) -> Result<f64> {
        let t0 = Instant::now();
        for _ in 0..batches {
            self.insert_batch(per_tx)?;
        }
        Ok(rate(per_tx * batches, t0.elapsed()))
    }

    /// Claims up to `n` due runs under leases in one transaction, then completes them
    /// and drops their leases in a second one, as SQLite's baseline does.
    ///
    /// # Errors
    /// Database errors.
    pub fn claim_complete(&mut self, n: usize) -> Result<usize> {
        let mut tx = self.client.transaction()?;
        let claimed: Vec<(i64, i64)> = tx
            .query(&self.claim, &[&1_i64, &NOW_MS, &(n as i64)])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for (id, token) in &claimed {
            tx.execute(&self.lease, &[id, &1_i64, token, &(NOW_MS + 30_000)])?;
        }
        tx.commit()?;
        let mut tx = self.client.transaction()?;
        for (id, token) in &claimed {
            tx.execute(&self.complete, &[id, &NOW_MS, token])?;
            tx.execute(&self.unlease, &[id, token])?;
        }
        tx.commit()?;
        Ok(claimed.len())
    }

    /// Inserts `n` pending runs in transactions of 10 000 (fixtures).
    ///
    /// # Errors
    /// Database errors.
    pub fn fill(&mut self, n: usize) -> Result<()> {
        let mut left = n;
        while left > 0 {
            let now = left.min(10_000);
            self.insert_batch(now)?;
            left -= now;
        }
        Ok(())
    }

    /// Claims and completes every due run, `per_tx` at a time; returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub fn drain(&mut self, per_tx: usize) -> Result<usize> {
        let mut done = 0;
        loop {
            let k = self.claim_complete(per_tx)?;
            if k == 0 {
                return Ok(done);
            }
            done += k;
        }
    }

    /// [`RawPg::fill`] `n` runs, then the rate of [`RawPg::drain`].
    ///
    /// # Errors
    /// Database errors.
    pub fn cycle(&mut self, per_tx: usize, n: usize) -> Result<f64> {
        self.fill(n)?;
        let t0 = Instant::now();
        let done = self.drain(per_tx)?;
        Ok(rate(done, t0.elapsed()))
    }
}

/// The scheduler's side on PostgreSQL: `hosts` schedulers (as hosts would be) of
/// `threads` worker threads each on one fresh database drain `n` no-op runs enqueued
/// while claiming was paused. Returns the time from the resume to the last completion
/// committed.
///
/// # Errors
/// Scheduler errors; runs that did not all complete within ten minutes.
pub fn drain(bench: &PgBench, hosts: usize, threads: usize, n: usize) -> Result<Duration> {
    let url = bench.fresh_db();
    let harnesses = crate::ours::Harness::start_postgres(&url, hosts, threads)?;
    drain_on(harnesses, n)
}

/// [`drain`] on a fresh database that already holds `finished` completed runs
/// (finished an hour ago, vacuumed and analysed), with one host of 4 threads: how the
/// hot statements fare as the history grows.
///
/// # Errors
/// Scheduler and database errors.
pub fn drain_with_history(bench: &PgBench, finished: usize, n: usize) -> Result<Duration> {
    let url = bench.fresh_db();
    let harnesses = crate::ours::Harness::start_postgres(&url, 1, 4)?;
    let mut client = Client::connect(&url, NoTls)?;
    let now = runloom::Clock::now(&runloom::SystemClock);
    let hour_ago = now.unix_timestamp() * 1_000 - 3_600_000;
    client.execute(
        "INSERT INTO task_runs (job_type, payload, status, attempt, scheduled_at, \
         created_at, started_at, finished_at, duration_ms) \
         SELECT 'noop', '{}'::jsonb, 'completed', 1, $1, $1, $1, $1, 0 \
         FROM generate_series(1, $2::bigint)",
        &[&hour_ago, &(finished as i64)],
    )?;
    client.batch_execute("VACUUM ANALYZE task_runs")?;
    drain_on(harnesses, n)
}

/// Pickup latency across hosts: one idle scheduler of 4 threads, and a probe enqueued
/// by another host's handle (an `Admin` with its own connections), woken by the
/// notification the insert's commit sends: from just before the enqueue to the moment
/// the job's code starts, `samples` times after a few unmeasured rounds.
///
/// # Errors
/// Scheduler errors; a probe that never started.
pub fn pickup(bench: &PgBench, samples: usize) -> Result<Vec<Duration>> {
    let url = bench.fresh_db();
    let mut harnesses = crate::ours::Harness::start_postgres(&url, 1, 4)?;
    let h = harnesses.remove(0);
    let other = runloom::Admin::builder_postgres(&url).open()?;
    let opts = runloom::EnqueueOptions::new();
    let mut enqueue = || {
        Ok(other
            .enqueue_json_any_type("probe", "{}", &opts)
            .map(drop)?)
    };
    h.pickup_from(20, &mut enqueue)?;
    let out = h.pickup_from(samples, &mut enqueue)?;
    h.stop()?;
    Ok(out)
}

/// [`drain`] with each host an operating-system process ([`crate::hosts`]) of
/// executable `exe`: the runs are inserted by another program (this one, in one
/// statement, the notifying trigger firing) while claiming is paused; from the resume
/// to the moment the report of the last completion is read.
///
/// # Errors
/// Scheduler and database errors; hosts that failed or did not finish.
pub fn drain_processes(
    bench: &PgBench,
    exe: &Path,
    hosts: usize,
    threads: usize,
    n: usize,
) -> Result<Duration> {
    let url = bench.fresh_migrated_db()?;
    let admin = runloom::Admin::builder_postgres(&url).open()?;
    admin.pause()?;
    let mut hosts = Hosts::start(exe, &url, hosts, threads)?;
    let due = runloom::Clock::now(&runloom::SystemClock).unix_timestamp() * 1_000 - 1_000;
    let mut client = Client::connect(&url, NoTls)?;
    client.execute(
        "INSERT INTO task_runs (job_type, payload, scheduled_at, created_at) \
         SELECT 'noop', '{}'::jsonb, $1, $1 FROM generate_series(1, $2::bigint)",
        &[&due, &(n as i64)],
    )?;
    let t0 = Instant::now();
    admin.resume()?;
    let last = hosts.wait_completed(n)?;
    hosts.stop()?;
    Ok(last.saturating_duration_since(t0))
}

/// [`pickup`] with the idle host (4 threads) an operating-system process of executable
/// `exe` ([`crate::hosts`]): from just before another handle's enqueue to the moment
/// the host's line saying the probe started is read, `samples` times after a few
/// unmeasured rounds.
///
/// # Errors
/// Scheduler errors; a host that failed or a probe that never started.
pub fn pickup_processes(bench: &PgBench, exe: &Path, samples: usize) -> Result<Vec<Duration>> {
    const WARM_UP: usize = 20;
    let url = bench.fresh_migrated_db()?;
    let mut hosts = Hosts::start(exe, &url, 1, 4)?;
    let other = runloom::Admin::builder_postgres(&url).open()?;
    let opts = runloom::EnqueueOptions::new();
    let mut out = Vec::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let target = hosts.completed() + 1;
        let t0 = Instant::now();
        other.enqueue_json_any_type("probe", "{}", &opts)?;
        let started = hosts.wait_probe()?;
        if i >= WARM_UP {
            out.push(started.saturating_duration_since(t0));
        }
        hosts.wait_completed(target)?;
    }
    hosts.stop()?;
    Ok(out)
}

fn drain_on(harnesses: Vec<crate::ours::Harness>, n: usize) -> Result<Duration> {
    let first = &harnesses[0];
    first.scheduler().pause()?;
    let mut left = n;
    while left > 0 {
        let k = left.min(1_000);
        first
            .scheduler()
            .enqueue_many((0..k).map(|_| crate::ours::Noop {}))?;
        left -= k;
    }
    let t0 = Instant::now();
    // A resume notifies every host (the state trigger), as it would across machines.
    first.scheduler().resume()?;
    first.wait_for_completions(n)?;
    let took = t0.elapsed();
    for h in harnesses {
        h.stop()?;
    }
    Ok(took)
}

/// Enqueues through the scheduler on a fresh database with claiming paused: `batches`
/// calls of `per_call` jobs (one transaction each). Returns the time they took.
///
/// # Errors
/// Scheduler errors.
pub fn enqueue(bench: &PgBench, per_call: usize, batches: usize) -> Result<Duration> {
    let url = bench.fresh_db();
    let mut harnesses = crate::ours::Harness::start_postgres(&url, 1, 1)?;
    let h = harnesses.remove(0);
    let took = if per_call == 1 {
        h.enqueue_single(batches)?
    } else {
        h.enqueue_batches(batches, per_call)?
    };
    h.stop()?;
    Ok(took)
}

/// What a maintenance pass on PostgreSQL held at most, next to the raw batch.
#[derive(Debug)]
pub struct MaintenanceHold {
    /// The service's longest transaction in one pass over the fixture.
    pub ours: Duration,
    /// Rows the pass acted on.
    pub rows: u64,
    /// The longest of a few raw deletes of one batch (1 000 rows) on the minimal table.
    pub raw: Duration,
}

/// The longest write transaction of each maintenance pass over `rows` rows of its
/// work, in the order lease rescue, stale workers, retention, token purge: `rows`
/// running runs whose leases expired an hour ago on the server's clock, `rows` active
/// workers silent past the limit they recorded, `rows` finished runs two days old and
/// `rows` expired revoked tokens. Each next to the longest of a few raw statements
/// doing one batch (1 000 rows) of the same on the minimal tables, through an index.
///
/// # Errors
/// Database and scheduler errors.
pub fn maintenance(bench: &PgBench, rows: usize) -> Result<[MaintenanceHold; 4]> {
    use runloom::{Service, maintenance::Counts};
    let url = bench.fresh_db();
    drop(runloom::postgres::PgStore::open(
        runloom::postgres::PgOptions::new(&url),
    )?);
    let mut client = Client::connect(&url, NoTls)?;
    let now = runloom::Clock::now(&runloom::SystemClock).unix_timestamp() * 1_000;
    let old = now - 2 * 86_400_000;
    let n = rows as i64;
    client.batch_execute(&format!(
        "INSERT INTO workers (name, host, pid, threads, version, status, started_at, \
         last_heartbeat, stopped_at, updated_at, heartbeat_ms, lease_ms, stale_after_ms, \
         heartbeat_mono) \
         VALUES ('holder', 'bench', 1, 4, 'bench', 'offline', {old}, {old}, {old}, {old}, \
                 5000, 30000, 60000, {old}); \
         INSERT INTO workers (name, host, pid, threads, version, status, started_at, \
         last_heartbeat, updated_at, heartbeat_ms, lease_ms, stale_after_ms, heartbeat_mono) \
         SELECT 'silent-' || g, 'bench', g, 1, 'bench', 'active', {old}, {old}, {old}, \
                5000, 30000, 60000, {old} FROM generate_series(1, {n}) AS g; \
         INSERT INTO task_runs (job_type, payload, status, attempt, max_attempts, \
         scheduled_at, created_at, started_at, worker_id, lease_token) \
         SELECT 'noop', '{{}}'::jsonb, 'running', 1, 3, {old}, {old}, {old}, \
                (SELECT id FROM workers WHERE name = 'holder'), 1 \
         FROM generate_series(1, {n}); \
         INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at, \
         expires_mono) \
         SELECT id, worker_id, 1, {old}, {old}, {old} FROM task_runs WHERE status = 'running'; \
         INSERT INTO task_runs (job_type, payload, status, attempt, scheduled_at, \
         created_at, started_at, finished_at, duration_ms) \
         SELECT 'noop', '{{}}'::jsonb, 'completed', 1, {old}, {old}, {old}, {old}, 0 \
         FROM generate_series(1, {n}); \
         INSERT INTO jwt_token_blacklist (token_id, expires_at, revoked_at) \
         SELECT 'token-' || g, {old}, {old} FROM generate_series(1, {n}) AS g"
    ))?;
    for table in ["workers", "task_runs", "task_locks", "jwt_token_blacklist"] {
        client.batch_execute(&format!("VACUUM ANALYZE {table}"))?;
    }
    let admin = runloom::Admin::builder_postgres(&url).open()?;
    let pass = |service| -> Result<(Duration, u64)> {
        let report = admin.run_maintenance(Some(service))?;
        let p = report.pass(service).ok_or("the pass did not run")?;
        let acted = match &p.counts {
            Counts::LeaseRescue(c) => c.requeued + c.failed,
            Counts::StaleWorkers(c) => c.offline,
            Counts::RunRetention(c) => c.removed(),
            Counts::TokenPurge(c) => c.purged,
            _ => 0,
        };
        Ok((Duration::from_millis(p.longest_batch_ms), acted))
    };
    let rescue = pass(Service::LeaseRescue)?;
    let stale = pass(Service::StaleWorkers)?;
    let retention = pass(Service::RunRetention)?;
    let tokens = pass(Service::TokenPurge)?;

    // The raw side: the minimal tables, with the indexes each batch needs.
    let raw_url = bench.fresh_db();
    let mut c = Client::connect(&raw_url, NoTls)?;
    c.batch_execute(SCHEMA)?;
    c.batch_execute(&format!(
        "CREATE TABLE tokens (id bigserial PRIMARY KEY, token_id text NOT NULL UNIQUE, \
         expires_at bigint NOT NULL); \
         CREATE TABLE workers (id bigserial PRIMARY KEY, status smallint NOT NULL, \
         heartbeat bigint NOT NULL); \
         CREATE INDEX tokens_expiry ON tokens (expires_at); \
         CREATE INDEX runs_finished ON runs (finished_at) WHERE status = 2; \
         CREATE INDEX leases_expiry ON leases (expires_at); \
         CREATE INDEX workers_heartbeat ON workers (heartbeat) WHERE status = 1; \
         INSERT INTO runs (job_type, payload, status, scheduled_at, finished_at) \
         SELECT 'noop', '{{}}', 2, {old}, {old} FROM generate_series(1, {n}); \
         INSERT INTO runs (job_type, payload, status, scheduled_at, worker, token) \
         SELECT 'noop', '{{}}', 1, {old}, 1, 1 FROM generate_series(1, {n}); \
         INSERT INTO leases (run_id, worker, token, expires_at) \
         SELECT id, 1, 1, {old} FROM runs WHERE status = 1; \
         INSERT INTO tokens (token_id, expires_at) \
         SELECT 'token-' || g, {old} FROM generate_series(1, {n}) AS g; \
         INSERT INTO workers (status, heartbeat) SELECT 1, {old} FROM generate_series(1, {n})"
    ))?;
    for table in ["runs", "leases", "tokens", "workers"] {
        c.batch_execute(&format!("VACUUM ANALYZE {table}"))?;
    }
    let mut longest = |sql: &str| -> Result<Duration> {
        let mut worst = Duration::ZERO;
        for _ in 0..5 {
            let t0 = Instant::now();
            let mut tx = c.transaction()?;
            tx.batch_execute(&sql.replace("$1", &now.to_string()))?;
            tx.commit()?;
            worst = worst.max(t0.elapsed());
        }
        Ok(worst)
    };
    let raw_rescue = longest(
        "WITH l AS (DELETE FROM leases WHERE run_id IN (SELECT run_id FROM leases \
         WHERE expires_at < $1 ORDER BY expires_at LIMIT 1000) RETURNING run_id) \
         UPDATE runs SET status = 0, worker = NULL WHERE id IN (SELECT run_id FROM l)",
    )?;
    let raw_stale = longest(
        "UPDATE workers SET status = 0 WHERE id IN (SELECT id FROM workers \
         WHERE status = 1 AND heartbeat < $1 ORDER BY heartbeat LIMIT 1000)",
    )?;
    let raw_runs = longest(
        "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status = 2 \
         AND finished_at < $1 ORDER BY finished_at LIMIT 1000)",
    )?;
    let raw_tokens = longest(
        "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE expires_at < $1 \
         ORDER BY expires_at LIMIT 1000)",
    )?;
    let hold = |(ours, rows): (Duration, u64), raw| MaintenanceHold { ours, rows, raw };
    Ok([
        hold(rescue, raw_rescue),
        hold(stale, raw_stale),
        hold(retention, raw_runs),
        hold(tokens, raw_tokens),
    ])
}
