//! The baseline: the minimal SQL of the same work on a minimal schema, through rusqlite
//! with no runtime around it. Every figure of the scheduler is printed next to the
//! matching figure from here, measured in the same run on the same machine and settings.
//!
//! The schema keeps only what the work needs: a runs table with its status, due time,
//! attempt and fencing token, one partial index to find pending runs in due order, and
//! a leases table keyed by run. Statuses are small integers and there are no CHECK
//! constraints, foreign keys, JSON validation, history columns or secondary indexes:
//! this is what SQLite itself can do, not a competitor's design.

use std::{
    path::Path,
    thread,
    time::{Duration, Instant},
};

use crossbeam_channel::bounded;
use runloom::Synchronous;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::{BenchDb, NOW_MS};

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS runs (
        id           INTEGER PRIMARY KEY,
        job_type     TEXT    NOT NULL,
        payload      TEXT    NOT NULL,
        status       INTEGER NOT NULL DEFAULT 0,
        scheduled_at INTEGER NOT NULL,
        attempt      INTEGER NOT NULL DEFAULT 0,
        token        INTEGER NOT NULL DEFAULT 0,
        worker       INTEGER,
        finished_at  INTEGER
    );
    CREATE INDEX IF NOT EXISTS runs_pending ON runs (scheduled_at) WHERE status = 0;
    CREATE TABLE IF NOT EXISTS leases (
        run_id     INTEGER PRIMARY KEY,
        worker     INTEGER NOT NULL,
        token      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS schedules (
        id      INTEGER PRIMARY KEY,
        next_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_at);
    CREATE TABLE IF NOT EXISTS tokens (
        id         INTEGER PRIMARY KEY,
        token_id   TEXT    NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at);
    CREATE TABLE IF NOT EXISTS workers (
        id             INTEGER PRIMARY KEY,
        online         INTEGER NOT NULL,
        last_heartbeat INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS workers_heartbeat ON workers (last_heartbeat) WHERE online = 1;
";

/// The statements of the work, for one schema.
#[derive(Debug, Clone, Copy)]
struct Sql {
    insert: &'static str,
    claim: &'static str,
    lease: &'static str,
    complete: &'static str,
    unlease: &'static str,
}

const MINIMAL: Sql = Sql {
    insert: "INSERT INTO runs (job_type, payload, scheduled_at) VALUES ('noop', '{}', ?1)",
    claim: "UPDATE runs SET status = 1, attempt = attempt + 1, token = token + 1, worker = ?1 \
            WHERE id IN (SELECT id FROM runs WHERE status = 0 AND scheduled_at <= ?2 \
                         ORDER BY scheduled_at LIMIT ?3) \
            RETURNING id, token",
    lease: "INSERT INTO leases (run_id, worker, token, expires_at) VALUES (?1, ?2, ?3, ?4)",
    complete: "UPDATE runs SET status = 2, finished_at = ?2 \
               WHERE id = ?1 AND status = 1 AND token = ?3",
    unlease: "DELETE FROM leases WHERE run_id = ?1 AND token = ?2",
};

/// The same statements on the scheduler's own schema (its constraints, indexes and
/// foreign keys), to tell what the schema costs from what the runtime adds.
const SCHEDULER_SCHEMA: Sql = Sql {
    insert: "INSERT INTO task_runs (job_type, payload, status, priority, max_attempts, \
             backoff_ms, scheduled_at, created_at) \
             VALUES ('noop', '{}', 'pending', 0, 3, 1000, ?1, ?1)",
    claim: "UPDATE task_runs SET status = 'running', attempt = attempt + 1, \
            lease_token = lease_token + 1, worker_id = ?1, started_at = ?2 \
            WHERE id IN (SELECT id FROM task_runs WHERE status = 'pending' AND priority = 0 \
                         AND scheduled_at <= ?2 ORDER BY scheduled_at, id LIMIT ?3) \
            RETURNING id, lease_token",
    lease: "INSERT INTO task_locks (run_id, worker_id, token, acquired_at, expires_at) \
            VALUES (?1, ?2, ?3, ?4 - 30000, ?4)",
    complete: "UPDATE task_runs SET status = 'completed', result = 'null', finished_at = ?2 \
               WHERE id = ?1 AND status = 'running' AND lease_token = ?3",
    unlease: "DELETE FROM task_locks WHERE run_id = ?1 AND token = ?2",
};

/// A raw connection on a minimal schema (or on the scheduler's, see
/// [`Raw::open_scheduler_schema`]).
#[derive(Debug)]
pub struct Raw {
    conn: Connection,
    sql: Sql,
}

fn immediate(conn: &Connection) -> rusqlite::Result<Transaction<'_>> {
    Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
}

fn sync_name(sync: Synchronous) -> &'static str {
    match sync {
        Synchronous::Full => "FULL",
        _ => "NORMAL",
    }
}

