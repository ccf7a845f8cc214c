-- A dependent whose upstream failed for good or was cancelled (edge on_failure = 'cancel').
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = 'upstream_failed',
    finished_at = :now
WHERE id = :id
  AND status IN ('blocked', 'pending');
