-- A failed or cancelled run back by hand, with at least one attempt left: `blocked` when
-- it still waits on :blocked_on upstream runs (its edges were re-opened in the same
-- transaction, deps_set_resolved.sql), else `pending`, due now. Its history (attempt
-- count, errors) is kept.
UPDATE task_runs
SET status = CASE WHEN :blocked_on > 0 THEN 'blocked' ELSE 'pending' END,
    scheduled_at = :now,
    max_attempts = max(max_attempts, attempt + 1),
    blocked_on = :blocked_on,
    cancel_requested = 0,
    cancel_reason = NULL,
    finished_at = NULL,
    result = NULL
WHERE id = :id
  AND status IN ('failed', 'cancelled');
