-- Take back one batch of runs whose leases expired, in one statement: run $1[i]
-- (bigint[]) whose lease held token $2[i], at $3, back to pending at $4[i] (the retry
-- policy's delay for that run) with the attempt counted, or failed when that was its
-- last attempt, or cancelled when a cancel was requested meanwhile; message $5. The
-- expiry is appended to each history. Fenced by the token and the run's state: a run
-- that finished, was rescued or was claimed again meanwhile is left alone. One
-- statement, not one per run: on a network each statement is a round trip, and the
-- batch's transaction would last as many. Delete the leases
-- (leases_delete_rescued.sql) in the same transaction.
UPDATE task_runs AS r
SET status = CASE
        WHEN r.cancel_requested = 1 THEN 'cancelled'
        WHEN r.attempt >= r.max_attempts THEN 'failed'
        ELSE 'pending'
    END,
    scheduled_at = CASE
        WHEN r.cancel_requested = 0 AND r.attempt < r.max_attempts THEN b.retry_at
        ELSE r.scheduled_at
    END,
    finished_at = CASE
        WHEN r.cancel_requested = 1 OR r.attempt >= r.max_attempts THEN $3::bigint
    END,
    last_error = $5,
    errors = coalesce(r.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
        'attempt', r.attempt, 'at', $3::bigint, 'kind', 'lease_expired', 'message', $5::text))
FROM unnest($1::bigint[], $2::bigint[], $4::bigint[]) AS b (id, token, retry_at)
WHERE r.id = b.id
  AND r.status = 'running'
  AND r.lease_token = b.token
RETURNING r.id, r.status;
