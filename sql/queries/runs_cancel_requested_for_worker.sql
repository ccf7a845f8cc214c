-- Runs held by this worker whose cancellation was requested (read at each heartbeat, so
-- a cancel from any process reaches the job).
SELECT r.id
FROM task_locks AS l
JOIN task_runs AS r ON r.id = l.run_id
WHERE l.worker_id = :worker_id
  AND r.cancel_requested = 1;
