-- Take back run $1 whose lease (token $2) expired, at $3: back to pending at $4 (the
-- retry policy's delay) with the attempt counted, or failed when that was its last
-- attempt, or cancelled when a cancel was requested meanwhile; message $5. The expiry
-- is appended to its history. Fenced by the token and the run's state: a run that
-- finished, was rescued or was claimed again meanwhile is left alone. Delete the lease
-- (locks_delete.sql) in the same transaction.
UPDATE task_runs
SET status = CASE
        WHEN cancel_requested = 1 THEN 'cancelled'
        WHEN attempt >= max_attempts THEN 'failed'
        ELSE 'pending'
    END,
    scheduled_at = CASE
        WHEN cancel_requested = 0 AND attempt < max_attempts THEN $4::bigint
        ELSE scheduled_at
    END,
    finished_at = CASE
        WHEN cancel_requested = 1 OR attempt >= max_attempts THEN $3::bigint
    END,
    last_error = $5,
    errors = coalesce(errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
        'attempt', attempt, 'at', $3::bigint, 'kind', 'lease_expired', 'message', $5::text))
WHERE id = $1
  AND status = 'running'
  AND lease_token = $2
RETURNING status;
