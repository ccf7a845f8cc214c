-- Copy finished runs of one :status that finished before :before into the archive, oldest
-- first, at most :batch. Run runs_delete_finished.sql next in the same transaction with
-- the same parameters to remove exactly these rows from task_runs.
INSERT INTO task_runs_archive (
    id, task_id, job_type, payload, status, priority, attempt, max_attempts, timeout_ms,
    backoff_ms, unique_key, scheduled_at, worker_id, cancel_reason, started_at, finished_at,
    duration_ms, result, last_error, errors, created_at, snoozes, queue, archived_at
)
SELECT id, task_id, job_type, payload, status, priority, attempt, max_attempts, timeout_ms,
       backoff_ms, unique_key, scheduled_at, worker_id, cancel_reason, started_at,
       finished_at, duration_ms, result, last_error, errors, created_at, snoozes, queue, :now
FROM task_runs
WHERE id IN (
    SELECT id FROM task_runs
    WHERE status = :status
      AND finished_at IS NOT NULL
      AND finished_at < :before
      -- The newest run is kept, so its id is never handed out again (0001, task_runs).
      AND id < (SELECT max(id) FROM task_runs)
    ORDER BY finished_at, id
    LIMIT :batch
);
