-- The pending_task_runs view, for operators' tools.
SELECT * FROM pending_task_runs LIMIT :limit;
