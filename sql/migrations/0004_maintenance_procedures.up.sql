-- 0004 maintenance: the archive of finished runs, health and performance views, and the
-- initial system_state rows. The maintenance statements themselves are in sql/maintenance/.

-- Finished runs moved out of task_runs by retention (sql/maintenance/runs_archive_*.sql).
-- History only: no foreign keys, so deleting a task or a worker never touches it.
CREATE TABLE task_runs_archive (
    id               INTEGER PRIMARY KEY,
    task_id          INTEGER,
    job_type         TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    status           TEXT    NOT NULL
                             CHECK (status = 'completed' OR status = 'failed'
                                    OR status = 'cancelled'),
    priority         INTEGER NOT NULL,
    attempt          INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    timeout_ms       INTEGER,
    backoff_ms       INTEGER NOT NULL,
    unique_key       TEXT,
    scheduled_at     INTEGER NOT NULL,
    worker_id        INTEGER,
    cancel_reason    TEXT,
    started_at       INTEGER,
    finished_at      INTEGER NOT NULL,
    duration_ms      INTEGER,
    result           TEXT,
    last_error       TEXT,
    errors           TEXT,
    created_at       INTEGER NOT NULL,
    archived_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX task_runs_archive_finished ON task_runs_archive (finished_at);

-- Runs by status. Each count is answered from an index (partial indexes of 0002, the
-- lease table for running runs), so the view stays cheap on millions of rows.
CREATE VIEW runs_by_status AS
SELECT 'blocked' AS status,
       (SELECT count(*) FROM task_runs WHERE status = 'blocked') AS runs
UNION ALL
SELECT 'pending', (SELECT count(*) FROM task_runs WHERE status = 'pending')
UNION ALL
SELECT 'running',
       -- CROSS JOIN keeps the (small) lease table as the outer loop.
       (SELECT count(*) FROM task_locks AS l
        CROSS JOIN task_runs AS r ON r.id = l.run_id
        WHERE r.status = 'running')
UNION ALL
SELECT 'completed',
       (SELECT count(*) FROM task_runs WHERE status = 'completed' AND finished_at IS NOT NULL)
UNION ALL
SELECT 'failed',
       (SELECT count(*) FROM task_runs WHERE status = 'failed' AND finished_at IS NOT NULL)
UNION ALL
SELECT 'cancelled',
       (SELECT count(*) FROM task_runs WHERE status = 'cancelled' AND finished_at IS NOT NULL);

-- Leases past their expiry that maintenance has not rescued yet.
CREATE VIEW expired_leases AS
SELECT l.run_id,
       r.job_type,
       r.status,
       r.attempt,
       r.max_attempts,
       l.worker_id,
       w.name AS worker_name,
       l.token,
       strftime('%Y-%m-%dT%H:%M:%fZ', l.expires_at / 1000.0, 'unixepoch') AS expired_at,
       round((CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - l.expires_at)
             / 1000.0, 3) AS expired_for_s
FROM task_locks AS l
JOIN task_runs AS r ON r.id = l.run_id
LEFT JOIN workers AS w ON w.id = l.worker_id
WHERE l.expires_at <= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER);

-- Workers not marked offline whose heartbeat is older than the threshold the maintenance
-- thread uses (system_state 'maintenance.stale_worker_after_ms').
CREATE VIEW stale_workers AS
SELECT w.id,
       w.name,
       w.host,
       w.pid,
       w.status,
       strftime('%Y-%m-%dT%H:%M:%fZ', w.last_heartbeat / 1000.0, 'unixepoch') AS last_heartbeat,
       round((CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - w.last_heartbeat)
             / 1000.0, 3) AS heartbeat_age_s,
       (SELECT count(*) FROM task_locks AS l WHERE l.worker_id = w.id) AS leases_held
FROM workers AS w
WHERE w.status <> 'offline'
  AND w.last_heartbeat < CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
      - COALESCE((SELECT CAST(value AS INTEGER) FROM system_state
                  WHERE key = 'maintenance.stale_worker_after_ms'), 60000);

-- Finished runs per minute over the last hour.
CREATE VIEW throughput_last_hour AS
SELECT strftime('%Y-%m-%dT%H:%MZ', r.finished_at / 1000.0, 'unixepoch') AS minute,
       sum(r.status = 'completed') AS completed,
       sum(r.status = 'failed') AS failed,
       sum(r.status = 'cancelled') AS cancelled,
       round(avg(r.duration_ms), 1) AS avg_duration_ms
FROM task_runs AS r
WHERE r.status IN ('completed', 'failed', 'cancelled')
  AND r.finished_at >= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - 3600000
GROUP BY minute
ORDER BY minute;

-- One row of performance figures over the last hour: throughput, durations, and the wait
-- between a run's scheduled time and its start (pickup latency under load).
CREATE VIEW performance_metrics AS
SELECT count(*) AS finished_last_hour,
       sum(r.status = 'completed') AS completed_last_hour,
       sum(r.status = 'failed') AS failed_last_hour,
       round(count(*) / 3600.0, 3) AS finished_per_s,
       round(avg(r.duration_ms), 1) AS avg_duration_ms,
       max(r.duration_ms) AS max_duration_ms,
       round(avg(r.started_at - r.scheduled_at), 1) AS avg_start_delay_ms,
       max(r.started_at - r.scheduled_at) AS max_start_delay_ms
FROM task_runs AS r
WHERE r.status IN ('completed', 'failed', 'cancelled')
  AND r.finished_at >= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - 3600000;

-- One row that says whether the system is healthy.
CREATE VIEW system_health AS
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS checked_at,
       COALESCE((SELECT value FROM system_state WHERE key = 'paused'), '0') = '1' AS paused,
       (SELECT count(*) FROM workers WHERE status <> 'offline') AS live_workers,
       (SELECT count(*) FROM stale_workers) AS stale_workers,
       (SELECT runs FROM runs_by_status WHERE status = 'pending') AS pending,
       (SELECT runs FROM runs_by_status WHERE status = 'running') AS running,
       (SELECT runs FROM runs_by_status WHERE status = 'blocked') AS blocked,
       (SELECT count(*) FROM expired_leases) AS expired_leases,
       (SELECT round((CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
                      - min(scheduled_at)) / 1000.0, 3)
        FROM task_runs
        WHERE status = 'pending'
          AND scheduled_at <= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))
           AS oldest_due_wait_s,
       (SELECT completed_last_hour FROM performance_metrics) AS completed_last_hour,
       (SELECT failed_last_hour FROM performance_metrics) AS failed_last_hour;

-- Initial rows: the global pause flag (read by every process before it claims), the
-- stale-worker threshold the views use until a scheduler writes its own configuration,
-- and a random id of this database (it makes job idempotency keys unique across
-- databases whose run ids start again from 1).
INSERT OR IGNORE INTO system_state (key, value, updated_at)
VALUES ('paused', '0', CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)),
       ('maintenance.stale_worker_after_ms', '60000',
        CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)),
       ('database_id', lower(hex(randomblob(16))),
        CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
