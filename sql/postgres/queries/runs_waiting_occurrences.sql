-- The occurrences of a task that have not started yet (no attempt taken): they follow
-- the task's latest definition (store/tasks.rs). Runs already started, or waiting for a
-- retry, are not among them: they end under the definition they started with. Locked
-- until the transaction ends, so none is claimed between this read and its cancel (one
-- a claim holds is waited for, then dropped from the list if it started).
--   $1 task_id (bigint)
SELECT id, scheduled_at
FROM task_runs
WHERE task_id = $1
  AND status IN ('pending', 'blocked')
  AND attempt = 0
ORDER BY scheduled_at
FOR NO KEY UPDATE;
