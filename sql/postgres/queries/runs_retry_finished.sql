-- Put failed or cancelled run $1 back at $2, waiting for $3 unsettled upstreams (blocked
-- when any, else pending), with at least one attempt left.
UPDATE task_runs
SET status = CASE WHEN $3::bigint > 0 THEN 'blocked' ELSE 'pending' END,
    scheduled_at = $2,
    max_attempts = GREATEST(max_attempts, attempt + 1),
    blocked_on = $3::bigint,
    cancel_requested = 0,
    cancel_reason = NULL,
    finished_at = NULL,
    result = NULL
WHERE id = $1
  AND status IN ('failed', 'cancelled');
