-- 0003 updated_at triggers and the views people read in the sqlite3 shell.
--
-- The runtime always sets updated_at from its own clock (injectable in tests); the
-- triggers only fill it in when a statement changed a row without touching updated_at,
-- e.g. an operator's hand edit in the shell. Views show times as ISO-8601 UTC text.

CREATE TRIGGER tasks_touch_updated_at
AFTER UPDATE ON tasks
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE tasks
    SET updated_at = CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
    WHERE id = NEW.id;
END;

CREATE TRIGGER workers_touch_updated_at
AFTER UPDATE ON workers
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE workers
    SET updated_at = CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
    WHERE id = NEW.id;
END;

CREATE TRIGGER system_state_touch_updated_at
AFTER UPDATE ON system_state
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE system_state
    SET updated_at = CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)
    WHERE key = NEW.key;
END;

-- The newest run keeps the id sequence going (see task_runs in 0001): deleting it would
-- let SQLite hand its id to the next run. Retention never selects it; a hand-made
-- delete is refused until a newer run exists.
CREATE TRIGGER task_runs_keep_newest
BEFORE DELETE ON task_runs
FOR EACH ROW WHEN OLD.id = (SELECT max(id) FROM task_runs)
BEGIN
    SELECT RAISE(ABORT, 'the newest run keeps run ids from being reused: it can be deleted once a newer run exists');
END;

-- Live, enabled task definitions with a readable schedule.
CREATE VIEW active_tasks AS
SELECT t.id,
       t.name,
       t.job_type,
       t.schedule_kind,
       CASE t.schedule_kind
           WHEN 'cron' THEN t.cron_expr || ' (' || COALESCE(t.timezone, 'UTC') || ')'
           WHEN 'interval' THEN 'every ' || (t.interval_ms / 1000.0) || ' s'
       END AS schedule,
       t.misfire_policy,
       t.priority,
       t.max_attempts,
       t.timeout_ms,
       strftime('%Y-%m-%dT%H:%M:%fZ', t.next_run_at / 1000.0, 'unixepoch') AS next_run_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', t.last_run_at / 1000.0, 'unixepoch') AS last_run_at,
       t.version,
       strftime('%Y-%m-%dT%H:%M:%fZ', t.created_at / 1000.0, 'unixepoch') AS created_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', t.updated_at / 1000.0, 'unixepoch') AS updated_at
FROM tasks AS t
WHERE t.is_deleted = 0 AND t.enabled = 1;

-- Runs waiting for their time or for a free worker, in claim order.
CREATE VIEW pending_task_runs AS
SELECT r.id,
       r.job_type,
       t.name AS task_name,
       r.priority,
       r.attempt,
       r.max_attempts,
       strftime('%Y-%m-%dT%H:%M:%fZ', r.scheduled_at / 1000.0, 'unixepoch') AS scheduled_at,
       r.scheduled_at <= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS is_due,
       round((CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - r.scheduled_at)
             / 1000.0, 3) AS waiting_s,
       r.last_error
FROM task_runs AS r
LEFT JOIN tasks AS t ON t.id = r.task_id
WHERE r.status = 'pending'
ORDER BY r.priority DESC, r.scheduled_at, r.id;

-- Scheduler instances that have not stopped, with heartbeat age and leases held.
CREATE VIEW active_workers AS
SELECT w.id,
       w.name,
       w.host,
       w.pid,
       w.threads,
       w.status,
       w.version,
       strftime('%Y-%m-%dT%H:%M:%fZ', w.started_at / 1000.0, 'unixepoch') AS started_at,
       strftime('%Y-%m-%dT%H:%M:%fZ', w.last_heartbeat / 1000.0, 'unixepoch') AS last_heartbeat,
       round((CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) - w.last_heartbeat)
             / 1000.0, 3) AS heartbeat_age_s,
       (SELECT count(*) FROM task_locks AS l WHERE l.worker_id = w.id) AS leases_held
FROM workers AS w
WHERE w.status <> 'offline';

-- Per job type and task: runs by outcome, success rate (completed among completed and
-- failed), attempts and durations.
CREATE VIEW task_execution_stats AS
SELECT r.job_type,
       r.task_id,
       t.name AS task_name,
       count(*) AS runs,
       sum(r.status = 'completed') AS completed,
       sum(r.status = 'failed') AS failed,
       sum(r.status = 'cancelled') AS cancelled,
       sum(r.status IN ('blocked', 'pending', 'running')) AS unfinished,
       round(100.0 * sum(r.status = 'completed')
             / nullif(sum(r.status IN ('completed', 'failed')), 0), 2) AS success_rate_pct,
       sum(r.attempt) AS attempts,
       round(avg(r.duration_ms), 1) AS avg_duration_ms,
       max(r.duration_ms) AS max_duration_ms
FROM task_runs AS r
LEFT JOIN tasks AS t ON t.id = r.task_id
GROUP BY r.job_type, r.task_id;
