-- Claim up to :limit due runs of one priority group of one :queue, oldest first (a range
-- of task_runs_pending_queue), among the job types
-- the claimer can run (:job_types, a JSON array; NULL for any): each attempt counts from
-- here, and each claim takes a new fencing token (lease_token + 1). The leases
-- themselves are written to task_locks in the same transaction (locks_insert.sql).
UPDATE task_runs
SET status = 'running',
    attempt = attempt + 1,
    lease_token = lease_token + 1,
    worker_id = :worker_id,
    started_at = :now
WHERE id IN (
    SELECT id
    FROM task_runs
    WHERE status = 'pending'
      AND queue = :queue
      AND priority = :priority
      AND scheduled_at <= :now
      AND (:job_types IS NULL OR job_type IN (SELECT value FROM json_each(:job_types)))
    ORDER BY scheduled_at, id
    LIMIT :limit
)
RETURNING id, task_id, job_type, payload, attempt, max_attempts, timeout_ms, backoff_ms,
          priority, scheduled_at, unique_key, lease_token, snoozes, queue;
