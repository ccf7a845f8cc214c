-- The oldest queued run to settle, taken off the queue (settling puts it back if its
-- dependents do not all fit in this transaction).
DELETE FROM task_settle_queue
WHERE run_id = (SELECT run_id FROM task_settle_queue ORDER BY run_id LIMIT 1)
RETURNING run_id;
