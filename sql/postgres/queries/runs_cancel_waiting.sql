-- Cancel run $1 that has not started (blocked or pending), reason $2, at $3.
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = $2,
    finished_at = $3
WHERE id = $1
  AND status IN ('blocked', 'pending');
