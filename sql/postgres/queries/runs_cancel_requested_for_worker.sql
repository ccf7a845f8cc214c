-- Runs held by worker $1 whose cancellation was requested.
SELECT r.id
FROM task_locks AS l
JOIN task_runs AS r ON r.id = l.run_id
WHERE l.worker_id = $1
  AND r.cancel_requested = 1;
