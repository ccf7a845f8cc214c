-- Take back one run whose lease (:id, :token) expired: its worker died or stalled past its
-- lease. Back to pending at :retry_at (the retry policy's delay, as for any failed
-- attempt) with the attempt counted, or failed when that was its last attempt, or
-- cancelled when a cancel was requested meanwhile. The expiry is appended to its history.
--
-- Fenced by the lease's own token and the run's state: a run that completed, was rescued
-- or was re-claimed meanwhile no longer matches and is left alone. Delete the lease
-- (locks_delete.sql) in the same transaction.
UPDATE task_runs
SET status = CASE
        WHEN cancel_requested = 1 THEN 'cancelled'
        WHEN attempt >= max_attempts THEN 'failed'
        ELSE 'pending'
    END,
    scheduled_at = CASE
        WHEN cancel_requested = 0 AND attempt < max_attempts THEN :retry_at
        ELSE scheduled_at
    END,
    finished_at = CASE
        WHEN cancel_requested = 1 OR attempt >= max_attempts THEN :now
    END,
    last_error = :message,
    errors = json_insert(
        coalesce(errors, '[]'), '$[#]',
        json_object('attempt', attempt, 'at', :now, 'kind', 'lease_expired', 'message', :message)
    )
WHERE id = :id
  AND status = 'running'
  AND lease_token = :token
RETURNING status;
