-- Remove up to $3 runs in status $1 that finished before $2, oldest first, copying them
-- into the archive at $5 when $4 = 1; returns one row per run removed. One statement,
-- so the copy and the delete name the same rows even while another host's retention
-- runs (SKIP LOCKED: rows it took are its own). Their dependency edges and any stray
-- lease go with them (ON DELETE CASCADE). Unlike SQLite's, nothing keeps the newest
-- run: identity values are never handed out twice.
WITH doomed AS (
    DELETE FROM task_runs
    WHERE id IN (
        SELECT id FROM task_runs
        WHERE status = $1
          AND finished_at IS NOT NULL
          AND finished_at < $2
        ORDER BY status, finished_at, id
        LIMIT $3
        FOR UPDATE SKIP LOCKED
    )
    RETURNING *
),
archived AS (
    INSERT INTO task_runs_archive (
        id, task_id, job_type, payload, status, priority, attempt, max_attempts,
        timeout_ms, backoff_ms, unique_key, scheduled_at, worker_id, cancel_reason,
        started_at, finished_at, duration_ms, result, last_error, errors, created_at,
        snoozes, queue, archived_at
    )
    SELECT id, task_id, job_type, payload, status, priority, attempt, max_attempts,
           timeout_ms, backoff_ms, unique_key, scheduled_at, worker_id, cancel_reason,
           started_at, finished_at, duration_ms, result, last_error, errors, created_at, snoozes, queue, $5
    FROM doomed
    WHERE $4::smallint = 1
)
SELECT id FROM doomed;
