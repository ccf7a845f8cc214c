-- A failed or cancelled run back to pending by hand, with at least one attempt left.
-- Its history (attempt count, errors) is kept.
UPDATE task_runs
SET status = 'pending',
    scheduled_at = :now,
    max_attempts = max(max_attempts, attempt + 1),
    blocked_on = 0,
    cancel_requested = 0,
    cancel_reason = NULL,
    finished_at = NULL,
    result = NULL
WHERE id = :id
  AND status IN ('failed', 'cancelled');
