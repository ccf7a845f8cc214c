-- A task's payload or run options changed: its occurrences that have not started yet
-- take the new ones (one statement: a run claimed meanwhile is re-tested once its claim
-- commits, and left alone).
--   $1 task_id (bigint), $2 payload (JSON text), $3 priority, $4 max_attempts,
--   $5 timeout_ms (NULL: none), $6 backoff_ms, $7 queue
UPDATE task_runs
SET payload = $2::text::jsonb,
    priority = $3,
    max_attempts = $4,
    timeout_ms = $5,
    backoff_ms = $6,
    queue = $7
WHERE task_id = $1
  AND status IN ('pending', 'blocked')
  AND attempt = 0;