impl Raw {
    /// Opens (and creates) the minimal schema in `db`'s file.
    pub fn open(db: &BenchDb, sync: Synchronous) -> rusqlite::Result<Raw> {
        Self::open_path(&db.raw_path(), sync)
    }

    /// Opens (and creates) the minimal schema at `path`.
    pub fn open_path(path: &Path, sync: Synchronous) -> rusqlite::Result<Raw> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "synchronous", sync_name(sync))?;
        Ok(Raw { conn, sql: MINIMAL })
    }

    /// The same statements on the scheduler's own schema, in `db`'s raw file (created
    /// and migrated by the storage layer, with one worker row for the leases to name),
    /// with foreign keys on as the scheduler has them.
    ///
    /// # Errors
    /// Storage or SQLite errors.
    pub fn open_scheduler_schema(db: &BenchDb, sync: Synchronous) -> crate::Result<Raw> {
        let path = db.raw_path();
        {
            let store = runloom::store::Store::open(runloom::store::StoreOptions::file(&path))?;
            store.write(|tx| {
                tx.register_worker(
                    &runloom::store::NewWorker::new("raw", "localhost", 1),
                    crate::NOW,
                    runloom::clock::HostInstant::now(),
                )
            })?;
        }
        let conn = Connection::open(&path)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", sync_name(sync))?;
        Ok(Raw {
            conn,
            sql: SCHEDULER_SCHEMA,
        })
    }

    /// The connection, for fixtures.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Inserts one run in its own transaction.
    pub fn insert_one(&self) -> rusqlite::Result<()> {
        let tx = immediate(&self.conn)?;
        tx.prepare_cached(self.sql.insert)?.execute([NOW_MS])?;
        tx.commit()
    }

    /// Inserts `n` runs in one transaction.
    pub fn insert_batch(&self, n: usize) -> rusqlite::Result<()> {
        let tx = immediate(&self.conn)?;
        {
            let mut stmt = tx.prepare_cached(self.sql.insert)?;
            for _ in 0..n {
                stmt.execute([NOW_MS])?;
            }
        }
        tx.commit()
    }

    /// Inserts `n` pending runs in transactions of 10 000 (fixtures).
    pub fn fill(&self, n: usize) -> rusqlite::Result<()> {
        let mut left = n;
        while left > 0 {
            let now = left.min(10_000);
            self.insert_batch(now)?;
            left -= now;
        }
        Ok(())
    }

    /// Claims up to `n` due runs under leases in one transaction, then completes them
    /// and drops their leases in a second one. Returns how many it processed.
    pub fn claim_complete(&self, n: usize) -> rusqlite::Result<usize> {
        let tx = immediate(&self.conn)?;
        let claimed: Vec<(i64, i64)> = {
            let mut claim = tx.prepare_cached(self.sql.claim)?;
            let rows =
                claim.query_map(params![1, NOW_MS, n as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        {
            let mut lease = tx.prepare_cached(self.sql.lease)?;
            for (id, token) in &claimed {
                lease.execute(params![id, 1, token, NOW_MS + 30_000])?;
            }
        }
        tx.commit()?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let tx = immediate(&self.conn)?;
        {
            let mut complete = tx.prepare_cached(self.sql.complete)?;
            let mut unlease = tx.prepare_cached(self.sql.unlease)?;
            for (id, token) in &claimed {
                complete.execute(params![id, NOW_MS, token])?;
                unlease.execute(params![id, token])?;
            }
        }
        tx.commit()?;
        Ok(claimed.len())
    }

    /// Claims and completes every pending run, `per_tx` at a time; returns the count.
    pub fn drain(&self, per_tx: usize) -> rusqlite::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.claim_complete(per_tx)?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Fills `n` schedules all due now (fixtures of [`Raw::materialize`]).
    pub fn fill_schedules(&self, n: usize) -> rusqlite::Result<()> {
        let tx = immediate(&self.conn)?;
        {
            let mut stmt = tx.prepare_cached("INSERT INTO schedules (next_at) VALUES (?1)")?;
            for _ in 0..n {
                stmt.execute([NOW_MS])?;
            }
        }
        tx.commit()
    }

    /// Creates the due occurrence of every due schedule and moves each schedule to its
    /// next time, `per_tx` schedules per transaction; returns the runs created.
    pub fn materialize(&self, per_tx: usize) -> rusqlite::Result<usize> {
        let mut total = 0;
        loop {
            let tx = immediate(&self.conn)?;
            let due: Vec<(i64, i64)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, next_at FROM schedules WHERE next_at <= ?1 ORDER BY next_at LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![NOW_MS, per_tx as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            {
                let mut insert = tx.prepare_cached(MINIMAL.insert)?;
                let mut advance =
                    tx.prepare_cached("UPDATE schedules SET next_at = ?2 WHERE id = ?1")?;
                for (id, at) in &due {
                    insert.execute([at])?;
                    advance.execute(params![id, at + 3_600_000])?;
                }
            }
            tx.commit()?;
            if due.is_empty() {
                return Ok(total);
            }
            total += due.len();
        }
    }

    /// Fills the tables each maintenance statement works on with `n` rows to act on:
    /// runs finished long ago, expired leases on running runs, expired tokens and
    /// workers that stopped beating. It first adds the two indexes those statements
    /// need (finished runs by age, leases by expiry), which the other figures' inserts
    /// do not pay for.
    pub fn fill_maintenance(&self, n: usize) -> rusqlite::Result<()> {
        let old = NOW_MS - 30 * 24 * 3_600_000;
        self.conn.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at) WHERE status = 2;
             CREATE INDEX IF NOT EXISTS leases_expiry ON leases (expires_at);
             BEGIN;
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n})
             INSERT INTO runs (job_type, payload, status, scheduled_at, attempt, token, finished_at)
             SELECT 'noop', '{{}}', 2, {old}, 1, 1, {old} + x FROM c;
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n})
             INSERT INTO runs (job_type, payload, status, scheduled_at, attempt, token, worker)
             SELECT 'noop', '{{}}', 1, {old}, 1, 1, 1 FROM c;
             INSERT INTO leases (run_id, worker, token, expires_at)
             SELECT id, 1, 1, {old} + id FROM runs WHERE status = 1;
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n})
             INSERT INTO tokens (token_id, expires_at) SELECT 'token-' || x, {old} + x FROM c;
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n})
             INSERT INTO workers (online, last_heartbeat) SELECT 1, {old} + x FROM c;
             COMMIT;"
        ))
    }

    /// One maintenance pass in batches of `batch` rows, each batch its own transaction:
    /// returns (rows acted on, longest batch).
    pub fn maintenance(
        &self,
        job: RawMaintenance,
        batch: usize,
    ) -> rusqlite::Result<(usize, Duration)> {
        let statements: &[&str] = match job {
            RawMaintenance::RescueLeases => &[
                "UPDATE runs SET status = 0 WHERE id IN (SELECT run_id FROM leases \
                 WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2) AND status = 1",
                "DELETE FROM leases WHERE run_id IN (SELECT run_id FROM leases \
                 WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
            ],
            RawMaintenance::DeleteFinished => &[
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status = 2 \
                 AND finished_at < ?1 ORDER BY finished_at LIMIT ?2)",
            ],
            RawMaintenance::PurgeTokens => &[
                "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE expires_at < ?1 \
                 ORDER BY expires_at LIMIT ?2)",
            ],
            RawMaintenance::StaleWorkers => &[
                "UPDATE workers SET online = 0 WHERE id IN (SELECT id FROM workers \
                 WHERE online = 1 AND last_heartbeat < ?1 ORDER BY last_heartbeat LIMIT ?2)",
            ],
        };
        let mut total = 0;
        let mut longest = Duration::ZERO;
        loop {
            let started = Instant::now();
            let tx = immediate(&self.conn)?;
            let mut n = 0;
            for (i, sql) in statements.iter().enumerate() {
                let changed = tx
                    .prepare_cached(sql)?
                    .execute(params![NOW_MS, batch as i64])?;
                if i == 0 {
                    n = changed;
                }
            }
            tx.commit()?;
            longest = longest.max(started.elapsed());
            if n == 0 {
                return Ok((total, longest));
            }
            total += n;
        }
    }
}

