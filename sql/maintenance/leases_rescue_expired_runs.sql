-- Rescue runs whose lease expired (their worker died or stalled past its lease):
-- back to pending with the attempt counted, or failed when no attempt is left. The error
-- is appended to the run's history. Bounded by :batch, oldest expiry first.
--
-- Guarded by the current state and the lease's own token: a run that completed (or was
-- rescued, or re-claimed) meanwhile no longer matches and is left alone.
-- Run leases_delete_expired.sql in the same transaction, with the same :now and :batch.
UPDATE task_runs
SET status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'pending' END,
    finished_at = CASE WHEN attempt >= max_attempts THEN :now END,
    last_error = 'lease expired: the worker stopped renewing it (process died or stalled)',
    errors = json_insert(
        coalesce(errors, '[]'), '$[#]',
        json_object(
            'attempt', attempt,
            'at', :now,
            'kind', 'lease_expired',
            'message', 'lease expired: the worker stopped renewing it (process died or stalled)'
        )
    )
WHERE id IN (
    SELECT run_id FROM task_locks
    WHERE expires_at <= :now
    ORDER BY expires_at, run_id
    LIMIT :batch
)
  AND status = 'running'
  AND lease_token = (SELECT l.token FROM task_locks AS l WHERE l.run_id = task_runs.id)
RETURNING id, status;
