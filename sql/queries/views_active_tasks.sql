-- The active_tasks view, for operators' tools.
SELECT * FROM active_tasks LIMIT :limit;
