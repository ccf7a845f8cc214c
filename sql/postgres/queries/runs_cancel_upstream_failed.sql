-- Dependents $1 (bigint[]) whose upstream failed for good or was cancelled (edge
-- on_failure = 'cancel') are cancelled at $2, unless they have started or finished
-- meanwhile; returns those cancelled, whose own dependents settle next.
UPDATE task_runs
SET status = 'cancelled',
    cancel_reason = 'upstream_failed',
    finished_at = $2
WHERE id = ANY ($1)
  AND status IN ('blocked', 'pending')
RETURNING id;