/// The raw counterpart of each maintenance service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawMaintenance {
    /// Expired leases: runs back to pending, leases dropped.
    RescueLeases,
    /// Finished runs past retention: deleted.
    DeleteFinished,
    /// Expired blacklisted tokens: deleted.
    PurgeTokens,
    /// Workers that stopped beating: marked offline.
    StaleWorkers,
}

/// Pickup latency of the raw baseline: one thread inserts a run and signals a second
/// thread, which claims it under a lease; the sample is from before the insert to the
/// claim's commit. The claimer then completes the run before the next sample, so every
/// sample starts from an idle consumer.
pub fn pickup(db: &BenchDb, sync: Synchronous, samples: usize) -> rusqlite::Result<Vec<Duration>> {
    let path = db.raw_path();
    let producer = Raw::open_path(&path, sync)?;
    let consumer = Raw::open_path(&path, sync)?;
    let (go_tx, go_rx) = bounded::<Instant>(1);
    let (done_tx, done_rx) = bounded::<rusqlite::Result<Duration>>(1);
    let worker = thread::spawn(move || {
        while let Ok(t0) = go_rx.recv() {
            let claimed = (|| {
                let tx = immediate(&consumer.conn)?;
                let (id, token): (i64, i64) = tx
                    .prepare_cached(MINIMAL.claim)?
                    .query_row(params![1, NOW_MS, 1], |r| Ok((r.get(0)?, r.get(1)?)))?;
                tx.prepare_cached(MINIMAL.lease)?.execute(params![
                    id,
                    1,
                    token,
                    NOW_MS + 30_000
                ])?;
                tx.commit()?;
                let picked = t0.elapsed();
                let tx = immediate(&consumer.conn)?;
                tx.prepare_cached(MINIMAL.complete)?
                    .execute(params![id, NOW_MS, token])?;
                tx.prepare_cached(MINIMAL.unlease)?
                    .execute(params![id, token])?;
                tx.commit()?;
                Ok(picked)
            })();
            if done_tx.send(claimed).is_err() {
                return;
            }
        }
    });
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t0 = Instant::now();
        producer.insert_one()?;
        if go_tx.send(t0).is_err() {
            break;
        }
        match done_rx.recv() {
            Ok(sample) => out.push(sample?),
            Err(_) => break,
        }
    }
    drop(go_tx);
    let _ = worker.join();
    Ok(out)
}
