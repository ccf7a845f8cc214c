-- The highest priority at or below $1 that has a pending run in queue $2: a backward
-- seek of task_runs_pending_queue, so the claimer visits priority groups, not rows.
SELECT priority
FROM task_runs
WHERE status = 'pending'
  AND queue = $2
  AND priority <= $1
ORDER BY priority DESC
LIMIT 1;
