-- The occurrences of a task that have not started yet (no attempt taken): they follow
-- the task's latest definition (store/tasks.rs). Runs already started, or waiting for a
-- retry, are not among them: they end under the definition they started with.
SELECT id, scheduled_at
FROM task_runs
WHERE task_id = :task_id
  AND (status = 'pending' OR status = 'blocked')
  AND attempt = 0
ORDER BY scheduled_at;
