-- Enqueue one run: $1 task id, $2 job type, $3 payload (JSON text), $4 priority,
-- $5 max attempts, $6 timeout ms, $7 backoff ms, $8 unique key, $9 scheduled at, $10 now,
-- $11 queue.
-- A unique key an unfinished run already holds inserts nothing (and no error, which
-- would abort the transaction): the caller then reads the holder. Under concurrent
-- enqueues of one key, the second waits for the first to commit and then does nothing.
INSERT INTO task_runs (
    task_id, job_type, payload, status, priority, max_attempts, timeout_ms, backoff_ms,
    unique_key, scheduled_at, created_at, queue
) VALUES (
    $1, $2, $3::text::jsonb, 'pending', $4, $5, $6, $7, $8, $9, $10, $11
)
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('blocked', 'pending', 'running')
    DO NOTHING
RETURNING id;
