-- 0005 liveness by each worker's own promise, on the host's monotonic clock.
--
-- A worker records what it promises: how often it heartbeats (heartbeat_ms), how long its
-- leases last (lease_ms), and after how long a silence it may be presumed dead
-- (stale_after_ms). It also records the clock it keeps those promises on: clock_domain
-- names the boot of the host, and heartbeat_mono / task_locks.expires_mono are
-- milliseconds of that boot's monotonic clock, which every process on the host reads
-- alike and which no wall-clock step moves. An observer of the same domain judges a
-- worker and its leases by those numbers and its own reading of that clock, once per
-- decision: another process's settings, or a wall clock that jumps, never make a live
-- worker look dead. Rows of another domain (another boot of the host) and rows written
-- before this migration (no domain) are judged by their wall-clock times, as before.
ALTER TABLE workers ADD COLUMN heartbeat_ms INTEGER CHECK (heartbeat_ms > 0);
ALTER TABLE workers ADD COLUMN lease_ms INTEGER CHECK (lease_ms > 0);
ALTER TABLE workers ADD COLUMN stale_after_ms INTEGER CHECK (stale_after_ms > 0);
ALTER TABLE workers ADD COLUMN clock_domain TEXT
    CHECK (clock_domain IS NULL OR length(clock_domain) BETWEEN 1 AND 100);
ALTER TABLE workers ADD COLUMN heartbeat_mono INTEGER;

ALTER TABLE task_locks ADD COLUMN expires_mono INTEGER;

-- The rescue seeks expired leases on the monotonic clock. Leases judged by wall-clock
-- expiry are reached through their (few) workers and task_locks_worker instead, so the
-- wall-clock index goes: a lease row still pays for three indexes, not four.
DROP INDEX task_locks_expiry;
CREATE INDEX task_locks_expiry_mono ON task_locks (expires_mono);

-- Stale workers by each worker's own limit (the shared threshold of 0004 remains the
-- fallback for rows written before this migration).
DROP VIEW system_health;
DROP VIEW stale_workers;

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
      - COALESCE(w.stale_after_ms,
                 (SELECT CAST(value AS INTEGER) FROM system_state
                  WHERE key = 'maintenance.stale_worker_after_ms'),
                 60000);

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
