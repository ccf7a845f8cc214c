-- One occurrence of a schedule, created at most once whatever process gets there first.
-- The row comes from the task's row, locked (FOR NO KEY UPDATE, as tasks_get_for_update)
-- and still at the version the materializer read: an edit or delete committed meanwhile
-- makes it insert nothing (the next pass creates the occurrences of the new definition),
-- and an edit that comes later waits, then sees and judges this occurrence. DO NOTHING
-- without a target covers both unique indexes: task_runs_task_occurrence (the occurrence
-- exists already) and task_runs_unique_key_live (an unfinished run holds the task's key,
-- even one another transaction is inserting), so neither race aborts the transaction.
-- The id of the new run comes back; no row: nothing was created.
--   $1 task_id (bigint), $2 job_type, $3 payload (JSON text), $4 priority,
--   $5 max_attempts, $6 timeout_ms (NULL: none), $7 backoff_ms, $8 unique_key,
--   $9 scheduled_at (bigint ms), $10 now (bigint ms), $11 the task's version (bigint),
--   $12 queue
INSERT INTO task_runs (
    task_id, job_type, payload, status, priority, max_attempts, timeout_ms, backoff_ms,
    unique_key, scheduled_at, created_at, queue
)
SELECT t.id, $2::text, $3::text::jsonb, 'pending', $4::bigint, $5::bigint, $6::bigint,
       $7::bigint, $8::text, $9::bigint, $10::bigint, $12::text
FROM tasks AS t
WHERE t.id = $1
  AND t.version = $11
FOR NO KEY UPDATE
ON CONFLICT DO NOTHING
RETURNING id;
