-- 0005 down: back to the shared stale-worker threshold and the wall-clock lease index;
-- the promises workers recorded, and the monotonic lease expiries, are dropped.
DROP VIEW system_health;
DROP VIEW stale_workers;
DROP INDEX task_locks_expiry_mono;
CREATE INDEX task_locks_expiry ON task_locks (expires_at);
ALTER TABLE task_locks DROP COLUMN expires_mono;
ALTER TABLE workers DROP COLUMN heartbeat_mono;
ALTER TABLE workers DROP COLUMN clock_domain;
ALTER TABLE workers DROP COLUMN stale_after_ms;
ALTER TABLE workers DROP COLUMN lease_ms;
ALTER TABLE workers DROP COLUMN heartbeat_ms;

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
