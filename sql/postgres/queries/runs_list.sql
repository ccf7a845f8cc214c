-- Newest first, each filter optional (NULL = any): $1 status, $2 job type, $3 task id,
-- $4 created at or after, $5 created before, $6 id below (keyset pagination), $7 limit,
-- $8 queue.
-- The parameters' types are stated: PostgreSQL cannot infer them from "IS NULL".
SELECT id, task_id, job_type, payload::text AS payload, status, priority, attempt,
       max_attempts, timeout_ms, backoff_ms, unique_key, scheduled_at, blocked_on, worker_id,
       lease_token, cancel_requested, cancel_reason, started_at, finished_at, duration_ms,
       result::text AS result, last_error, errors::text AS errors, created_at, snoozes, queue
FROM task_runs
WHERE ($1::text IS NULL OR status = $1::text)
  AND ($2::text IS NULL OR job_type = $2::text)
  AND ($3::bigint IS NULL OR task_id = $3::bigint)
  AND ($8::text IS NULL OR queue = $8::text)
  AND ($4::bigint IS NULL OR created_at >= $4::bigint)
  AND ($5::bigint IS NULL OR created_at < $5::bigint)
  AND ($6::bigint IS NULL OR id < $6::bigint)
ORDER BY id DESC
LIMIT $7;
