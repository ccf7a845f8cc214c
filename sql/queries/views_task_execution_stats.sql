-- The task_execution_stats view, for operators' tools.
SELECT * FROM task_execution_stats LIMIT :limit;
