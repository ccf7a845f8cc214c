-- Cancel a run that has not started: it finishes at once.
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = :reason,
    finished_at = :now
WHERE id = :id
  AND status IN ('blocked', 'pending');
